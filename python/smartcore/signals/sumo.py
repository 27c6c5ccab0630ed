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
      heavy vehicles, default lane utilisation) with the HCM 2000 Exhibit 16-7 turn factors:
      right turns ``f_RT = 0.85`` in an exclusive lane group, ``1 - 0.15 P_RT`` shared
      (``1 - 0.135 P_RT`` for a single lane); protected left turns (``G`` in SUMO's state)
      ``f_LT = 0.95`` exclusive, ``1 / (1 + 0.05 P_LT)`` shared.
    * Permitted left turns (a left connection showing minor green ``g`` in every stage that serves
      it) filter through the opposing flow: the lane group's ``opposed_by`` names the lane groups of
      the opposite incoming edge (direction of travel within 45 degrees of opposite, read from the
      lane shapes) served in the same stage, and its saturation flow gets the HCM 2000 Appendix C
      factor at the program's timings (:func:`~smartcore.signals.apply_permitted_left`;
      :func:`~smartcore.signals.optimise_timings` recomputes it with new timings).
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
import math
import os
import xml.etree.ElementTree as ET
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from smartcore.errors import FormatError, InputError
from smartcore.signals.hcm import saturation_flow
from smartcore.signals.plan import Approach, Intersection, LaneGroup, Movement, Phase, SignalPlan

if TYPE_CHECKING:  # pragma: no cover
    from smartcore.signals.transyt import Feeds

__all__ = ["SumoConnection", "SumoProgram", "SumoSignals", "read_tls", "read_demand", "from_sumo",
           "write_tls", "read_timings", "feeds_from_sumo", "SUMO_LOST_TIME_S", "SUMO_PERMITTED_LEFT",
           "SUMO_DISPERSION"]

#: Lost time per phase (s) for SUMO's default drivers. SUMO's Krauss drivers brake at yellow when
#: they can, so little of the yellow is used as green: discharging a saturated single lane through
#: a 3 s yellow in SUMO 1.28 gives 1,880 veh/h of green and 4.3 s lost per phase (measured with
#: greens of 10 to 40 s). SUMO's ``tlsCycleAdaptation.py`` assumes 4 s by default, as here.
SUMO_LOST_TIME_S = 4.0

#: Gap acceptance of SUMO's default drivers turning left through oncoming traffic, as effective
#: parameters of HCM 2000 Appendix C (:func:`smartcore.signals.permitted_left_factor`). SUMO's
#: junction model lets a left-turner go only when it can clear the conflict area, accelerating from
#: standstill, with a safety gap ahead of the oncoming vehicle, which is far more cautious than
#: HCM's t_c = 4.5 s, t_f = 2.5 s. Fitting Appendix C to 60 SUMO 1.28 simulations of a saturated
#: single shared lane (15-50 % left turns, 150-600 veh/h oncoming, greens 10-40 s in a 60 s cycle)
#: gives t_c = 9 s, t_f = 3 s: throughput RMS error 16 % (HCM's values: 31 %, overestimating by
#: 20 % on average); the sneakers per cycle hardly matter there and keep HCM's 2.
SUMO_PERMITTED_LEFT = {"critical_gap_s": 9.0, "follow_up_s": 3.0, "sneakers": 2.0}

#: Robertson's platoon dispersion parameters for SUMO's default drivers, for
#: :func:`smartcore.signals.transyt.optimise_network` (``alpha``, ``beta``). Real platoons spread
#: ahead of the cruise speed (TRANSYT's beta = 0.8, alpha = 0.35); SUMO's cars keep at or below the
#: speed limit: between two signals 300 m apart (free-flow time T = 21.6 s) their stop-line to
#: stop-line times (vehroute exit times, SUMO 1.28, sigma 0.5) start near T and average 1.1 T,
#: which beta = 1.0 (leaders arrive after T' = T) and alpha = 0.1 (mean T' + alpha beta T = 1.1 T)
#: reproduce.
SUMO_DISPERSION = {"alpha": 0.1, "beta": 1.0}


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


def _edge_bearings(root: ET.Element) -> dict[str, float]:
    """Direction of travel (deg clockwise from north) at the end of every normal edge's first lane."""
    out: dict[str, float] = {}
    for edge in root.iter("edge"):
        if edge.get("function") is not None:
            continue
        lane = edge.find("lane")
        if lane is None:
            continue
        try:
            pts = [tuple(float(v) for v in xy.split(",")[:2]) for xy in lane.get("shape", "").split()]
        except ValueError:
            continue
        if len(pts) < 2:
            continue
        (x1, y1), (x2, y2) = pts[-2], pts[-1]
        out[edge.get("id", "")] = math.degrees(math.atan2(x2 - x1, y2 - y1)) % 360.0
    return out


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


