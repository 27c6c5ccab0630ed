"""A straightforward numpy implementation of smartcore's TRANSYT-style model and hill climb.

Written independently of the C++ kernel from the model description (Robertson 1969; see
``smartcore/signals_transyt.hpp``), for two uses: the tests check the kernel's profiles, delays
and stops against it, and ``bench/bench_signals.py`` times both side by side. Vectorised across
lane groups (time steps are loops); the network fixed point is found by Jacobi iteration (all
groups updated from the previous outflows) until no outflow changes by more than ``tol``, and a
move is evaluated by re-evaluating the whole network.

Assumes every intersection has the same number of steps (a common cycle), as network
optimisation does.
"""

from __future__ import annotations

import numpy as np


def _windows(
    a: dict[str, np.ndarray], green: np.ndarray, i: int, g: int, C: float, start_lost: float
) -> list[tuple[float, float]]:
    pf, sf, sp = a["phase_first"], a["serve_first"], a["serve_phase"]
    p0, p1 = int(pf[i]), int(pf[i + 1])
    n = p1 - p0
    served = set(int(p) for p in sp[sf[g] : sf[g + 1]])
    dur = green + a["yellow_s"] + a["all_red_s"]
    if len(served) == n:
        return [(0.0, C)]
    out = []
    for p in sorted(served):
        if p0 + (p - p0 - 1) % n in served:
            continue
        start = float(dur[p0:p].sum())
        length, q, last = 0.0, p, p
        while q in served:
            length += dur[q]
            last = q
            q = p0 + (q - p0 + 1) % n
            if q == p:
                break
        eff = length - a["lost_s"][last]
        if eff > 0:
            out.append(((start + min(start_lost, a["lost_s"][last])) % C, min(eff, C)))
    return out


def green_fractions(a: dict[str, np.ndarray], green: np.ndarray, n: int, start_lost: float) -> np.ndarray:
    """[n_group, n] share of each step that is effective green."""
    pf, gf = a["phase_first"], a["group_first"]
    ng = len(a["flow_vph"])
    frac = np.zeros((ng, n))
    edges = np.arange(n + 1)
    for i in range(len(pf) - 1):
        C = float((green + a["yellow_s"] + a["all_red_s"])[pf[i] : pf[i + 1]].sum())
        dt = C / n
        for g in range(gf[i], gf[i + 1]):
            for s, length in _windows(a, green, i, g, C, start_lost):
                for x, y in [(s, s + length)] if s + length <= C else [(s, C), (0.0, s + length - C)]:
                    lo = np.maximum(x, edges[:-1] * dt)
                    hi = np.minimum(y, edges[1:] * dt)
                    frac[g] += np.clip(hi - lo, 0.0, None) / dt
    return np.minimum(frac, 1.0)


def disperse(out: np.ndarray, travel_steps: np.ndarray, alpha: float, beta: float) -> np.ndarray:
    """Periodic Robertson dispersion of the rows of ``out`` ([k, n]) with travel times in steps."""
    k, n = out.shape
    lag = np.rint(beta * travel_steps).astype(np.int64)
    F = 1.0 / (1.0 + alpha * beta * travel_steps)
    src = out[np.arange(k)[:, None], (np.arange(n)[None, :] - lag[:, None]) % n]
    d = np.empty_like(out)
    prev = np.zeros(k)
    for t in range(n):
        prev = F * src[:, t] + (1 - F) * prev
        d[:, t] = prev
    r = 1.0 - F
    x = np.where(r**n < 1.0, d[:, -1] / (1.0 - r**n), 0.0)
    return d + (r[:, None] ** np.arange(1, n + 1)[None, :]) * x[:, None]


