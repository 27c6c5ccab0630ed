"""End-to-end signal workflows behind ``smartcore signals optimize`` and ``smartcore signals report``.

:func:`optimise_sumo`
    SUMO network + routes -> :func:`~smartcore.signals.sumo.from_sumo` (HCM 2000 saturation flows
    with SUMO-calibrated permitted left turns) -> common cycle and equisaturation splits minimising
    HCM 2000 delay (:func:`~smartcore.signals.best_common_cycle`) -> TRANSYT-style optimisation of
    cycle, splits and offsets with platoon feeds read from the routes and SUMO-calibrated
    dispersion -> ``tlLogic`` additional file.
:func:`optimise_osm`
    smartcore network (OSM) + link flows (given, or estimated as a fraction of capacity) ->
    :func:`~smartcore.signals.from_network` plans -> the same optimisation with
    :func:`~smartcore.signals.transyt.feeds_from_network` -> JSON plan (with feeds) or GMNS tables.
:func:`arterial_layout`
    positions and through lane groups of an arterial, for time-space diagrams.
"""

from __future__ import annotations

import math
import os
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING

import numpy as np

from smartcore.errors import InputError

if TYPE_CHECKING:  # pragma: no cover
    from smartcore.network import Network
    from smartcore.signals.plan import SignalPlan
    from smartcore.signals.sumo import SumoSignals
    from smartcore.signals.transyt import Feeds, NetworkOptimisation

__all__ = ["parse_cycles", "optimise_sumo", "optimise_osm", "link_flows", "arterial_layout"]


def parse_cycles(text: str | None, plan: SignalPlan) -> np.ndarray | None:
    """Candidate cycles from ``"keep"`` (None), ``"auto"`` (the plan's cycle bounds every 5 s),
    ``"90"`` or ``"60:120"`` / ``"60:120:2"`` (inclusive range, step 5 s by default)."""
    from smartcore.signals.transyt import cycle_candidates

    if text is None or text == "keep":
        return None
    if text == "auto":
        return cycle_candidates(plan, 5.0)
    try:
        parts = [float(p) for p in text.split(":")]
    except ValueError:
        raise InputError(
            f"--cycle: expected keep, auto, SECONDS or LO:HI[:STEP], got {text!r}", field="cycle"
        ) from None
    if len(parts) == 1:
        out = np.array(parts)
    elif len(parts) in (2, 3):
        lo, hi = parts[0], parts[1]
        step = parts[2] if len(parts) == 3 else 5.0
        if not (0 < lo <= hi and step > 0):
            raise InputError(f"--cycle: need 0 < LO <= HI and STEP > 0, got {text!r}", field="cycle")
        out = np.arange(lo, hi + 1e-9, step)
    else:
        raise InputError(
            f"--cycle: expected keep, auto, SECONDS or LO:HI[:STEP], got {text!r}", field="cycle"
        )
    if np.any(~np.isfinite(out)) or np.any(out <= 0):
        raise InputError("--cycle: cycles must be finite and > 0", field="cycle")
    return out


