"""Signal reports: HCM 2000 Appendix G back of queue by hand, Poisson percentiles against scipy,
report tables, progression bands against MAXBAND's independent band evaluation, the time-space
diagram PNG."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pytest

from smartcore import InputError
from smartcore import signals as sg
from smartcore.signals import Approach, Intersection, LaneGroup, Movement, Phase, SignalPlan
from smartcore.signals.maxband import ArterialSignal, bandwidths
from smartcore.signals.report import (
    back_of_queue,
    band,
    format_report,
    green_windows,
    intersection_report,
    lane_group_report,
    poisson_percentile,
    time_space_diagram,
)
from smartcore.signals.transyt import Feeds


def test_back_of_queue_by_hand() -> None:
    # HCM 2000 Appendix G: C = 90, g = 40, v = 700 on 2 lanes, s = 3600 (1800 per lane), AT 3, T = 0.25
    r = back_of_queue(90.0, 40.0, 700.0, 3600.0, 2)
    vl, sl, gc = 350.0, 1800.0, 40 / 90
    cl = sl * gc
    X = vl / cl
    q1 = (vl * 90 / 3600) * (1 - gc) / (1 - X * gc)  # PF2 = 1 for random arrivals
    kb = 0.12 * (sl * 40 / 3600) ** 0.7
    q2 = 0.25 * cl * 0.25 * ((X - 1) + math.sqrt((X - 1) ** 2 + 8 * kb * X / (cl * 0.25)))
    assert r["q1"] == pytest.approx(q1) and r["q2"] == pytest.approx(q2) and r["q"] == pytest.approx(q1 + q2)
    # progression (arrival type 5, R_p = 1.667) shortens the queue: PF2 by hand
    r5 = back_of_queue(90.0, 40.0, 700.0, 3600.0, 2, arrival_type=5)
    yl = vl / sl
    pf2 = (1 - 1.667 * gc) * (1 - yl) / ((1 - gc) * (1 - 1.667 * yl))
    assert r5["q1"] == pytest.approx(pf2 * q1)
    with pytest.raises(InputError):
        back_of_queue(90.0, 0.0, 700.0, 3600.0)


def test_poisson_percentile_matches_scipy() -> None:
    stats = pytest.importorskip("scipy.stats")
    means = np.array([0.0, 0.3, 2.0, 7.5, 31.0, 250.0])
    got = poisson_percentile(means)
    np.testing.assert_array_equal(got, stats.poisson.ppf(0.95, means))
    assert poisson_percentile(4.0, 0.5) == stats.poisson.ppf(0.5, 4.0)


def arterial(offsets: list[float]) -> SignalPlan:
    its = []
    for k, off in enumerate(offsets):
        groups = {
            d: LaneGroup(
                d,
                (Movement("through", 600.0 if d in "EW" else 200.0),),
                2 if d in "EW" else 1,
                3400.0 if d in "EW" else 1700.0,
            )
            for d in "EWNS"
        }
        phases = (Phase("EW", ("E", "W"), green_s=36.0), Phase("NS", ("N", "S"), green_s=14.0))
        its.append(
            Intersection(f"A{k}", tuple(Approach(d, (g,)) for d, g in groups.items()), phases, offset_s=off)
        )
    return SignalPlan(its)


def test_reports_tables_and_text() -> None:
    plan = arterial([0.0, 20.0, 40.0])
    feeds = Feeds.from_records(
        plan,
        [
            ("A1", "E", "A0", "E", 0.9, 25.0),
            ("A2", "E", "A1", "E", 0.9, 25.0),
            ("A1", "W", "A2", "W", 0.9, 25.0),
            ("A0", "W", "A1", "W", 0.9, 25.0),
        ],
    )
    lg = lane_group_report(plan, feeds)
    assert len(lg) == 12
    ev = sg.evaluate(plan)
    np.testing.assert_allclose(lg["delay_s"], ev.groups["delay_s"])
    assert list(lg["los"]) == [sg.level_of_service(d) for d in ev.groups["delay_s"]]
    assert (lg["queue_95_veh_per_lane"] >= lg["queue_mean_veh_per_lane"]).all()
    assert (lg["queue_95_m"] == 7.5 * lg["queue_95_veh_per_lane"]).all()
    assert {"transyt_delay_s", "stops_per_veh", "arrivals_on_green"} <= set(lg.columns)
    it = intersection_report(plan, feeds)
    assert list(it["intersection"]) == ["A0", "A1", "A2"]
    assert it.loc[0, "phases"] == "EW 36/3/2; NS 14/3/2"
    np.testing.assert_allclose(it["delay_s"], ev.intersections["delay_s"])
    text = format_report(it)
    assert "A1" in text and "EW 36/3/2" in text and text.count("\n") == 3


def test_band_agrees_with_maxband_bandwidths() -> None:
    offsets = [0.0, 17.0, 31.0]
    plan = arterial(offsets)
    C = plan[0].cycle_s
    speed, spacing = 12.0, 300.0
    arrival = [0.0, spacing / speed, 2 * spacing / speed]  # equal spacing: the same both ways
    start_out, width_out = band(plan, ["A0", "A1", "A2"], ["E", "E", "E"], arrival, resolution_s=0.01)
    _, width_in = band(plan, ["A2", "A1", "A0"], ["W", "W", "W"], arrival, resolution_s=0.01)
    ((s, g),) = green_windows(plan[0], "E")
    sigs = [ArterialSignal(g / C, g / C, s / C, s / C) for _ in range(3)]
    tt = [spacing / speed] * 2
    b_out, b_in = bandwidths(sigs, offsets, C, tt, tt)
    assert width_out == pytest.approx(b_out * C, abs=0.02)
    assert width_in == pytest.approx(b_in * C, abs=0.02)
    assert 0 < width_out < g


def test_time_space_diagram_png(tmp_path: Path) -> None:
    pytest.importorskip("matplotlib")
    plan = arterial([0.0, 25.0, 50.0])
    out = tmp_path / "tsd.png"
    fig = time_space_diagram(
        plan,
        ["A0", "A1", "A2"],
        [0.0, 300.0, 600.0],
        outbound_groups=["E"] * 3,
        inbound_groups=["W"] * 3,
        speed_mps=12.0,
        path=out,
    )
    assert out.stat().st_size > 10_000
    assert out.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    labels = [t.get_text() for t in fig.axes[0].get_legend().get_texts()]
    assert any(lab.startswith("outbound band") for lab in labels)
    with pytest.raises(InputError):
        time_space_diagram(plan, ["A0", "A1", "A2"], [0.0, 300.0, 200.0], outbound_groups=["E"] * 3)