def evaluate(
    a: dict[str, np.ndarray],
    feeds: dict[str, np.ndarray],
    green: np.ndarray,
    offset: np.ndarray,
    *,
    step_s: float = 1.0,
    alpha: float = 0.35,
    beta: float = 0.8,
    stop_penalty_s: float = 0.0,
    start_lost_s: float = 2.0,
    analysis_period_h: float = 0.25,
    tol: float = 1e-10,
    max_iter: int = 500,
) -> dict[str, np.ndarray]:
    """Evaluate a plan (arrays of ``SignalPlan.arrays()`` and ``Feeds.arrays()``); dict of arrays."""
    pf, gf = a["phase_first"], a["group_first"]
    dur = green + a["yellow_s"] + a["all_red_s"]
    C_int = np.add.reduceat(dur, pf[:-1])
    n = int(max(1, round(C_int[0] / step_s)))
    if np.any(np.maximum(1, np.rint(C_int / step_s)) != n):
        raise ValueError("the numpy reference needs a common number of steps")
    ng = len(a["flow_vph"])
    inter = np.repeat(np.arange(len(C_int)), np.diff(gf))
    C = C_int[inter]
    dt = C / n
    frac = green_fractions(a, green, n, start_lost_s)
    cap = (a["sat_flow_vph"] * dt / 3600.0)[:, None] * frac
    v = a["flow_vph"]
    ff, fr, sh, tt = feeds["feed_first"], feeds["feed_from"], feeds["feed_share"], feeds["feed_travel_s"]
    to = np.repeat(np.arange(ng), np.diff(ff))
    fed = np.bincount(to, weights=sh * v[fr], minlength=ng)
    sigma = np.where((fed > v) & (fed > 0), v / np.where(fed > 0, fed, 1.0), 1.0)
    uniform = np.maximum(0.0, v - fed) * dt / 3600.0
    travel_steps = tt / dt[fr]
    shift = (offset[inter[fr]] - offset[inter[to]]) / dt[to]
    fl = np.floor(shift)
    wt = shift - fl
    idx = (np.arange(n)[None, :] - fl.astype(np.int64)[:, None]) % n
    capsum = cap.sum(axis=1)
    out = np.minimum(v * dt / 3600.0, capsum / n)[:, None] * np.ones((1, n))
    for _ in range(max_iter):
        inflow = np.repeat(uniform[:, None], n, axis=1)
        if len(fr):
            d = disperse(out[fr], travel_steps, alpha, beta)
            rows = np.arange(len(fr))[:, None]
            shifted = (1 - wt)[:, None] * d[rows, idx] + wt[:, None] * d[rows, (idx - 1) % n]
            np.add.at(inflow, to, (sigma[to] * sh)[:, None] * shifted)
        arrivals = inflow.sum(axis=1)
        scale = np.where(arrivals > capsum, capsum / np.where(arrivals > 0, arrivals, 1.0), 1.0)
        arr = inflow * scale[:, None]
        q = np.zeros(ng)
        new_out = np.zeros_like(out)
        area = np.zeros(ng)
        stopped = np.zeros(ng)
        maxq = np.zeros(ng)
        queue = np.zeros_like(out)
        for rec in (False, True):
            for k in range(n):
                ak, ck = arr[:, k], cap[:, k]
                clears = (q > 0) & (ck > ak) & (q < ck - ak)
                tau = np.where(clears, q / np.where(ck > ak, ck - ak, 1.0) * dt, 0.0)
                queued = (q > 0) & ~clears
                q1 = np.where(clears, 0.0, np.where(queued, q + ak - ck, np.maximum(0.0, ak - ck)))
                ar = np.where(clears, 0.5 * q * tau, np.where(queued, 0.5 * (q + q1) * dt, 0.5 * q1 * dt))
                st = np.where(clears, ak * tau / dt, np.where(queued, ak, q1))
                if rec:
                    queue[:, k] = q
                    new_out[:, k] = q + ak - q1
                    area += ar
                    stopped += st
                    maxq = np.maximum(maxq, np.maximum(q, q1))
                q = q1
        change = np.abs(new_out - out).max() if ng else 0.0
        out = new_out
        if change <= tol:
            break
    v_in = arrivals * 3600.0 / C
    c = capsum * 3600.0 / C
    X = np.where(c > 0, v_in / np.where(c > 0, c, 1.0), 0.0)
    T = analysis_period_h
    cc = np.maximum(c, 1e-9)
    d2 = 900 * T * ((X - 1) + np.sqrt((X - 1) ** 2 + 8 * a["k"] * a["upstream_i"] * X / (cc * T)))
    dr = np.where(v_in > 0, v_in * d2 / 3600.0, 0.0)
    du = area / C
    stops = stopped * 3600.0 / C + np.maximum(0.0, v_in - c)
    pi = du + dr + stop_penalty_s * stops / 3600.0
    return {
        "flow_in_vph": v_in,
        "capacity_vph": c,
        "x": X,
        "uniform_delay_veh_h": du,
        "random_delay_veh_h": dr,
        "stops_vph": stops,
        "max_queue_veh": maxq,
        "pi": pi,
        "total_pi": float(pi.sum()),
        "in_profile": inflow,
        "out_profile": out,
        "queue_profile": queue,
    }


def hill_climb_offsets(
    a: dict[str, np.ndarray],
    feeds: dict[str, np.ndarray],
    green: np.ndarray,
    offset: np.ndarray,
    *,
    fractions: tuple[float, ...] = (0.25, 0.1, 0.03),
    max_sweeps: int = 30,
    max_moves: int | None = None,
    **model: float,
) -> tuple[np.ndarray, float, int]:
    """TRANSYT's offset hill climb, every move evaluated by a full network evaluation.

    Returns (offsets, PI, moves evaluated); stops early after ``max_moves`` moves when given.
    """
    pf = a["phase_first"]
    C = float((green + a["yellow_s"] + a["all_red_s"])[pf[0] : pf[1]].sum())
    n = int(max(1, round(C / model.get("step_s", 1.0))))
    dt = C / n
    off = offset.copy()
    pi = evaluate(a, feeds, green, off, **model)["total_pi"]
    moves = 0
    for step in [max(1, round(f * n)) for f in fractions] + [1]:
        for _ in range(max_sweeps):
            improved = False
            for i in range(len(off)):
                for direction in (1, -1):
                    moved = False
                    while True:
                        trial = off.copy()
                        trial[i] = (trial[i] + direction * step * dt) % C
                        moves += 1
                        p = evaluate(a, feeds, green, trial, **model)["total_pi"]
                        if p < pi - 1e-10 * max(1.0, abs(pi)):
                            off, pi, moved, improved = trial, p, True, True
                        else:
                            break
                        if max_moves is not None and moves >= max_moves:
                            return off, pi, moves
                    if moved:
                        break
                    if max_moves is not None and moves >= max_moves:
                        return off, pi, moves
            if not improved:
                break
    return off, pi, moves
