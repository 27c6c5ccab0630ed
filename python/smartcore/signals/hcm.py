"""HCM 2000 signalised-intersection formulas: saturation flow, delay, level of service.

Reference: Transportation Research Board, *Highway Capacity Manual 2000* (HCM 2000), Chapter 16
"Signalized Intersections" (and Chapter 10 for concepts and defaults). The control delay of a
lane group is (Eq. 16-9)

.. math:: d = d_1 \\, PF + d_2 + d_3

* uniform delay (Eq. 16-11): ``d1 = 0.5 C (1 - g/C)^2 / (1 - min(1, X) g/C)``;
* progression factor (Eq. 16-10): ``PF = (1 - P) f_PA / (1 - g/C)``, ``P = min(1, R_p g/C)``,
  with ``R_p`` and ``f_PA`` by arrival type (Exhibit 16-11); ``PF <= 1`` for arrival types 3-6;
* incremental delay (Eq. 16-12): ``d2 = 900 T [(X - 1) + sqrt((X - 1)^2 + 8 k I X / (c T))]``;
* initial-queue delay (Appendix F): with ``Qb`` vehicles queued at the start of ``T``,
  ``t = min(T, Qb / (c (1 - min(1, X))))``, ``u = 0`` if ``t < T`` else
  ``1 - c T (1 - min(1, X)) / Qb``, ``d3 = 1800 Qb (1 + u) t / (c T)``, and the uniform term
  becomes ``d_s t/T + PF d1 (T - t)/T`` with ``d_s = 0.5 C (1 - g/C)`` (``d1`` at ``X = 1``);

with capacity ``c = s g/C`` (veh/h), degree of saturation ``X = v/c``, ``C`` the cycle (s), ``g``
the effective green (s), ``T`` the analysis period (h), ``k`` the incremental delay factor (0.5 for
pretimed control) and ``I`` the upstream filtering factor (1.0 for isolated intersections).

Permitted left turns (Appendix C): :func:`permitted_left_factor` gives the left-turn factor f_LT
of lane groups whose left turns filter through oncoming traffic, and :func:`apply_permitted_left`
recomputes such groups' saturation flows (``LaneGroup.opposed_by``) at a plan's timings.

Level of service by control delay (Exhibit 16-2): A <= 10 s, B <= 20, C <= 35, D <= 55, E <= 80,
F > 80 s/veh. Approach and intersection delays are flow-weighted means of lane-group delays.

The vectorised evaluation runs in the C++ kernel (``smartcore._core``); the scalar functions here
call the same kernel code.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

import numpy as np

from smartcore.errors import InputError

if TYPE_CHECKING:  # pragma: no cover
    import pandas as pd

    from smartcore.signals.plan import SignalPlan

__all__ = [
    "LOS_THRESHOLDS_S", "LOS_LETTERS", "level_of_service", "uniform_delay", "incremental_delay",
    "progression_factor", "control_delay", "saturation_flow", "lane_utilization_factor",
    "pedestrian_min_green", "evaluate", "Evaluation", "BASE_SATURATION_FLOW_PCPHGPL",
    "permitted_left_factor", "apply_permitted_left", "PLATOON_RATIO", "PERMITTED_LEFT_DEFAULTS",
]

#: HCM 2000 Exhibit 16-2: upper control-delay bounds (s/veh) of LOS A..E; above the last is F.
LOS_THRESHOLDS_S = (10.0, 20.0, 35.0, 55.0, 80.0)
LOS_LETTERS = ("A", "B", "C", "D", "E", "F")
#: HCM 2000 base saturation flow rate (pc/h/ln of green), Chapter 16.
BASE_SATURATION_FLOW_PCPHGPL = 1900.0


def _core() -> Any:
    from smartcore import _core as core

    return core


def level_of_service(delay_s: Any) -> Any:
    """LOS letter(s) A-F from control delay in s/veh (HCM 2000 Exhibit 16-2).

    A boundary value belongs to the better level (10.0 s is A). NaN gives ``None``.
    Scalars give a str, arrays an object array of str.
    """
    arr = np.asarray(delay_s, dtype=np.float64)
    codes = _core().signals_level_of_service(np.ascontiguousarray(arr.ravel()))
    letters = np.array([LOS_LETTERS[c] if c >= 0 else None for c in codes.tolist()], dtype=object)
    if arr.ndim == 0:
        return letters[0]
    return letters.reshape(arr.shape)


def uniform_delay(cycle_s: Any, eff_green_s: Any, x: Any) -> Any:
    """Uniform delay d1 (s/veh), HCM 2000 Eq. 16-11: ``0.5 C (1 - g/C)^2 / (1 - min(1, X) g/C)``.

    Parameters
    ----------
    cycle_s : float or array
        Cycle length C (s).
    eff_green_s : float or array
        Effective green g (s), 0 < g <= C.
    x : float or array
        Degree of saturation X = v/c (values above 1 are used as 1).
    """
    C = np.asarray(cycle_s, dtype=np.float64)
    gc = np.asarray(eff_green_s, dtype=np.float64) / C
    xm = np.minimum(1.0, np.asarray(x, dtype=np.float64))
    out = 0.5 * C * (1.0 - gc) ** 2 / (1.0 - xm * gc)
    return float(out) if out.ndim == 0 else out


def incremental_delay(x: Any, capacity_vph: Any, *, analysis_period_h: float = 0.25, k: Any = 0.5,
                      upstream_i: Any = 1.0) -> Any:
    """Incremental delay d2 (s/veh), HCM 2000 Eq. 16-12.

    ``d2 = 900 T [(X - 1) + sqrt((X - 1)^2 + 8 k I X / (c T))]`` with T in hours, c in veh/h.
    """
    X = np.asarray(x, dtype=np.float64)
    c = np.asarray(capacity_vph, dtype=np.float64)
    T = float(analysis_period_h)
    kI = np.asarray(k, dtype=np.float64) * np.asarray(upstream_i, dtype=np.float64)
    out = 900.0 * T * ((X - 1) + np.sqrt((X - 1) ** 2 + 8.0 * kI * X / (c * T)))
    return float(out) if out.ndim == 0 else out


def progression_factor(arrival_type: int, g_over_c: float) -> float:
    """Progression adjustment factor PF (HCM 2000 Eq. 16-10 with Exhibit 16-11's R_p and f_PA).

    Arrival types: 1 very poor ... 3 random ... 6 exceptional progression.
    """
    return float(_core().signals_progression_factor(int(arrival_type), float(g_over_c)))


def control_delay(
    cycle_s: Any, eff_green_s: Any, flow_vph: Any, saturation_flow_vph: Any, *,
    arrival_type: Any = 3, k: Any = 0.5, upstream_i: Any = 1.0, initial_queue_veh: Any = 0.0,
    analysis_period_h: float = 0.25,
) -> dict[str, Any]:
    """HCM 2000 control delay of lane groups (Eq. 16-9 to 16-12, Appendix F), vectorised.

    Arguments broadcast against each other. Units: s, veh/h, h, veh.

    Returns
    -------
    dict
        ``capacity_vph``, ``x``, ``pf``, ``uniform_s`` (PF d1, or the Appendix F blend when
        there is an initial queue), ``incremental_s`` (d2), ``initial_queue_s`` (d3), ``delay_s``
        (d) and ``los`` (letters). Scalars in, scalars out.

    Raises
    ------
    InputError
        Negative flows, saturation flow <= 0, effective green outside (0, C], arrival type
        outside 1..6, analysis period <= 0.
    """
    arrays = np.broadcast_arrays(*(np.asarray(a, dtype=np.float64) for a in (
        cycle_s, eff_green_s, flow_vph, saturation_flow_vph, arrival_type, k, upstream_i,
        initial_queue_veh)))
    shape = arrays[0].shape
    flat = [np.ascontiguousarray(a.ravel()) for a in arrays]
    at = flat[4]
    if np.any(at != np.round(at)):
        raise InputError("arrival_type must be a whole number 1..6", field="arrival_type")
    res = _core().signals_lane_group_delay(flat[0], flat[1], flat[2], flat[3], at.astype(np.int32),
                                           flat[5], flat[6], flat[7], float(analysis_period_h))
    out: dict[str, Any] = {}
    for key, val in res.items():
        if key == "los":
            val = np.array([LOS_LETTERS[c] if c >= 0 else None for c in val.tolist()], dtype=object)
        val = val.reshape(shape)
        out[key] = val.item() if val.ndim == 0 else val
    return out


# ------------------------------------------------------------------------------ saturation flow
#: HCM 2000 Exhibit 10-23 default lane utilisation factors for through or shared lane groups.
_F_LU = {1: 1.000, 2: 0.952, 3: 0.908}


def lane_utilization_factor(lanes: int, movement: str = "through") -> float:
    """Default lane utilisation adjustment f_LU (HCM 2000 Exhibit 10-23).

    Through or shared lane groups: 1 lane 1.000, 2 lanes 0.952, 3 or more 0.908. Exclusive left-turn
    lanes: 1 lane 1.000, 2 lanes 0.971; exclusive right-turn lanes: 1 lane 1.000, 2 lanes 0.885.
    """
    n = int(lanes)
    if n < 1:
        raise InputError("lanes must be >= 1", field="lanes")
    if movement == "left":
        return 1.000 if n == 1 else 0.971
    if movement == "right":
        return 1.000 if n == 1 else 0.885
    return _F_LU.get(n, 0.908)


def saturation_flow(
    lanes: int = 1,
    *,
    base_pcphgpl: float = BASE_SATURATION_FLOW_PCPHGPL,
    lane_width_m: float = 3.6,
    heavy_vehicles_pct: float = 2.0,
    heavy_vehicle_equivalent: float = 2.0,
    grade_pct: float = 0.0,
    parking_maneuvers_ph: float | None = None,
    buses_stopping_ph: float = 0.0,
    cbd: bool = False,
    lane_utilization: float | None = None,
    movement: str = "through",
    left_turn_factor: float = 1.0,
    right_turn_factor: float = 1.0,
    ped_bike_left_factor: float = 1.0,
    ped_bike_right_factor: float = 1.0,
) -> float:
    """Saturation flow rate of a lane group in veh/h of green (HCM 2000 Eq. 16-4).

    ``s = s0 N fw fHV fg fp fbb fa fLU fLT fRT fLpb fRpb`` with

    * ``fw = 1 + (W - 3.6) / 9`` (lane width W in m, 2.4 <= W);
    * ``fHV = 100 / (100 + %HV (E_T - 1))``, E_T = 2.0 pc/HV;
    * ``fg = 1 - %G / 200`` (grade in %, -6..+10);
    * ``fp = (N - 0.1 - 18 Nm / 3600) / N`` with Nm parking manoeuvres per hour (1.0 without
      parking; at least 0.050);
    * ``fbb = (N - 14.4 NB / 3600) / N`` with NB buses stopping per hour (at least 0.050);
    * ``fa = 0.900`` in a central business district, else 1.000;
    * ``fLU`` from :func:`lane_utilization_factor` unless given;
    * turn and pedestrian/bicycle factors as given (1.0 by default): e.g. ``fRT = 0.85`` for an
      exclusive right-turn lane, ``1 - 0.15 P_RT`` for a shared lane; ``fLT = 0.95`` for a protected
      exclusive left-turn lane, ``1 / (1 + 0.05 P_LT)`` for a protected shared lane (Exhibit 16-7).

    The defaults (3.6 m lanes, 2 % heavy vehicles, level, no parking, no buses, not CBD) give
    1900 x 0.980 = 1862.7 veh/h/ln for one through lane.
    """
    n = int(lanes)
    if n < 1:
        raise InputError("lanes must be >= 1", field="lanes")
    if not (base_pcphgpl > 0 and math.isfinite(base_pcphgpl)):
        raise InputError("base_pcphgpl must be > 0", field="base_pcphgpl")
    if lane_width_m < 2.4:
        raise InputError("lane_width_m below 2.4 m is outside HCM 2000 Eq. 16-4's range",
                         field="lane_width_m")
    if heavy_vehicles_pct < 0 or grade_pct < -6 or grade_pct > 10:
        raise InputError("heavy_vehicles_pct must be >= 0 and grade_pct within -6..10",
                         field="heavy_vehicles_pct" if heavy_vehicles_pct < 0 else "grade_pct")
    fw = 1.0 + (lane_width_m - 3.6) / 9.0
    fhv = 100.0 / (100.0 + heavy_vehicles_pct * (heavy_vehicle_equivalent - 1.0))
    fg = 1.0 - grade_pct / 200.0
    fp = 1.0
    if parking_maneuvers_ph is not None:
        fp = max(0.050, (n - 0.1 - 18.0 * parking_maneuvers_ph / 3600.0) / n)
    fbb = max(0.050, (n - 14.4 * buses_stopping_ph / 3600.0) / n)
    fa = 0.900 if cbd else 1.000
    flu = lane_utilization_factor(n, movement) if lane_utilization is None else float(lane_utilization)
    return float(base_pcphgpl * n * fw * fhv * fg * fp * fbb * fa * flu * left_turn_factor *
                 right_turn_factor * ped_bike_left_factor * ped_bike_right_factor)


def pedestrian_min_green(crossing_length_m: float, *, walking_speed_mps: float = 1.2,
                         peds_per_cycle: float = 0.0, crosswalk_width_m: float = 3.0) -> float:
    """Minimum green for pedestrians crossing (HCM 2000 Chapter 16, pedestrian minimum green), s.

    ``Gp = 3.2 + L / Sp + 0.27 Nped`` for crosswalks up to 3.0 m wide, and
    ``Gp = 3.2 + L / Sp + 0.81 Nped / WE`` for wider ones, with L the crossing length (m), Sp the
    walking speed (1.2 m/s, HCM 2000 default) and Nped pedestrians crossing per cycle in one
    direction.
    """
    if not (crossing_length_m >= 0 and walking_speed_mps > 0 and peds_per_cycle >= 0
            and crosswalk_width_m > 0):
        raise InputError("crossing length, walking speed, pedestrians and width must be positive",
                         field="crossing_length_m")
    platoon = 0.27 * peds_per_cycle if crosswalk_width_m <= 3.0 else 0.81 * peds_per_cycle / crosswalk_width_m
    return 3.2 + crossing_length_m / walking_speed_mps + platoon


# ------------------------------------------------------------------------------ permitted lefts
#: HCM 2000 Exhibit 16-11 platoon ratio R_p by arrival type 1..6.
PLATOON_RATIO = (0.333, 0.667, 1.000, 1.333, 1.667, 2.000)


def permitted_left_factor(
    cycle_s: Any, green_s: Any, eff_green_s: Any, *, left_flow_vph: Any, left_share: Any,
    opp_flow_vph: Any, opp_eff_green_s: Any = None, lost_time_s: Any = 4.0, lanes: Any = 1,
    exclusive: Any = False, opp_lanes: Any = 1, opp_lane_util: Any = 1.0, opp_left_share: Any = 0.0,
    opp_platoon_ratio: Any = 1.0, critical_gap_s: Any = 4.5, follow_up_s: Any = 2.5,
    through_sat_flow: Any = BASE_SATURATION_FLOW_PCPHGPL, sneakers: Any = 2.0,
) -> dict[str, Any]:
    """Left-turn adjustment factor f_LT for permitted left turns (HCM 2000 Chapter 16, Appendix C).

    A left-turner filtering through oncoming traffic blocks a shared lane while the opposing queue
    discharges (``g_q``) and then crosses in gaps (``g_u``, through-car equivalent ``E_L1``); with
    a single-lane opposing approach, opposing left-turners open gaps early (``g_diff``, ``E_L2``).
    ``f_m = g_f/g + g_diff/g / (1 + P_L (E_L2 - 1)) + g_u/g / (1 + P_L (E_L1 - 1))`` within
    ``[n_s (1 + P_L) / g, 1]`` (``n_s`` sneakers, left-turners clearing after each green: 2 in
    HCM 2000) and ``f_LT = (f_m + 0.91 (N - 1)) / N`` for a shared group of N lanes
    (``f_m`` for an exclusive lane). The kernel header ``smartcore/signals.hpp`` lists every
    equation; ``E_L1 = s_th / s_lt`` uses the gap-acceptance left-turn saturation flow
    ``s_lt = v_o e^(-v_o t_c/3600) / (1 - e^(-v_o t_f/3600))`` (t_c = 4.5 s, t_f = 2.5 s) in
    place of the table of HCM 2000 Exhibit C16-3.

    Parameters
    ----------
    cycle_s, green_s, eff_green_s : float or array
        Cycle C, displayed green G and effective green g of the lane group (s).
    left_flow_vph, left_share : float or array
        Left-turn flow v_LT (veh/h) and its proportion P_LT of the lane group flow.
    opp_flow_vph : float or array
        Flow v_o of the opposing approach (veh/h, all its movements).
    opp_eff_green_s : float or array, optional
        Effective green g_o of the opposing lane groups (s); default ``eff_green_s``.
    lost_time_s : float or array
        Lost time t_L of the lane group (s).
    lanes, exclusive : int / bool or arrays
        Lanes N of the group; whether it is an exclusive left-turn lane group.
    opp_lanes, opp_lane_util, opp_left_share, opp_platoon_ratio : arrays
        N_o, f_LUo, P_LTo and R_po of the opposing approach.
    critical_gap_s, follow_up_s, through_sat_flow : float or array
        Gap-acceptance parameters for E_L1 (s, s, pc/h/ln).
    sneakers : float or array
        Left turns that clear after each green (HCM 2000: 2 per cycle).

    Returns
    -------
    dict
        ``f_lt f_m f_min g_f g_q g_u g_diff e_l1 e_l2 p_l left_sat_flow_vph``; scalars in,
        scalars out.
    """
    if opp_eff_green_s is None:
        opp_eff_green_s = eff_green_s
    names = ("cycle_s", "green_s", "eff_green_s", "opp_eff_green_s", "lost_time_s", "left_flow_vph",
             "left_share", "opp_flow_vph", "opp_lane_util", "opp_left_share", "opp_platoon_ratio",
             "critical_gap_s", "follow_up_s", "through_sat_flow", "sneakers", "lanes", "opp_lanes",
             "exclusive")
    values = (cycle_s, green_s, eff_green_s, opp_eff_green_s, lost_time_s, left_flow_vph, left_share,
              opp_flow_vph, opp_lane_util, opp_left_share, opp_platoon_ratio, critical_gap_s, follow_up_s,
              through_sat_flow, sneakers, lanes, opp_lanes, exclusive)
    arrays = np.broadcast_arrays(*(np.asarray(v, dtype=np.float64) for v in values))
    shape = arrays[0].shape
    inputs: dict[str, np.ndarray] = {}
    for name, arr in zip(names, arrays):
        flat = np.ascontiguousarray(arr.ravel())
        if name in ("lanes", "opp_lanes", "exclusive"):
            if np.any(flat != np.round(flat)):
                raise InputError(f"{name} must be whole numbers", field=name)
            flat = flat.astype(np.int32)
        inputs[name] = flat
    res = _core().signals_permitted_left_factor(inputs)
    out: dict[str, Any] = {}
    for key, val in res.items():
        val = val.reshape(shape)
        out[key] = val.item() if val.ndim == 0 else val
    return out


#: Gap acceptance of permitted left turns used by :func:`apply_permitted_left` unless the plan's
#: ``metadata["permitted_left"]`` or the call says otherwise: HCM 2000 Appendix C's critical gap
#: 4.5 s, follow-up 2.5 s and two sneakers per cycle.
PERMITTED_LEFT_DEFAULTS = {"critical_gap_s": 4.5, "follow_up_s": 2.5, "sneakers": 2.0}


def apply_permitted_left(plan: SignalPlan, *, critical_gap_s: float | None = None,
                         follow_up_s: float | None = None, sneakers: float | None = None) -> SignalPlan:
    """Recompute the saturation flow of every lane group with permitted left turns at the plan's timings.

    For each lane group with ``opposed_by`` set: ``s = unopposed_saturation_flow_vph x f_LT`` with
    :func:`permitted_left_factor` evaluated at the group's effective green g, displayed green G
    (g minus the clearance used after its last phase) and lost time t_L (of its last phase); the
    opposing approach is the union of the ``opposed_by`` groups (flow v_o, lanes N_o, left share
    P_LTo, lane utilisation f_LUo by HCM 2000 Exhibit 10-23, platoon ratio R_po of the busiest
    one's arrival type, effective green g_o the largest of theirs). An exclusive left-turn group
    is one carrying left turns only. Other groups are unchanged.

    The gap-acceptance parameters (critical gap, follow-up time, sneakers per cycle) come from the
    arguments, else from ``plan.metadata["permitted_left"]`` (e.g. SUMO's, set by
    :func:`smartcore.signals.sumo.from_sumo`), else :data:`PERMITTED_LEFT_DEFAULTS`.

    Returns
    -------
    SignalPlan
        A copy (or ``plan`` itself when no group has ``opposed_by``).
    """
    import dataclasses as dc

    if not any(g.opposed_by for it in plan for g in it.lane_groups):
        return plan
    params = {**PERMITTED_LEFT_DEFAULTS, **dict(plan.metadata.get("permitted_left", {}))}
    given = {"critical_gap_s": critical_gap_s, "follow_up_s": follow_up_s, "sneakers": sneakers}
    for key, val in given.items():
        if val is not None:
            params[key] = float(val)
    eff = evaluate_groups_eff_green(plan)
    rows: list[tuple[int, int, dict[str, float]]] = []
    gi = 0
    for i, it in enumerate(plan.intersections):
        index = {g.name: gi + k for k, g in enumerate(it.lane_groups)}
        n = len(it.phases)
        for g in it.lane_groups:
            if g.opposed_by:
                served = set(it.phases_serving(g.name))
                last = [j for j in served if (j + 1) % n not in served]
                clear_used = [float(it.phases[j].lost_time_s or 0.0) - it.phases[j].yellow_s
                              - it.phases[j].all_red_s for j in last]
                green = float(eff[index[g.name]]) + sum(clear_used)
                lost = float(it.phases[max(last)].lost_time_s or 0.0) if last else 0.0
                opp = [it.lane_group(o) for o in g.opposed_by]
                v_o = float(sum(float(o.flow_vph or 0.0) for o in opp))
                n_o = int(sum(o.lanes for o in opp))
                lt_o = sum(m.flow_vph for o in opp for m in o.movements if m.turn == "left")
                busiest = max(opp, key=lambda o: float(o.flow_vph))  # type: ignore[arg-type]
                v = float(g.flow_vph)  # type: ignore[arg-type]
                v_lt = float(sum(m.flow_vph for m in g.movements if m.turn == "left"))
                rows.append((i, index[g.name], {
                    "cycle_s": it.cycle_s, "green_s": max(0.0, green),
                    "eff_green_s": float(eff[index[g.name]]),
                    "opp_eff_green_s": float(max(eff[index[o.name]] for o in opp)),
                    "lost_time_s": lost, "left_flow_vph": v_lt, "left_share": v_lt / v if v > 0 else 0.0,
                    "opp_flow_vph": v_o, "opp_lanes": n_o, "opp_lane_util": lane_utilization_factor(n_o),
                    "opp_left_share": lt_o / v_o if v_o > 0 else 0.0,
                    "opp_platoon_ratio": PLATOON_RATIO[busiest.arrival_type - 1], "lanes": g.lanes,
                    "exclusive": float(all(m.turn == "left" for m in g.movements) and bool(g.movements)),
                }))
        gi += len(it.lane_groups)
    cols = {k: np.array([r[2][k] for r in rows]) for k in rows[0][2]}
    f = np.atleast_1d(permitted_left_factor(
        cols["cycle_s"], cols["green_s"], cols["eff_green_s"], left_flow_vph=cols["left_flow_vph"],
        left_share=cols["left_share"], opp_flow_vph=cols["opp_flow_vph"],
        opp_eff_green_s=cols["opp_eff_green_s"], lost_time_s=cols["lost_time_s"], lanes=cols["lanes"],
        exclusive=cols["exclusive"], opp_lanes=cols["opp_lanes"], opp_lane_util=cols["opp_lane_util"],
        opp_left_share=cols["opp_left_share"], opp_platoon_ratio=cols["opp_platoon_ratio"],
        critical_gap_s=params["critical_gap_s"], follow_up_s=params["follow_up_s"],
        sneakers=params["sneakers"])["f_lt"])
    factor = {gidx: float(fv) for (_, gidx, _), fv in zip(rows, f)}
    new_its = []
    gi = 0
    for it in plan.intersections:
        approaches = []
        for ap in it.approaches:
            groups = []
            for g in ap.lane_groups:
                if gi in factor:
                    g = dc.replace(g, saturation_flow_vph=float(g.unopposed_saturation_flow_vph) * factor[gi])  # type: ignore[arg-type]
                groups.append(g)
                gi += 1
            approaches.append(dc.replace(ap, lane_groups=tuple(groups)))
        new_its.append(dc.replace(it, approaches=tuple(approaches)))
    return dc.replace(plan, intersections=tuple(new_its))


def evaluate_groups_eff_green(plan: SignalPlan) -> np.ndarray:
    """Effective green of every lane group (s, plan order) at the plan's displayed greens."""
    a = plan.arrays()
    res = _core().signals_evaluate(a, a["green_s"], float(plan.analysis_period_h))
    return np.asarray(res["groups"]["eff_green_s"])


# ------------------------------------------------------------------------------ plan evaluation
@dataclasses.dataclass(frozen=True)
class Evaluation:
    """HCM 2000 evaluation of a :class:`~smartcore.signals.SignalPlan`'s timings.

    Attributes
    ----------
    plan : SignalPlan
    groups : dict of numpy arrays
        Per lane group (plan order): ``eff_green_s``, ``capacity_vph``, ``x``, ``pf``,
        ``uniform_s``, ``incremental_s``, ``initial_queue_s``, ``delay_s``, ``los`` (int codes
        0..5 = A..F).
    intersections : dict of numpy arrays
        Per intersection: ``cycle_s``, ``flow_vph``, ``delay_s`` (flow-weighted, NaN without
        flow), ``critical_xc`` (Y C / (C - L)), ``los`` (codes, -1 without flow).
    """

    plan: SignalPlan
    groups: Mapping[str, np.ndarray]
    intersections: Mapping[str, np.ndarray]

    @property
    def network(self) -> dict[str, Any]:
        """Network summary: total delay (veh.h/h), mean delay per vehicle (s), LOS counts, worst X."""
        flow = np.asarray(self.intersections["flow_vph"])
        d = np.asarray(self.intersections["delay_s"])
        ok = flow > 0
        total = float(np.sum(flow[ok] * d[ok]) / 3600.0)
        mean = float(np.sum(flow[ok] * d[ok]) / np.sum(flow[ok])) if ok.any() else math.nan
        los = np.asarray(self.intersections["los"])
        counts = {L: int(np.count_nonzero(los == i)) for i, L in enumerate(LOS_LETTERS)}
        x = np.asarray(self.groups["x"])
        return {
            "intersections": len(flow),
            "lane_groups": len(x),
            "flow_vph": float(flow.sum()),
            "total_delay_veh_h_per_h": total,
            "mean_delay_s": mean,
            "los": level_of_service(mean) if ok.any() else None,
            "los_counts": counts,
            "max_x": float(x.max()) if len(x) else math.nan,
            "oversaturated_lane_groups": int(np.count_nonzero(x > 1.0)),
        }

    def lane_group_table(self) -> pd.DataFrame:
        """Plan lane-group table joined with the delay terms and LOS letters."""
        df = self.plan.lane_group_table()
        for key, val in self.groups.items():
            df[key] = [LOS_LETTERS[c] for c in val] if key == "los" else val
        return df

    def intersection_table(self) -> pd.DataFrame:
        """One row per intersection: id, cycle, offset, flow, delay, Xc, LOS."""
        import pandas as pd

        df = pd.DataFrame({"intersection": self.plan.ids,
                           "offset_s": self.plan.arrays()["offset_s"]})
        for key, val in self.intersections.items():
            df[key] = [LOS_LETTERS[c] if c >= 0 else None for c in val] if key == "los" else val
        return df


def evaluate(plan: SignalPlan, green_s: Any = None) -> Evaluation:
    """Evaluate a plan's timings (or ``green_s``, displayed greens in plan order) with HCM 2000.

    Runs in the C++ kernel over all intersections at once (GIL released).

    Raises
    ------
    InputError
        When a lane group gets no effective green, or a green is negative.
    """
    a = plan.arrays()
    greens = a["green_s"] if green_s is None else np.ascontiguousarray(green_s, dtype=np.float64)
    res = _core().signals_evaluate(a, greens, float(plan.analysis_period_h))
    if green_s is not None:
        plan = plan.with_timings(greens)
    return Evaluation(plan, _frozen(res["groups"]), _frozen(res["intersections"]))


def _frozen(d: dict[str, np.ndarray]) -> Mapping[str, np.ndarray]:
    from types import MappingProxyType

    for v in d.values():
        v.flags.writeable = False
    return MappingProxyType(dict(d))