def optimise_sumo(
    net_file: str | os.PathLike[str],
    route_files: Sequence[str | os.PathLike[str]],
    out: str | os.PathLike[str] | None = None,
    *,
    begin: float = 0.0,
    end: float = 3600.0,
    cycles: str | None = "auto",
    restarts: int = 4,
    seed: int = 0,
    threads: int | None = None,
    offsets: bool = True,
    splits: bool = True,
    progress: Callable[[int, int, float], bool | None] | None = None,
) -> tuple[SumoSignals, Feeds, NetworkOptimisation]:
    """Optimise the static traffic lights of a SUMO network for its routed demand (module docs).

    Returns
    -------
    (SumoSignals, Feeds, NetworkOptimisation)
        ``out`` (a ``.add.xml`` path), when given, receives the best timings.
    """
    from smartcore.signals.sumo import SUMO_DISPERSION, feeds_from_sumo, from_sumo, write_tls
    from smartcore.signals.timing import best_common_cycle, optimise_timings
    from smartcore.signals.transyt import optimise_network

    if not route_files:
        raise InputError("give the demand with --routes (SUMO route or flow files)", field="routes")
    signals = from_sumo(net_file, route_files, begin=begin, end=end, cycle_bounds_s=(20.0, 120.0))
    plan = signals.plan
    if len(plan) == 0:
        raise InputError(f"{net_file}: no static traffic light with a green phase", field="net")
    if float(plan.arrays()["flow_vph"].sum()) <= 0:
        raise InputError(
            "the routes carry no vehicle through a traffic light in [begin, end)", field="routes"
        )
    cand = parse_cycles(cycles, plan)
    start = plan
    if cand is not None:
        lo, hi = float(cand.min()), float(cand.max())
        common, _ = best_common_cycle(plan, (lo, hi), step_s=1.0)
        start = optimise_timings(plan, cycle_s=common).plan.with_timings(offset_s=np.zeros(len(plan)))
    feeds = feeds_from_sumo(signals, net_file, route_files, begin=begin, end=end)
    res = optimise_network(
        start,
        feeds,
        cycle_s=cand,
        offsets=offsets,
        splits=splits,
        restarts=restarts,
        seed=seed,
        threads=threads,
        progress=progress,
        alpha=SUMO_DISPERSION["alpha"],
        beta=SUMO_DISPERSION["beta"],
    )
    if out is not None:
        write_tls(signals, res.plan, out)
    return signals, feeds, res


def link_flows(
    network: Network, flows_csv: str | os.PathLike[str] | None = None, *, capacity_fraction: float = 0.5
) -> np.ndarray:
    """Link flows (veh/h): from a CSV with ``from_node_id, to_node_id, flow_vph`` (external node ids;
    links missing from the file carry 0), or estimated as ``capacity_fraction x capacity``."""
    if flows_csv is None:
        if not (0 <= capacity_fraction and math.isfinite(capacity_fraction)):
            raise InputError("--flow-fraction must be a finite number >= 0", field="flow_fraction")
        return capacity_fraction * np.asarray(network.capacity, dtype=np.float64)
    import csv

    from smartcore.errors import FormatError

    out = np.zeros(network.num_links)
    try:
        with open(flows_csv, encoding="utf-8-sig", newline="") as fh:
            reader = csv.DictReader(fh)
            need = ("from_node_id", "to_node_id", "flow_vph")
            missing = [c for c in need if c not in (reader.fieldnames or [])]
            if missing:
                raise FormatError(f"missing column {missing[0]!r}", path=flows_csv, line=1, field=missing[0])
            for line, row in enumerate(reader, start=2):
                try:
                    a, b, v = int(row["from_node_id"]), int(row["to_node_id"]), float(row["flow_vph"])
                except ValueError:
                    raise FormatError(
                        "expected integer node ids and a number", path=flows_csv, line=line, field="flow_vph"
                    ) from None
                if not (v >= 0 and math.isfinite(v)):
                    raise FormatError(
                        f"flow must be >= 0, got {v!r}", path=flows_csv, line=line, field="flow_vph"
                    )
                if not (network.has_node(a) and network.has_node(b)):
                    raise FormatError(
                        f"no node {a if not network.has_node(a) else b} in the network",
                        path=flows_csv,
                        line=line,
                        field="from_node_id",
                    )
                links = network.link_index(a, b)
                if len(links) == 0:
                    raise FormatError(
                        f"no link {a} -> {b} in the network", path=flows_csv, line=line, field="to_node_id"
                    )
                out[links] += v / len(links)
    except OSError as exc:
        raise FormatError(f"cannot read: {exc.strerror}", path=flows_csv) from None
    return out


