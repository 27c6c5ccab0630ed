"""SUMO round trip: read a SUMO network's ``tlLogic`` programs and route/flow demand into a
:class:`~smartcore.signals.SignalPlan`, and write new timings back as a ``tlLogic`` additional file.

SUMO (Eclipse SUMO, https://sumo.dlr.de; ``pip install eclipse-sumo``) stores a fixed-time program
as a list of phases, each a duration and a state string with one character per controlled
connection (``linkIndex``): ``G`` priority green, ``g`` green that must yield (e.g. permitted
left turns), ``y`` yellow, ``r`` red (SUMO docs, "Simulation/Traffic Lights").

Mapping to smartcore (:func:`from_sumo`)
    * Stages: each phase with a green (``G``/``g``) and no yellow starts a smartcore
      :class:`~smartcore.signals.Phase`; the phases that follow it until the next such phase are
      its yellow (phases showing ``y``) and its all-red (phases with neither green nor yellow).
      Lost time per phase: the HCM 2000 default ``2 + Y + R - 2`` s.
    * Lane groups: the connections of one incoming edge with the same set of green stages form a
      lane group; its lanes are the distinct incoming lanes of those connections, its saturation
      flow :func:`~smartcore.signals.saturation_flow` of that many lanes (1900 pc/h/ln base, 2 %
      heavy vehicles; turn adjustments are not applied).
    * Flows: vehicles per hour over ``[begin, end)`` from ``<flow>`` (``vehsPerHour``, ``period``,
      ``probability`` or ``number``) and ``<vehicle>`` elements with a route (``route=`` id or an
      embedded ``<route edges=...>``), counted on every pair of consecutive edges of the route
      that is a controlled connection. Trips without a route (``from``/``to`` only) are not counted.
    * Offsets: SUMO's ``offset`` delays the program (eclipse-sumo/sumo#640), as smartcore's offset
      does; a program whose first phase is not a green phase is rotated so that smartcore's phase 0
      is its first green phase (the offset is adjusted accordingly).

Writing (:func:`write_tls`) keeps SUMO's state strings and replaces durations and offsets: each
smartcore phase becomes its green phase (duration G), its yellow phases (Y, split in the
original proportions) and all-red phases (R).
"""

from __future__ import annotations

import dataclasses
import os
import xml.etree.ElementTree as ET
from collections.abc import Iterable, Mapping
from pathlib import Path

from smartcore.errors import FormatError, InputError
from smartcore.signals.hcm import saturation_flow
from smartcore.signals.plan import Approach, Intersection, LaneGroup, Movement, Phase, SignalPlan

__all__ = ["SumoConnection", "SumoProgram", "SumoSignals", "read_tls", "read_demand", "from_sumo",
           "write_tls"]


@dataclasses.dataclass(frozen=True)
class SumoConnection:
    """A controlled connection of a SUMO traffic light (one character of the state strings)."""

    link_index: int
    from_edge: str
    to_edge: str
    from_lane: int
    direction: str


@dataclasses.dataclass(frozen=True)
class SumoProgram:
    """A static ``tlLogic`` program with its controlled connections (indexed by ``linkIndex``)."""

    id: str
    program_id: str
    offset_s: float
    phases: tuple[tuple[float, str], ...]
    connections: tuple[SumoConnection, ...]


@dataclasses.dataclass(frozen=True)
class SumoSignals:
    """A plan read from SUMO plus what :func:`write_tls` needs to write it back.

    Attributes
    ----------
    plan : SignalPlan
    programs : mapping id -> SumoProgram
    stages : mapping id -> list of (green phase index, [yellow phase indices], [all-red indices])
        Indices into the SUMO program's phases, one entry per smartcore phase.
    groups : mapping id -> mapping lane group name -> tuple of SumoConnection
    """

    plan: SignalPlan
    programs: Mapping[str, SumoProgram]
    stages: Mapping[str, list[tuple[int, list[int], list[int]]]]
    groups: Mapping[str, Mapping[str, tuple[SumoConnection, ...]]]

    def lane_group(self, tls_id: str, from_edge: str, to_edge: str) -> str:
        """Name of the lane group of ``tls_id`` carrying the connection ``from_edge -> to_edge``."""
        for name, conns in self.groups[tls_id].items():
            if any(c.from_edge == from_edge and c.to_edge == to_edge for c in conns):
                return name
        raise InputError(f"no controlled connection {from_edge} -> {to_edge} at {tls_id!r}", field="edge")


def _parse(path: str | os.PathLike[str]) -> ET.Element:
    try:
        return ET.parse(os.fspath(path)).getroot()
    except (OSError, ET.ParseError) as exc:
        raise FormatError(f"cannot read SUMO XML: {exc}", path=path) from None


