"""Hand tracking on its own thread, connected by latest-value mailboxes: the frame loop never waits.

    worker = HandWorker(lambda: StereoHandTracker(cam))       # or lambda: HandTracker()
    worker.start()
    ...
    worker.submit(left, right, t_capture_ns)   # never blocks; an older unprocessed frame is dropped
    result = worker.latest()                   # newest result or None; result.t_capture_ns says which frame
    worker.stop()

A crash inside the tracker is reported (``logging`` + :attr:`HandWorker.errors`), the tracker is rebuilt
from the factory and the worker carries on with the next frame; if the thread itself dies, the next
``submit`` restarts it.
"""

from __future__ import annotations

import logging
import threading
import traceback
from dataclasses import dataclass
from typing import Any, Callable

from passthrough.mailbox import Mailbox

__all__ = ["HandWorker", "WorkerError"]

log = logging.getLogger(__name__)


@dataclass
class WorkerError:
    """A crash report: the exception text, its traceback, and the capture timestamp of the frame."""

    message: str
    traceback: str
    t_capture_ns: int | None


class HandWorker:
    """Runs ``tracker.process(*images, t_capture_ns)`` on a daemon thread.

    Args:
        tracker_factory: builds the tracker (a :class:`HandTracker` for one camera, a
            :class:`StereoHandTracker` for a rectified pair); called again after a crash.
        max_errors_kept: how many crash reports :attr:`errors` keeps.
    """

    def __init__(self, tracker_factory: Callable[[], Any], max_errors_kept: int = 20):
        self._factory = tracker_factory
        self._inbox: Mailbox = Mailbox()
        self.results: Mailbox = Mailbox()
        self.errors: list[WorkerError] = []
        self.restarts = 0
        self.processed = 0
        self._max_errors = max_errors_kept
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._lock = threading.Lock()

    # ------------------------------------------------------------------ caller side (non-blocking)
    def start(self) -> "HandWorker":
        with self._lock:
            if self._thread is None or not self._thread.is_alive():
                self._stop.clear()
                self._thread = threading.Thread(target=self._run, name="hand-worker", daemon=True)
                self._thread.start()
        return self

    def submit(self, *images, t_capture_ns: int | None = None) -> int:
        """Hand the newest frame to the worker (replacing any not yet started). Returns its sequence number.
        Restarts the thread if it has died."""
        if self._thread is not None and not self._thread.is_alive() and not self._stop.is_set():
            self.restarts += 1
            log.warning("hand worker thread was dead; restarting it")
            self.start()
        return self._inbox.put((images, t_capture_ns))

    def latest(self):
        """Newest result (a ``HandFrame`` / ``StereoHandFrame`` with ``t_capture_ns``) or None."""
        return self.results.get()

    @property
    def alive(self) -> bool:
        return self._thread is not None and self._thread.is_alive()

    def stop(self, timeout: float = 2.0) -> None:
        self._stop.set()
        t = self._thread
        if t is not None:
            t.join(timeout)

    def __enter__(self) -> "HandWorker":
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()

    # ------------------------------------------------------------------ worker side
    def _report(self, exc: BaseException, t_capture_ns) -> None:
        err = WorkerError(f"{type(exc).__name__}: {exc}", traceback.format_exc(), t_capture_ns)
        self.errors.append(err)
        del self.errors[:-self._max_errors]
        log.error("hand worker crashed on frame t=%s: %s (tracker restarted)", t_capture_ns, err.message)

    def _run(self) -> None:
        from passthrough.pipeline.priority import lower_this_thread

        lower_this_thread("hands")  # display frames first: a slow hand frame never delays one
        tracker = None
        seq = 0
        while not self._stop.is_set():
            item, new_seq = self._inbox.wait_newer(seq, timeout=0.1)
            if item is None:
                continue
            seq = new_seq
            images, t_capture_ns = item
            try:
                if tracker is None:
                    tracker = self._factory()
                result = tracker.process(*images, t_capture_ns=t_capture_ns)
            except Exception as exc:  # reported, tracker rebuilt, loop continues
                self._report(exc, t_capture_ns)
                tracker = None
                self.restarts += 1
                continue
            self.processed += 1
            self.results.put(result)
