"""Signal plan files: JSON round trip, GMNS signal tables (round trip, a dual-ring NEMA plan written
by hand from the GMNS spec, bad input naming file/line/field)."""

from __future__ import annotations

import csv
from pathlib import Path

import numpy as np
import pytest

from smartcore import FormatError, datasets
from smartcore import signals as sg
from smartcore.signals.gmns import SIGNAL_TABLES, read_gmns_signals, write_gmns_signals
from smartcore.signals.io import read_plan, write_plan
from smartcore.signals.transyt import evaluate_network, feeds_from_network


@pytest.fixture(scope="module")
def helsinki() -> tuple:
    net = datasets.load_network("helsinki")
    plan = sg.from_network(net, link_flow_vph=0.4 * net.capacity)
    return net, plan.with_timings(offset_s=np.arange(len(plan)) * 7.0)


def test_json_round_trip_with_feeds(tmp_path: Path, helsinki: tuple) -> None:
    net, plan = helsinki
    feeds = feeds_from_network(plan, net)
    write_plan(plan, tmp_path / "p.json", feeds)
    back, fb = read_plan(tmp_path / "p.json")
    a, b = plan.arrays(), back.arrays()
    for key in a:
        np.testing.assert_array_equal(a[key], b[key], err_msg=key)
    assert fb is not None and len(fb) == len(feeds)
    assert evaluate_network(back, fb).pi == evaluate_network(plan, feeds).pi
    assert back.metadata["source"] == plan.metadata["source"]


def test_json_bad_input(tmp_path: Path, helsinki: tuple) -> None:
    _, plan = helsinki
    path = write_plan(plan, tmp_path / "p.json")
    text = path.read_text().replace('"saturation_flow_vph": 1', '"saturation_flow_vph": -1', 1)
    (tmp_path / "bad.json").write_text(text)
    with pytest.raises(FormatError) as e:
        read_plan(tmp_path / "bad.json")
    assert "bad.json" in str(e.value) and "saturation_flow_vph" in str(e.value)
    (tmp_path / "broken.json").write_text('{\n  "format": ')
    with pytest.raises(FormatError) as e:
        read_plan(tmp_path / "broken.json")
    assert e.value.line == 2


def test_gmns_round_trip(tmp_path: Path, helsinki: tuple) -> None:
    net, plan = helsinki
    files = write_gmns_signals(plan, tmp_path / "gmns", network=net)
    assert sorted(f.stem for f in files) == sorted(SIGNAL_TABLES)
    # ids agree with the network's GMNS link table
    with open(tmp_path / "gmns" / "movement.csv") as fh:
        rows = list(csv.DictReader(fh))
    mv = plan[0].lane_groups[0].movements[0]
    assert rows[0]["ib_link_id"] == str(mv.from_link + 1)  # links without keys: link_id 1..m
    back = read_gmns_signals(tmp_path / "gmns")
    assert back.ids == plan.ids
    for a, b in zip(plan, back):
        assert (a.cycle_s, a.offset_s) == (b.cycle_s, b.offset_s)
        for pa, pb in zip(a.phases, b.phases):
            assert (
                pa.green_s,
                pa.yellow_s,
                pa.all_red_s,
                pa.lost_time_s,
                pa.pedestrian,
                pa.ped_min_green_s,
            ) == (pb.green_s, pb.yellow_s, pb.all_red_s, pb.lost_time_s, pb.pedestrian, pb.ped_min_green_s)
            assert set(pa.lane_groups) == set(pb.lane_groups)
        for g in a.lane_groups:
            h = b.lane_group(g.name)
            assert (g.saturation_flow_vph, g.lanes, g.opposed_by) == (
                h.saturation_flow_vph,
                h.lanes,
                h.opposed_by,
            )
            assert h.flow_vph == pytest.approx(g.flow_vph, rel=1e-12)
    ev_a, ev_b = sg.evaluate(plan), sg.evaluate(back)
    assert ev_b.network["mean_delay_s"] == pytest.approx(ev_a.network["mean_delay_s"], rel=1e-12)


def _write(path: Path, header: list[str], rows: list[list[object]]) -> None:
    with open(path, "w", newline="") as fh:
        w = csv.writer(fh)
        w.writerow(header)
        w.writerows(rows)


