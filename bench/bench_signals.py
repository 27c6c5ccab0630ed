"""Signal-timing evaluation benchmark: the C++ kernel beside a plain numpy implementation of the
same HCM 2000 delay model, in the same pytest-benchmark groups.

    python -m pytest bench/bench_signals.py --benchmark-only --benchmark-group-by=group \\
        --benchmark-columns=min,median,ops,rounds --benchmark-sort=name

Groups (each evaluates all intersections of a plan: effective greens from phase greens, capacity,
X, PF, d1, d2, d3, control delay, LOS per lane group, and flow-weighted delay, Xc and LOS per
intersection)
    grid-1024      synthetic 32 x 32 grid, 4 approaches each, 2 to 4 phases (protected lefts at
                   about a third), random flows
    helsinki-64    the signalised junctions of the embedded Helsinki OSM extract
                   (smartcore.signals.from_network, flows = 0.5 x link capacity)
    helsinki-x16   the Helsinki plans repeated 16 times (1,024 intersections)

Members of each group
    kernel         smartcore._core.signals_evaluate on the plan arrays (GIL released inside)
    api            smartcore.signals.evaluate (kernel + result objects)
    numpy          vectorised numpy re-implementation of the model (below), checked equal to the
                   kernel before timing

``extra_info["evaluations_per_s"]`` is intersections evaluated per second (from the mean time).

TRANSYT-style model (smartcore.signals.transyt), beside the straightforward numpy implementation of
the same model in ``bench/transyt_numpy.py`` (checked equal before timing)
    transyt-eval-1024   network evaluation of the 32 x 32 grid at a common 90 s cycle, 1-s
                        steps, each approach fed by its upstream neighbour's through flow
                        (300 m, 21.6 s): ``evaluations_per_s`` = network evaluations per second
    transyt-opt-1024    offset hill climb on the same grid: the kernel's incremental moves
                        (optimise_network, one climb, offsets only) against numpy re-evaluating
                        the network for every move (stopped after a fixed number of moves);
                        ``moves_per_s`` = moves evaluated per second

    python -m pytest bench/bench_signals.py --benchmark-only -k transyt --benchmark-group-by=group

Machines here are shared: read ratios within a group, not absolute times.
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pytest

from smartcore import _core, datasets
from smartcore import signals as sg
from smartcore.signals import Approach, Intersection, LaneGroup, Movement, Phase, SignalPlan
from smartcore.signals.transyt import Feeds, evaluate_network, optimise_network

sys.path.insert(0, str(Path(__file__).resolve().parent))
import transyt_numpy  # noqa: E402

_RP = np.array([0.333, 0.667, 1.000, 1.333, 1.667, 2.000])
_FPA = np.array([1.00, 0.93, 1.00, 1.15, 1.00, 1.00])
_LOS = np.array([10.0, 20.0, 35.0, 55.0, 80.0])


def numpy_evaluate(a: dict[str, np.ndarray], green: np.ndarray, T: float) -> dict[str, np.ndarray]:
    """The HCM 2000 model of smartcore.signals.evaluate written with numpy array operations."""
    pf_, gf, sf, sp = a["phase_first"], a["group_first"], a["serve_first"], a["serve_phase"]
    Y, R, lost = a["yellow_s"], a["all_red_s"], a["lost_s"]
    nphase = np.diff(pf_)
    dur = green + Y + R
    cycle = np.add.reduceat(dur, pf_[:-1])
    lost_int = np.add.reduceat(lost, pf_[:-1])
    # intersection and phase-count of every serve entry
    group_of_entry = np.repeat(np.arange(len(sf) - 1), np.diff(sf))
    inter_of_group = np.repeat(np.arange(len(gf) - 1), np.diff(gf))
    inter = inter_of_group[group_of_entry]
    p0, n = pf_[:-1][inter], nphase[inter]
    nxt = p0 + (sp - p0 + 1) % n
    is_last = np.r_[group_of_entry[1:] != group_of_entry[:-1], True]
    following = np.where(is_last, sp[sf[:-1][group_of_entry]], np.r_[sp[1:], 0])
    contrib = dur[sp] - np.where(following == nxt, 0.0, lost[sp])
    eff = np.bincount(group_of_entry, weights=contrib, minlength=len(sf) - 1)
    C = cycle[inter_of_group]
    v, s = a["flow_vph"], a["sat_flow_vph"]
    gc = np.minimum(1.0, eff / C)
    c = s * gc
    X = v / c
    xm = np.minimum(1.0, X)
    at = a["arrival_type"] - 1
    P = np.minimum(1.0, _RP[at] * gc)
    with np.errstate(divide="ignore", invalid="ignore"):
        pf = np.where(gc < 1.0, (1 - P) * _FPA[at] / (1 - gc), 1.0)
    pf = np.where(at >= 2, np.minimum(pf, 1.0), pf)
    d1 = 0.5 * C * (1 - gc) ** 2 / (1 - xm * gc)
    d2 = 900 * T * ((X - 1) + np.sqrt((X - 1) ** 2 + 8 * a["k"] * a["upstream_i"] * X / (c * T)))
    qb = a["initial_queue_veh"]
    spare = c * (1 - xm)
    with np.errstate(divide="ignore", invalid="ignore"):
        t = np.where(qb > 0, np.where(spare > 0, np.minimum(T, qb / spare), T), 0.0)
        u = np.where((qb > 0) & (t >= T), 1 - c * T * (1 - xm) / qb, 0.0)
    d3 = 1800 * qb * (1 + u) * t / (c * T)
    uniform = np.where(qb > 0, 0.5 * C * (1 - gc) * t / T + pf * d1 * (T - t) / T, pf * d1)
    d = uniform + d2 + d3
    los = np.searchsorted(_LOS, d, side="left").astype(np.int8)
    flow_int = np.bincount(inter_of_group, weights=v, minlength=len(cycle))
    with np.errstate(invalid="ignore", divide="ignore"):
        delay_int = np.bincount(inter_of_group, weights=v * d, minlength=len(cycle)) / flow_int
    # critical flow ratios: single-phase lane groups
    single = np.diff(sf) == 1
    y_phase = np.zeros(len(green))
    np.maximum.at(y_phase, sp[sf[:-1][single]], (v / s)[single])
    Ysum = np.add.reduceat(y_phase, pf_[:-1])
    return {"eff_green_s": eff, "x": X, "pf": pf, "delay_s": d, "los": los, "cycle_s": cycle,
            "int_delay_s": delay_int, "critical_xc": Ysum * cycle / (cycle - lost_int)}


def grid_plan(side: int = 32, seed: int = 1) -> SignalPlan:
    """``side x side`` four-leg intersections with random flows; about a third with protected lefts."""
    rng = np.random.default_rng(seed)
    its = []
    for i in range(side * side):
        approaches, phases_ns, phases_ew, lefts_ns, lefts_ew = [], [], [], [], []
        protect = rng.random() < 0.35
        for j, name in enumerate("NESW"):
            flow = float(rng.uniform(150, 700))
            groups = []
            mv = (Movement("left", 0.15 * flow), Movement("through", 0.7 * flow),
                  Movement("right", 0.15 * flow))
            if protect and j % 2 == 0:
                groups.append(LaneGroup(f"{name}L", mv[:1], 1, 1805.0))
                groups.append(LaneGroup(f"{name}TR", mv[1:], 2, 3470.0))
                lefts_ns.append(f"{name}L")
            else:
                groups.append(LaneGroup(f"{name}LTR", mv, 2, 3300.0))
            (phases_ns if j % 2 == 0 else phases_ew).append(groups[-1].name)
            approaches.append(Approach(name, tuple(groups), 90.0 * j))
        phases = []
        if lefts_ns:
            phases.append(Phase("NS left", tuple(lefts_ns)))
        phases.append(Phase("NS", tuple(phases_ns), ped_min_green_s=12.0))
        if lefts_ew:  # pragma: no cover - kept for symmetry
            phases.append(Phase("EW left", tuple(lefts_ew)))
        phases.append(Phase("EW", tuple(phases_ew), ped_min_green_s=12.0))
        its.append(Intersection(f"G{i}", tuple(approaches), tuple(phases)))
    return sg.optimise_timings(SignalPlan(its, name=f"grid {side}x{side}")).plan


def helsinki_plan(copies: int = 1) -> SignalPlan:
    net = datasets.load_network("helsinki")
    base = sg.from_network(net, link_flow_vph=0.5 * net.capacity)
    if copies == 1:
        return base
    its = [it.replace(id=f"{it.id}#{k}") for k in range(copies) for it in base]
    return SignalPlan(its, name=f"helsinki x{copies}")


CASES = {"grid-1024": lambda: grid_plan(32), "helsinki-64": lambda: helsinki_plan(1),
         "helsinki-x16": lambda: helsinki_plan(16)}
_PLANS: dict[str, SignalPlan] = {}


def _plan(case: str) -> SignalPlan:
    if case not in _PLANS:
        plan = CASES[case]()
        a = plan.arrays()
        ref = numpy_evaluate(a, a["green_s"], plan.analysis_period_h)
        got = _core.signals_evaluate(a, a["green_s"], plan.analysis_period_h)
        for key in ("eff_green_s", "x", "pf", "delay_s", "los"):
            np.testing.assert_allclose(got["groups"][key], ref[key], rtol=1e-12, atol=1e-9, err_msg=key)
        np.testing.assert_allclose(got["intersections"]["delay_s"], ref["int_delay_s"], rtol=1e-12)
        np.testing.assert_allclose(got["intersections"]["critical_xc"], ref["critical_xc"], rtol=1e-12)
        _PLANS[case] = plan
    return _PLANS[case]


def _record(benchmark, plan: SignalPlan) -> None:  # noqa: ANN001
    benchmark.extra_info["intersections"] = len(plan)
    benchmark.extra_info["lane_groups"] = int(len(plan.arrays()["flow_vph"]))
    stats = benchmark.stats.stats if benchmark.stats else None
    if stats is not None and stats.mean > 0:
        benchmark.extra_info["evaluations_per_s"] = len(plan) / stats.mean


@pytest.mark.parametrize("case", list(CASES))
def test_kernel(benchmark, case: str) -> None:  # noqa: ANN001
    plan = _plan(case)
    a = plan.arrays()
    benchmark.group = case
    benchmark(_core.signals_evaluate, a, a["green_s"], plan.analysis_period_h)
    _record(benchmark, plan)


@pytest.mark.parametrize("case", list(CASES))
def test_api(benchmark, case: str) -> None:  # noqa: ANN001
    plan = _plan(case)
    benchmark.group = case
    benchmark(sg.evaluate, plan)
    _record(benchmark, plan)


@pytest.mark.parametrize("case", list(CASES))
def test_numpy(benchmark, case: str) -> None:  # noqa: ANN001
    plan = _plan(case)
    a = plan.arrays()
    benchmark.group = case
    benchmark(numpy_evaluate, a, a["green_s"], plan.analysis_period_h)
    _record(benchmark, plan)


# ------------------------------------------------------------------------------ TRANSYT-style model
_GRID: dict[str, tuple[SignalPlan, Feeds]] = {}


def transyt_grid(side: int = 32) -> tuple[SignalPlan, Feeds]:
    """The bench grid at a common 90 s cycle, every approach fed by its upstream neighbour."""
    key = f"grid-{side}"
    if key in _GRID:
        return _GRID[key]
    plan = sg.optimise_timings(grid_plan(side), cycle_s=90.0).plan

    def through_group(it: Intersection, approach: str) -> LaneGroup:
        return next(g for g in it.lane_groups if g.name.startswith(approach) and "T" in g.name[1:])

    records = []
    step = {"N": (-1, 0), "S": (1, 0), "W": (0, -1), "E": (0, 1)}  # where the upstream neighbour lies
    for i, it in enumerate(plan):
        r, c = divmod(i, side)
        for approach, (dr, dc) in step.items():
            ur, uc = r + dr, c + dc
            if not (0 <= ur < side and 0 <= uc < side):
                continue
            up = plan[ur * side + uc]
            src = through_group(up, approach)
            through = sum(m.flow_vph for m in src.movements if m.turn == "through")
            share = through / float(src.flow_vph)
            dst = through_group(it, approach)
            records.append((it.id, dst.name, up.id, src.name, share, 300.0 / 13.9))
    feeds = Feeds.from_records(plan, records)
    a = plan.arrays()
    ev = evaluate_network(plan, feeds)
    ref = transyt_numpy.evaluate(a, feeds.arrays(len(a["flow_vph"])), a["green_s"], a["offset_s"])
    np.testing.assert_allclose(ev.groups["pi"], ref["pi"], rtol=1e-6, atol=1e-7)
    _GRID[key] = (plan, feeds)
    return plan, feeds


def test_transyt_eval_kernel(benchmark) -> None:  # noqa: ANN001
    plan, feeds = transyt_grid()
    benchmark.group = "transyt-eval-1024"
    benchmark(evaluate_network, plan, feeds)
    benchmark.extra_info["intersections"] = len(plan)
    if benchmark.stats and benchmark.stats.stats.mean > 0:
        benchmark.extra_info["evaluations_per_s"] = 1.0 / benchmark.stats.stats.mean


def test_transyt_eval_numpy(benchmark) -> None:  # noqa: ANN001
    plan, feeds = transyt_grid()
    a = plan.arrays()
    fa = feeds.arrays(len(a["flow_vph"]))
    benchmark.group = "transyt-eval-1024"
    benchmark.pedantic(transyt_numpy.evaluate, args=(a, fa, a["green_s"], a["offset_s"]), rounds=3,
                       iterations=1)
    benchmark.extra_info["intersections"] = len(plan)
    if benchmark.stats and benchmark.stats.stats.mean > 0:
        benchmark.extra_info["evaluations_per_s"] = 1.0 / benchmark.stats.stats.mean


def test_transyt_optimise_kernel(benchmark) -> None:  # noqa: ANN001
    plan, feeds = transyt_grid()
    benchmark.group = "transyt-opt-1024"
    res = benchmark.pedantic(optimise_network, args=(plan, feeds),
                             kwargs=dict(splits=False, restarts=1, threads=1, max_sweeps=2), rounds=3,
                             iterations=1)
    assert res.pi <= res.pi_start
    benchmark.extra_info["moves"] = res.moves
    benchmark.extra_info["pi_start"] = res.pi_start
    benchmark.extra_info["pi"] = res.pi
    if benchmark.stats and benchmark.stats.stats.mean > 0:
        benchmark.extra_info["moves_per_s"] = res.moves / benchmark.stats.stats.mean


def test_transyt_optimise_numpy(benchmark) -> None:  # noqa: ANN001
    plan, feeds = transyt_grid()
    a = plan.arrays()
    fa = feeds.arrays(len(a["flow_vph"]))
    moves = 6
    benchmark.group = "transyt-opt-1024"
    out = benchmark.pedantic(transyt_numpy.hill_climb_offsets, args=(a, fa, a["green_s"], a["offset_s"]),
                             kwargs=dict(max_moves=moves), rounds=1, iterations=1)
    benchmark.extra_info["moves"] = out[2]
    if benchmark.stats and benchmark.stats.stats.mean > 0:
        benchmark.extra_info["moves_per_s"] = out[2] / benchmark.stats.stats.mean
