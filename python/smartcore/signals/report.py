"""Reports of signal plans: per lane group and per intersection tables, text tables, time-space diagrams.

Per lane group (:func:`lane_group_report`)
    timings (phases, cycle, offset, effective green, g/C), flow v, saturation flow s, capacity c,
    v/c, HCM 2000 control delay and LOS (:func:`smartcore.signals.evaluate`), and queues:

    * mean back of queue per lane, HCM 2000 Appendix G (Chapter 16): ``Q = Q1 + Q2`` with
      ``Q1 = PF2 (v_L C / 3600) (1 - g/C) / (1 - min(1, X) g/C)``,
      ``PF2 = (1 - R_p g/C)(1 - y_L) / ((1 - g/C)(1 - R_p y_L))`` (y_L = v_L / s_L, R_p the
      platoon ratio of the arrival type), and
      ``Q2 = 0.25 c_L T [(X - 1) + sqrt((X - 1)^2 + 8 k_B X / (c_L T) + 16 k_B Q_b / (c_L T)^2)]``,
      ``k_B = 0.12 I (s_L g / 3600)^0.7`` (pretimed), per lane: ``v_L = v / N``,
      ``s_L = s / N``, ``c_L = c / N``;
    * a 95th-percentile back of queue: the 95th percentile of a Poisson distribution with mean Q
      (vehicles arriving at random; an assumption of this report, not HCM's percentile factors),
      and the storage length it needs at ``queue_spacing_m`` (7.5 m per car) per vehicle.

    With :class:`~smartcore.signals.transyt.Feeds`, the TRANSYT-style evaluation adds the delay
    with platoons, stops per vehicle and the share of arrivals on green.
Per intersection (:func:`intersection_report`)
    cycle, offset, the phase sequence ``name G/Y/R``, flow, critical v/c ``Xc``, flow-weighted
    HCM delay and LOS, the worst lane group's v/c and the longest 95th-percentile queue.
Time-space diagram (:func:`time_space_diagram`)
    signals along an arterial at their distances, each with the green (green bar) and red (red bar)
    intervals of its outbound and inbound through lane groups over a few cycles, and the outbound
    and inbound progression bands (the widest windows of trajectories at the progression speed that
    meet green at every signal) drawn as shaded strips. Needs matplotlib.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from smartcore.errors import InputError
from smartcore.signals.hcm import LOS_LETTERS, PLATOON_RATIO, evaluate

if TYPE_CHECKING:  # pragma: no cover
    import pandas as pd

    from smartcore.signals.plan import Intersection, SignalPlan
    from smartcore.signals.transyt import Feeds

__all__ = [
    "back_of_queue",
    "poisson_percentile",
    "lane_group_report",
    "intersection_report",
    "format_report",
    "time_space_diagram",
    "green_windows",
    "band",
]


def back_of_queue(
    cycle_s: Any,
    eff_green_s: Any,
    flow_vph: Any,
    saturation_flow_vph: Any,
    lanes: Any = 1,
    *,
    arrival_type: Any = 3,
    upstream_i: Any = 1.0,
    initial_queue_veh: Any = 0.0,
    analysis_period_h: float = 0.25,
) -> dict[str, Any]:
    """Mean back of queue per lane, HCM 2000 Appendix G (module docs); vectorised.

    Returns
    -------
    dict
        ``q1``, ``q2``, ``q`` (veh per lane), ``x``; scalars in, scalars out.
    """
    arrs = np.broadcast_arrays(
        *(
            np.asarray(a, dtype=np.float64)
            for a in (
                cycle_s,
                eff_green_s,
                flow_vph,
                saturation_flow_vph,
                lanes,
                arrival_type,
                upstream_i,
                initial_queue_veh,
            )
        )
    )
    C, g, v, s, n, at, upstream, qb = arrs
    if np.any(n < 1) or np.any(s <= 0) or np.any(C <= 0) or np.any(g <= 0):
        raise InputError("lanes >= 1, saturation flow, cycle and green > 0 are required", field="lanes")
    T = float(analysis_period_h)
    gc = np.minimum(1.0, g / C)
    vl, sl = v / n, s / n
    cl = sl * gc
    X = vl / cl
    yl = vl / sl
    rp = np.asarray(PLATOON_RATIO)[np.clip(at.astype(int), 1, 6) - 1]
    with np.errstate(divide="ignore", invalid="ignore"):
        pf2 = np.where(gc < 1.0, (1 - rp * gc) * (1 - yl) / ((1 - gc) * (1 - rp * yl)), 1.0)
    pf2 = np.where(np.isfinite(pf2), np.maximum(pf2, 0.0), 1.0)
    q1 = pf2 * (vl * C / 3600.0) * (1 - gc) / (1 - np.minimum(1.0, X) * gc)
    kb = 0.12 * upstream * (sl * g / 3600.0) ** 0.7
    q2 = (
        0.25
        * cl
        * T
        * ((X - 1) + np.sqrt((X - 1) ** 2 + 8 * kb * X / (cl * T) + 16 * kb * (qb / n) / (cl * T) ** 2))
    )
    out = {"q1": q1, "q2": q2, "q": q1 + q2, "x": X}
    return {k: (float(val) if np.ndim(val) == 0 else val) for k, val in out.items()}


def poisson_percentile(mean: Any, p: float = 0.95) -> Any:
    """Smallest k with P(N <= k) >= p for N ~ Poisson(mean) (vectorised; 0 for mean 0)."""
    m = np.atleast_1d(np.asarray(mean, dtype=np.float64))
    if np.any(~np.isfinite(m)) or np.any(m < 0) or not 0 < p < 1:
        raise InputError("mean must be finite >= 0 and 0 < p < 1", field="mean")
    out = np.zeros(m.shape)
    for i, mu in enumerate(m.ravel()):
        if mu <= 0:
            continue
        k, term = 0, math.exp(-mu) if mu < 700 else 0.0
        if term == 0.0:  # large means: normal approximation with continuity correction
            from statistics import NormalDist

            out.flat[i] = math.ceil(mu + NormalDist().inv_cdf(p) * math.sqrt(mu) - 0.5)
            continue
        cdf = term
        while cdf < p:
            k += 1
            term *= mu / k
            cdf += term
        out.flat[i] = k
    return float(out[0]) if np.ndim(mean) == 0 else out.reshape(np.shape(mean))


def lane_group_report(
    plan: SignalPlan, feeds: Feeds | None = None, *, queue_spacing_m: float = 7.5, **transyt_options: Any
) -> pd.DataFrame:
    """One row per lane group (module docs). ``transyt_options`` go to ``evaluate_network``."""
    ev = evaluate(plan)
    df = ev.lane_group_table()
    a = plan.arrays()
    cyc = np.repeat(np.array([it.cycle_s for it in plan]), np.diff(a["group_first"]))
    off = np.repeat(a["offset_s"], np.diff(a["group_first"]))
    g = np.asarray(ev.groups["eff_green_s"])
    q = back_of_queue(
        cyc,
        g,
        a["flow_vph"],
        a["sat_flow_vph"],
        a["lanes"],
        arrival_type=a["arrival_type"],
        upstream_i=a["upstream_i"],
        initial_queue_veh=a["initial_queue_veh"],
        analysis_period_h=plan.analysis_period_h,
    )
    q95 = poisson_percentile(np.atleast_1d(q["q"]))
    out = df[["intersection", "approach", "lane_group", "turns", "lanes", "phases"]].copy()
    out["cycle_s"] = cyc
    out["offset_s"] = off
    out["eff_green_s"] = g
    out["g_over_c"] = g / cyc
    out["flow_vph"] = a["flow_vph"]
    out["saturation_flow_vph"] = a["sat_flow_vph"]
    out["capacity_vph"] = np.asarray(ev.groups["capacity_vph"])
    out["v_c"] = np.asarray(ev.groups["x"])
    out["delay_s"] = np.asarray(ev.groups["delay_s"])
    out["los"] = [LOS_LETTERS[c] for c in np.asarray(ev.groups["los"])]
    out["queue_mean_veh_per_lane"] = np.atleast_1d(q["q"])
    out["queue_95_veh_per_lane"] = q95
    out["queue_95_m"] = q95 * float(queue_spacing_m)
    if feeds is not None:
        from smartcore.signals.transyt import evaluate_network

        tv = evaluate_network(plan, feeds, **transyt_options)
        out["transyt_delay_s"] = tv.groups["delay_s"]
        out["stops_per_veh"] = tv.groups["stop_rate"]
        out["arrivals_on_green"] = tv.groups["arrivals_on_green"]
    return out


def _phase_string(it: Intersection) -> str:
    return "; ".join(f"{p.name} {float(p.green_s or 0.0):.0f}/{p.yellow_s:g}/{p.all_red_s:g}"
                     for p in it.phases)


def intersection_report(
    plan: SignalPlan, feeds: Feeds | None = None, *, queue_spacing_m: float = 7.5, **transyt_options: Any
) -> pd.DataFrame:
    """One row per intersection (module docs)."""
    import pandas as pd

    lg = lane_group_report(plan, feeds, queue_spacing_m=queue_spacing_m, **transyt_options)
    ev = evaluate(plan)
    rows = []
    for i, it in enumerate(plan):
        sub = lg[lg["intersection"] == it.id]
        worst = sub.loc[sub["v_c"].idxmax()] if len(sub) else None
        d = float(ev.intersections["delay_s"][i])
        code = int(ev.intersections["los"][i])
        row = {
            "intersection": it.id,
            "cycle_s": it.cycle_s,
            "offset_s": it.offset_s,
            "phases": _phase_string(it),
            "flow_vph": float(sub["flow_vph"].sum()),
            "critical_v_c": float(ev.intersections["critical_xc"][i]),
            "delay_s": d,
            "los": LOS_LETTERS[code] if code >= 0 else None,
            "max_v_c": float(worst["v_c"]) if worst is not None else math.nan,
            "worst_lane_group": worst["lane_group"] if worst is not None else None,
            "max_queue_95_m": float(sub["queue_95_m"].max()) if len(sub) else math.nan,
        }
        if feeds is not None and len(sub):
            v = sub["flow_vph"].to_numpy()
            row["transyt_delay_s"] = (
                float(np.dot(v, sub["transyt_delay_s"]) / v.sum()) if v.sum() > 0 else math.nan
            )
        rows.append(row)
    return pd.DataFrame(rows)


def format_report(df: pd.DataFrame, *, float_format: str = "{:.1f}", max_rows: int | None = None) -> str:
    """A fixed-width text table of a report (floats rounded; v/c and shares to 2 decimals)."""
    shown = df.copy()
    for col in shown.columns:
        if shown[col].dtype.kind == "f":
            fmt = (
                "{:.2f}"
                if col in ("v_c", "critical_v_c", "max_v_c", "g_over_c", "stops_per_veh", "arrivals_on_green")
                else float_format
            )
            shown[col] = [fmt.format(x) if np.isfinite(x) else "-" for x in shown[col]]
    return shown.to_string(index=False, max_rows=max_rows)


# ------------------------------------------------------------------------------ time-space diagram
def green_windows(it: Intersection, lane_group: str) -> list[tuple[float, float]]:
    """Effective green windows ``(start, length)`` (s after phase 0's green starts) of a lane group.

    Each run of consecutive serving phases gives one window, starting the start-up lost time
    (2 s, at most the run's lost time) after the run's green starts and lasting the run's effective
    green (the TRANSYT model's windows).
    """
    served = set(it.phases_serving(lane_group))
    if not served:
        raise InputError(f"lane group {lane_group!r} of {it.id!r} is served by no phase", field="lane_group")
    n = len(it.phases)
    if len(served) == n:
        return [(0.0, it.cycle_s)]
    starts = np.concatenate([[0.0], np.cumsum([p.duration_s for p in it.phases])])
    out = []
    for j in sorted(served):
        if (j - 1) % n in served:
            continue
        length, k, last = 0.0, j, j
        while k in served:
            length += it.phases[k].duration_s
            last = k
            k = (k + 1) % n
            if k == j:
                break
        lost = float(it.phases[last].lost_time_s)  # type: ignore[arg-type]
        if length - lost > 0:
            out.append((float(starts[j]) + min(2.0, lost), length - lost))
    return out


def _is_green(t: np.ndarray, it: Intersection, windows: list[tuple[float, float]]) -> np.ndarray:
    local = np.mod(t - it.offset_s, it.cycle_s)
    ok = np.zeros(t.shape, dtype=bool)
    for s, length in windows:
        ok |= np.mod(local - s, it.cycle_s) < length
    return ok


def band(
    plan: SignalPlan,
    ids: Sequence[str],
    groups: Sequence[str],
    arrival_s: Sequence[float],
    *,
    resolution_s: float = 0.1,
) -> tuple[float, float]:
    """The widest progression band ``(start, width)``, s: departures from the first signal at times
    ``start + [0, width)`` (mod C) meet green at every signal, reaching signal i at ``arrival_s[i]``
    after leaving the first one (found on a ``resolution_s`` grid over one cycle)."""
    C = plan[ids[0]].cycle_s
    t = np.arange(0.0, C, resolution_s)
    ok = np.ones(t.shape, dtype=bool)
    for iid, grp, dt in zip(ids, groups, arrival_s):
        it = plan[iid]
        ok &= _is_green(t + float(dt), it, green_windows(it, grp))
    if ok.all():
        return 0.0, C
    if not ok.any():
        return 0.0, 0.0
    # longest circular run of True
    k0 = int(np.argmin(ok))  # a False position: unroll from there
    rolled = np.roll(ok, -k0)
    best, best_start, run, run_start = 0, 0, 0, 0
    for k, v in enumerate(rolled):
        if v:
            if run == 0:
                run_start = k
            run += 1
            if run > best:
                best, best_start = run, run_start
        else:
            run = 0
    return float(((best_start + k0) % len(t)) * resolution_s), best * resolution_s


def time_space_diagram(
    plan: SignalPlan,
    ids: Sequence[str],
    distances_m: Sequence[float] | np.ndarray,
    *,
    outbound_groups: Sequence[str],
    inbound_groups: Sequence[str] | None = None,
    speed_mps: float = 13.9,
    cycles: float = 3.0,
    path: str | Path | None = None,
    title: str | None = None,
    ax: Any = None,
) -> Any:
    """Draw the time-space diagram of an arterial (module docs).

    Parameters
    ----------
    plan : SignalPlan
    ids : sequence of str
        Intersections in outbound order.
    distances_m : sequence of float
        Position of each intersection along the arterial (m), increasing.
    outbound_groups, inbound_groups : sequence of str
        Through lane group of each intersection in each direction (inbound optional).
    speed_mps : float
        Progression speed (m/s) of the band trajectories.
    cycles : float
        Length of the time axis in cycles of the first intersection.
    path : path, optional
        Save the figure there (PNG at 150 dpi).
    ax : matplotlib Axes, optional

    Returns
    -------
    matplotlib.figure.Figure
    """
    import matplotlib

    if ax is None and path is not None:
        matplotlib.use("Agg", force=False)
    import matplotlib.pyplot as plt
    from matplotlib.patches import Polygon

    ids = list(ids)
    x = np.asarray(distances_m, dtype=np.float64)
    if len(ids) < 1 or x.shape != (len(ids),) or np.any(np.diff(x) <= 0):
        raise InputError("distances_m needs one increasing position per intersection", field="distances_m")
    if len(outbound_groups) != len(ids) or (inbound_groups is not None and len(inbound_groups) != len(ids)):
        raise InputError("one lane group per intersection and direction is needed", field="outbound_groups")
    if not (speed_mps > 0 and math.isfinite(speed_mps)):
        raise InputError("speed_mps must be a finite number > 0", field="speed_mps")
    C = plan[ids[0]].cycle_s
    horizon = cycles * C
    fig = ax.figure if ax is not None else plt.figure(figsize=(12, 1.6 + 1.3 * len(ids)))
    ax = ax if ax is not None else fig.add_subplot(111)
    span = float(x[-1] - x[0]) or 1.0
    bar = 0.025 * span
    dirs = [("outbound", outbound_groups, -bar * 0.6)]
    if inbound_groups is not None:
        dirs.append(("inbound", inbound_groups, bar * 0.6))
    t = np.arange(-C, horizon + C, 0.1)
    for iid, xi in zip(ids, x):
        it = plan[iid]
        for _, groups, dy in dirs:
            grp = groups[ids.index(iid)]
            green = _is_green(t, it, green_windows(it, grp))
            edges = np.flatnonzero(np.diff(green.astype(int))) + 1
            cuts = np.concatenate([[0], edges, [len(t)]])
            for a, b in zip(cuts[:-1], cuts[1:]):
                ax.add_patch(
                    matplotlib.patches.Rectangle(
                        (t[a], xi + dy - bar / 2),
                        t[b - 1] - t[a] + 0.1,
                        bar * 0.9,
                        color="#2ca02c" if green[a] else "#d62728",
                        lw=0,
                    )
                )
    # bands
    colors = {"outbound": "#1f77b4", "inbound": "#ff7f0e"}
    legend = []
    for name, groups, _ in dirs:
        if name == "outbound":
            arrival = (x - x[0]) / speed_mps
            start, width = band(plan, ids, groups, arrival)
            x0, x1 = x[0], x[-1]
        else:
            arrival = (x[-1] - x) / speed_mps
            rev = list(range(len(ids)))[::-1]
            start, width = band(plan, [ids[k] for k in rev], [groups[k] for k in rev], arrival[rev])
            x0, x1 = x[-1], x[0]
        travel = span / speed_mps
        legend.append(f"{name} band {width:.0f} s")
        if width <= 0:
            continue
        for k in range(-1, int(cycles) + 2):
            t0 = start + k * C
            poly = [(t0, x0), (t0 + width, x0), (t0 + width + travel, x1), (t0 + travel, x1)]
            ax.add_patch(Polygon(poly, closed=True, alpha=0.25, color=colors[name], lw=0))
            ax.plot([t0, t0 + travel], [x0, x1], color=colors[name], lw=0.8)
            ax.plot([t0 + width, t0 + width + travel], [x0, x1], color=colors[name], lw=0.8)
    ax.set_xlim(0, horizon)
    ax.set_ylim(x[0] - 0.08 * span, x[-1] + 0.08 * span)
    ax.set_xlabel("time (s)")
    ax.set_ylabel("distance along the arterial")
    ax.set_yticks(x)
    ax.set_yticklabels([f"{iid}\n{xi:.0f} m" for iid, xi in zip(ids, x)], fontsize=9)
    handles = [
        matplotlib.patches.Patch(color="#2ca02c", label="green (outbound bar below, inbound above)"),
        matplotlib.patches.Patch(color="#d62728", label="red and clearance"),
    ]
    handles += [
        matplotlib.patches.Patch(color=colors[n], alpha=0.4, label=lab)
        for (n, _, _), lab in zip(dirs, legend)
    ]
    ax.legend(handles=handles, loc="upper left", bbox_to_anchor=(1.01, 1.0), fontsize=8, frameon=False)
    ax.set_title(
        title or f"Time-space diagram: cycle {C:.0f} s, progression speed {speed_mps * 3.6:.0f} km/h"
    )
    fig.tight_layout()
    if path is not None:
        fig.savefig(path, dpi=150)
    return fig