def read_tls(net_file: str | os.PathLike[str]) -> dict[str, SumoProgram]:
    """Static ``tlLogic`` programs of a SUMO ``.net.xml`` with their controlled connections."""
    root = _parse(net_file)
    conns: dict[str, dict[int, SumoConnection]] = {}
    for el in root.iter("connection"):
        tl_id = el.get("tl")
        link = el.get("linkIndex")
        if tl_id is None or link is None:
            continue
        conns.setdefault(tl_id, {})[int(link)] = SumoConnection(
            int(link), el.get("from", ""), el.get("to", ""), int(el.get("fromLane", "0")), el.get("dir", ""))
    out: dict[str, SumoProgram] = {}
    for tl in root.iter("tlLogic"):
        tid = tl.get("id", "")
        if tl.get("type", "static") != "static":
            continue
        phases = tuple((float(p.get("duration", "0")), p.get("state", "")) for p in tl.iter("phase"))
        by_index = conns.get(tid, {})
        n = max((len(s) for _, s in phases), default=0)
        missing = [i for i in range(n) if i not in by_index]
        if missing:
            raise FormatError(f"tlLogic {tid!r}: no connection with linkIndex {missing[0]}", path=net_file,
                              field="linkIndex")
        out[tid] = SumoProgram(tid, tl.get("programID", "0"), float(tl.get("offset", "0")), phases,
                               tuple(by_index[i] for i in range(n)))
    return out


def _flow_rate(el: ET.Element, begin: float, end: float) -> float:
    """Vehicles per hour of a ``<flow>`` element over [begin, end)."""
    b = float(el.get("begin", "0"))
    e = float(el.get("end", str(end)))
    overlap = max(0.0, min(e, end) - max(b, begin))
    if overlap <= 0 or end <= begin:
        return 0.0
    if el.get("vehsPerHour") is not None:
        rate = float(el.get("vehsPerHour"))  # type: ignore[arg-type]
    elif el.get("period") is not None:
        period = el.get("period", "")
        if period.startswith("exp("):
            rate = float(period[4:-1]) * 3600.0
        else:
            rate = 3600.0 / float(period)
    elif el.get("probability") is not None:
        rate = float(el.get("probability")) * 3600.0  # type: ignore[arg-type]
    elif el.get("number") is not None:
        rate = float(el.get("number")) / max(e - b, 1e-9) * 3600.0  # type: ignore[arg-type]
    else:
        return 0.0
    return rate * overlap / (end - begin)


def _route_edges(el: ET.Element, routes: Mapping[str | None, list[str]],
                 path: str | os.PathLike[str]) -> list[str]:
    inner = el.find("route")
    if inner is not None:
        return inner.get("edges", "").split()
    rid = el.get("route")
    if rid is not None:
        if rid not in routes:
            raise FormatError(f"unknown route {rid!r}", path=path, field="route")
        return routes[rid]
    return []


def read_demand(route_files: Iterable[str | os.PathLike[str]], *, begin: float = 0.0,
                end: float = 3600.0) -> dict[tuple[str, str], float]:
    """Flow (veh/h over ``[begin, end)``) on every pair of consecutive edges of routed demand."""
    counts: dict[tuple[str, str], float] = {}
    for path in route_files:
        root = _parse(path)
        routes = {r.get("id"): r.get("edges", "").split() for r in root.iter("route") if r.get("id")}

        for el in list(root.iter("flow")) + list(root.iter("vehicle")):
            rate = (_flow_rate(el, begin, end) if el.tag == "flow" else
                    (3600.0 / (end - begin) if begin <= float(el.get("depart", "0")) < end else 0.0))
            edges = _route_edges(el, routes, path)
            for a, b in zip(edges[:-1], edges[1:]):
                counts[(a, b)] = counts.get((a, b), 0.0) + rate
    return counts


def _is_green(state: str) -> bool:
    return ("G" in state or "g" in state) and "y" not in state and "Y" not in state


