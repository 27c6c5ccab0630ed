"""TRANSYT-style network model and optimiser (smartcore.signals.transyt).

Numbers asserted come from outside the kernel: Webster's/HCM 2000's closed forms for uniform
arrivals (uniform delay d1, proportion stopped (1 - g/C) / (1 - y), the red-time queue, HCM
Eq. 16-12), a brute force over every offset of a 1-s grid, and an independent numpy
implementation of the same model (bench/transyt_numpy.py) for profiles on a looped network.
"""

from __future__ import annotations

import math
import sys
from pathlib import Path

import numpy as np
import pytest

from smartcore import InputError, datasets
from smartcore import signals as sg
from smartcore.signals import Approach, Intersection, LaneGroup, Movement, Phase, SignalPlan
from smartcore.signals.transyt import Feeds, evaluate_network, feeds_from_network, optimise_network

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "bench"))
import transyt_numpy  # noqa: E402


def two_phase(
    id: str,
    main: float,
    side: float,
    *,
    g_main: float = 30.0,
    g_side: float = 24.0,
    offset: float = 0.0,
    sat: float = 1800.0,
) -> Intersection:
    """Phase 0 serves lane group A (flow ``main``), phase 1 lane group B; Y = 3, R = 0, l = 3 s."""
    a = LaneGroup("A", (Movement("through", main),), 1, sat)
    b = LaneGroup("B", (Movement("through", side),), 1, sat)
    phases = (
        Phase("main", ("A",), green_s=g_main, yellow_s=3.0, all_red_s=0.0, lost_time_s=3.0, min_green_s=5),
        Phase("side", ("B",), green_s=g_side, yellow_s=3.0, all_red_s=0.0, lost_time_s=3.0, min_green_s=5),
    )
    return Intersection(
        id,
        (Approach("a", (a,)), Approach("b", (b,))),
        phases,
        offset_s=offset,
        cycle_min_s=20,
        cycle_max_s=150,
    )


def test_isolated_signal_matches_webster_and_hcm() -> None:
    # C = 60, effective green 27 s (window [2, 29)), v = 600, s = 1800
    plan = SignalPlan([two_phase("X", 600.0, 300.0, g_main=27.0, g_side=27.0)])
    ev = evaluate_network(plan)
    C, g, v, s = 60.0, 27.0, 600.0, 1800.0
    X = v / (s * g / C)
    d1 = 0.5 * C * (1 - g / C) ** 2 / (1 - X * g / C)
    d2 = 900 * 0.25 * ((X - 1) + math.sqrt((X - 1) ** 2 + 8 * 0.5 * X / (s * g / C * 0.25)))
    grp = {k: float(val[0]) for k, val in ev.groups.items()}
    assert grp["capacity_vph"] == pytest.approx(s * g / C)
    assert grp["uniform_delay_veh_h"] == pytest.approx(v * d1 / 3600, rel=1e-10)
    assert grp["random_delay_veh_h"] == pytest.approx(v * d2 / 3600, rel=1e-10)
    assert grp["delay_s"] == pytest.approx(d1 + d2, rel=1e-10)
    assert grp["stop_rate"] == pytest.approx((1 - g / C) / (1 - v / s), rel=1e-10)
    assert grp["max_queue_veh"] == pytest.approx(v * (C - g) / 3600, rel=1e-10)
    assert grp["arrivals_on_green"] == pytest.approx(g / C)
    # the same uniform delay as smartcore's HCM evaluation (PF = 1 for random arrivals)
    hcm = sg.evaluate(plan.with_timings([27.0, 27.0]))
    assert grp["uniform_delay_veh_h"] == pytest.approx(v * hcm.groups["uniform_s"][0] / 3600, rel=1e-10)
    # PI = delay (K = 0), or delay + K x stops
    assert ev.pi == pytest.approx(ev.total_delay_veh_h_per_h)
    ev4 = evaluate_network(plan, stop_penalty_s=4.0)
    assert ev4.pi == pytest.approx(ev.pi + 4.0 * ev.total_stops_vph / 3600)


