"""MAXBAND arterial bandwidth (Little, Kelson & Gartner 1981) against a closed form and brute force."""

from __future__ import annotations

import itertools
import math

import numpy as np
import pytest

pytest.importorskip("ortools")

from smartcore import InputError  # noqa: E402
from smartcore import signals as sg  # noqa: E402
from smartcore.signals.maxband import ArterialSignal, arterial_from_plan, bandwidths, maxband  # noqa: E402


@pytest.mark.parametrize(("distance", "speed", "cycle", "red"), [
    (300.0, 12.0, 80.0, 0.5),
    (450.0, 13.0, 60.0, 0.45),
    (600.0, 11.0, 90.0, 0.4),
    (250.0, 15.0, 100.0, 0.6),
    (520.0, 10.0, 70.0, 0.7),  # small greens: the bands vanish when delta/2 exceeds them
    (900.0, 12.5, 72.0, 0.3),
])
def test_two_signal_closed_form(distance: float, speed: float, cycle: float, red: float) -> None:
    # b + b_in = 2 max(0, (1 - r) - delta / 2), delta = distance of the round-trip travel time (in
    # cycles) from the nearest integer; equal reds r, equal weights.
    rt = 2 * distance / speed / cycle
    delta = abs(rt - round(rt))
    expected = 2 * max(0.0, (1 - red) - delta / 2)
    sigs = [ArterialSignal(1 - red, 1 - red), ArterialSignal(1 - red, 1 - red)]
    r = maxband(sigs, [distance], cycle_range_s=(cycle, cycle), speed_range_mps=(speed, speed))
    assert r.bandwidth_out + r.bandwidth_in == pytest.approx(expected, abs=1e-6)
    assert r.cycle_s == pytest.approx(cycle)
    assert r.travel_time_out_s[0] == pytest.approx(distance / speed)


def _brute_force(sigs: list[ArterialSignal], distances: list[float], cycle: float, speed: float,
                 k: float, step: float) -> float:
    t = np.asarray(distances) / speed
    best = 0.0
    grid = np.arange(0.0, 1.0, step) * cycle
    for offs in itertools.product(grid, repeat=len(sigs) - 1):
        b, bi = bandwidths(sigs, (0.0, *offs), cycle, t, t)
        if k != 1.0 and (1 - k) * bi < (1 - k) * k * b - 1e-12:
            # the directional target: shrink the outbound band until it holds
            b = min(b, bi / k)
        best = max(best, b + k * bi)
    return best


@pytest.mark.parametrize("k", [1.0, 0.5])
def test_three_signals_against_brute_force(k: float) -> None:
    sigs = [ArterialSignal(0.50, 0.50), ArterialSignal(0.40, 0.45, 0.0, 0.1),
            ArterialSignal(0.55, 0.35, 0.2, 0.3)]
    distances, cycle, speed, step = [380.0, 520.0], 75.0, 12.0, 0.01
    r = maxband(sigs, distances, cycle_range_s=(cycle, cycle), speed_range_mps=(speed, speed),
                weight_in=k)
    brute = _brute_force(sigs, distances, cycle, speed, k, step)
    # the grid optimum cannot beat the MILP, and is within the grid's resolution of it
    assert r.objective >= brute - 1e-6
    assert r.objective <= brute + 2 * (1 + k) * step
    # the MILP's offsets, evaluated directly, give the bands it reports
    b, bi = bandwidths(sigs, r.offsets_s, r.cycle_s, r.travel_time_out_s, r.travel_time_in_s)
    assert b == pytest.approx(r.bandwidth_out, abs=1e-6)
    assert bi == pytest.approx(r.bandwidth_in, abs=1e-6)
    assert np.all((r.offsets_s >= 0) & (r.offsets_s < r.cycle_s)) and r.offsets_s[0] == 0.0
    if k != 1.0:
        assert r.bandwidth_in >= k * r.bandwidth_out - 1e-9


def test_cycle_and_speed_ranges_are_used() -> None:
    sigs = [ArterialSignal(0.5, 0.5)] * 4
    distances = [300.0, 450.0, 380.0]
    free = maxband(sigs, distances, cycle_range_s=(50, 110), speed_range_mps=(10, 14))
    fixed = [maxband(sigs, distances, cycle_range_s=(c, c), speed_range_mps=(12, 12)).objective
             for c in (50, 60, 70, 80, 90, 100, 110)]
    assert free.objective >= max(fixed) - 1e-9
    assert 50 - 1e-6 <= free.cycle_s <= 110 + 1e-6
    assert np.all(free.speed_out_mps >= 10 - 1e-6) and np.all(free.speed_out_mps <= 14 + 1e-6)
    b, bi = bandwidths(sigs, free.offsets_s, free.cycle_s, free.travel_time_out_s, free.travel_time_in_s)
    assert b + bi == pytest.approx(free.bandwidth_out + free.bandwidth_in, abs=1e-6)
    # CBC agrees with SCIP
    cbc = maxband(sigs, distances, cycle_range_s=(50, 110), speed_range_mps=(10, 14), solver="CBC")
    assert cbc.objective == pytest.approx(free.objective, abs=1e-6)


def test_offsets_applied_to_a_plan() -> None:
    its = [sg.simple_intersection(f"S{i}", {"art": [500, 450], "side": [200]}, 1800, green_s=[40, 25],
                                  cycle_min_s=30, cycle_max_s=120) for i in range(3)]
    plan = sg.SignalPlan(its)
    C = its[0].cycle_s  # 40 + 5 + 25 + 5 = 75 s
    art = arterial_from_plan(plan, plan.ids, ["art.1"] * 3, ["art.2"] * 3)
    # effective green of the arterial phase = 40 + 5 - 5 = 40 s, starting 2 s after phase 0
    assert art[0].green_out == pytest.approx(40 / C) and art[0].start_out == pytest.approx(2 / C)
    r = maxband(art, [400.0, 350.0], cycle_range_s=(C, C), speed_range_mps=(12.5, 12.5))
    new = plan.with_timings(offset_s=r.offsets_s)
    assert [it.offset_s for it in new] == pytest.approx(list(r.offsets_s))
    assert r.bandwidth_out + r.bandwidth_in > 0


def test_maxband_bad_input() -> None:
    s = ArterialSignal(0.5, 0.5)
    with pytest.raises(InputError):
        maxband([s, s], [100.0, 200.0])
    with pytest.raises(InputError):
        maxband([s, ArterialSignal(1.5, 0.5)], [100.0])
    with pytest.raises(InputError):
        maxband([s, s], [100.0], cycle_range_s=(90, 60))
    with pytest.raises(InputError):
        maxband([s, s], [100.0], speed_range_mps=(0, 10))
    with pytest.raises(InputError):
        maxband([s, s], [100.0], solver="glpk")
    assert math.isfinite(maxband([s], []).objective)