def nema_folder(tmp: Path) -> Path:
    """A dual-ring NEMA plan: ring 1 phases 1-2 | 3-4, ring 2 phases 5-6 | 7-8 (GMNS tables only)."""
    tmp.mkdir(exist_ok=True)
    _write(tmp / "signal_controller.csv", ["controller_id"], [["c1"]])
    _write(
        tmp / "signal_timing_plan.csv",
        ["timing_plan_id", "controller_id", "time_day", "cycle_length"],
        [["p1", "c1", "11111111_0000_2400", 92]],
    )
    # (phase, ring, barrier, position, green); clearance 4 s each
    ph = [
        (1, 1, 1, 1, 10),
        (2, 1, 1, 2, 30),
        (3, 1, 2, 3, 10),
        (4, 1, 2, 4, 26),
        (5, 2, 1, 1, 12),
        (6, 2, 1, 2, 28),
        (7, 2, 2, 3, 10),
        (8, 2, 2, 4, 26),
    ]
    _write(
        tmp / "signal_timing_phase.csv",
        [
            "timing_phase_id",
            "timing_plan_id",
            "signal_phase_num",
            "min_green",
            "clearance",
            "ring",
            "barrier",
            "position",
        ],
        [[f"t{n}", "p1", n, g, 4, r, b, pos] for n, r, b, pos, g in ph],
    )
    # movement per phase: (mvmt, inbound link, type)
    mv = {
        1: ("NBL", "nb", "left"),
        2: ("SBT", "sb", "thru"),
        3: ("EBL", "eb", "left"),
        4: ("WBT", "wb", "thru"),
        5: ("SBL", "sb", "left"),
        6: ("NBT", "nb", "thru"),
        7: ("WBL", "wb", "left"),
        8: ("EBT", "eb", "thru"),
    }
    _write(
        tmp / "movement.csv",
        ["mvmt_id", "node_id", "ib_link_id", "ob_link_id", "type", "capacity"],
        [[m, 7, ib, f"out{n}", t, 1800] for n, (m, ib, t) in mv.items()],
    )
    _write(
        tmp / "signal_phase_mvmt.csv",
        ["signal_phase_mvmt_id", "timing_phase_id", "mvmt_id", "protection"],
        [[f"x{n}", f"t{n}", mv[n][0], "protected"] for n in mv],
    )
    _write(
        tmp / "signal_coordination.csv",
        ["coordination_id", "timing_plan_id", "controller_id", "coord_phase", "coord_ref_to", "offset"],
        [["k", "p1", "c1", 6, "begin_of_green", 30]],
    )
    return tmp


def test_gmns_dual_ring_nema_plan(tmp_path: Path) -> None:
    plan = read_gmns_signals(nema_folder(tmp_path / "nema"))
    it = plan["c1"]
    # barrier 1 (48 s): ring 1 changes at 14 s, ring 2 at 16 s -> stages [0,14) 1+5, [14,16) 2+5,
    # [16,48) 2+6; barrier 2 (44 s): [0,14) 3+7, [14,44) 4+8
    assert [p.name for p in it.phases] == ["1+5", "2+5", "2+6", "3+7", "4+8"]
    assert [p.green_s for p in it.phases] == pytest.approx([10, 0, 28, 10, 26])
    assert [p.yellow_s + p.all_red_s for p in it.phases] == pytest.approx([4, 2, 4, 4, 4])
    assert it.cycle_s == pytest.approx(92.0)
    # every movement keeps its NEMA phase's green (lost time = clearance: effective = displayed)
    ev = sg.evaluate(plan)
    eff = dict(zip(plan.lane_group_table()["lane_group"], ev.groups["eff_green_s"]))
    by_movement = {
        "nb:0": 10,
        "sb:12": 30,
        "eb:3": 10,
        "wb:4": 26,
        "sb:01": 12,
        "nb:2": 28,
        "wb:3": 10,
        "eb:4": 26,
    }
    for name, g in by_movement.items():
        assert eff[name] == pytest.approx(g), name
    # offset: phase 6 starts its green at 30 s; it starts 16 s into the cycle -> stage 0 at 14 s
    assert it.offset_s == pytest.approx(14.0)


def test_gmns_bad_input(tmp_path: Path) -> None:
    folder = nema_folder(tmp_path / "bad")
    (folder / "signal_timing_phase.csv").write_text(
        (folder / "signal_timing_phase.csv").read_text().replace(",10,4,", ",ten,4,", 1)
    )
    with pytest.raises(FormatError) as e:
        read_gmns_signals(folder)
    assert e.value.field == "min_green" and e.value.line == 2 and "signal_timing_phase.csv" in str(e.value)
    folder = nema_folder(tmp_path / "bad2")
    (folder / "movement.csv").write_text((folder / "movement.csv").read_text().replace("type", "kind"))
    with pytest.raises(FormatError) as e:
        read_gmns_signals(folder)
    assert e.value.field == "type"
    folder = nema_folder(tmp_path / "bad3")
    (folder / "signal_timing_plan.csv").write_text(
        (folder / "signal_timing_plan.csv").read_text().replace(",92", ",90")
    )
    with pytest.raises(FormatError, match="cycle_length"):
        read_gmns_signals(folder)