def looped_plan() -> tuple[SignalPlan, Feeds]:
    rng = np.random.default_rng(3)
    its = []
    for i in range(5):
        a = LaneGroup("A", (Movement("through", float(rng.uniform(300, 900))),), 2, 3400.0)
        b = LaneGroup("B", (Movement("through", float(rng.uniform(100, 400))),), 1, 1700.0)
        c = LaneGroup("C", (Movement("left", 80.0),), 1, 1600.0)
        phases = (
            Phase("1", ("A",), green_s=25.3, lost_time_s=4.0),
            Phase("2", ("B", "C"), green_s=20.7, yellow_s=3, all_red_s=1, lost_time_s=4.5),
            Phase("3", ("C",), green_s=5.5),
        )
        its.append(
            Intersection(
                f"I{i}",
                (Approach("a", (a,)), Approach("b", (b, c))),
                phases,
                offset_s=float(rng.uniform(0, 60)),
            )
        )
    plan = SignalPlan(its)
    records = []
    for i in range(1, 5):
        records.append((f"I{i}", "A", f"I{i - 1}", "A", 0.7, 20.0 + i))
        records.append((f"I{i - 1}", "B", f"I{i}", "B", 0.3, 15.0))
    records.append(("I0", "A", "I4", "A", 0.2, 30.0))  # closes a loop
    return plan, Feeds.from_records(plan, records)


@pytest.mark.parametrize("step_s", [1.0, 0.5])
def test_kernel_matches_numpy_reference_on_a_loop(step_s: float) -> None:
    plan, feeds = looped_plan()
    ev = evaluate_network(plan, feeds, step_s=step_s, profiles=True)
    a = plan.arrays()
    ref = transyt_numpy.evaluate(
        a, feeds.arrays(len(a["flow_vph"])), a["green_s"], a["offset_s"], step_s=step_s
    )
    for key in (
        "flow_in_vph",
        "capacity_vph",
        "x",
        "uniform_delay_veh_h",
        "random_delay_veh_h",
        "max_queue_veh",
        "pi",
    ):
        np.testing.assert_allclose(ev.groups[key], ref[key], rtol=1e-7, atol=1e-8, err_msg=key)
    np.testing.assert_allclose(ev.groups["stops_vph"], ref["stops_vph"], rtol=1e-6)
    n = len(ev.groups["pi"])
    for key in ("in_profile", "out_profile", "queue_profile"):
        np.testing.assert_allclose(ev.profiles[key].reshape(n, -1), ref[key], atol=1e-7, err_msg=key)
    prof = ev.profile("I2", "A")
    assert prof["in_profile"].sum() == pytest.approx(ev.groups["flow_in_vph"][6] * plan[2].cycle_s / 3600)


def test_two_signal_offset_equals_brute_force() -> None:
    plan = SignalPlan([two_phase("U", 900.0, 300.0), two_phase("D", 900.0, 300.0)])
    feeds = Feeds.from_records(plan, [("D", "A", "U", "A", 0.8, 24.0)])
    # brute force over every offset of signal D on a 1-s grid (signal U at 0)
    C = plan[0].cycle_s
    pis = np.array(
        [evaluate_network(plan.with_timings(offset_s=[0.0, float(o)]), feeds).pi for o in range(int(C))]
    )
    best = int(np.argmin(pis))
    assert np.sort(pis)[1] > pis[best] + 1e-6  # a unique optimum
    res = optimise_network(plan, feeds, splits=False, restarts=3, seed=1, threads=2)
    rel = (res.plan[1].offset_s - res.plan[0].offset_s) % C
    assert rel == pytest.approx(best, abs=1e-9)
    assert res.pi == pytest.approx(pis[best], rel=1e-12)
    assert res.pi == pytest.approx(evaluate_network(res.plan, feeds).pi, rel=1e-12)
    assert res.pi <= res.pi_start
    print(
        f"\nbrute force: best offset {best} s, PI {pis[best]:.4f} veh.h/h (worst {pis.max():.4f}); "
        f"hill climb: offset {rel:.0f} s, PI {res.pi:.4f} after {res.moves} moves"
    )


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_pi_never_increases_and_is_deterministic(seed: int) -> None:
    plan, feeds = looped_plan()
    kw = dict(cycle_s=np.arange(40.0, 121.0, 10.0), restarts=3, seed=seed)
    a = optimise_network(plan, feeds, threads=1, **kw)
    b = optimise_network(plan, feeds, threads=2, **kw)
    assert a.pi <= a.pi_start
    assert a.pi == pytest.approx(evaluate_network(a.plan, feeds).pi, rel=1e-12)
    np.testing.assert_array_equal(a.plan.arrays()["green_s"], b.plan.arrays()["green_s"])
    np.testing.assert_array_equal(a.plan.arrays()["offset_s"], b.plan.arrays()["offset_s"])
    assert a.pi == b.pi
    # greens within bounds, one common cycle
    arr = a.plan.arrays()
    assert np.all(arr["green_s"] >= arr["min_green_s"] - 1e-9)
    assert len({round(it.cycle_s, 9) for it in a.plan}) == 1
    # offsets only, splits only: never above the start either
    for kwargs in ({"splits": False}, {"offsets": False}):
        r = optimise_network(plan, feeds, restarts=2, seed=seed, **kwargs)
        assert r.pi <= r.pi_start
        if "offsets" in kwargs:
            np.testing.assert_array_equal(r.plan.arrays()["offset_s"] % 1, plan.arrays()["offset_s"] % 1)


