"""Cycle lengths and green splits: Webster's method, target v/c cycles, equisaturation splits.

* Webster's optimum cycle (Webster, F.V., 1958, *Traffic Signal Settings*, Road Research Technical
  Paper No. 39, HMSO, London): ``C0 = (1.5 L + 5) / (1 - Y)`` with L the total lost time per cycle
  (s) and Y the sum of the phases' critical flow ratios ``y = v/s``.
* Cycle for a target critical v/c ratio ``Xc`` (HCM 2000 Chapter 16, critical v/c ratio
  ``Xc = Y C / (C - L)``, solved for C): ``C = L Xc / (Xc - Y)``.
* Equisaturation splits: effective greens ``g_p = (C - L) y_p / Y`` give every critical lane group
  the same degree of saturation. Phases whose share falls below their minimum green (vehicle or
  pedestrian) are fixed at the minimum and the rest is re-split among the others in proportion
  to y (likewise for maximum greens); the kernel solves this exactly (water-filling).

Practical handling (documented, never infinity):

* the cycle is clamped to ``[cycle_min_s, cycle_max_s]`` of each intersection, raised to fit the
  minimum greens, lowered to respect the maximum greens;
* ``Y >= 1`` (or ``Y >= Xc`` for a target v/c) has no finite cycle: the cycle is ``cycle_max_s``
  and the result is flagged ``oversaturated`` (plus ``cycle_at_max``, and ``target_unreachable``
  for a target). ``oversaturated`` is also flagged whenever ``Xc > 1`` at the chosen cycle.

Critical flow ratios: a phase's ``y`` is the largest ``v/s`` of the lane groups it serves alone;
lane groups served by several phases are not critical for one phase (their X is reported by
:func:`smartcore.signals.evaluate`).
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import numpy as np

from smartcore.errors import InputError

if TYPE_CHECKING:  # pragma: no cover
    import pandas as pd

    from smartcore.signals.plan import SignalPlan

__all__ = [
    "STATUS_FLAGS", "decode_status", "webster_cycle", "cycle_for_target_vc", "webster",
    "WebsterResult", "optimise_timings", "TimingResult", "best_common_cycle",
]

#: Bits of the timing status (C++ ``smartcore::signals::TimingStatus``).
STATUS_FLAGS: dict[str, int] = {
    "cycle_at_max": 1 << 0,
    "oversaturated": 1 << 1,
    "cycle_at_min": 1 << 2,
    "cycle_for_min_greens": 1 << 3,
    "cycle_for_max_greens": 1 << 4,
    "max_green_exceeded": 1 << 5,
    "min_green_violated": 1 << 6,
    "target_unreachable": 1 << 7,
}
_METHODS = {"webster": 0, "target_vc": 1}


def decode_status(status: int) -> tuple[str, ...]:
    """Names of the flags set in a timing status word."""
    return tuple(name for name, bit in STATUS_FLAGS.items() if int(status) & bit)


def _core() -> Any:
    from smartcore import _core as core

    return core


def _ratios(flow_ratios: Any) -> np.ndarray:
    y = np.atleast_1d(np.asarray(flow_ratios, dtype=np.float64))
    if y.ndim != 1 or not np.all(np.isfinite(y)) or np.any(y < 0):
        raise InputError("flow ratios must be finite numbers >= 0", field="flow_ratios")
    return y


def webster_cycle(flow_ratios: Any, lost_time_s: float) -> float:
    """Webster's optimum cycle ``C0 = (1.5 L + 5) / (1 - Y)`` in seconds.

    Parameters
    ----------
    flow_ratios : float or array of float
        Critical flow ratios y = v/s of the phases (their sum is Y).
    lost_time_s : float
        Total lost time per cycle L (s).

    Returns
    -------
    float
        C0 (s); ``inf`` when ``Y >= 1`` (no cycle serves the demand). The optimisers cap it; see
        :func:`webster` for the practical cycle.

    Examples
    --------
    >>> round(webster_cycle([500 / 1600, 300 / 1600], 16.0), 6)
    58.0
    """
    y = _ratios(flow_ratios)
    if not (lost_time_s >= 0 and math.isfinite(lost_time_s)):
        raise InputError("lost_time_s must be a finite number >= 0", field="lost_time_s")
    return float(_core().signals_webster_cycle(float(lost_time_s), float(y.sum())))


def cycle_for_target_vc(flow_ratios: Any, lost_time_s: float, target_x: float) -> float:
    """Cycle at which the critical v/c ratio equals ``target_x``: ``C = L Xc / (Xc - Y)`` (s).

    Returns ``inf`` when ``Y >= target_x``.
    """
    y = _ratios(flow_ratios)
    if not (target_x > 0 and math.isfinite(target_x)):
        raise InputError("target_x must be a finite number > 0", field="target_x")
    return float(_core().signals_cycle_for_target_vc(float(lost_time_s), float(y.sum()), float(target_x)))


@dataclasses.dataclass(frozen=True)
class WebsterResult:
    """Cycle and splits of one intersection (see :func:`webster`).

    Attributes
    ----------
    cycle_s : float
        The practical cycle (bounded, never infinite).
    optimum_cycle_s : float
        The unconstrained cycle of the method (``inf`` when Y >= 1 or Y >= target).
    effective_green_s : numpy.ndarray
        Effective green of each phase (s); sums to ``cycle_s - lost_time_s``.
    flow_ratios : numpy.ndarray
    flow_ratio_sum : float
        Y.
    lost_time_s : float
    critical_xc : float
        ``Y C / (C - L)`` at the chosen cycle.
    status : tuple of str
        Flags from :data:`STATUS_FLAGS`.
    """

    cycle_s: float
    optimum_cycle_s: float
    effective_green_s: np.ndarray
    flow_ratios: np.ndarray
    flow_ratio_sum: float
    lost_time_s: float
    critical_xc: float
    status: tuple[str, ...]

    @property
    def oversaturated(self) -> bool:
        return "oversaturated" in self.status


def webster(
    flow_ratios: Any = None,
    lost_time_s: float | Sequence[float] = 0.0,
    *,
    flows_vph: Any = None,
    saturation_flows_vph: Any = None,
    method: str = "webster",
    target_x: float = 0.9,
    cycle_s: float | None = None,
    cycle_min_s: float = 0.0,
    cycle_max_s: float = 120.0,
    min_green_s: Any = 0.0,
    max_green_s: Any = math.inf,
) -> WebsterResult:
    """Webster cycle and equisaturation splits of one intersection.

    Parameters
    ----------
    flow_ratios : array of float, optional
        Critical flow ratio y of each phase. Or give ``flows_vph`` and ``saturation_flows_vph``
        (critical lane group of each phase), y = v / s.
    lost_time_s : float or array of float
        Total lost time L (split equally among the phases) or one value per phase (s).
    method : {"webster", "target_vc"}
    target_x : float
        Target critical v/c for ``method="target_vc"``.
    cycle_s : float, optional
        Keep this cycle and only split it.
    cycle_min_s, cycle_max_s : float
        Practical cycle bounds (s); the default lower bound 0 leaves Webster's C0 untouched.
    min_green_s, max_green_s : float or array
        Bounds on each phase's effective green (s).

    Returns
    -------
    WebsterResult

    Raises
    ------
    InputError
        Missing or non-positive saturation flows, negative flows, unknown method.

    Examples
    --------
    >>> r = webster(flows_vph=[500, 300], saturation_flows_vph=[1600, 1600], lost_time_s=16)
    >>> r.cycle_s, [round(g, 2) for g in r.effective_green_s]
    (58.0, [26.25, 15.75])
    """
    if flow_ratios is None:
        if flows_vph is None or saturation_flows_vph is None:
            raise InputError("give flow_ratios, or flows_vph and saturation_flows_vph",
                             field="saturation_flows_vph" if flows_vph is not None else "flow_ratios")
        v = np.atleast_1d(np.asarray(flows_vph, dtype=np.float64))
        s = np.broadcast_to(np.asarray(saturation_flows_vph, dtype=np.float64), v.shape)
        if np.any(~np.isfinite(v)) or np.any(v < 0):
            raise InputError("flows_vph must be finite numbers >= 0", field="flows_vph")
        if np.any(~np.isfinite(s)) or np.any(s <= 0):
            raise InputError("saturation_flows_vph must be finite numbers > 0", field="saturation_flows_vph")
        y = v / s
    else:
        y = _ratios(flow_ratios)
    n = len(y)
    if n == 0:
        raise InputError("at least one phase is needed", field="flow_ratios")
    if method not in _METHODS:
        raise InputError(f"method must be one of {sorted(_METHODS)}", field="method")
    lost = np.asarray(lost_time_s, dtype=np.float64)
    lost = np.full(n, float(lost) / n) if lost.ndim == 0 else lost
    if lost.shape != (n,) or np.any(~np.isfinite(lost)) or np.any(lost < 0):
        raise InputError(f"lost_time_s must be >= 0: a total or {n} values", field="lost_time_s")
    gmin = np.broadcast_to(np.asarray(min_green_s, dtype=np.float64), (n,))
    gmax = np.broadcast_to(np.asarray(max_green_s, dtype=np.float64), (n,))
    big = max(cycle_max_s, 1e9)
    # One intersection whose intergreen equals the lost time, so displayed = effective greens.
    arrays = {
        "phase_first": np.array([0, n], dtype=np.int32),
        "group_first": np.array([0, n], dtype=np.int32),
        "serve_first": np.arange(n + 1, dtype=np.int32),
        "serve_phase": np.arange(n, dtype=np.int32),
        "yellow_s": np.ascontiguousarray(lost),
        "all_red_s": np.zeros(n),
        "lost_s": np.ascontiguousarray(lost),
        "min_green_s": np.ascontiguousarray(gmin),
        "max_green_s": np.ascontiguousarray(gmax),
        "cycle_min_s": np.array([max(cycle_min_s, 1e-9)], dtype=np.float64),
        "cycle_max_s": np.array([cycle_max_s if math.isfinite(cycle_max_s) else big], dtype=np.float64),
        "flow_vph": np.ascontiguousarray(y),
        "sat_flow_vph": np.ones(n),
        "arrival_type": np.full(n, 3, dtype=np.int32),
        "k": np.full(n, 0.5), "upstream_i": np.ones(n), "initial_queue_veh": np.zeros(n),
    }
    fixed = np.array([np.nan if cycle_s is None else float(cycle_s)], dtype=np.float64)
    _, cyc, green, status, xc = _core().signals_timings(arrays, _METHODS[method], float(target_x), fixed)
    L = float(lost.sum())
    c0 = (webster_cycle(y, L) if method == "webster" else cycle_for_target_vc(y, L, target_x))
    return WebsterResult(float(cyc[0]), c0 if cycle_s is None else float(cycle_s), green, y,
                         float(y.sum()), L, float(xc[0]), decode_status(int(status[0])))


@dataclasses.dataclass(frozen=True)
class TimingResult:
    """New timings of a whole plan (see :func:`optimise_timings`).

    Attributes
    ----------
    plan : SignalPlan
        The plan with the new greens (offsets kept modulo the new cycles).
    cycle_s : numpy.ndarray
        Cycle of each intersection (s).
    critical_xc : numpy.ndarray
        Critical v/c ratio ``Y C / (C - L)`` of each intersection.
    flow_ratios : numpy.ndarray
        Critical flow ratio of each phase.
    status : numpy.ndarray
        uint32 status words (:func:`decode_status`).
    """

    plan: SignalPlan
    cycle_s: np.ndarray
    critical_xc: np.ndarray
    flow_ratios: np.ndarray
    status: np.ndarray

    def flags(self, i: int | str) -> tuple[str, ...]:
        """Status flags of intersection ``i`` (index or id)."""
        idx = self.plan.ids.index(i) if isinstance(i, str) else int(i)
        return decode_status(int(self.status[idx]))

    @property
    def oversaturated(self) -> np.ndarray:
        """bool per intersection."""
        return (self.status & STATUS_FLAGS["oversaturated"]) != 0

    def table(self) -> pd.DataFrame:
        import pandas as pd

        return pd.DataFrame({
            "intersection": self.plan.ids, "cycle_s": self.cycle_s, "critical_xc": self.critical_xc,
            "flags": [",".join(decode_status(s)) for s in self.status.tolist()],
        })


def optimise_timings(
    plan: SignalPlan,
    *,
    method: str = "webster",
    target_x: float = 0.9,
    cycle_s: float | Sequence[float] | np.ndarray | None = None,
    permitted_left_iterations: int = 30,
    tolerance: float = 1e-3,
) -> TimingResult:
    """Cycle and equisaturation greens for every intersection of ``plan`` (C++ kernel).

    Parameters
    ----------
    plan : SignalPlan
    method : {"webster", "target_vc"}
        Webster's optimum cycle, or the cycle reaching critical v/c ``target_x``.
    target_x : float
    cycle_s : float or array, optional
        Keep these cycles (a common cycle, or one per intersection; NaN entries are optimised) and
        only split them.
    permitted_left_iterations : int
        Lane groups with permitted left turns (``LaneGroup.opposed_by``) have saturation flows that
        depend on the timings (HCM 2000 Appendix C, :func:`smartcore.signals.apply_permitted_left`):
        timings and saturation flows are recomputed in turn, at most this many times (averaging
        successive saturation flows after the fifth round so that the iteration settles), until no
        saturation flow changes by more than ``tolerance`` (relative).
    tolerance : float

    Returns
    -------
    TimingResult
        The plan carries the saturation flows the timings were computed with.
    """
    if method not in _METHODS:
        raise InputError(f"method must be one of {sorted(_METHODS)}", field="method")
    n = len(plan)
    if cycle_s is None:
        fixed = np.empty(0)
    else:
        fixed = np.ascontiguousarray(np.broadcast_to(np.asarray(cycle_s, dtype=np.float64), (n,)))

    def once(p: SignalPlan) -> TimingResult:
        y, cyc, green, status, xc = _core().signals_timings(p.arrays(), _METHODS[method], float(target_x),
                                                            fixed)
        return TimingResult(p.with_timings(green), cyc, xc, y, status)

    res = once(plan)
    if not any(g.opposed_by for it in plan for g in it.lane_groups):
        return res
    from smartcore.signals.hcm import apply_permitted_left

    sat = plan.arrays()["sat_flow_vph"]
    for k in range(int(permitted_left_iterations)):
        new = apply_permitted_left(res.plan).arrays()["sat_flow_vph"]
        if np.all(np.abs(new - sat) <= tolerance * sat):
            break
        sat = new if k < 5 else 0.5 * (sat + new)
        res = once(res.plan.with_saturation_flows(sat))
    return res


def best_common_cycle(
    plan: SignalPlan,
    cycle_range_s: tuple[float, float] = (30.0, 120.0),
    *,
    step_s: float = 1.0,
) -> tuple[float, np.ndarray]:
    """The common cycle minimising the HCM 2000 total delay of ``plan`` (coordinated groups).

    Every candidate cycle ``lo, lo + step, ..., hi`` is split by :func:`optimise_timings` (bounded
    equisaturation) and evaluated with :func:`smartcore.signals.evaluate`; the cycle with the least
    total delay (veh.h/h, flow-weighted over all lane groups) wins. Candidates too short for an
    intersection's minimum greens are skipped.

    Returns
    -------
    (float, numpy.ndarray)
        The best cycle (s), and the total delay (veh.h/h) of every candidate (NaN when skipped).
    """
    from smartcore.signals.hcm import evaluate

    lo, hi = (float(v) for v in cycle_range_s)
    if not (0 < lo <= hi and math.isfinite(hi) and step_s > 0):
        raise InputError("cycle_range_s must be 0 < lo <= hi < inf and step_s > 0", field="cycle_range_s")
    cands = np.arange(lo, hi + 1e-9, step_s)
    totals = np.full(len(cands), np.nan)
    for k, c in enumerate(cands):
        res = optimise_timings(plan, cycle_s=float(c))
        if np.any(res.status & STATUS_FLAGS["min_green_violated"]):
            continue
        totals[k] = evaluate(res.plan).network["total_delay_veh_h_per_h"]
    if np.all(np.isnan(totals)):
        raise InputError("no cycle in the range fits every intersection's minimum greens",
                         field="cycle_range_s")
    return float(cands[int(np.nanargmin(totals))]), totals
