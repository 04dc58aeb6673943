"""``passthrough eval depth``: score depth methods against ground-truth disparity.

Works on a Middlebury 2014 / ETH3D-layout scene folder, a folder of such scenes, or a KITTI 2015
folder. Every run scores the chosen method(s) *and* the reference ``opencv_sgbm_full`` (full-resolution
OpenCV StereoSGBM) on the same frames, on one core, and prints them side by side. Metrics follow
``../shared/data/README.md`` (see :mod:`passthrough.depth.metrics`); ``ms_median`` is the median wall time
of :meth:`DepthEstimator.compute` over ``--repeat`` runs per frame (images already in memory and
rectified; one untimed warm-up run first; the timed runs of all methods are interleaved so that load
changes on a shared machine affect them alike; numba compile time excluded and printed separately).

JSON (``--json``)::

    {"default_method": NAME,
     "scenes": {SCENE: {METHOD: {"bad1", "bad2", "bad4", "avgerr", "density", "ms_median",
                                 "nonocc": {"bad1", "bad2", "bad4", "avgerr", "density"}}}}}

``nonocc`` only where a non-occlusion mask exists; KITTI scenes also carry ``d1`` (all and nonocc).
Per scene and method, ``--out`` receives ``<scene>_<method>_disparity.png`` and ``<scene>_<method>_error.png``.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Dict, List

import numpy as np

from ..errors import InputError
from .methods import DEFAULT_METHOD, METHODS, REFERENCE_METHOD

METRIC_KEYS = ("bad1", "bad2", "bad4", "avgerr", "density")


def add_arguments(parser) -> None:
    """Arguments of ``passthrough eval depth``."""
    parser.add_argument("--dataset", required=True,
                        help="Middlebury/ETH3D scene folder, a folder of scenes, or a KITTI 2015 folder")
    parser.add_argument("--method", default=DEFAULT_METHOD,
                        help=f"method(s) to score, comma-separated, or 'all' (default {DEFAULT_METHOD}); "
                             f"known: {', '.join(METHODS)}. {REFERENCE_METHOD} always runs too")
    parser.add_argument("--json", metavar="OUT", help="write the metrics as JSON to this file")
    parser.add_argument("--out", metavar="DIR", default="depth-eval",
                        help="folder for colour-mapped disparity and error PNGs (default ./depth-eval)")
    parser.add_argument("--num-disparities", type=int, default=None,
                        help="search range in px (default: the dataset's ndisp, else from the rig)")
    parser.add_argument("--repeat", type=int, default=5, help="timed runs per frame (median reported; default 5)")
    parser.add_argument("--threads", type=int, default=1, help="CPU threads for OpenCV/numba (default 1)")


def _set_threads(n: int) -> None:
    import cv2
    import numba

    cv2.setNumThreads(n)
    numba.set_num_threads(max(1, min(n, numba.config.NUMBA_NUM_THREADS)))
    os.environ["OMP_NUM_THREADS"] = str(n)


def _scenes(dataset, log=print):
    """Yield ``(source, frame, ndisp)`` for every frame with ground truth in ``dataset`` (a path, or a
    source already opened); the frames of a data set with ground truth that lack theirs (a KITTI frame
    without its ``disp_occ_0`` map) are named in a note through ``log``, not scored."""
    from ..datasets import open_source
    from ..datasets.base import CollectionSource, FrameSource

    src = dataset if isinstance(dataset, FrameSource) else open_source(Path(dataset))
    sources = src.children if isinstance(src, CollectionSource) else [src]
    found = False
    for s in sources:
        if "disparity" not in s.ground_truth:
            continue
        missing = []
        for frame in s:
            if frame.gt_disparity is None:
                missing.append(frame.name or f"frame {frame.index}")
                continue
            found = True
            yield s, frame, getattr(s, "ndisp", None)
        if missing:
            log(f"note: {s.path}: {len(missing)} frame(s) without ground-truth disparity, not scored: "
                + ", ".join(missing[:5]) + (", ..." if len(missing) > 5 else ""))
    if not found:
        raise InputError(src.path, "no ground-truth disparity found (expected disp0GT.pfm or KITTI disp_occ_0/)")


def _methods(arg: str) -> List[str]:
    names = list(METHODS) if arg == "all" else [m.strip() for m in arg.split(",") if m.strip()]
    if not names:
        raise InputError(None, f"--method names no method; known: {', '.join(METHODS)}")
    for n in names:
        if n not in METHODS:
            raise InputError(None, f"unknown depth method {n!r}; known: {', '.join(METHODS)}")
    if REFERENCE_METHOD not in names:
        names.append(REFERENCE_METHOD)
    return names


def evaluate(dataset, methods: List[str], num_disparities=None, repeat: int = 5, out_dir=None,
             log=print) -> Dict[str, object]:
    """Score ``methods`` on every ground-truth frame of ``dataset`` (a path or an opened source); returns
    the JSON-shaped dict (``default_method`` is the first method) and writes PNGs into ``out_dir`` when
    given."""
    import cv2

    from .methods import DepthEstimator
    from .metrics import disparity_metrics
    from .sgm import warmup
    from .visualize import colorize_disparity, colorize_error

    if repeat < 1:
        raise InputError(None, f"--repeat must be >= 1, got {repeat}")
    if num_disparities is not None and num_disparities <= 0:
        raise InputError(None, f"--num-disparities must be positive, got {num_disparities}")
    compile_ms = warmup()
    log(f"numba kernels: first call (compile, or load from numba's cache) took {compile_ms:.0f} ms; "
        f"not included in ms_median")
    result: Dict[str, object] = {"default_method": methods[0], "scenes": {}}
    if out_dir is not None:
        out_dir = Path(out_dir)
        out_dir.mkdir(parents=True, exist_ok=True)
    for source, frame, ndisp in _scenes(dataset, log):
        kitti = source.format.startswith("kitti")
        left, right = frame.rectified()
        gt = frame.gt_disparity
        mask = frame.gt_mask_nonocc
        nd = num_disparities or ndisp
        if nd is not None and nd >= left.shape[1]:
            raise InputError(Path(getattr(dataset, "path", dataset)), f"disparity range {nd} px must be smaller than the image width "
                                            f"({left.shape[1]} px)")
        scene = frame.name or f"frame{frame.index:06d}"
        if scene in result["scenes"]:
            scene = f"{scene}-{frame.index}"
        estimators = {}
        results = {}
        for name in methods:
            try:
                estimators[name] = DepthEstimator(name, num_disparities=nd)
            except ValueError as exc:
                raise InputError(None, str(exc)) from None
            results[name] = estimators[name].compute(left, right, frame.rig)  # untimed warm-up run
        # timed runs interleaved across methods, so that load changes on a shared machine hit all alike
        times: Dict[str, List[float]] = {name: [] for name in methods}
        for _ in range(repeat):
            for name in methods:
                results[name] = estimators[name].compute(left, right, frame.rig)
                times[name].append(results[name].timings["total_ms"])
        per_method: Dict[str, Dict[str, object]] = {}
        for name in methods:
            res = results[name]
            m = disparity_metrics(res.disparity, gt, kitti=kitti)
            m["ms_median"] = float(np.median(times[name]))
            if mask is not None:
                m["nonocc"] = disparity_metrics(res.disparity, gt, mask, kitti=kitti)
            per_method[name] = m
            if out_dir is not None:
                ok = np.isfinite(gt)
                rng = (float(np.min(gt[ok])), float(np.max(gt[ok]))) if ok.any() else None
                cv2.imwrite(str(out_dir / f"{scene}_{name}_disparity.png"), colorize_disparity(res.disparity, rng))
                cv2.imwrite(str(out_dir / f"{scene}_{name}_error.png"), colorize_error(res.disparity, gt))
        result["scenes"][scene] = per_method
        _print_scene(scene, per_method, nd if nd else results[methods[0]].num_disparities, left.shape, log)
    return result


def _fmt(key: str, v) -> str:
    if v is None or (isinstance(v, float) and not np.isfinite(v)):
        return "-"
    if key in ("avgerr",):
        return f"{v:.3f}"
    if key == "ms_median":
        return f"{v:.1f}"
    return f"{100 * v:.2f}%"


def _print_scene(scene: str, per_method: Dict[str, Dict[str, object]], nd: int, shape, log) -> None:
    names = list(per_method)
    width = max(14, *(len(n) + 2 for n in names))
    log(f"\n{scene} ({shape[1]}x{shape[0]}, {nd} disparities)")
    log("metric".ljust(16) + "".join(n.rjust(width) for n in names))
    keys = list(METRIC_KEYS) + (["d1"] if "d1" in per_method[names[0]] else []) + ["ms_median"]
    for k in keys:
        log(k.ljust(16) + "".join(_fmt(k, per_method[n].get(k)).rjust(width) for n in names))
    if "nonocc" in per_method[names[0]]:
        for k in list(METRIC_KEYS) + (["d1"] if "d1" in per_method[names[0]]["nonocc"] else []):
            log(f"nonocc {k}".ljust(16) + "".join(_fmt(k, per_method[n]["nonocc"].get(k)).rjust(width) for n in names))
    ref = per_method.get(REFERENCE_METHOD)
    if ref:
        for n in names:
            if n != REFERENCE_METHOD and per_method[n]["ms_median"] > 0:
                log(f"speed-up of {n} over {REFERENCE_METHOD}: {ref['ms_median'] / per_method[n]['ms_median']:.1f}x")


def main(args) -> int:
    """Entry point of ``passthrough eval depth``."""
    _set_threads(max(1, args.threads))
    methods = _methods(args.method)
    if args.out is not None and not str(args.out).strip():
        raise InputError(None, "--out needs a folder name (an empty one would write into the current folder)")
    from ..datasets import open_source

    source = open_source(args.dataset)  # a dataset it cannot read is refused before --out is made
    if args.out:  # its PNGs only, never into a folder of the user's files
        from ..io.out_folder import prepare_out_folder

        prepare_out_folder(args.out, ("*_disparity.png", "*_error.png"))
    result = evaluate(source, methods, args.num_disparities, args.repeat, args.out)
    if args.json:
        from ..io.jsonfile import write_json

        write_json(args.json, result)
        print(f"\nwrote {args.json}")
    if args.out:
        print(f"PNGs in {args.out}/")
    return 0