def test_progress_and_cancellation() -> None:
    plan, feeds = looped_plan()
    calls: list[tuple[int, int, float]] = []
    res = optimise_network(
        plan,
        feeds,
        cycle_s=np.arange(40.0, 121.0, 5.0),
        restarts=4,
        progress=lambda d, t, b: calls.append((d, t, b)) or len(calls) < 2,
    )
    assert res.cancelled and not res.interrupted
    assert res.pi <= res.pi_start
    assert res.pi == pytest.approx(evaluate_network(res.plan, feeds).pi, rel=1e-12)
    assert calls and all(t == calls[0][1] for _, t, _ in calls)

    def boom(done: int, total: int, best: float) -> bool:
        raise RuntimeError("stop here")

    with pytest.raises(RuntimeError, match="stop here"):
        optimise_network(plan, feeds, cycle_s=np.arange(40.0, 121.0, 5.0), progress=boom)


def test_bad_input() -> None:
    plan, feeds = looped_plan()
    with pytest.raises(InputError, match="share"):
        Feeds(np.array([1]), np.array([0]), np.array([1.5]), np.array([10.0]))
    with pytest.raises(InputError, match="travel_time_s"):
        Feeds(np.array([1]), np.array([0]), np.array([0.5]), np.array([-1.0]))
    with pytest.raises(InputError, match="no lane group 'Z'"):
        Feeds.from_records(plan, [("I1", "Z", "I0", "A", 0.5, 10.0)])
    with pytest.raises(InputError) as e:
        Feeds(np.array([99]), np.array([0]), np.array([0.5]), np.array([1.0])).arrays(15)
    assert e.value.field == "to_group"
    with pytest.raises(InputError) as e:
        evaluate_network(plan, feeds, step_s=0.0)
    assert e.value.field == "step_s"
    with pytest.raises(InputError):
        optimise_network(plan, feeds, restarts=0)
    with pytest.raises(InputError):
        optimise_network(plan, feeds, cycle_s=[60.0, -1.0])


def test_helsinki_feeds_and_optimisation() -> None:
    net = datasets.load_network("helsinki")
    plan = sg.from_network(net, link_flow_vph=0.4 * net.capacity)
    feeds = feeds_from_network(plan, net)
    assert len(feeds) > 0
    assert np.all(feeds.share <= 1.0) and np.all(feeds.travel_time_s > 0)
    # feeds join different intersections
    a = plan.arrays()
    inter = np.repeat(np.arange(len(plan)), np.diff(a["group_first"]))
    assert np.all(inter[feeds.to_group] != inter[feeds.from_group])
    res = optimise_network(plan, feeds, cycle_s=[60.0, 90.0], restarts=2, seed=0)
    assert res.pi <= res.pi_start
    assert res.pi < res.pi_start  # Webster cycles at offsets 0 leave room
