"""``passthrough run`` and ``passthrough xr-info``.

``passthrough run --source PATH [--frames N] [--hologram FILE] [--json OUT]`` runs the display stage in an
OpenXR session and writes the run JSON::

    {"runtime", "system", "frames_submitted", "frame_period_ms": {"p50", "p99"}, "deadline_miss_rate",
     "session_states": [...], "eye_poses_first": [[x, y, z, qx, qy, qz, qw] per eye]}

``eye_poses_first`` are the first located eye poses in the session's reference space (OpenXR axes: +y up).

``passthrough xr-info`` prints the runtime's facts: name and version, system, view configurations with
recommended and maximum sizes, refresh rates, extensions (and, with a short session, the display period).

Exit status: 0 ok; 2 bad input; 4 no usable runtime (the message says what to install or start);
3 the runtime died mid-session (one line on stderr).
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path

# One BLAS thread (before numpy loads, where this module is imported first): idle BLAS workers spin after each
# call, and every spare cycle goes to the runtime's compositor, which on CPU-only machines renders on the CPU.
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")

EXIT_NO_RUNTIME = 4


#: swapchain scale on the CPU (llvmpipe uploads and a CPU compositor share the cores with the app)
CPU_EYE_SCALE = 0.35


def add_run_arguments(parser: argparse.ArgumentParser) -> None:
    """Arguments of ``passthrough run``."""
    from .stages import STAGE_FACTORIES

    parser.add_argument("--source", required=True,
                        help="dataset path (any format passthrough.datasets reads) or 'camera'")
    parser.add_argument("--frames", type=int, default=None,
                        help="submit this many frames, then exit cleanly (default: until stopped)")
    parser.add_argument("--hologram", type=Path, default=None,
                        help="hologram file (YAML/JSON boxes; see openxr_app/hologram.py)")
    parser.add_argument("--json", type=Path, default=None, help="write the run JSON here")
    parser.add_argument("--frame-log", type=Path, default=None,
                        help="write one CSV row per frame here (wall-clock work, CPU time and phases in ms)")
    parser.add_argument("--calibration", type=Path, default=None,
                        help="stereo calibration JSON for --source camera[:DEV[,DEV]] (default devices 0,1)")
    parser.add_argument("--stage", default="pipeline", choices=sorted(STAGE_FACTORIES),
                        help="display stage (default: pipeline = depth + ONNX reprojection of the live source; projected = the source's first RGB-D frame as a point set; raw = each eye its camera's rectified image as-is, the lightest stage)")
    parser.add_argument("--passthrough", choices=("auto", "app"), default="auto",
                        help="auto: the runtime's own passthrough under the holograms where it offers "
                             "XR_FB_passthrough (Quest over Link), else the pipeline's images; app: always ours")
    parser.add_argument("--hands", choices=("auto", "app"), default="auto",
                        help="auto: hand joints from the runtime where it tracks hands (XR_EXT_hand_tracking), "
                             "else the pipeline's own tracker; app: always ours")
    parser.add_argument("--eye-scale", type=float, default=None,
                        help="swapchain size as a fraction of the runtime's recommended size (default: 1 when the "
                             "reprojection runs on CUDA, else %s: the CPU budget of software rendering next to a "
                             "CPU compositor)" % CPU_EYE_SCALE)
    parser.add_argument("--early-image", action="store_true",
                        help="pipeline stage: show each camera frame as soon as it is rectified, with the previous "
                             "frame's depth, then again with its own (lower camera latency; not for stills)")
    parser.add_argument("--near", type=float, default=0.05, help="near plane in metres (default 0.05)")
    parser.add_argument("--far", type=float, default=100.0, help="far plane in metres (default 100)")
    parser.add_argument("--stall-timeout", type=float, default=5.0,
                        help="seconds without a frame before the runtime is declared dead (default 5)")
    parser.add_argument("--dump-frame", type=int, default=None, metavar="N",
                        help="save the stage's eye images of submitted frame N (with --dump-dir)")
    parser.add_argument("--dump-dir", type=Path, default=None,
                        help="folder for --dump-frame images (.npz); with it, SIGUSR1 saves the next frame as "
                             "frame_latest.npz")


def default_eye_scale(stage) -> float:
    """1 (the runtime's recommended size) when the stage reprojects with onnxruntime's CUDA provider,
    else :data:`CPU_EYE_SCALE`."""
    reprojector = getattr(stage, "reprojector", None)
    on_gpu = reprojector is not None and reprojector.providers[0] == "CUDAExecutionProvider"
    return 1.0 if on_gpu else CPU_EYE_SCALE


def _frame_dumper(args):
    """The ``--dump-dir`` callback: saves frame ``--dump-frame`` and, after SIGUSR1, the next submitted frame
    (``frame_latest.npz``, to compare with what is on the display)."""
    import os
    import signal

    import numpy as np

    snapshot = [False]
    signal.signal(signal.SIGUSR1, lambda *_: snapshot.__setitem__(0, True))

    def on_frame(i, views, images):
        name = f"frame{i:05d}.npz" if i == args.dump_frame else "frame_latest.npz" if snapshot[0] else None
        if name is None:
            return
        snapshot[0] = False
        tmp = args.dump_dir / (name + ".tmp.npz")
        np.savez(tmp, index=i,
                 **{f"rgb{k}": im.rgb for k, im in enumerate(images)},
                 **{f"depth{k}": im.depth_m for k, im in enumerate(images)},
                 **{f"T_world_from_eye{k}": v.T_world_from_eye for k, v in enumerate(views)},
                 **{f"K{k}": v.K for k, v in enumerate(views)})
        os.replace(tmp, args.dump_dir / name)

    return on_frame


def run_main(args: argparse.Namespace) -> int:
    """``passthrough run``: see the module doc. Returns the exit status."""
    from passthrough.errors import InputError

    from .app import run_session
    from .hologram import load_holograms
    from .session import XrUnavailableError
    from .stages import STAGE_FACTORIES

    if args.eye_scale is not None and not 0.05 <= args.eye_scale <= 4.0:
        raise InputError(None, "--eye-scale must be within 0.05..4")
    if not 1e-4 <= args.near <= 1e3:  # also refuses nan; near == far would divide by zero in the projection
        raise InputError(None, f"--near must be from 0.0001 to 1000 metres, got {args.near}")
    if not args.near < args.far <= 1e7:
        raise InputError(None, f"--far must be beyond --near ({args.near}) and at most 1e7 metres, got {args.far}")
    if not 0.1 <= args.stall_timeout <= 3600:
        raise InputError(None, f"--stall-timeout must be from 0.1 to 3600 s, got {args.stall_timeout}")
    if args.dump_frame is not None and args.dump_dir is None:
        raise InputError(None, "--dump-frame needs --dump-dir")
    if args.dump_dir is not None:  # before the stage starts its threads: a bad folder fails with one line
        from passthrough.io.out_folder import prepare_out_folder

        try:
            prepare_out_folder(args.dump_dir, ("frame*.npz",))
        except OSError as exc:
            raise InputError(args.dump_dir, f"cannot create the --dump-dir folder: {exc.strerror}") from None
    holograms = load_holograms(args.hologram) if args.hologram is not None else None
    factory = STAGE_FACTORIES[args.stage]
    source = args.source
    is_camera = source == "camera" or source.startswith("camera:")
    if not is_camera and not Path(source).exists():
        raise InputError(Path(source), "no such file or folder")
    if is_camera:
        if args.stage != "pipeline":
            raise InputError(None, "--source camera needs the pipeline stage (--stage pipeline)")
        if args.calibration is None:
            raise InputError(None, "--source camera needs --calibration FILE (stereo calibration JSON)")
        from .pipeline_stage import PipelineXRStage

        stage = PipelineXRStage.from_camera(source, args.calibration, early_image=args.early_image)
    else:
        if args.early_image and args.stage != "pipeline":
            raise InputError(None, "--early-image needs the pipeline stage (--stage pipeline)")
        # Build the stage before the session: bad input fails fast, and its one-time cost stays out of frames.
        stage = factory(source, early_image=True) if args.early_image else factory(source)

    on_frame = _frame_dumper(args) if args.dump_dir is not None else None

    try:
        eye_scale = args.eye_scale if args.eye_scale is not None else default_eye_scale(stage)
        stats = run_session(lambda: stage, holograms=holograms, frames=args.frames, eye_scale=eye_scale,
                            near=args.near, far=args.far, stall_timeout_s=args.stall_timeout, on_frame=on_frame,
                            passthrough=args.passthrough, hands=args.hands)
    except XrUnavailableError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return EXIT_NO_RUNTIME
    finally:  # stop the stage's worker thread before the interpreter does: a daemon thread still inside
        # numba or onnxruntime at exit ended the process with "terminate called without an active exception"
        close = getattr(stage, "close", None)
        if close is not None:
            close()
    report = stats.report()
    details = stats.details()
    fp = report["frame_period_ms"]
    print(f"{report['runtime']} / {report['system']}: {report['frames_submitted']} frames submitted, "
          f"frame period p50 {_ms(fp['p50'])} p99 {_ms(fp['p99'])}, deadline misses "
          f"{details['deadline_misses']} ({_pct(report['deadline_miss_rate'])}), app work p50 "
          f"{_ms((details['app_work_ms'] or {}).get('p50'))} (CPU {_ms((details['app_cpu_ms'] or {}).get('p50'))}), "
          f"wall-clock overruns {details['wall_overruns']}, eye {details['eye_size']}, depth layer "
          f"{'yes' if details['depth_layer'] else 'no'}, states {' > '.join(report['session_states'])}",
          file=sys.stderr)
    print(f"details: {json.dumps(details)}", file=sys.stderr)
    # --json / --frame-log: checked writable before the run by the entry points'
    # passthrough.io.out_folder.check_output_files; their folders are made now
    if args.json is not None:
        from passthrough.io.jsonfile import write_json

        write_json(args.json, report)
    if args.frame_log is not None:
        write_frame_log(args.frame_log, stats.frame_log())
    return 0


def write_frame_log(path: Path, rows) -> None:
    """``rows`` (:meth:`openxr_app.app.RunStats.frame_log`) as CSV; columns in first-seen order (``path``
    was checked writable before the session, in check_output_files; its folder is made now)."""
    from passthrough.io.csvfile import write_csv

    write_csv(path, rows, float_digits=4)


def _ms(v) -> str:
    return "n/a" if v is None else f"{v:.2f} ms"


def _pct(v) -> str:
    return "n/a" if v is None else f"{100 * v:.2f} %"


def add_xr_info_arguments(parser: argparse.ArgumentParser) -> None:
    """Arguments of ``passthrough xr-info``."""
    parser.add_argument("--json", type=Path, default=None, help="also write the facts as JSON here")
    parser.add_argument("--no-session", action="store_true",
                        help="instance-level facts only (no session: no refresh rates or display period)")


def xr_info_main(args: argparse.Namespace) -> int:
    """``passthrough xr-info``: print the runtime's facts. Returns the exit status."""
    from .session import XrUnavailableError, XrSession

    sess = XrSession(app_name="passthrough-xr-info")
    try:
        sess.create_instance()
        info = sess.info()
        if not args.no_session:
            info.update(_session_facts(sess))
    except XrUnavailableError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return EXIT_NO_RUNTIME
    print(format_info(info))
    if args.json is not None:  # checked writable before, by check_output_files
        from passthrough.io.jsonfile import write_json

        write_json(args.json, info)
    return 0


def _session_facts(sess) -> dict:
    """Open a session, wait a few frames for the display period, exit cleanly. Closes ``sess``."""
    import time

    from .app import Watchdog, die_runtime_lost
    from .session import is_runtime_loss

    dog = Watchdog(30.0, lambda: f"xr-info session in state {sess.state}")
    facts = {}
    try:
        sess.create_session()
        facts["reference_space"] = sess.reference_space_name
        facts["swapchain_formats"] = {"color": hex(sess.color.format),
                                      "depth": hex(sess.depth.format) if sess.depth is not None else None}
        facts["refresh_rates_hz"] = sess.refresh_rates()
        periods = []
        requested = False
        while not sess.exiting:
            dog.beat()
            sess.poll_events()
            if sess.exiting:
                break
            if not sess.running:
                time.sleep(0.005)
                continue
            t = sess.wait_frame()
            sess.begin_frame()
            sess.end_frame(t.predicted_display_time)
            periods.append(t.predicted_display_period)
            if len(periods) >= 45 and not requested:  # ~0.5 s: the runtime's pacing has settled
                facts["current_refresh_rate_hz"] = sess.current_refresh_rate()
                sess.request_exit()
                requested = True
        settled = sorted(periods[len(periods) // 2:])  # the first frames use a default period
        facts["display_period_ms"] = float(settled[len(settled) // 2]) / 1e6 if settled else None
        facts["session_states"] = list(sess.states)
        sess.close()
    except Exception as exc:
        if is_runtime_loss(exc):
            die_runtime_lost(f"the OpenXR runtime was lost ({type(exc).__name__})")
        raise
    finally:
        dog.stop()
    return facts


def format_info(info: dict) -> str:
    """Human-readable lines of :func:`xr_info_main`'s facts."""
    lines = [f"runtime:   {info['runtime']} (version {info['runtime_version']})",
             f"system:    {info['system']} (vendor {info['vendor_id']}), max swapchain "
             f"{info['max_swapchain_size'][0]}x{info['max_swapchain_size'][1]}, max layers {info['max_layer_count']}, "
             f"tracking: orientation {'yes' if info['orientation_tracking'] else 'no'}, "
             f"position {'yes' if info['position_tracking'] else 'no'}"]
    for vc in info["view_configurations"]:
        sizes = ", ".join(f"{v['recommended'][0]}x{v['recommended'][1]} (max {v['max'][0]}x{v['max'][1]})"
                          for v in vc["views"])
        lines.append(f"view configuration {vc['type']}: {len(vc['views'])} views: {sizes}; blend modes "
                     f"{', '.join(vc['environment_blend_modes'])}")
    if "refresh_rates_hz" in info:
        rates = ", ".join(f"{r:g}" for r in info["refresh_rates_hz"]) or "not reported"
        lines.append(f"refresh rates: {rates} Hz; current {info.get('current_refresh_rate_hz')}; display period "
                     f"{info.get('display_period_ms'):.2f} ms" if info.get("display_period_ms") else
                     f"refresh rates: {rates} Hz")
        lines.append(f"reference space: {info.get('reference_space')}, swapchain formats: "
                     f"{info.get('swapchain_formats')}")
    lines.append(f"hand tracking (XR_EXT_hand_tracking): {'yes' if info['hand_tracking'] else 'no'}; runtime "
                 f"passthrough (XR_FB_passthrough): {'yes' if info['runtime_passthrough'] else 'no'}")
    lines.append(f"extensions ({len(info['extensions'])}): {' '.join(info['extensions'])}")
    return "\n".join(lines)
