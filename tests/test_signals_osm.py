"""Default signal plans from OpenStreetMap signals (smartcore.signals.from_network)."""

from __future__ import annotations

import math

import numpy as np
import pytest

from smartcore import InputError, datasets
from smartcore import signals as sg
from smartcore.io.osm import signal_clusters
from smartcore.network import Network

LAT0, LON0 = 60.17, 24.94
DLAT = 100 / 111_195  # ~100 m north
DLON = 100 / (111_195 * math.cos(math.radians(LAT0)))  # ~100 m east


def _cross(lanes_ns: float = 1.0, lanes_ew: float = 1.0, signal_nodes: tuple[int, ...] = (0,),
           approach_signals: bool = False) -> Network:
    """A four-leg junction (node 0) with legs N=1, E=2, S=3, W=4, all two-way.

    With ``approach_signals`` the signals stand on nodes 5..8, 15 m before the junction on each
    leg (as OSM mappers often tag them), and the junction node itself is untagged.
    """
    xs = {0: (0, 0), 1: (0, 1), 2: (1, 0), 3: (0, -1), 4: (-1, 0)}
    legs = [(1, lanes_ns), (2, lanes_ew), (3, lanes_ns), (4, lanes_ew)]
    tail, head, lanes = [], [], []
    if approach_signals:
        for k, (leg, ln) in enumerate(legs):
            mid = 5 + k
            dx, dy = xs[leg]
            xs[mid] = (dx * 0.15, dy * 0.15)
            for a, b in ((leg, mid), (mid, 0), (0, mid), (mid, leg)):
                tail.append(a), head.append(b), lanes.append(ln)
    else:
        for leg, ln in legs:
            tail += [leg, 0]
            head += [0, leg]
            lanes += [ln, ln]
    ids = sorted(xs)
    node_x = np.array([LON0 + xs[i][0] * DLON for i in ids])
    node_y = np.array([LAT0 + xs[i][1] * DLAT for i in ids])
    length = [math.hypot(xs[a][0] - xs[b][0], xs[a][1] - xs[b][1]) * 100 for a, b in zip(tail, head)]
    sig = np.isin(ids, signal_nodes)
    return Network.from_links(
        tail, head, node_ids=ids, length=length, free_flow_time=np.array(length) / 13.9,
        capacity=np.array(lanes) * 900.0, lanes=lanes, speed=50.0, node_x=node_x, node_y=node_y,
        crs="EPSG:4326", signalized=sig,
        link_extra={"highway": np.array(["primary"] * len(tail), dtype=object),
                    "name": np.array([""] * len(tail), dtype=object)})


def test_four_leg_junction_two_phases_and_turns() -> None:
    net = _cross()
    plan = sg.from_network(net, link_flow_vph=400.0)
    assert len(plan) == 1
    it = plan[0]
    assert len(it.approaches) == 4
    assert [p.name for p in it.phases] == ["A through", "B through"]
    for ap in it.approaches:
        turns = sorted(m.turn for g in ap.lane_groups for m in g.movements)
        assert turns == ["left", "right", "through"]  # U-turn back to the approach left out
        # arriving from the north (travelling south, bearing 180): left turn goes east
        if ap.name == "N":
            left = [m for g in ap.lane_groups for m in g.movements if m.turn == "left"][0]
            assert int(net.link_head[left.to_link]) == net.node_index(2)
            assert ap.bearing_deg == pytest.approx(180.0, abs=0.5)
        # flows split 0.15 / 0.70 / 0.15
        assert sorted(m.flow_vph for g in ap.lane_groups for m in g.movements) == pytest.approx([60, 60, 280])
    # two axes: N/S in one phase, E/W in the other
    names = {ap.lane_groups[0].name: ap.name for ap in it.approaches}
    served = [sorted(names[g] for g in p.lane_groups) for p in it.phases]
    assert sorted(served) == [["E", "W"], ["N", "S"]]
    # defaults: yellow 3, all-red 2, lost 5 s, min green 7 s, pedestrians cross a 2-lane road:
    # 3.2 + 7.2 / 1.2 = 9.2 s
    for p in it.phases:
        assert (p.yellow_s, p.all_red_s, p.lost_time_s, p.min_green_s) == (3.0, 2.0, 5.0, 7.0)
        assert p.ped_min_green_s == pytest.approx(9.2)
    # Webster timings: shared lane with 15 % right turns (fRT = 1 - 0.135 * 0.15) and permitted
    # lefts (gap acceptance through v_o = 400 veh/h)
    g = it.approaches[0].lane_groups[0]
    rate = 400 * math.exp(-400 * 4.5 / 3600) / (1 - math.exp(-400 * 2.5 / 3600))
    f_lt = 1 / (1 + 0.15 * (1900 / rate - 1))
    assert g.saturation_flow_vph == pytest.approx(1900 * 100 / 102 * (1 - 0.135 * 0.15) * f_lt)
    y = 400 / g.saturation_flow_vph
    assert it.cycle_s == pytest.approx(sg.webster_cycle([y, y], 10.0))
    assert it.offset_s == 0.0


