"""Progress bars on stderr, drawn only on a terminal.

A bar on a redirected stderr (a log file, CI, a test capturing the output) would put its frames of text
before the one ``error: PATH: problem`` line a failing command ends with; on a terminal it redraws in
place, and is gone from a captured stream.
"""

from __future__ import annotations

import sys


def progress_bar(iterable=None, *, enabled: bool = True, **kwargs):
    """A ``tqdm`` bar on stderr (``kwargs`` as tqdm's: ``total``, ``unit``, ``desc``, ...), shown when
    ``enabled`` and stderr is a terminal; otherwise a disabled bar that still counts (``bar.n``)."""
    from tqdm import tqdm

    return tqdm(iterable, disable=None if enabled else True, file=sys.stderr, **kwargs)