def _routed(route_files: Iterable[str | os.PathLike[str]], begin: float,
            end: float) -> list[tuple[list[str], float]]:
    """(edges, veh/h over [begin, end)) of every routed ``<flow>`` and ``<vehicle>``."""
    out: list[tuple[list[str], float]] = []
    for path in route_files:
        root = _parse(path)
        routes = {r.get("id"): r.get("edges", "").split() for r in root.iter("route") if r.get("id")}
        for el in list(root.iter("flow")) + list(root.iter("vehicle")):
            try:
                rate = (_flow_rate(el, begin, end) if el.tag == "flow" else
                        (3600.0 / (end - begin) if begin <= float(el.get("depart", "0")) < end else 0.0))
            except ValueError as exc:
                raise FormatError(f"<{el.tag} id={el.get('id')!r}>: {exc}", path=path, field=el.tag) from None
            edges = _route_edges(el, routes, path)
            if rate > 0 and len(edges) > 1:
                out.append((edges, rate))
    return out


def read_demand(route_files: Iterable[str | os.PathLike[str]], *, begin: float = 0.0,
                end: float = 3600.0) -> dict[tuple[str, str], float]:
    """Flow (veh/h over ``[begin, end)``) on every pair of consecutive edges of routed demand."""
    counts: dict[tuple[str, str], float] = {}
    for edges, rate in _routed(route_files, begin, end):
        for a, b in zip(edges[:-1], edges[1:]):
            counts[(a, b)] = counts.get((a, b), 0.0) + rate
    return counts


def _edge_lengths_speeds(
    root: ET.Element,
) -> tuple[dict[str, tuple[float, float]], dict[tuple[str, str], float]]:
    """(length m, speed m/s) of every normal edge (first lane), and the time (s) to cross the
    junction on each connection's internal lane (``via``), at that lane's speed."""
    out: dict[str, tuple[float, float]] = {}
    internal: dict[str, float] = {}
    for edge in root.iter("edge"):
        for lane in edge.iter("lane"):
            length, speed = float(lane.get("length", "0")), max(float(lane.get("speed", "13.89")), 0.1)
            if edge.get("function") == "internal":
                internal[lane.get("id", "")] = length / speed
            elif lane.get("index", "0") == "0":
                out[edge.get("id", "")] = (length, speed)
    via: dict[tuple[str, str], float] = {}
    for c in root.iter("connection"):
        if c.get("via") in internal and not c.get("from", "").startswith(":"):
            via.setdefault((c.get("from", ""), c.get("to", "")), internal[c.get("via", "")])
    return out, via


def feeds_from_sumo(signals: SumoSignals, net_file: str | os.PathLike[str],
                    route_files: Iterable[str | os.PathLike[str]], *, begin: float = 0.0,
                    end: float = 3600.0) -> Feeds:
    """Feeds between the lane groups of :func:`from_sumo`'s plan, from the routes themselves.

    Every routed vehicle that crosses traffic light ``a`` through connection ``e_k -> e_k+1`` (lane
    group G) and next crosses a traffic light at ``e_m -> e_m+1`` (lane group H) adds its rate to
    the feed G -> H; the feed's share is that flow over G's flow, its travel time the flow-weighted
    mean of the time to cross junction ``a`` on the connection's internal lane plus
    ``sum(length / speed)`` over the edges ``e_k+1 .. e_m`` (stop line to stop line at the lanes'
    speed limits). A connection pair carried by several lane groups is split equally among
    its connections, as :func:`from_sumo` splits flows.
    """
    from smartcore.signals.transyt import Feeds, _group_index

    plan = signals.plan
    edges, via = _edge_lengths_speeds(_parse(net_file))
    index = _group_index(plan)
    pair_groups: dict[tuple[str, str], list[tuple[int, float]]] = {}
    for tid, groups in signals.groups.items():
        if tid not in plan.ids:
            continue
        counts: dict[tuple[str, str], dict[int, int]] = {}
        for name, conns in groups.items():
            for c in conns:
                d = counts.setdefault((c.from_edge, c.to_edge), {})
                d[index[(tid, name)]] = d.get(index[(tid, name)], 0) + 1
        for pair, d in counts.items():
            total = sum(d.values())
            pair_groups.setdefault(pair, []).extend((g, n / total) for g, n in d.items())
    flow = plan.arrays()["flow_vph"]
    acc: dict[tuple[int, int], list[float]] = {}
    for route, rate in _routed(route_files, begin, end):
        passages = [(j, pair_groups[(a, b)]) for j, (a, b) in enumerate(zip(route[:-1], route[1:]))
                    if (a, b) in pair_groups]
        for (j, up), (m, down) in zip(passages[:-1], passages[1:]):
            tt = via.get((route[j], route[j + 1]), 0.0) + sum(edges[e][0] / edges[e][1]
                                                               for e in route[j + 1:m + 1] if e in edges)
            for g, fg in up:
                for h, fh in down:
                    if g == h:
                        continue
                    rec = acc.setdefault((h, g), [0.0, 0.0])
                    rec[0] += rate * fg * fh
                    rec[1] += rate * fg * fh * tt
    keys = sorted(k for k, (f, _) in acc.items() if f > 0 and flow[k[1]] > 0)
    if not keys:
        return Feeds.empty()
    return Feeds(np.array([h for h, _ in keys], np.int32), np.array([g for _, g in keys], np.int32),
                 np.array([min(1.0, acc[k][0] / flow[k[1]]) for k in keys]),
                 np.array([acc[k][1] / acc[k][0] for k in keys]))


