"""Modeled photon-to-photon latency of a Quest-class headset around this pipeline.

    photon_to_photon = exposure / 2 + sensor readout + pipeline latency + wait for the display slot
                       + scan-out / 2

* **exposure** (default 4 ms): passthrough cameras run short exposures indoors to limit motion blur;
  the mid-exposure instant is what the capture timestamp stands for, so half of it counts.
* **readout** (default 2.5 ms): a 1280x1024-class global-shutter sensor at ~0.4 Gpx/s plus transfer to
  the SoC (MIPI) before the frame is in memory.
* **pipeline latency**: measured: capture timestamp -> the first display frame that shows the
  capture is composited and ready (camera stage, waiting for the next display slot's start, display stage).
* **wait for the display slot**: measured: frame ready -> its predicted display time (vsync).
* **scan-out** (default: one display period at the chosen rate): the panel lights rows over one refresh
  (Quest 3's LCD uses a global backlight strobe, so /2 is a conservative mean).

Every constant is printed with the result and can be overridden on the command line.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Optional


@dataclass
class LatencyConstants:
    exposure_ms: float = 4.0
    readout_ms: float = 2.5
    scanout_ms: Optional[float] = None  # None: one display period

    def resolved(self, display_hz: float) -> dict:
        d = asdict(self)
        if d["scanout_ms"] is None:
            d["scanout_ms"] = round(1000.0 / display_hz, 3)
        return d


def photon_to_photon_ms(pipeline_ms: float, wait_for_slot_ms: float, display_hz: float,
                        constants: LatencyConstants) -> dict:
    """The model's terms and total (ms)."""
    c = constants.resolved(display_hz)
    terms = {"half_exposure_ms": c["exposure_ms"] / 2, "readout_ms": c["readout_ms"], "pipeline_ms": pipeline_ms,
             "wait_for_display_slot_ms": wait_for_slot_ms, "half_scanout_ms": c["scanout_ms"] / 2}
    terms = {k: round(float(v), 3) for k, v in terms.items()}
    terms["total_ms"] = round(sum(terms.values()), 3)
    terms["constants"] = c
    return terms