def from_sumo(net_file: str | os.PathLike[str], route_files: Iterable[str | os.PathLike[str]] = (), *,
              begin: float = 0.0, end: float = 3600.0, min_green_s: float = 5.0,
              cycle_bounds_s: tuple[float, float] = (30.0, 120.0)) -> SumoSignals:
    """Read the static traffic lights of a SUMO network (and demand) as a SignalPlan (module docs).

    Parameters
    ----------
    net_file : path
        SUMO ``.net.xml``.
    route_files : paths
        Route/flow files whose routed vehicles give the flows.
    begin, end : float
        Demand period (s).
    min_green_s : float
        Minimum green of every phase (SUMO's netconvert default ``tls.min-dur`` is 5 s).
    cycle_bounds_s : (float, float)
    """
    programs = read_tls(net_file)
    demand = read_demand(route_files, begin=begin, end=end)
    intersections = []
    stages_all: dict[str, list[tuple[int, list[int], list[int]]]] = {}
    groups_all: dict[str, dict[str, tuple[SumoConnection, ...]]] = {}
    for tid, prog in programs.items():
        greens = [i for i, (_, s) in enumerate(prog.phases) if _is_green(s)]
        if not greens:
            continue
        n = len(prog.phases)
        stages: list[tuple[int, list[int], list[int]]] = []
        for k, g in enumerate(greens):
            nxt = greens[(k + 1) % len(greens)]
            yel: list[int] = []
            red: list[int] = []
            j = (g + 1) % n
            while j != nxt and j != g:
                (yel if ("y" in prog.phases[j][1] or "Y" in prog.phases[j][1]) else red).append(j)
                j = (j + 1) % n
            stages.append((g, yel, red))
        # lane groups: connections of an incoming edge with the same green stages
        pattern: dict[tuple[str, tuple[int, ...]], list[SumoConnection]] = {}
        for c in prog.connections:
            served = tuple(k for k, (g, _, _) in enumerate(stages)
                           if prog.phases[g][1][c.link_index] in "Gg")
            if served:
                pattern.setdefault((c.from_edge, served), []).append(c)
        pair_total: dict[tuple[str, str], int] = {}
        for c in prog.connections:
            pair_total[(c.from_edge, c.to_edge)] = pair_total.get((c.from_edge, c.to_edge), 0) + 1
        by_edge: dict[str, list[LaneGroup]] = {}
        groups: dict[str, tuple[SumoConnection, ...]] = {}
        serves: dict[int, list[str]] = {k: [] for k in range(len(stages))}
        for (edge, served), cs in pattern.items():
            name = f"{edge}:{''.join(str(k) for k in served)}"
            lanes = len({c.from_lane for c in cs})
            moves = []
            for c in cs:
                share = demand.get((c.from_edge, c.to_edge), 0.0) / pair_total[(c.from_edge, c.to_edge)]
                turn = {"s": "through", "l": "left", "L": "left", "r": "right", "R": "right",
                        "t": "uturn"}.get(c.direction, "through")
                moves.append(Movement(turn, share))
            by_edge.setdefault(edge, []).append(LaneGroup(name, tuple(moves), lanes, saturation_flow(lanes)))
            groups[name] = tuple(cs)
            for k in served:
                serves[k].append(name)
        phases = []
        first_green_start = sum(d for d, _ in prog.phases[:greens[0]])
        for k, (g, yel, red) in enumerate(stages):
            phases.append(Phase(f"{tid}:{g}", tuple(serves[k]), green_s=prog.phases[g][0],
                                yellow_s=sum(prog.phases[j][0] for j in yel),
                                all_red_s=sum(prog.phases[j][0] for j in red),
                                min_green_s=min(min_green_s, prog.phases[g][0]), pedestrian=not serves[k]))
        cycle = sum(d for d, _ in prog.phases)
        offset = (prog.offset_s + first_green_start) % cycle if cycle > 0 else 0.0
        approaches = tuple(Approach(edge, tuple(gs)) for edge, gs in by_edge.items())
        intersections.append(Intersection(tid, approaches, tuple(phases), offset, *cycle_bounds_s))
        stages_all[tid] = stages
        groups_all[tid] = groups
    plan = SignalPlan(tuple(intersections), name=Path(net_file).name,
                      metadata={"source": "SUMO", "net": os.fspath(net_file)})
    return SumoSignals(plan, programs, stages_all, groups_all)


def write_tls(signals: SumoSignals, plan: SignalPlan, path: str | os.PathLike[str], *,
              program_id: str = "smartcore") -> Path:
    """Write ``plan``'s timings as a SUMO additional file of static ``tlLogic`` programs.

    Load it with ``sumo -a <path>``: a program with a new ``programID`` added this way becomes the
    active one (SUMO loads additional programs after the network's).
    """
    root = ET.Element("additional")
    for it in plan:
        prog = signals.programs.get(it.id)
        if prog is None:
            raise InputError(f"intersection {it.id!r} is not a traffic light of the SUMO network",
                             field="plan")
        stages = signals.stages[it.id]
        if len(stages) != len(it.phases):
            raise InputError(f"intersection {it.id!r}: {len(it.phases)} phases, the SUMO program has "
                             f"{len(stages)}", field="plan")
        tl = ET.SubElement(root, "tlLogic", id=it.id, type="static", programID=program_id,
                           offset=f"{it.offset_s:.2f}")
        for p, (g, yel, red) in zip(it.phases, stages):
            ET.SubElement(tl, "phase", duration=f"{float(p.green_s):.2f}", state=prog.phases[g][1])
            for idxs, total in ((yel, p.yellow_s), (red, p.all_red_s)):
                orig = sum(prog.phases[j][0] for j in idxs)
                for j in idxs:
                    share = prog.phases[j][0] / orig if orig > 0 else 1.0 / len(idxs)
                    if total * share > 0:
                        ET.SubElement(tl, "phase", duration=f"{total * share:.2f}", state=prog.phases[j][1])
    ET.indent(root)
    out = Path(path)
    ET.ElementTree(root).write(out, encoding="utf-8", xml_declaration=True)
    return out
