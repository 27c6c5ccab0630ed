"""MAXBAND: arterial progression bandwidth by mixed-integer linear programming.

Little, J.D.C., Kelson, M.D. and Gartner, N.H. (1981), "MAXBAND: A program for setting signals on
arteries and triangular networks", *Transportation Research Record* 795, 40-46; building on
Little, J.D.C. (1966), "The synchronization of traffic signals by mixed-integer linear
programming", *Operations Research* 14(4), 568-594.

Model (times in cycles, i.e. fractions of the common cycle C; signals ``0..n-1`` in the outbound
direction; the inbound direction runs from ``n-1`` to ``0``)::

    maximise    b + k b_in                                  (k = weight_in / weight_out)
    subject to  (1 - k) b_in >= (1 - k) k b                 (Little et al.'s directional target)
                w_i + b <= g_i,   wbar_i + b_in <= gbar_i   (bands inside the greens)
                (w_{i+1} - w_i) - (wbar_{i+1} - wbar_i)
                    = t_i + tbar_i - (a_{i+1} - a_i) + (abar_{i+1} - abar_i) - m_i,  m_i integer
                (d_i / v_max) z <= t_i <= (d_i / v_min) z      (speed range, both directions)
                1 / C_max <= z <= 1 / C_min                   (z = 1 / C, common cycle)
                w, wbar, b, b_in >= 0

with ``g_i`` / ``gbar_i`` the outbound / inbound effective green of the through movement,
``a_i`` / ``abar_i`` when those greens start after phase 0 starts, ``w_i`` the time from the
start of the outbound green to the band's front, ``t_i`` the outbound travel time from signal
``i`` to ``i+1`` and ``m_i`` the loop integers. The loop equation follows from writing each
band's arrival at every signal in terms of the (eliminated) offsets; MAXBAND's red-centred form
(with ``Delta_i`` and queue clearance ``tau_i``) is the same equation with reds in place of greens.
Not modelled: queue clearance times, left-turn phase sequence choice, speed-change limits.

Offsets are returned in the project's convention (:mod:`smartcore.signals.plan`): the start of
phase 0's green, in seconds in ``[0, C)``, relative to signal 0 (whose offset is 0). The band's
front leaves signal 0 at ``a_0 + w_0`` cycles after its phase 0 starts.

Solved with OR-Tools (``ortools.linear_solver.pywraplp``, SCIP by default, or CBC).
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import numpy as np

from smartcore.errors import InputError, SmartcoreError

if TYPE_CHECKING:  # pragma: no cover
    from smartcore.signals.plan import Intersection, SignalPlan

__all__ = ["ArterialSignal", "MaxbandResult", "maxband", "bandwidths", "arterial_from_plan"]


@dataclasses.dataclass(frozen=True)
class ArterialSignal:
    """The through greens of one signal on an arterial, as fractions of the cycle.

    Attributes
    ----------
    green_out, green_in : float
        Effective green of the outbound / inbound through movement, fraction of the cycle (0, 1].
    start_out, start_in : float
        When that green starts, in cycles after the start of phase 0 (0 for both with a
        two-phase signal whose phase 0 serves the arterial).
    name : str
    """

    green_out: float
    green_in: float
    start_out: float = 0.0
    start_in: float = 0.0
    name: str = ""


@dataclasses.dataclass(frozen=True)
class MaxbandResult:
    """Optimal progression (see :func:`maxband`).

    Attributes
    ----------
    cycle_s : float
        Common cycle (s).
    offsets_s : numpy.ndarray
        Offsets in the project's convention (start of phase 0's green), signal 0 at 0.
    bandwidth_out, bandwidth_in : float
        Bandwidths in cycles; ``* cycle_s`` gives seconds.
    travel_time_out_s, travel_time_in_s : numpy.ndarray
        Travel times between consecutive signals used by the bands (s).
    speed_out_mps, speed_in_mps : numpy.ndarray
        The corresponding progression speeds (m/s).
    objective : float
        ``b + k b_in``.
    status : str
        Solver status ("OPTIMAL" or "FEASIBLE").
    """

    cycle_s: float
    offsets_s: np.ndarray
    bandwidth_out: float
    bandwidth_in: float
    travel_time_out_s: np.ndarray
    travel_time_in_s: np.ndarray
    speed_out_mps: np.ndarray
    speed_in_mps: np.ndarray
    objective: float
    status: str

    @property
    def bandwidth_out_s(self) -> float:
        return self.bandwidth_out * self.cycle_s

    @property
    def bandwidth_in_s(self) -> float:
        return self.bandwidth_in * self.cycle_s


def _pair(value: Any, field: str) -> tuple[float, float]:
    try:
        lo, hi = (float(v) for v in value)
    except (TypeError, ValueError):
        raise InputError(f"{field} must be a (min, max) pair", field=field) from None
    if not (0 < lo <= hi and math.isfinite(hi)):
        raise InputError(f"{field} must satisfy 0 < min <= max < inf, got {value!r}", field=field)
    return lo, hi


def maxband(
    signals: Sequence[ArterialSignal],
    distances_m: Sequence[float],
    *,
    cycle_range_s: tuple[float, float] = (60.0, 120.0),
    speed_range_mps: tuple[float, float] = (11.0, 14.0),
    speed_range_in_mps: tuple[float, float] | None = None,
    weight_out: float = 1.0,
    weight_in: float = 1.0,
    solver: str = "SCIP",
    time_limit_s: float = 60.0,
) -> MaxbandResult:
    """Maximise the progression bands of an arterial (MAXBAND, Little, Kelson & Gartner 1981).

    Parameters
    ----------
    signals : sequence of ArterialSignal
        In outbound order.
    distances_m : sequence of float
        ``n - 1`` distances between consecutive signals (m).
    cycle_range_s : (float, float)
        Range of the common cycle (s); equal bounds fix it.
    speed_range_mps, speed_range_in_mps : (float, float)
        Progression speed range outbound and inbound (m/s); inbound defaults to outbound.
    weight_out, weight_in : float
        Directional weights; ``k = weight_in / weight_out`` weights the inbound band and sets the
        directional target ``(1 - k) b_in >= (1 - k) k b``.
    solver : {"SCIP", "CBC"}
        OR-Tools MILP backend.
    time_limit_s : float

    Returns
    -------
    MaxbandResult

    Raises
    ------
    InputError
        Bad lengths or values. SmartcoreError when the solver finds no solution.
    """
    from ortools.linear_solver import pywraplp

    sigs = list(signals)
    n = len(sigs)
    if n < 1:
        raise InputError("at least one signal is needed", field="signals")
    d = np.asarray(distances_m, dtype=np.float64)
    if d.shape != (n - 1,) or np.any(~np.isfinite(d)) or np.any(d < 0):
        raise InputError(f"distances_m must hold {n - 1} finite distances >= 0", field="distances_m")
    for i, s in enumerate(sigs):
        for name in ("green_out", "green_in"):
            g = float(getattr(s, name))
            if not 0 < g <= 1:
                raise InputError(f"signals[{i}].{name} must lie in (0, 1] (a fraction of the cycle)",
                                 field=f"signals[{i}].{name}")
        for name in ("start_out", "start_in"):
            if not math.isfinite(float(getattr(s, name))):
                raise InputError(f"signals[{i}].{name} must be finite", field=f"signals[{i}].{name}")
    cmin, cmax = _pair(cycle_range_s, "cycle_range_s")
    vlo, vhi = _pair(speed_range_mps, "speed_range_mps")
    vlo_in, vhi_in = _pair(speed_range_in_mps or speed_range_mps, "speed_range_in_mps")
    if not (weight_out > 0 and weight_in >= 0 and math.isfinite(weight_in) and math.isfinite(weight_out)):
        raise InputError("weights must be finite, weight_out > 0 and weight_in >= 0", field="weight_in")
    k = weight_in / weight_out
    key = solver.upper()
    if key not in ("SCIP", "CBC"):
        raise InputError("solver must be 'SCIP' or 'CBC'", field="solver")
    mip = pywraplp.Solver.CreateSolver(key)
    if mip is None:  # pragma: no cover - depends on the OR-Tools build
        raise SmartcoreError(f"OR-Tools has no {key} backend in this installation")
    mip.SetTimeLimit(int(time_limit_s * 1000))
    inf = mip.infinity()
    z = mip.NumVar(1.0 / cmax, 1.0 / cmin, "z")
    b = mip.NumVar(0.0, 1.0, "b")
    bi = mip.NumVar(0.0, 1.0, "b_in")
    w = [mip.NumVar(0.0, 1.0, f"w{i}") for i in range(n)]
    wi = [mip.NumVar(0.0, 1.0, f"wbar{i}") for i in range(n)]
    t = [mip.NumVar(0.0, inf, f"t{i}") for i in range(n - 1)]
    ti = [mip.NumVar(0.0, inf, f"tbar{i}") for i in range(n - 1)]
    m = []
    for i in range(n - 1):
        span = d[i] / (cmin * vlo) + d[i] / (cmin * vlo_in)  # round trip, cycles, at most
        m.append(mip.IntVar(-4.0, math.ceil(span) + 4.0, f"m{i}"))
    for i, s in enumerate(sigs):
        mip.Add(w[i] + b <= float(s.green_out))
        mip.Add(wi[i] + bi <= float(s.green_in))
    for i in range(n - 1):
        a, nx = sigs[i], sigs[i + 1]
        rhs = -(float(nx.start_out) - float(a.start_out)) + (float(nx.start_in) - float(a.start_in))
        mip.Add((w[i + 1] - w[i]) - (wi[i + 1] - wi[i]) - t[i] - ti[i] + m[i] == rhs)
        mip.Add(t[i] >= (d[i] / vhi) * z)
        mip.Add(t[i] <= (d[i] / vlo) * z)
        mip.Add(ti[i] >= (d[i] / vhi_in) * z)
        mip.Add(ti[i] <= (d[i] / vlo_in) * z)
    if k != 1.0:
        mip.Add((1 - k) * bi >= (1 - k) * k * b)
    mip.Maximize(b + k * bi)
    status = mip.Solve()
    names = {pywraplp.Solver.OPTIMAL: "OPTIMAL", pywraplp.Solver.FEASIBLE: "FEASIBLE"}
    if status not in names:
        raise SmartcoreError(f"MAXBAND: the solver found no solution (status {status})")
    C = 1.0 / z.solution_value()
    tv = np.array([x.solution_value() for x in t])
    tiv = np.array([x.solution_value() for x in ti])
    wv = np.array([x.solution_value() for x in w])
    T = np.concatenate([[0.0], np.cumsum(tv)])
    # Band front leaves signal 0 at time 0: o_i + a_i + w_i = T_i (mod 1)
    o = np.array([T[i] - float(sigs[i].start_out) - wv[i] for i in range(n)])
    o = np.mod(o - o[0], 1.0)
    o[o >= 1.0 - 1e-12] = 0.0
    with np.errstate(divide="ignore"):
        v_out = np.where(tv > 0, d / (tv * C), np.nan)
        v_in = np.where(tiv > 0, d / (tiv * C), np.nan)
    return MaxbandResult(C, o * C, float(b.solution_value()), float(bi.solution_value()), tv * C, tiv * C,
                         v_out, v_in, float(mip.Objective().Value()), names[status])


# ------------------------------------------------------------------------------ verification
def _best_band(starts: np.ndarray, greens: np.ndarray) -> float:
    """Longest interval lying inside every circular arc [starts_i, starts_i + greens_i) (cycles)."""
    starts = np.mod(starts, 1.0)
    best = 0.0
    for theta in starts:
        dist = np.mod(theta - starts, 1.0)
        dist[np.isclose(dist, 1.0, atol=1e-9)] = 0.0
        inside = dist < greens - 1e-12
        if inside.all():
            best = max(best, float(np.min(greens - dist)))
    return best


def bandwidths(signals: Sequence[ArterialSignal], offsets_s: Sequence[float], cycle_s: float,
               travel_time_out_s: Sequence[float], travel_time_in_s: Sequence[float]) -> tuple[float, float]:
    """Exact outbound and inbound bandwidths (cycles) of given offsets and travel times.

    A direct evaluation (not an optimisation): the band is the longest time window whose
    trajectories, shifted by the travel times, fall inside every signal's through green.
    """
    sigs = list(signals)
    o = np.asarray(offsets_s, dtype=np.float64) / cycle_s
    t = np.asarray(travel_time_out_s, dtype=np.float64) / cycle_s
    ti = np.asarray(travel_time_in_s, dtype=np.float64) / cycle_s
    T = np.concatenate([[0.0], np.cumsum(t)])
    Tin = np.concatenate([np.cumsum(ti[::-1])[::-1], [0.0]])  # from the last signal back to i
    g = np.array([s.green_out for s in sigs])
    gi = np.array([s.green_in for s in sigs])
    a = np.array([s.start_out for s in sigs])
    ai = np.array([s.start_in for s in sigs])
    return _best_band(o + a - T, g), _best_band(o + ai - Tin, gi)


def _green_window(it: Intersection, lane_group: str) -> tuple[float, float]:
    """(start, effective green) of a lane group in s after phase 0 starts."""
    from smartcore.signals.plan import DEFAULT_START_UP_LOST_S

    served = set(it.phases_serving(lane_group))
    if not served:
        raise InputError(f"lane group {lane_group!r} of {it.id!r} is served by no phase", field="lane_group")
    n = len(it.phases)
    if len(served) == n:
        return 0.0, it.cycle_s
    first = next(j for j in sorted(served) if (j - 1) % n not in served)  # start of the (first) run
    start = sum(p.duration_s for p in it.phases[:first])
    eff, j = 0.0, first
    while j in served:
        eff += it.phases[j].duration_s
        last = it.phases[j]
        j = (j + 1) % n
    eff -= float(last.lost_time_s)  # type: ignore[arg-type]
    lost_start = min(DEFAULT_START_UP_LOST_S, float(it.phases[first].lost_time_s))  # type: ignore[arg-type]
    return start + lost_start, eff


def arterial_from_plan(plan: SignalPlan, ids: Sequence[str], outbound_groups: Sequence[str],
                       inbound_groups: Sequence[str], *,
                       cycle_s: float | None = None) -> list[ArterialSignal]:
    """Through greens of an arterial's intersections as :class:`ArterialSignal` fractions.

    The effective green of each named lane group is taken to start the start-up lost time (2 s)
    after its first serving phase's green starts. ``cycle_s`` defaults to each intersection's cycle.
    """
    out = []
    for iid, go, gi in zip(ids, outbound_groups, inbound_groups):
        it = plan[iid]
        C = cycle_s or it.cycle_s
        so, eo = _green_window(it, go)
        si, ei = _green_window(it, gi)
        out.append(ArterialSignal(min(1.0, eo / C), min(1.0, ei / C), so / C, si / C, name=iid))
    return out
