"""Default signal plans for the ``traffic_signals`` nodes of an OpenStreetMap network.

:func:`from_network` turns every signalised junction of a :class:`~smartcore.network.Network`
(nodes with ``highway=traffic_signals``, grouped by :func:`smartcore.io.osm.signal_clusters`) into
an :class:`~smartcore.signals.Intersection` with approaches, lane groups, movements and a default
fixed-time plan. OSM rarely says how lanes are used or how long greens are, so the rules and
defaults below are stated in full.

Junction extent
    The cluster's signal nodes, plus every unsignalised node joined by links no longer than
    ``radius_m`` to at least two of them (the junction node when the signals are mapped on the
    approaches, a few metres before it; OSM wiki Tag:highway=traffic_signals).
Approaches and movements
    An approach is a link entering the junction from outside; an exit a link leaving it. Each
    approach has a movement to every exit reachable inside the junction, except the exit back to
    the approach's own tail (U-turns are left out). The turn is classed by the angle between the
    travel direction at the end of the approach link and at the start of the exit link (from the
    link geometry): within 45 degrees through, otherwise right (clockwise) or left
    (anticlockwise), mirrored with ``drive_on="left"``; turns beyond 150 degrees are U-turns and
    left out.
Lane groups
    Lanes per approach from the link's ``lanes`` (at least 1). When an approach has a left turn and
    at least ``protected_left_min_lanes`` lanes (default 2, i.e. room for an exclusive left-turn
    lane besides a through lane), its left turns get one exclusive lane as their own lane group
    with a protected phase; the other lanes form one shared through/right group. Otherwise all
    movements share one lane group and left turns are permitted (they filter through the opposing
    flow).
Saturation flow (HCM 2000 Eq. 16-4, :func:`~smartcore.signals.saturation_flow`)
    Base 1900 pc/h/ln; lane width 3.6 m (fw = 1; OSM ``width`` is rarely mapped); 2 % heavy
    vehicles with E_T = 2.0 (fHV = 0.980); level; no parking manoeuvres or bus blockage; area type
    ``cbd`` (fa = 0.90 when True); default lane utilisation (HCM 2000 Exhibit 10-23); right turns in
    a shared lane fRT = 1 - 0.15 P_RT (1 - 0.135 P_RT for a single-lane group); protected
    exclusive left lane fLT = 0.95 (HCM 2000 Exhibit 16-7). Permitted left turns in a shared group
    use a planning-level through-car equivalent from gap acceptance through the opposing flow
    v_o: the left-turn filtering rate is ``v_o e^(-v_o tc/3600) / (1 - e^(-v_o tf/3600))`` veh/h
    (Drew's gap-acceptance capacity, the form of HCM 2000 Eq. 17-3) with tc = 4.5 s and
    tf = 2.5 s, E_L = 1900 / rate (at most 10), fLT = 1 / (1 + P_LT (E_L - 1)).
Phases (two-phase by approach bearing)
    Approaches are split into two axes by the direction of travel modulo 180 degrees: the axis of
    the most important approach (by flow, then road class, then lanes) and the approaches more
    than 45 degrees off it. Each axis gets a through phase serving its shared groups; an axis with
    protected left groups gets a leading left phase before its through phase. A junction whose
    approaches all lie on one axis (a signalised pedestrian crossing) gets one vehicle phase and a
    pedestrian-only phase. Yellow 3 s, all-red 2 s, lost time 5 s per phase (HCM 2000 defaults
    l1 = 2 s, e = 2 s), vehicle minimum green 7 s, cycle bounds 30-120 s.
Pedestrians
    Pedestrians walk with the through phase parallel to them, crossing the other axis's roads: that
    phase's pedestrian minimum green is ``3.2 + L / 1.2`` s (HCM 2000, walking speed 1.2 m/s, no
    pedestrian count) with L the widest crossed road (lanes of both directions x 3.6 m).
Flows
    ``link_flow_vph`` (e.g. an assignment's link flows) gives each approach's flow, split over its
    movements by ``turn_shares`` (left 0.15, through 0.70, right 0.15 by default, renormalised over
    the turns present, shared equally among exits of the same turn). Without flows every flow is
    zero and Webster's method returns minimum cycles.
Initial timings
    Webster cycle and equisaturation splits (:func:`~smartcore.signals.optimise_timings`) unless
    ``timing="minimum"``; all offsets are 0.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Mapping
from typing import Any

import numpy as np

from smartcore.errors import InputError
from smartcore.network import Network
from smartcore.signals.hcm import BASE_SATURATION_FLOW_PCPHGPL, pedestrian_min_green, saturation_flow
from smartcore.signals.plan import (
    DEFAULT_ALL_RED_S,
    DEFAULT_CYCLE_MAX_S,
    DEFAULT_CYCLE_MIN_S,
    DEFAULT_MIN_GREEN_S,
    DEFAULT_YELLOW_S,
    Approach,
    Intersection,
    LaneGroup,
    Movement,
    Phase,
    SignalPlan,
)

__all__ = ["from_network", "OsmSignalDefaults", "junctions"]

_CLASS_RANK = {"motorway": 0, "trunk": 1, "primary": 2, "secondary": 3, "tertiary": 4,
               "unclassified": 5, "residential": 6}
_COMPASS = ("N", "NE", "E", "SE", "S", "SW", "W", "NW")


@dataclasses.dataclass(frozen=True)
class OsmSignalDefaults:
    """Defaults of :func:`from_network` (see the module docs for where each comes from)."""

    base_saturation_flow_pcphgpl: float = BASE_SATURATION_FLOW_PCPHGPL
    lane_width_m: float = 3.6
    heavy_vehicles_pct: float = 2.0
    cbd: bool = False
    yellow_s: float = DEFAULT_YELLOW_S
    all_red_s: float = DEFAULT_ALL_RED_S
    min_green_s: float = DEFAULT_MIN_GREEN_S
    max_green_s: float = math.inf
    cycle_min_s: float = DEFAULT_CYCLE_MIN_S
    cycle_max_s: float = DEFAULT_CYCLE_MAX_S
    walking_speed_mps: float = 1.2
    peds_per_cycle: float = 0.0
    protected_left_min_lanes: int = 2
    turn_shares: Mapping[str, float] = dataclasses.field(
        default_factory=lambda: {"left": 0.15, "through": 0.70, "right": 0.15})
    critical_gap_s: float = 4.5
    follow_up_s: float = 2.5
    max_left_equivalent: float = 10.0
    through_angle_deg: float = 45.0
    uturn_angle_deg: float = 150.0
    axis_angle_deg: float = 45.0


def _bearings(net: Network) -> tuple[np.ndarray, np.ndarray]:
    """Travel direction (deg clockwise from north) at the end and at the start of every link."""
    m = net.num_links
    end = np.empty(m)
    start = np.empty(m)
    x, y = net.node_x, net.node_y
    assert x is not None and y is not None
    geographic = net.crs is None or "4326" in str(net.crs)
    geoms = net.link_geometry

    def bearing(x1: float, y1: float, x2: float, y2: float) -> float:
        if geographic:
            dx = (x2 - x1) * math.cos(math.radians(0.5 * (y1 + y2)))
        else:
            dx = x2 - x1
        return math.degrees(math.atan2(dx, y2 - y1)) % 360.0

    for e in range(m):
        pts = None
        if geoms is not None and geoms[e] is not None:
            try:
                pts = list(geoms[e].coords)
            except Exception:  # not a LineString
                pts = None
        if not pts or len(pts) < 2:
            u, v = int(net.link_tail[e]), int(net.link_head[e])
            pts = [(x[u], y[u]), (x[v], y[v])]
        # skip repeated points at either end
        a, b = 0, len(pts) - 1
        i = 1
        while i < len(pts) - 1 and pts[i] == pts[0]:
            i += 1
        j = len(pts) - 2
        while j > 0 and pts[j] == pts[-1]:
            j -= 1
        start[e] = bearing(*pts[a], *pts[i])
        end[e] = bearing(*pts[j], *pts[b])
    return end, start


def junctions(network: Network, *, radius_m: float = 30.0) -> list[np.ndarray]:
    """Dense node sets of the signalised junctions (module docs, "Junction extent").

    Returns one sorted int array per cluster of :func:`smartcore.io.osm.signal_clusters`, in
    cluster order.
    """
    from smartcore.io.osm import signal_clusters

    labels = signal_clusters(network, radius_m=radius_m)
    k = int(labels.max()) + 1 if len(labels) else 0
    members: list[set[int]] = [set() for _ in range(k)]
    for node in np.flatnonzero(labels >= 0).tolist():
        members[int(labels[node])].add(node)
    sig = np.asarray(network.signalized, dtype=bool)
    short = network.length <= radius_m
    # For each unsignalised node: which clusters it touches by short links, and how often.
    touches: dict[int, dict[int, set[int]]] = {}
    for e in np.flatnonzero(short).tolist():
        u, v = int(network.link_tail[e]), int(network.link_head[e])
        for a, b in ((u, v), (v, u)):
            if labels[a] >= 0 and not sig[b]:
                d = touches.setdefault(b, {})
                d.setdefault(int(labels[a]), set()).add(a)
    for node, per_cluster in touches.items():
        best = [(len(s), c) for c, s in per_cluster.items() if len(s) >= 2]
        if best:
            members[max(best)[1]].add(node)
    return [np.array(sorted(s), dtype=np.int64) for s in members]


def _compass(bearing_from: float) -> str:
    return _COMPASS[int(((bearing_from % 360.0) + 22.5) // 45.0) % 8]


def _axis_diff(a: float, b: float) -> float:
    d = abs((a - b) % 180.0)
    return min(d, 180.0 - d)


def _left_rate(v_o: float, tc: float, tf: float) -> float:
    """Permitted left-turn filtering rate through opposing flow v_o (veh/h), gap acceptance."""
    if v_o <= 0:
        return 3600.0 / tf
    return v_o * math.exp(-v_o * tc / 3600.0) / (1.0 - math.exp(-v_o * tf / 3600.0))


def from_network(
    network: Network,
    *,
    link_flow_vph: Any = None,
    radius_m: float = 30.0,
    defaults: OsmSignalDefaults | None = None,
    drive_on: str = "right",
    timing: str = "webster",
    name: str | None = None,
) -> SignalPlan:
    """A default :class:`~smartcore.signals.SignalPlan` for every signalised junction of a network.

    Parameters
    ----------
    network : Network
        With node coordinates and ``signalized`` nodes (as :func:`smartcore.io.osm.read_osm`
        builds them).
    link_flow_vph : float or array of float, optional
        Flow on every link (veh/h), e.g. assignment link flows; default zero flows.
    radius_m : float
        Signal nodes closer than this belong to one junction (:func:`smartcore.io.osm.signal_clusters`).
    defaults : OsmSignalDefaults, optional
        Saturation-flow, timing and turning defaults (module docs).
    drive_on : {"right", "left"}
        Side of the road traffic drives on (decides which turn crosses the opposing flow).
    timing : {"webster", "minimum"}
        Initial timings: Webster cycle and splits, or minimum greens.
    name : str, optional

    Returns
    -------
    SignalPlan
        ``metadata["skipped"]`` lists junctions left out (no approach or no movement) with the
        reason; each intersection's ``nodes`` are its dense node indices, ``x``/``y`` the mean
        coordinates of its signal nodes, ``id`` the smallest OSM id among them.

    Raises
    ------
    InputError
        A network without coordinates, flows of the wrong shape or negative, a bad option.
    """
    d = defaults or OsmSignalDefaults()
    if network.node_x is None or network.node_y is None:
        raise InputError("the network has no node coordinates", field="node_x")
    if drive_on not in ("right", "left"):
        raise InputError("drive_on must be 'right' or 'left'", field="drive_on")
    if timing not in ("webster", "minimum"):
        raise InputError("timing must be 'webster' or 'minimum'", field="timing")
    m = network.num_links
    if link_flow_vph is None:
        flows = np.zeros(m)
    else:
        flows = np.asarray(link_flow_vph, dtype=np.float64)
        if flows.ndim == 0:
            flows = np.full(m, float(flows))
    if flows.shape != (m,) or not np.all(np.isfinite(flows)) or np.any(flows < 0):
        raise InputError(f"link_flow_vph must be {m} finite numbers >= 0", field="link_flow_vph")
    shares = dict(d.turn_shares)
    for t in ("left", "through", "right"):
        if not shares.get(t, 0.0) >= 0:
            raise InputError("turn_shares must be >= 0", field="turn_shares")

    end_b, start_b = _bearings(network)
    highway = network.link_extra.get("highway")
    street = network.link_extra.get("name")
    lanes_all = np.maximum(1, np.rint(network.lanes)).astype(int)
    node_ids = network.node_ids
    fs_first, fs_link = network.fs_first, network.fs_link
    bs_first, bs_link = network.bs_first, network.bs_link
    tail, head = network.link_tail, network.link_head
    signalized = np.asarray(network.signalized, dtype=bool)

    intersections: list[Intersection] = []
    skipped: list[dict[str, Any]] = []
    for nodes in junctions(network, radius_m=radius_m):
        inside = set(nodes.tolist())
        sig_nodes = [n for n in nodes.tolist() if signalized[n]]
        jid = str(int(min(node_ids[n] for n in sig_nodes)))
        approaches_l = sorted({int(e) for n in inside for e in bs_link[bs_first[n]:bs_first[n + 1]]
                               if int(tail[e]) not in inside})
        exits_l = sorted({int(e) for n in inside for e in fs_link[fs_first[n]:fs_first[n + 1]]
                          if int(head[e]) not in inside})
        if not approaches_l or not exits_l:
            skipped.append({"id": jid, "reason": "no approach or no exit link"})
            continue
        # movements: exits reachable from the approach's head through the junction
        reach: dict[int, set[int]] = {}
        for start in {int(head[e]) for e in approaches_l}:
            seen, stack = {start}, [start]
            while stack:
                u = stack.pop()
                for e in fs_link[fs_first[u]:fs_first[u + 1]].tolist():
                    v = int(head[e])
                    if v in inside and v not in seen:
                        seen.add(v)
                        stack.append(v)
            reach[start] = {e for e in exits_l if int(tail[e]) in seen}
        raw: list[tuple[int, list[tuple[int, str]]]] = []
        for a in approaches_l:
            moves = []
            for e in sorted(reach[int(head[a])]):
                if int(head[e]) == int(tail[a]):
                    continue  # straight back where it came from
                ang = (start_b[e] - end_b[a] + 180.0) % 360.0 - 180.0  # clockwise positive
                if abs(ang) >= d.uturn_angle_deg:
                    continue
                if abs(ang) <= d.through_angle_deg:
                    turn = "through"
                else:
                    turn = "right" if ang > 0 else "left"
                    if drive_on == "left":
                        turn = "left" if turn == "right" else "right"
                moves.append((e, turn))
            if moves:
                raw.append((a, moves))
        if not raw:
            skipped.append({"id": jid, "reason": "no movement through the junction"})
            continue

        def importance(a: int) -> tuple[float, int, int]:
            rank = _CLASS_RANK.get(str(highway[a]) if highway is not None else "", 9)
            return (float(flows[a]), -rank, int(lanes_all[a]))

        main = max((a for a, _ in raw), key=importance)
        axis_of = {a: 0 if _axis_diff(end_b[a], end_b[main]) <= d.axis_angle_deg else 1 for a, _ in raw}
        # opposing flow of an approach: through + right flows of approaches on the same axis
        # heading the other way
        approaches: list[Approach] = []
        groups_by_axis: dict[tuple[int, str], list[str]] = {}
        protected_groups: set[str] = set()
        widest_road = {0: 0.0, 1: 0.0}
        for j, (a, moves) in enumerate(raw):
            present = {t for _, t in moves}
            total_share = sum(shares.get(t, 0.0) for t in present) or 1.0
            count = {t: sum(1 for _, tt in moves if tt == t) for t in present}
            mv = tuple(Movement(t, float(flows[a]) * shares.get(t, 0.0) / total_share / count[t], a, e)
                       for e, t in moves)
            n_lanes = int(lanes_all[a])
            compass = _compass(end_b[a] + 180.0)
            aname = f"{compass}" + (f" {street[a]}" if street is not None and street[a] else "")
            tag = f"A{j}"
            left = tuple(x for x in mv if x.turn == "left")
            rest = tuple(x for x in mv if x.turn != "left")
            groups: list[LaneGroup] = []
            protected = bool(left) and bool(rest) and n_lanes >= d.protected_left_min_lanes
            base: dict[str, Any] = dict(base_pcphgpl=d.base_saturation_flow_pcphgpl,
                                        lane_width_m=d.lane_width_m,
                                        heavy_vehicles_pct=d.heavy_vehicles_pct, cbd=d.cbd)
            if protected:
                s_left = saturation_flow(1, movement="left", left_turn_factor=0.95, **base)
                groups.append(LaneGroup(f"{tag}.L", left, 1, s_left))
                protected_groups.add(f"{tag}.L")
                groups_by_axis.setdefault((axis_of[a], "left"), []).append(f"{tag}.L")
                mv_shared, n_shared = rest, n_lanes - 1
            else:
                mv_shared, n_shared = mv, n_lanes
            groups.append(LaneGroup(f"{tag}.{''.join(sorted({x.turn[0].upper() for x in mv_shared}))}",
                                    mv_shared, n_shared, 1.0))  # saturation flow set below
            groups_by_axis.setdefault((axis_of[a], "through"), []).append(groups[-1].name)
            approaches.append(Approach(aname, tuple(groups), float(end_b[a]), a))
            # the road crossed by pedestrians walking beside the other axis: both directions
            back = [int(e) for e in fs_link[fs_first[int(head[a])]:fs_first[int(head[a]) + 1]]
                    if int(head[e]) == int(tail[a])]
            road_lanes = n_lanes + (int(lanes_all[back[0]]) if back else 0)
            widest_road[axis_of[a]] = max(widest_road[axis_of[a]], road_lanes * d.lane_width_m)

        # shared-group saturation flows need the opposing flow (permitted lefts)
        final: list[Approach] = []
        for (a, _), ap in zip(raw, approaches):
            new_groups = []
            for g in ap.lane_groups:
                if g.name in protected_groups:
                    new_groups.append(g)
                    continue
                vg = float(g.flow_vph or 0.0)
                p_lt = sum(x.flow_vph for x in g.movements if x.turn == "left") / vg if vg > 0 else 0.0
                p_rt = sum(x.flow_vph for x in g.movements if x.turn == "right") / vg if vg > 0 else 0.0
                f_rt = 1.0 - (0.135 if g.lanes == 1 else 0.15) * p_rt
                f_lt = 1.0
                if p_lt > 0:
                    v_o = sum(float(flows[b]) for b, _ in raw
                              if b != a and axis_of[b] == axis_of[a]
                              and _axis_diff(end_b[b], end_b[a]) <= d.axis_angle_deg
                              and abs(((end_b[b] - end_b[a]) + 180.0) % 360.0 - 180.0) > 90.0)
                    e_l = min(d.max_left_equivalent,
                              BASE_SATURATION_FLOW_PCPHGPL / _left_rate(v_o, d.critical_gap_s, d.follow_up_s))
                    e_l = max(1.0, e_l)
                    f_lt = 1.0 / (1.0 + p_lt * (e_l - 1.0))
                s = saturation_flow(g.lanes, base_pcphgpl=d.base_saturation_flow_pcphgpl,
                                    lane_width_m=d.lane_width_m, heavy_vehicles_pct=d.heavy_vehicles_pct,
                                    cbd=d.cbd, left_turn_factor=f_lt, right_turn_factor=f_rt)
                new_groups.append(dataclasses.replace(g, saturation_flow_vph=s))
            final.append(dataclasses.replace(ap, lane_groups=tuple(new_groups)))

        phase_kw: dict[str, Any] = dict(yellow_s=d.yellow_s, all_red_s=d.all_red_s, min_green_s=d.min_green_s,
                        max_green_s=d.max_green_s)
        phases: list[Phase] = []
        axes = sorted({ax for ax, _ in groups_by_axis})
        for ax in axes:
            other = 1 - ax
            ped = pedestrian_min_green(widest_road[other], walking_speed_mps=d.walking_speed_mps,
                                       peds_per_cycle=d.peds_per_cycle) if widest_road[other] > 0 else 0.0
            if (ax, "left") in groups_by_axis:
                phases.append(Phase(f"{'AB'[ax]} left", tuple(groups_by_axis[(ax, 'left')]), **phase_kw))
            phases.append(Phase(f"{'AB'[ax]} through", tuple(groups_by_axis[(ax, 'through')]),
                                pedestrian=ped > 0, ped_min_green_s=ped, **phase_kw))
        if axes == [0]:  # all approaches on one axis: a pedestrian crossing
            ped = pedestrian_min_green(widest_road[0], walking_speed_mps=d.walking_speed_mps,
                                       peds_per_cycle=d.peds_per_cycle)
            phases.append(Phase("pedestrians", (), pedestrian=True, ped_min_green_s=ped, **phase_kw))
        xs = float(np.mean(network.node_x[sig_nodes]))
        ys = float(np.mean(network.node_y[sig_nodes]))
        intersections.append(Intersection(jid, tuple(final), tuple(phases), 0.0, d.cycle_min_s, d.cycle_max_s,
                                          tuple(int(n) for n in nodes), xs, ys))

    meta = {"source": "OpenStreetMap traffic_signals", "radius_m": radius_m,
            "defaults": {k: (dict(v) if isinstance(v, Mapping) else v)
                         for k, v in dataclasses.asdict(d).items()},
            "drive_on": drive_on, "skipped": skipped, "network": network.name}
    plan = SignalPlan(tuple(intersections), name=name or f"{network.name} signals", metadata=meta)
    if timing == "webster" and len(plan):
        from smartcore.signals.timing import optimise_timings

        plan = optimise_timings(plan).plan
    return plan
