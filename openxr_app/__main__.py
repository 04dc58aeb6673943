"""``python -m openxr_app run|xr-info ...``: the same as ``passthrough run`` / ``passthrough xr-info``."""

import sys

from passthrough.errors import run_command

from .cli import add_run_arguments, add_xr_info_arguments, run_main, xr_info_main


def main(argv=None) -> int:
    from passthrough.allocator import keep_freed_memory

    keep_freed_memory()  # as `passthrough`: frame loops reuse their freed buffers
    from passthrough.argcheck import OneLineErrorParser, empty_argument

    empty = empty_argument(sys.argv[1:] if argv is None else list(argv))
    if empty is not None:
        print(f"error: {empty}", file=sys.stderr)
        return 2
    parser = OneLineErrorParser(prog="python -m openxr_app")
    sub = parser.add_subparsers(dest="command", required=True)
    add_run_arguments(sub.add_parser("run", help="run the display stage in an OpenXR session"))
    add_xr_info_arguments(sub.add_parser("xr-info", help="print the OpenXR runtime's facts"))
    args = parser.parse_args(argv)
    from passthrough.argcheck import check_arguments
    from passthrough.io.out_folder import check_output_files

    def command():
        check_arguments(args)
        check_output_files(args)
        return run_main(args) if args.command == "run" else xr_info_main(args)

    return run_command(command)


if __name__ == "__main__":
    sys.exit(main())
