"""The ``passthrough`` command line: one console script, one subcommand per job.

Each subcommand lives in its own module and exposes ``add_arguments(parser)`` and ``main(args) -> int``;
only the chosen subcommand's module is imported, so ``passthrough --help`` stays fast. Bad input raises
:class:`~passthrough.errors.InputError`, printed here as one line (``error: PATH: problem``), exit 2.
"""

from __future__ import annotations

import argparse
import importlib
import importlib.util
import sys
from typing import Dict, List, Optional, Tuple

# name -> (one-line help, example, "module:add_fn:main_fn")
Command = Tuple[str, str, str]

COMMANDS: Dict[str, Command] = {
    "info": ("describe a dataset: format, frames, resolution, rate, calibration, ground truth",
             "passthrough info ../shared/data/sequences/euroc-MH_01_easy-first5",
             "passthrough.info:add_arguments:main"),
    "replay": ("run recorded frames through the pipeline and write previews, videos and frames.csv",
               "passthrough replay ../shared/data/sequences/euroc-MH_01_easy-first5 --out replay-out",
               "passthrough.replay:add_arguments:main"),
    "record": ("write any source (dataset, video, camera) as a EuRoC ASL recording",
               "passthrough record ../shared/data/stereo/oakd-pairs --out my-recording",
               "passthrough.record:add_arguments:main"),
    "build-models": ("build the ONNX models (reprojection, hand tracking) into the model cache",
                     "passthrough build-models",
                     "passthrough.models:add_arguments:main"),
    "synth": ("render a synthetic headset-like rig-v1 set with ground truth",
              "passthrough synth --out synth-rig",
              "reprojection.synth:add_arguments:main"),
    "demo": ("run the whole pipeline on the embedded OAK-D data and write ./demo-out",
             "passthrough demo",
             "passthrough.demo:add_arguments:main"),
    "bench": ("latency benchmarks against baselines in the same run",
              "passthrough bench pipeline --display-hz 90 --json bench.json",
              "benchmarks.cli:add_arguments:main"),
    "run": ("run the pipeline in an OpenXR session on a live runtime",
            "passthrough run --source ../shared/data/sequences/euroc-MH_01_easy-first5 --frames 600",
            "openxr_app.cli:add_run_arguments:run_main"),
    "xr-info": ("print the OpenXR runtime's facts (system, views, refresh rates, extensions)",
                "passthrough xr-info",
                "openxr_app.cli:add_xr_info_arguments:xr_info_main"),
}

EVAL_COMMANDS: Dict[str, Command] = {
    "depth": ("score depth methods on Middlebury/ETH3D/KITTI ground truth (always with OpenCV SGBM)",
              "passthrough eval depth --dataset ../shared/data/stereo/middlebury2014-Motorcycle-Q --json depth.json",
              "passthrough.depth.evaluate:add_arguments:main"),
    "reprojection": ("score reprojection to held-out views of rig-v1 sets against baselines",
                     "passthrough eval reprojection --dataset ../shared/data/views/middlebury2001-tsukuba",
                     "reprojection.evaluate:add_arguments:main"),
    "hands": ("score hand tracking on annotated photos, or triangulate hands on a stereo pair",
              "passthrough eval hands --dataset ../shared/data/hands --json hands.json",
              "hand_tracking.evaluate:add_arguments:main"),
}


def _load(spec: str):
    module, add_fn, main_fn = spec.split(":")
    mod = importlib.import_module(module)
    return getattr(mod, add_fn), getattr(mod, main_fn)


def _available(spec: str) -> bool:
    """True if the module behind a command is part of this installation."""
    try:
        return importlib.util.find_spec(spec.split(":")[0]) is not None
    except ModuleNotFoundError:
        return False


def _add_commands(sub, commands: Dict[str, Command], selected: Optional[str]):
    for name, (help_text, example, spec) in commands.items():
        if not _available(spec):
            continue
        p = sub.add_parser(name, help=help_text, description=help_text[0].upper() + help_text[1:] + ".",
                           epilog=f"example:\n  {example}", formatter_class=argparse.RawDescriptionHelpFormatter)
        if name == selected:
            add_fn, main_fn = _load(spec)
            add_fn(p)
            p.set_defaults(_main=main_fn)


def build_parser(argv: List[str]) -> argparse.ArgumentParser:
    """The parser; only the subcommand named in ``argv`` gets its arguments (and its module imported)."""
    from .argcheck import OneLineErrorParser

    parser = OneLineErrorParser(
        prog="passthrough",
        description="Mixed-reality passthrough pipeline: stereo depth, ONNX reprojection to the eyes, "
                    "hand tracking and hologram compositing, replayed from datasets or run on OpenXR.",
        epilog="examples:\n  passthrough demo\n  passthrough info ../shared/data/stereo/oakd-pairs\n"
               "  passthrough eval depth --dataset ../shared/data/stereo/middlebury2014-Motorcycle-Q\n"
               "run 'passthrough COMMAND --help' for a command's options.",
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    positional = [a for a in argv if not a.startswith("-")]
    selected = positional[0] if positional else None
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    _add_commands(sub, COMMANDS, selected)
    ev = sub.add_parser("eval", help="evaluate a stage on real ground truth (depth, reprojection, hands)",
                        description="Evaluate a stage on real ground truth.",
                        epilog="example:\n  " + EVAL_COMMANDS["depth"][1],
                        formatter_class=argparse.RawDescriptionHelpFormatter)
    ev_sub = ev.add_subparsers(dest="eval_command", metavar="STAGE")
    _add_commands(ev_sub, EVAL_COMMANDS, positional[1] if selected == "eval" and len(positional) > 1 else None)
    return parser


def main(argv: Optional[List[str]] = None) -> int:
    from .allocator import keep_freed_memory

    keep_freed_memory()  # frame loops reuse their freed buffers instead of faulting in fresh pages
    argv = list(sys.argv[1:] if argv is None else argv)
    from .argcheck import empty_argument

    empty = empty_argument(argv)
    if empty is not None:  # before argparse, which makes '' the current folder
        print(f"error: {empty}", file=sys.stderr)
        return 2
    parser = build_parser(argv)
    args = parser.parse_args(argv)
    if not hasattr(args, "_main"):
        parser.print_help() if args.command != "eval" else parser.parse_args(["eval", "--help"])
        return 2
    from .argcheck import check_arguments
    from .errors import run_command
    from .io.out_folder import check_output_files

    def command():
        check_arguments(args)  # numeric ranges (--display-hz 0, --ipd-mm nan, ...)
        check_output_files(args)  # --json/--plot/--frame-log/--overlay: one line before a long run, not after
        return args._main(args)

    return run_command(command)


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
