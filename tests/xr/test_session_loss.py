"""A session the runtime takes away (LOSS_PENDING) ends the run with the runtime-lost status, not as a clean
exit with fewer frames than asked for (no runtime needed: a scripted session stands in for it)."""

import types

import pytest

import openxr_app.app as app


class _ScriptedSession:
    """Runs IDLE > READY > FOCUSED, then the runtime sends LOSS_PENDING after a few frames."""

    def __init__(self, eye_scale=0.5, on_state=None):
        self.runtime_name, self.system_name, self.depth_layer = "scripted", "none", False
        self.eye_rects = [(0, 0, 8, 8), (8, 0, 8, 8)]
        self.states, self.state, self.running, self.exiting, self.loss_pending = [], "IDLE", False, False, False
        self.session, self.frames, self.closed = object(), 0, False

    def open(self):
        self.states += ["IDLE", "READY", "SYNCHRONIZED", "VISIBLE", "FOCUSED"]
        self.state, self.running = "FOCUSED", True

    def start_runtime_passthrough(self):
        return False

    def start_hand_tracking(self):
        return False

    def current_refresh_rate(self):
        return 90.0

    def poll_events(self):
        if self.frames >= 3:
            self.states.append("LOSS_PENDING")
            self.exiting = self.loss_pending = True

    def request_exit(self):
        self.exiting = True

    def wait_frame(self):
        self.frames += 1
        return types.SimpleNamespace(should_render=False, predicted_display_time=0, predicted_display_period=11_111_111)

    def begin_frame(self):
        pass

    def end_frame(self, *args):
        pass

    def close(self):
        self.closed = True


class _Lost(Exception):
    pass


def test_loss_pending_ends_the_run_as_a_lost_runtime(monkeypatch):
    made = []

    def session(**kw):
        made.append(_ScriptedSession(**kw))
        return made[-1]

    def lost(message):
        raise _Lost(message)

    monkeypatch.setattr(app, "XrSession", session)
    monkeypatch.setattr(app, "warm_up_swapchains", lambda *a, **k: None)
    monkeypatch.setattr(app, "die_runtime_lost", lost)
    monkeypatch.setattr("openxr_app.gl_render.EyeCompositor", lambda near, far: types.SimpleNamespace(destroy=lambda: None))
    with pytest.raises(_Lost, match="LOSS_PENDING"):
        app.run_session(lambda: object(), frames=100, log=lambda s: None)
    assert made[0].closed  # the session was still destroyed first (the runtime is alive)