def test_protected_lefts_where_lanes_allow() -> None:
    plan = sg.from_network(_cross(lanes_ns=2.0, lanes_ew=1.0), link_flow_vph=500.0)
    it = plan[0]
    assert [p.name for p in it.phases] == ["A left", "A through", "B through"]
    left_phase = it.phases[0]
    assert len(left_phase.lane_groups) == 2
    for name in left_phase.lane_groups:
        g = it.lane_group(name)
        assert g.turns == ("left",) and g.lanes == 1
        assert g.saturation_flow_vph == pytest.approx(1900 * 100 / 102 * 0.95)
        assert it.phases_serving(name) == (0,)
    # the N/S shared groups keep one lane for through + right
    for name in it.phases[1].lane_groups:
        assert sorted(it.lane_group(name).turns) == ["right", "through"]


def test_left_hand_traffic_mirrors_turns() -> None:
    net = _cross()
    right = sg.from_network(net, link_flow_vph=100.0)
    left = sg.from_network(net, link_flow_vph=100.0, drive_on="left")
    for a, b in zip(right[0].approaches, left[0].approaches):
        ta = {m.to_link: m.turn for g in a.lane_groups for m in g.movements}
        tb = {m.to_link: m.turn for g in b.lane_groups for m in g.movements}
        swap = {"left": "right", "right": "left", "through": "through"}
        assert tb == {k: swap[v] for k, v in ta.items()}


def test_signals_on_approaches_form_one_junction() -> None:
    net = _cross(signal_nodes=(5, 6, 7, 8), approach_signals=True)
    plan = sg.from_network(net, link_flow_vph=300.0)
    assert len(plan) == 1
    it = plan[0]
    # the untagged junction node 0 joins the four signal nodes; approaches come from the legs
    assert sorted(net.node_ids[list(it.nodes)].tolist()) == [0, 5, 6, 7, 8]
    assert len(it.approaches) == 4
    assert sorted(int(net.node_ids[net.link_tail[ap.link]]) for ap in it.approaches) == [1, 2, 3, 4]
    assert len(it.phases) == 2


def test_pedestrian_crossing_signal() -> None:
    # a signal on a straight road (nodes W - 0 - E only): one vehicle phase and a pedestrian phase
    net = _cross()
    keep = np.flatnonzero(np.isin(net.node_ids[net.link_head], [0, 2, 4]) &
                          np.isin(net.node_ids[net.link_tail], [0, 2, 4]))
    sub = Network.from_links(
        net.node_ids[net.link_tail[keep]], net.node_ids[net.link_head[keep]], node_ids=net.node_ids,
        length=net.length[keep], free_flow_time=net.free_flow_time[keep], capacity=net.capacity[keep],
        lanes=net.lanes[keep], node_x=net.node_x, node_y=net.node_y, crs="EPSG:4326",
        signalized=net.signalized)
    plan = sg.from_network(sub, link_flow_vph=200.0)
    it = plan[0]
    assert [p.name for p in it.phases] == ["A through", "pedestrians"]
    assert it.phases[1].pedestrian and it.phases[1].lane_groups == ()
    assert it.phases[1].ped_min_green_s == pytest.approx(3.2 + 7.2 / 1.2)
    assert all(m.turn == "through" for g in it.lane_groups for m in g.movements)


def test_from_network_bad_input() -> None:
    net = _cross()
    with pytest.raises(InputError):
        sg.from_network(net, link_flow_vph=-1.0)
    with pytest.raises(InputError):
        sg.from_network(net, link_flow_vph=np.ones(3))
    with pytest.raises(InputError):
        sg.from_network(net, drive_on="middle")
    with pytest.raises(InputError):
        sg.from_network(net.replace(node_x=None, node_y=None, crs=None))


def test_helsinki_signals() -> None:
    net = datasets.load_network("helsinki")
    assert int(net.signalized.sum()) == 129
    clusters = int(signal_clusters(net).max()) + 1
    plan = sg.from_network(net, link_flow_vph=0.5 * net.capacity)
    skipped = plan.metadata["skipped"]
    assert len(plan) + len(skipped) == clusters
    assert len(plan) >= 60
    # every signal node belongs to exactly one intersection (or a skipped junction)
    covered = np.concatenate([np.asarray(it.nodes) for it in plan])
    assert len(covered) == len(set(covered.tolist()))
    assert int(net.signalized[covered].sum()) + 0 <= 129
    for it in plan:
        nodes = set(it.nodes)
        for ap in it.approaches:
            assert int(net.link_head[ap.link]) in nodes and int(net.link_tail[ap.link]) not in nodes
        assert 30.0 <= it.cycle_s
        assert 2 <= len(it.phases) <= 4
    ev = sg.evaluate(plan)
    assert np.all(np.isfinite(ev.groups["delay_s"]))
    assert ev.network["intersections"] == len(plan)
    # zero flows: Webster gives the shortest cycle that fits the minimum greens
    plan0 = sg.from_network(net)
    for it in plan0:
        need = sum(max(p.min_green_effective_s, 0) + p.yellow_s + p.all_red_s for p in it.phases)
        assert it.cycle_s == pytest.approx(max(30.0, need))