def optimise_osm(
    network: Network,
    out: str | os.PathLike[str] | None = None,
    *,
    flows_vph: np.ndarray | None = None,
    cycles: str | None = "auto",
    restarts: int = 4,
    seed: int = 0,
    threads: int | None = None,
    offsets: bool = True,
    splits: bool = True,
    progress: Callable[[int, int, float], bool | None] | None = None,
) -> tuple[SignalPlan, Feeds, NetworkOptimisation]:
    """Default plans of a network's signals (:func:`~smartcore.signals.from_network`), optimised.

    ``out`` ending in ``.json`` receives the plan and feeds (:func:`smartcore.signals.io.write_plan`);
    any other path is a folder for the GMNS signal tables.
    """
    from smartcore.signals.osm import from_network
    from smartcore.signals.transyt import feeds_from_network, optimise_network

    plan = from_network(network, link_flow_vph=flows_vph)
    if len(plan) == 0:
        raise InputError(
            f"network {network.name!r} has no signalised junction (highway=traffic_signals)", field="network"
        )
    feeds = feeds_from_network(plan, network)
    res = optimise_network(
        plan,
        feeds,
        cycle_s=parse_cycles(cycles, plan),
        offsets=offsets,
        splits=splits,
        restarts=restarts,
        seed=seed,
        threads=threads,
        progress=progress,
    )
    if out is not None:
        if str(out).lower().endswith(".json"):
            from smartcore.signals.io import write_plan

            write_plan(res.plan, out, feeds)
        else:
            from smartcore.signals.gmns import write_gmns_signals

            write_gmns_signals(res.plan, out, network=network)
    return plan, feeds, res


def arterial_layout(
    plan: SignalPlan, feeds: Feeds | None, ids: Sequence[str], *, speed_mps: float = 13.9
) -> tuple[np.ndarray, list[str], list[str] | None]:
    """Positions (m) and outbound/inbound through lane groups of the arterial ``ids`` (in order).

    Positions come from the intersections' coordinates (great-circle distances when they look like
    longitude/latitude), else from the feeds' travel times at ``speed_mps``. The through lane group
    between consecutive signals is the feed carrying the most flow from one to the other (inbound:
    back); the last signal's outbound group (first's inbound) is the one that feed enters.

    Raises
    ------
    InputError
        An unknown id, fewer than two ids, or two consecutive signals no feed joins.
    """
    ids = list(ids)
    if len(ids) < 2:
        raise InputError("an arterial needs at least two intersections", field="arterial")
    for i in ids:
        plan[i]  # raises InputError for an unknown id
    names = [(it.id, g.name) for it in plan for g in it.lane_groups]
    flow = plan.arrays()["flow_vph"]

    def strongest(a: str, b: str) -> tuple[str, str, float] | None:
        if feeds is None or len(feeds) == 0:
            return None
        best = None
        for to, fr, share, tt in zip(feeds.to_group, feeds.from_group, feeds.share, feeds.travel_time_s):
            if names[fr][0] == a and names[to][0] == b:
                w = share * flow[fr]
                if best is None or w > best[0]:
                    best = (w, names[fr][1], names[to][1], float(tt))
        return None if best is None else best[1:]

    out: list[str] = []
    inn: list[str | None] = [None] * len(ids)
    travel: list[float] = []
    for k in range(len(ids) - 1):
        f = strongest(ids[k], ids[k + 1])
        if f is None:
            raise InputError(
                f"no feed joins {ids[k]!r} to {ids[k + 1]!r} (are they neighbours?)", field="arterial"
            )
        out.append(f[0])
        if k == len(ids) - 2:
            out.append(f[1])
        travel.append(f[2])
        back = strongest(ids[k + 1], ids[k])
        if back is not None:
            inn[k + 1] = back[0]
            if k == 0:
                inn[0] = back[1]
    xs = [plan[i].x for i in ids]
    ys = [plan[i].y for i in ids]
    if all(v is not None and math.isfinite(v) for v in xs + ys):
        lonlat = all(abs(x) <= 180 and abs(y) <= 90 for x, y in zip(xs, ys))  # type: ignore[arg-type]
        steps = []
        for (x1, y1), (x2, y2) in zip(zip(xs[:-1], ys[:-1]), zip(xs[1:], ys[1:])):
            if lonlat:
                p1, p2 = math.radians(y1), math.radians(y2)  # type: ignore[arg-type]
                dl = math.radians(x2 - x1)  # type: ignore[operator]
                h = math.sin((p2 - p1) / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin(dl / 2) ** 2
                steps.append(2 * 6371008.8 * math.asin(math.sqrt(h)))
            else:
                steps.append(math.hypot(x2 - x1, y2 - y1))  # type: ignore[operator]
    else:
        steps = [t * speed_mps for t in travel]
    pos = np.concatenate([[0.0], np.cumsum(steps)])
    inbound = None if any(g is None for g in inn) else [str(g) for g in inn]
    return pos, out, inbound
