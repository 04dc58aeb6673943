"""Benchmark plot: a Gantt-like strip of ~100 frames (camera stage, display stage parts) and latency
histograms with the 72/90/120 Hz frame budgets drawn in."""

from __future__ import annotations

from pathlib import Path

import numpy as np


def plot_pipeline(records, cams, report: dict, path: str, n_frames: int = 100) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    recs = records[:n_frames]
    t0 = recs[0].t_frame_start_ns
    t1 = recs[-1].t_composite_end_ns
    fig, (ax, ax2, ax3) = plt.subplots(3, 1, figsize=(13, 9), gridspec_kw={"height_ratios": [1.2, 1, 1]})
    for r in recs:
        s = (r.t_reproject_start_ns - t0) / 1e6
        ax.barh(2, r.reproject_ms, left=s, color="tab:blue", height=0.6)
        ax.barh(2, r.display_ms - r.reproject_ms, left=s + r.reproject_ms, color="tab:orange", height=0.6)
        if r.deadline_missed:
            ax.plot([s], [2.45], "rv", ms=4)
        ax.axvline((r.t_predicted_display_ns - t0) / 1e6, color="0.85", lw=0.5, zorder=0)
    for c in cams or []:
        if t0 <= c.t_capture_ns <= t1:
            busy = c.rectify_ms + c.depth_ms + c.prepare_ms
            ax.barh(1, busy, left=(c.t_done_ns - t0) / 1e6 - busy,
                    color="tab:green", height=0.6)
            ax.plot([(c.t_capture_ns - t0) / 1e6], [0.55], "k|")
    ax.set_yticks([1, 2], ["camera stage\n(rectify+depth+prepare)", "display stage\n(reproject | holo+composite)"])
    ax.set_xlabel("ms since first measured frame (grey: predicted display times; red: deadline missed)")
    ax.set_title(f"{report['benchmark']} timeline, {report['display']['hz']:.0f} Hz display, first {len(recs)} frames")
    disp = np.array([r.display_ms for r in records])
    ax2.hist(disp, bins=60, color="tab:orange")
    ax2.set_xlabel("display stage (ms)")
    first = {}
    for r in records:
        first.setdefault(r.t_capture_ns, r.t_composite_end_ns)
    t_first = records[0].t_frame_start_ns  # as the JSON: frames captured during the warm-up are left out
    c2r = np.array([(e - c) / 1e6 for c, e in first.items() if c >= t_first])
    ax3.hist(c2r, bins=40, color="tab:green")
    ax3.set_xlabel("camera capture -> frame ready (ms)")
    for a in (ax2, ax3):
        for hz, col in ((72, "tab:red"), (90, "tab:purple"), (120, "tab:brown")):
            a.axvline(1000 / hz, color=col, ls="--", label=f"{hz} Hz budget {1000 / hz:.1f} ms")
        a.legend(fontsize=8)
    fig.tight_layout()
    Path(path).parent.mkdir(parents=True, exist_ok=True)  # checked writable before the run (--plot)
    fig.savefig(path, dpi=90)
    plt.close(fig)