def _is_green(state: str) -> bool:
    return ("G" in state or "g" in state) and "y" not in state and "Y" not in state


def from_sumo(net_file: str | os.PathLike[str], route_files: Iterable[str | os.PathLike[str]] = (), *,
              begin: float = 0.0, end: float = 3600.0, min_green_s: float = 5.0,
              cycle_bounds_s: tuple[float, float] = (30.0, 120.0),
              lost_time_s: float | None = SUMO_LOST_TIME_S,
              permitted_left: Mapping[str, float] | None = None) -> SumoSignals:
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
    lost_time_s : float or None
        Lost time per phase (s), :data:`SUMO_LOST_TIME_S` by default; None uses the HCM 2000
        default ``2 + Y + R - 2`` (drivers using 2 s of the yellow, which SUMO's do not).
    permitted_left : mapping, optional
        Gap-acceptance parameters of permitted left turns (``critical_gap_s``, ``follow_up_s``,
        ``sneakers``), kept in ``plan.metadata["permitted_left"]``; default
        :data:`SUMO_PERMITTED_LEFT`. Pass :data:`smartcore.signals.hcm.PERMITTED_LEFT_DEFAULTS` for
        HCM 2000's.
    """
    programs = read_tls(net_file)
    net_root = _parse(net_file)
    bearings = _edge_bearings(net_root)
    junction_xy = {j.get("id", ""): (float(j.get("x", "nan")), float(j.get("y", "nan")))
                   for j in net_root.iter("junction")}
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
        permitted: dict[str, tuple[str, tuple[int, ...]]] = {}
        for (edge, served), cs in pattern.items():
            name = f"{edge}:{''.join(str(k) for k in served)}"
            lanes = len({c.from_lane for c in cs})
            moves = []
            for c in cs:
                share = demand.get((c.from_edge, c.to_edge), 0.0) / pair_total[(c.from_edge, c.to_edge)]
                turn = {"s": "through", "l": "left", "L": "left", "r": "right", "R": "right",
                        "t": "uturn"}.get(c.direction, "through")
                moves.append(Movement(turn, share))
            v = sum(m.flow_vph for m in moves)
            turns = {m.turn for m in moves}
            p_rt = sum(m.flow_vph for m in moves if m.turn == "right") / v if v > 0 else 0.0
            p_lt = sum(m.flow_vph for m in moves if m.turn == "left") / v if v > 0 else 0.0
            lefts = [c for c in cs if c.direction in ("l", "L")]
            is_permitted = bool(lefts) and all(prog.phases[stages[k][0]][1][c.link_index] == "g"
                                               for c in lefts for k in served)
            f_rt = 1.0
            if "right" in turns:
                f_rt = 0.85 if turns == {"right"} else 1.0 - (0.135 if lanes == 1 else 0.15) * p_rt
            f_lt = 1.0
            if "left" in turns and not is_permitted:
                f_lt = 0.95 if turns == {"left"} else 1.0 / (1.0 + 0.05 * p_lt)
            movement = "left" if turns == {"left"} else "right" if turns == {"right"} else "through"
            s = saturation_flow(lanes, movement=movement, left_turn_factor=f_lt, right_turn_factor=f_rt)
            by_edge.setdefault(edge, []).append(LaneGroup(
                name, tuple(moves), lanes, s, unopposed_saturation_flow_vph=s if is_permitted else None))
            groups[name] = tuple(cs)
            for k in served:
                serves[k].append(name)
            if is_permitted:
                permitted[name] = (edge, served)
        # opposing lane groups of permitted lefts: the opposite edge's groups green in the same stage
        for name, (edge, served) in permitted.items():
            opp: list[str] = []
            b = bearings.get(edge)
            for other in serves[served[0]]:
                o_edge = groups[other][0].from_edge
                ob = bearings.get(o_edge)
                if o_edge != edge and b is not None and ob is not None and \
                        abs(((ob - b) % 360.0) - 180.0) <= 45.0:
                    opp.append(other)
            if opp:
                lst = by_edge[edge]
                j = next(i for i, g in enumerate(lst) if g.name == name)
                lst[j] = dataclasses.replace(lst[j], opposed_by=tuple(opp))
            else:  # nothing opposes it: an unopposed left turn
                lst = by_edge[edge]
                j = next(i for i, g in enumerate(lst) if g.name == name)
                lst[j] = dataclasses.replace(lst[j], unopposed_saturation_flow_vph=None)
        phases = []
        first_green_start = sum(d for d, _ in prog.phases[:greens[0]])
        for k, (g, yel, red) in enumerate(stages):
            phases.append(Phase(f"{tid}:{g}", tuple(serves[k]), green_s=prog.phases[g][0],
                                yellow_s=sum(prog.phases[j][0] for j in yel),
                                all_red_s=sum(prog.phases[j][0] for j in red),
                                min_green_s=min(min_green_s, prog.phases[g][0]), pedestrian=not serves[k],
                                lost_time_s=lost_time_s))
        cycle = sum(d for d, _ in prog.phases)
        offset = (prog.offset_s + first_green_start) % cycle if cycle > 0 else 0.0
        approaches = tuple(Approach(edge, tuple(gs)) for edge, gs in by_edge.items())
        x, y = junction_xy.get(tid, (None, None))
        intersections.append(Intersection(tid, approaches, tuple(phases), offset, *cycle_bounds_s, x=x, y=y))
        stages_all[tid] = stages
        groups_all[tid] = groups
    gaps = dict(SUMO_PERMITTED_LEFT if permitted_left is None else permitted_left)
    plan = SignalPlan(tuple(intersections), name=Path(net_file).name,
                      metadata={"source": "SUMO", "net": os.fspath(net_file), "permitted_left": gaps})
    from smartcore.signals.hcm import apply_permitted_left

    return SumoSignals(apply_permitted_left(plan), programs, stages_all, groups_all)


def read_timings(signals: SumoSignals, additional_file: str | os.PathLike[str]) -> SignalPlan:
    """The plan of ``signals`` with the timings of the ``tlLogic`` programs in ``additional_file``
    (e.g. written by :func:`write_tls` or ``tlsCycleAdaptation.py``).

    Each program is cut into stages as :func:`from_sumo` does (a green phase, then its yellow and
    all-red phases); the stages must show the network program's green states in the same order.
    Greens, yellows, all-reds and the offset are taken from the file; other traffic lights keep
    their timings.

    Raises
    ------
    FormatError
        A program of an unknown traffic light, or stages whose green states differ from the network's.
    """
    import dataclasses as dc

    root = _parse(additional_file)
    plan = signals.plan
    new = {it.id: it for it in plan}
    for tl in root.iter("tlLogic"):
        tid = tl.get("id", "")
        if tid not in new:
            raise FormatError(f"tlLogic {tid!r} is not a traffic light of the plan", path=additional_file,
                              field="id")
        phases = [(float(p.get("duration", "0")), p.get("state", "")) for p in tl.iter("phase")]
        greens = [k for k, (_, st) in enumerate(phases) if _is_green(st)]
        prog = signals.programs[tid]
        want = [prog.phases[g][1] for g, _, _ in signals.stages[tid]]
        if [phases[k][1] for k in greens] != want:
            raise FormatError(f"tlLogic {tid!r}: its green phases do not match the network program's stages",
                              path=additional_file, field="state")
        it = new[tid]
        out = []
        for k, g in enumerate(greens):
            nxt = greens[(k + 1) % len(greens)]
            j, yel, red = (g + 1) % len(phases), 0.0, 0.0
            while j != nxt and j != g:
                if "y" in phases[j][1] or "Y" in phases[j][1]:
                    yel += phases[j][0]
                else:
                    red += phases[j][0]
                j = (j + 1) % len(phases)
            p = it.phases[k]
            out.append(dc.replace(p, green_s=phases[g][0], yellow_s=yel, all_red_s=red,
                                  min_green_s=min(p.min_green_s, phases[g][0])))
        cycle = sum(d for d, _ in phases)
        first = sum(d for d, _ in phases[:greens[0]])
        offset = (float(tl.get("offset", "0")) + first) % cycle if cycle > 0 else 0.0
        new[tid] = dc.replace(it, phases=tuple(out), offset_s=offset if offset < cycle else 0.0)
    from smartcore.signals.hcm import apply_permitted_left

    return apply_permitted_left(plan.replace(intersections=tuple(new[i] for i in plan.ids)))


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
