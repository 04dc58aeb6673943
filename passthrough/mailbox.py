"""Latest-value mailbox: how the camera, display and hand stages exchange data without blocking.

A writer ``put``s values; a reader ``get``s the newest one (older ones are dropped, never queued).
Neither side ever waits for the other: ``put`` and ``get`` only hold a lock for a pointer swap.
"""

from __future__ import annotations

import threading
from typing import Generic, Optional, Tuple, TypeVar

T = TypeVar("T")


class Mailbox(Generic[T]):
    """Thread-safe single-slot mailbox holding the latest value and a sequence number.

    >>> box = Mailbox()
    >>> box.get() is None
    True
    >>> box.put("a"); box.put("b")
    1
    2
    >>> box.get()
    'b'
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._cond = threading.Condition(self._lock)
        self._value: Optional[T] = None
        self._seq = 0

    def put(self, value: T) -> int:
        """Replace the held value; returns its sequence number (1, 2, ...)."""
        with self._lock:
            self._value = value
            self._seq += 1
            self._cond.notify_all()
            return self._seq

    def get(self) -> Optional[T]:
        """Newest value, or None if nothing was ever put. Never blocks on a writer."""
        with self._lock:
            return self._value

    def get_with_seq(self) -> Tuple[Optional[T], int]:
        """Newest value and its sequence number (0 when empty)."""
        with self._lock:
            return self._value, self._seq

    def get_newer(self, than_seq: int) -> Tuple[Optional[T], int]:
        """The value if it is newer than ``than_seq``, else ``(None, than_seq)``."""
        with self._lock:
            if self._seq > than_seq:
                return self._value, self._seq
            return None, than_seq

    def wait_newer(self, than_seq: int, timeout: float) -> Tuple[Optional[T], int]:
        """Block up to ``timeout`` s for a value newer than ``than_seq`` (for worker threads only;
        the display stage must use :meth:`get_newer`)."""
        with self._cond:
            self._cond.wait_for(lambda: self._seq > than_seq, timeout=timeout)
            if self._seq > than_seq:
                return self._value, self._seq
            return None, than_seq

    @property
    def seq(self) -> int:
        with self._lock:
            return self._seq
