"""Network signal optimisation with a TRANSYT-style model: cyclic flow profiles, platoon dispersion.

Robertson, D.I. (1969), "TRANSYT: a traffic network study tool", Road Research Laboratory Report
LR 253, Crowthorne. The model and the optimiser run in the C++ kernel
(``smartcore/signals_transyt.hpp``, which states every equation); this module builds its inputs
and wraps its results.

Model
    Every lane group of a :class:`~smartcore.signals.SignalPlan` is a link ending at a stop line.
    Its arrivals over the cycle (1-s steps by default) are the outflows of the upstream lane
    groups that feed it (:class:`Feeds`: a share of their outflow and a cruise travel time),
    dispersed by Robertson's recurrence ``D(t + T') = F OUT(t) + (1 - F) D(t + T' - 1)`` with
    ``T' = beta T`` and ``F = 1 / (1 + alpha beta T)`` (TRANSYT's ``alpha = 0.35``,
    ``beta = 0.8``, T in steps) and shifted by the offset difference, plus uniform arrivals for
    the rest of its flow. A vertical queue served at the saturation flow during the effective
    greens gives the deterministic (uniform) delay and the stops; the random-plus-oversaturation
    delay is HCM 2000 Eq. 16-12's d2. The performance index is
    ``PI = sum(D_uniform + D_random) + K x stops`` in veh.h/h, with K (``stop_penalty_s``) the
    seconds of delay one stop is worth.
Offsets
    The plan's convention (:mod:`smartcore.signals.plan`): the start of phase 0's green after the
    common reference time, in [0, C).
Optimiser
    TRANSYT's hill climb over offsets and green splits (moving each phase boundary) with step sizes
    from a quarter of the cycle down to one step, candidate common cycles, and seeded random
    restarts on threads. The returned PI never exceeds the starting plan's; results depend on the
    seed only (not on the number of threads). A progress callable can cancel the search, which
    then returns the best plan so far (as does Ctrl-C).

Stop penalty
    ``K = 0`` by default: the PI is then the total delay (veh.h/h). The deterministic queue delay
    and HCM's d2 already stand for the control delay (deceleration, stopped time and
    acceleration), which is what a microsimulator's time loss measures (SUMO's ``timeLoss``);
    weigh stops with K > 0 (seconds of delay per stop) for fuel, emissions or comfort, as
    TRANSYT's users do.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Callable, Iterable, Sequence
from typing import TYPE_CHECKING, Any

import numpy as np

from smartcore.errors import InputError

if TYPE_CHECKING:  # pragma: no cover
    import pandas as pd

    from smartcore.network import Network
    from smartcore.signals.plan import SignalPlan

__all__ = [
    "Feeds",
    "NetworkEvaluation",
    "NetworkOptimisation",
    "evaluate_network",
    "optimise_network",
    "feeds_from_network",
    "cycle_candidates",
    "DEFAULT_ALPHA",
    "DEFAULT_BETA",
    "DEFAULT_STOP_PENALTY_S",
]

#: Robertson's platoon dispersion factor and travel-time factor (TRANSYT defaults).
DEFAULT_ALPHA = 0.35
DEFAULT_BETA = 0.8
#: Seconds of delay one stop is worth in the PI (module docs).
DEFAULT_STOP_PENALTY_S = 0.0


def _core() -> Any:
    from smartcore import _core as core

    return core


def _group_index(plan: SignalPlan) -> dict[tuple[str, str], int]:
    out: dict[tuple[str, str], int] = {}
    k = 0
    for it in plan:
        for g in it.lane_groups:
            out[(it.id, g.name)] = k
            k += 1
    return out


@dataclasses.dataclass(frozen=True)
class Feeds:
    """Who feeds whom: shares of upstream lane groups' outflows entering downstream lane groups.

    Attributes
    ----------
    to_group, from_group : numpy.ndarray of int32
        Global lane-group indices (plan order, as ``SignalPlan.arrays()``) of the receiving and the
        sending lane group.
    share : numpy.ndarray
        Share of the sending group's outflow that enters the receiving group, in (0, 1].
    travel_time_s : numpy.ndarray
        Cruise travel time from the sending stop line to the receiving one (s).
    """

    to_group: np.ndarray
    from_group: np.ndarray
    share: np.ndarray
    travel_time_s: np.ndarray

    def __post_init__(self) -> None:
        to = np.asarray(self.to_group, dtype=np.int32).ravel()
        fr = np.asarray(self.from_group, dtype=np.int32).ravel()
        sh = np.asarray(self.share, dtype=np.float64).ravel()
        tt = np.asarray(self.travel_time_s, dtype=np.float64).ravel()
        if not (len(to) == len(fr) == len(sh) == len(tt)):
            raise InputError(
                "to_group, from_group, share and travel_time_s need equal lengths", field="share"
            )
        bad = np.flatnonzero(~((sh > 0) & (sh <= 1 + 1e-12)))
        if len(bad):
            raise InputError(f"share[{bad[0]}] = {sh[bad[0]]!r} must lie in (0, 1]", field="share")
        bad = np.flatnonzero(~(np.isfinite(tt) & (tt >= 0)))
        if len(bad):
            raise InputError(f"travel_time_s[{bad[0]}] must be a finite number >= 0", field="travel_time_s")
        for name, arr in (("to_group", to), ("from_group", fr), ("share", sh), ("travel_time_s", tt)):
            arr.flags.writeable = False
            object.__setattr__(self, name, arr)

    def __len__(self) -> int:
        return len(self.share)

    @classmethod
    def empty(cls) -> Feeds:
        """No feeds: every lane group has uniform (random) arrivals, as at isolated signals."""
        return cls(np.empty(0, np.int32), np.empty(0, np.int32), np.empty(0), np.empty(0))

    @classmethod
    def from_records(
        cls, plan: SignalPlan, records: Iterable[tuple[str, str, str, str, float, float]]
    ) -> Feeds:
        """Feeds from ``(to_intersection, to_group, from_intersection, from_group, share, travel_time_s)``.

        Raises
        ------
        InputError
            An unknown intersection or lane group (named in the message).
        """
        index = _group_index(plan)
        cols: list[list[Any]] = [[], [], [], []]
        for j, rec in enumerate(records):
            ti, tg, fi, fg, share, tt = rec
            for key in ((ti, tg), (fi, fg)):
                if key not in index:
                    raise InputError(
                        f"feeds[{j}]: no lane group {key[1]!r} in intersection {key[0]!r}",
                        field=f"feeds[{j}]",
                    )
            cols[0].append(index[(ti, tg)])
            cols[1].append(index[(fi, fg)])
            cols[2].append(float(share))
            cols[3].append(float(tt))
        return cls(
            np.asarray(cols[0], np.int32),
            np.asarray(cols[1], np.int32),
            np.asarray(cols[2]),
            np.asarray(cols[3]),
        )

    def arrays(self, num_groups: int) -> dict[str, np.ndarray]:
        """CSR arrays by receiving lane group (the kernel's layout)."""
        if len(self) and (
            self.to_group.max() >= num_groups
            or self.from_group.max() >= num_groups
            or self.to_group.min() < 0
            or self.from_group.min() < 0
        ):
            raise InputError(f"feed lane-group indices must lie in [0, {num_groups})", field="to_group")
        order = np.argsort(self.to_group, kind="stable")
        first = np.zeros(num_groups + 1, dtype=np.int32)
        np.cumsum(np.bincount(self.to_group, minlength=num_groups), out=first[1:])
        return {
            "feed_first": first,
            "feed_from": np.ascontiguousarray(self.from_group[order]),
            "feed_share": np.ascontiguousarray(self.share[order]),
            "feed_travel_s": np.ascontiguousarray(self.travel_time_s[order]),
        }

    def table(self, plan: SignalPlan) -> pd.DataFrame:
        """One row per feed with intersection ids and lane-group names."""
        import pandas as pd

        names = [(it.id, g.name) for it in plan for g in it.lane_groups]
        return pd.DataFrame(
            {
                "to_intersection": [names[i][0] for i in self.to_group],
                "to_lane_group": [names[i][1] for i in self.to_group],
                "from_intersection": [names[i][0] for i in self.from_group],
                "from_lane_group": [names[i][1] for i in self.from_group],
                "share": self.share,
                "travel_time_s": self.travel_time_s,
            }
        )


def _options(
    plan: SignalPlan, step_s: float, alpha: float, beta: float, stop_penalty_s: float, start_lost_s: float
) -> dict[str, float]:
    for name, value, lo in (("step_s", step_s, 0.0), ("beta", beta, 0.0)):
        if not (math.isfinite(value) and value > lo):
            raise InputError(f"{name} must be a finite number > 0", field=name)
    for name, value in (("alpha", alpha), ("stop_penalty_s", stop_penalty_s), ("start_lost_s", start_lost_s)):
        if not (math.isfinite(value) and value >= 0):
            raise InputError(f"{name} must be a finite number >= 0", field=name)
    return {
        "step_s": float(step_s),
        "alpha": float(alpha),
        "beta": float(beta),
        "stop_penalty_s": float(stop_penalty_s),
        "start_lost_s": float(start_lost_s),
        "analysis_period_h": float(plan.analysis_period_h),
    }


@dataclasses.dataclass(frozen=True)
class NetworkEvaluation:
    """The TRANSYT-style evaluation of a plan (see :func:`evaluate_network`).

    Attributes
    ----------
    plan : SignalPlan
    feeds : Feeds
    pi : float
        Performance index, veh.h/h.
    groups : dict of numpy arrays
        Per lane group (plan order): ``flow_in_vph`` (entering flow), ``capacity_vph``, ``x``,
        ``uniform_delay_veh_h``, ``random_delay_veh_h``, ``delay_s`` (mean per vehicle),
        ``stops_vph``, ``stop_rate`` (stops per vehicle), ``max_queue_veh`` (largest deterministic
        queue), ``arrivals_on_green`` (share), ``pi``.
    profiles : dict of numpy arrays or None
        ``profile_first`` (int64, CSR by lane group) and ``in_profile``, ``out_profile``,
        ``queue_profile`` (veh per step / veh at the step's start, each lane group's local frame:
        step 0 starts with phase 0's green), when asked for.
    options : dict
    """

    plan: SignalPlan
    feeds: Feeds
    pi: float
    groups: dict[str, np.ndarray]
    profiles: dict[str, np.ndarray] | None
    options: dict[str, float]

    @property
    def total_delay_veh_h_per_h(self) -> float:
        return float(np.sum(self.groups["uniform_delay_veh_h"]) + np.sum(self.groups["random_delay_veh_h"]))

    @property
    def total_stops_vph(self) -> float:
        return float(np.sum(self.groups["stops_vph"]))

    def profile(self, intersection: str, lane_group: str) -> dict[str, np.ndarray]:
        """In, out and queue profiles of one lane group (needs ``profiles=True``)."""
        if self.profiles is None:
            raise InputError("evaluate_network(..., profiles=True) keeps the profiles", field="profiles")
        g = _group_index(self.plan)[(intersection, lane_group)]
        a, b = self.profiles["profile_first"][g], self.profiles["profile_first"][g + 1]
        return {k: self.profiles[k][a:b] for k in ("in_profile", "out_profile", "queue_profile")}

    def lane_group_table(self) -> pd.DataFrame:
        df = self.plan.lane_group_table()
        for key, val in self.groups.items():
            df[key] = val
        return df

    def intersection_table(self) -> pd.DataFrame:
        """Per intersection: cycle, offset, entering flow, delay (flow-weighted, s/veh), stops, PI."""
        import pandas as pd

        a = self.plan.arrays()
        gf = a["group_first"]
        rows = []
        for i, it in enumerate(self.plan):
            sl = slice(gf[i], gf[i + 1])
            v = self.groups["flow_in_vph"][sl]
            delay = self.groups["uniform_delay_veh_h"][sl] + self.groups["random_delay_veh_h"][sl]
            rows.append(
                {
                    "intersection": it.id,
                    "cycle_s": it.cycle_s,
                    "offset_s": it.offset_s,
                    "flow_vph": float(v.sum()),
                    "delay_s": float(delay.sum() * 3600 / v.sum()) if v.sum() > 0 else math.nan,
                    "stops_vph": float(self.groups["stops_vph"][sl].sum()),
                    "pi": float(self.groups["pi"][sl].sum()),
                }
            )
        return pd.DataFrame(rows)


def evaluate_network(
    plan: SignalPlan,
    feeds: Feeds | None = None,
    *,
    step_s: float = 1.0,
    alpha: float = DEFAULT_ALPHA,
    beta: float = DEFAULT_BETA,
    stop_penalty_s: float = DEFAULT_STOP_PENALTY_S,
    start_lost_s: float = 2.0,
    profiles: bool = False,
) -> NetworkEvaluation:
    """Evaluate a plan with the TRANSYT-style model (C++ kernel, GIL released).

    Parameters
    ----------
    plan : SignalPlan
        Timings (greens, offsets), flows and saturation flows.
    feeds : Feeds, optional
        Platoon links between lane groups; None treats every signal as isolated (uniform arrivals).
    step_s : float
        Profile step (s); each cycle has ``round(C / step_s)`` steps.
    alpha, beta : float
        Robertson's dispersion parameters (TRANSYT defaults 0.35 and 0.8).
    stop_penalty_s : float
        K, seconds of delay per stop in the PI.
    start_lost_s : float
        Start-up lost time (s): effective green starts this long after the green is shown (at most
        the phase's lost time).
    profiles : bool
        Keep the cyclic in/out/queue profiles of every lane group.

    Returns
    -------
    NetworkEvaluation

    Raises
    ------
    InputError
        Bad feeds or options, or a lane group without effective green.
    """
    feeds = feeds if feeds is not None else Feeds.empty()
    a = plan.arrays()
    opts = _options(plan, step_s, alpha, beta, stop_penalty_s, start_lost_s)
    res = _core().signals_transyt_evaluate(
        a, feeds.arrays(len(a["flow_vph"])), a["green_s"], a["offset_s"], opts, bool(profiles)
    )
    pi = float(res.pop("total_pi"))
    prof = None
    if profiles:
        prof = {k: res.pop(k) for k in ("profile_first", "in_profile", "out_profile", "queue_profile")}
    return NetworkEvaluation(plan, feeds, pi, dict(res), prof, opts)


@dataclasses.dataclass(frozen=True)
class NetworkOptimisation:
    """Result of :func:`optimise_network`.

    Attributes
    ----------
    plan : SignalPlan
        The best plan (new greens and offsets).
    pi, pi_start : float
        Performance index of the best and of the starting plan (veh.h/h); ``pi <= pi_start``.
    evaluation : NetworkEvaluation
        Of the best plan.
    cycles_s, cycle_pi : numpy.ndarray
        Candidate common cycles and the PI reached from each (NaN when a candidate cannot hold the
        minimum greens); empty when the plan's cycles were kept.
    restart_pi : numpy.ndarray
        PI of each hill climb at the chosen cycle (first: from the starting point).
    moves, accepted, group_updates : int
        Moves evaluated, moves accepted, lane-group recomputations.
    cancelled, interrupted : bool
        The search stopped early (by the progress callable, or by Ctrl-C): ``plan`` is the best so far.
    """

    plan: SignalPlan
    pi: float
    pi_start: float
    evaluation: NetworkEvaluation
    cycles_s: np.ndarray
    cycle_pi: np.ndarray
    restart_pi: np.ndarray
    moves: int
    accepted: int
    group_updates: int
    cancelled: bool
    interrupted: bool

    @property
    def improvement(self) -> float:
        """Relative PI reduction, ``1 - pi / pi_start``."""
        return 1.0 - self.pi / self.pi_start if self.pi_start > 0 else 0.0


def cycle_candidates(plan: SignalPlan, step_s: float = 5.0) -> np.ndarray:
    """Common cycles from the largest ``cycle_min_s`` to the smallest ``cycle_max_s`` of the plan.

    Raises
    ------
    InputError
        When the intersections' cycle ranges do not overlap.
    """
    lo = max(it.cycle_min_s for it in plan)
    hi = min(it.cycle_max_s for it in plan)
    if hi < lo:
        raise InputError(
            f"the intersections' cycle ranges do not overlap ({lo:g} > {hi:g} s)", field="cycle_min_s"
        )
    if not (step_s > 0 and math.isfinite(step_s)):
        raise InputError("step_s must be a finite number > 0", field="step_s")
    return np.arange(lo, hi + 1e-9, step_s)


def optimise_network(
    plan: SignalPlan,
    feeds: Feeds | None = None,
    *,
    cycle_s: float | Sequence[float] | np.ndarray | None = None,
    offsets: bool = True,
    splits: bool = True,
    restarts: int = 4,
    seed: int = 0,
    threads: int | None = None,
    progress: Callable[[int, int, float], bool | None] | None = None,
    step_s: float = 1.0,
    alpha: float = DEFAULT_ALPHA,
    beta: float = DEFAULT_BETA,
    stop_penalty_s: float = DEFAULT_STOP_PENALTY_S,
    start_lost_s: float = 2.0,
    offset_step_fractions: Sequence[float] = (0.25, 0.1, 0.03),
    split_steps_s: Sequence[float] = (4.0,),
    max_sweeps: int = 30,
) -> NetworkOptimisation:
    """Optimise offsets, green splits and (optionally) a common cycle to minimise the network PI.

    Parameters
    ----------
    plan : SignalPlan
        The starting plan (its greens and offsets are the first starting point).
    feeds : Feeds, optional
        Platoon links (:class:`Feeds`, :func:`feeds_from_network`,
        :func:`smartcore.signals.sumo.feeds_from_sumo`); None: isolated signals (only the splits
        and the cycle matter then).
    cycle_s : float or sequence of float, optional
        Candidate common cycles (s); each is tried from equisaturation greens and the best is
        refined with restarts. None keeps every intersection's cycle. See :func:`cycle_candidates`.
    offsets, splits : bool
        What may change.
    restarts : int
        Hill climbs at the chosen cycle: one from the starting point and ``restarts - 1`` from
        random offsets (seeded).
    seed : int
    threads : int, optional
        Worker threads (default: all cores); the result does not depend on it.
    progress : callable, optional
        ``progress(done, total, best_pi)`` every 50 ms or so; returning False stops the search
        (the best plan so far is returned with ``cancelled=True``). Ctrl-C does the same and sets
        ``interrupted``.
    step_s, alpha, beta, stop_penalty_s, start_lost_s : float
        Model options (:func:`evaluate_network`).
    offset_step_fractions, split_steps_s : sequence of float
        Step sizes of the hill climb: offsets by these fractions of the cycle, splits by these
        seconds, then by one step each.
    max_sweeps : int
        Sweeps over all intersections per step size.

    Returns
    -------
    NetworkOptimisation
    """
    feeds = feeds if feeds is not None else Feeds.empty()
    if int(restarts) < 1:
        raise InputError("restarts must be >= 1", field="restarts")
    if int(max_sweeps) < 1:
        raise InputError("max_sweeps must be >= 1", field="max_sweeps")
    cycles = np.empty(0) if cycle_s is None else np.atleast_1d(np.asarray(cycle_s, dtype=np.float64))
    if np.any(~np.isfinite(cycles)) or np.any(cycles <= 0):
        raise InputError("cycle_s must hold finite numbers > 0", field="cycle_s")
    a = plan.arrays()
    opts = _options(plan, step_s, alpha, beta, stop_penalty_s, start_lost_s)
    search = {
        "cycles_s": [float(c) for c in cycles],
        "offsets": bool(offsets),
        "splits": bool(splits),
        "restarts": int(restarts),
        "seed": int(seed) & 0xFFFFFFFFFFFFFFFF,
        "threads": int(threads or 0),
        "offset_step_fractions": [float(f) for f in offset_step_fractions],
        "split_steps_s": [float(s) for s in split_steps_s],
        "max_sweeps": int(max_sweeps),
    }
    fa = feeds.arrays(len(a["flow_vph"]))
    res = _core().signals_transyt_optimise(a, fa, a["green_s"], a["offset_s"], opts, search, progress)
    best = plan.with_timings(res["green_s"], offset_s=res["offset_s"])
    ev = evaluate_network(
        best,
        feeds,
        step_s=step_s,
        alpha=alpha,
        beta=beta,
        stop_penalty_s=stop_penalty_s,
        start_lost_s=start_lost_s,
    )
    return NetworkOptimisation(
        best,
        float(res["pi"]),
        float(res["pi_start"]),
        ev,
        res["cycles_s"],
        res["cycle_pi"],
        res["restart_pi"],
        int(res["moves"]),
        int(res["accepted"]),
        int(res["group_updates"]),
        bool(res["cancelled"]),
        bool(res["interrupted"]),
    )


# ------------------------------------------------------------------------------ feeds from networks
def feeds_from_network(plan: SignalPlan, network: Network, *, max_distance_m: float = 1000.0) -> Feeds:
    """Feeds between the intersections of a plan built from ``network`` (e.g. OSM plans).

    A movement of lane group G (its ``to_link``) feeds the next signalised approach downstream: the
    exit link itself when it is an approach of another intersection of the plan, otherwise the
    unique continuation through unsignalised nodes (a node with one onward link other than the way
    back), up to ``max_distance_m``. Its share of G's outflow is ``movement flow / v_G``, spread over
    the receiving approach's lane groups in proportion to their flows (turning proportions are
    taken as independent of where vehicles come from). The travel time is the free-flow time of
    the links from G's stop line to the receiving stop line (``free_flow_time`` in the network's
    time unit, converted to s).

    Raises
    ------
    InputError
        When the plan's movements do not carry link indices (the plan was not built from a network).
    """
    from smartcore.network import convert_units

    fft = np.asarray(network.free_flow_time, dtype=np.float64)
    unit = network.units.get("free_flow_time", "s") or "s"
    fft_s = convert_units(fft, unit, "s") if unit != "s" else fft
    approach_of: dict[int, tuple[int, list[tuple[int, float]]]] = {}  # link -> (intersection, [(group, v)])
    gidx = 0
    for i, it in enumerate(plan):
        for ap in it.approaches:
            groups = []
            for g in ap.lane_groups:
                groups.append((gidx, float(g.flow_vph)))
                gidx += 1
            if ap.link is not None:
                approach_of[int(ap.link)] = (i, groups)
    records: dict[tuple[int, int], list[float]] = {}
    fs_first, fs_link, head, tail = network.fs_first, network.fs_link, network.link_head, network.link_tail
    length = network.length
    gidx = 0
    for i, it in enumerate(plan):
        for ap in it.approaches:
            for g in ap.lane_groups:
                v = float(g.flow_vph)
                for mv in g.movements:
                    if mv.to_link is None:
                        raise InputError(
                            f"intersection {it.id!r}: movements carry no link indices (build the "
                            "plan with smartcore.signals.from_network)",
                            field="to_link",
                        )
                    if v <= 0 or mv.flow_vph <= 0:
                        continue
                    link, dist, tt = int(mv.to_link), 0.0, 0.0
                    seen = {link}
                    while True:
                        dist += float(length[link])
                        tt += float(fft_s[link])
                        if link in approach_of and approach_of[link][0] != i:
                            break
                        if dist > max_distance_m:
                            link = -1
                            break
                        node = int(head[link])
                        onward = [
                            int(e)
                            for e in fs_link[fs_first[node] : fs_first[node + 1]]
                            if int(head[e]) != int(tail[link])
                        ]
                        if len(onward) != 1 or onward[0] in seen:
                            link = -1
                            break
                        link = onward[0]
                        seen.add(link)
                    if link < 0:
                        continue
                    _, groups = approach_of[link]
                    total = sum(vh for _, vh in groups)
                    if total <= 0:
                        continue
                    for h, vh in groups:
                        if vh <= 0:
                            continue
                        key = (h, gidx)
                        rec = records.setdefault(key, [0.0, 0.0, 0.0])
                        share = mv.flow_vph / v * vh / total
                        rec[0] += share
                        rec[1] += share * tt  # share-weighted travel time
                gidx += 1
    if not records:
        return Feeds.empty()
    keys = sorted(records)
    return Feeds(
        np.array([k[0] for k in keys], np.int32),
        np.array([k[1] for k in keys], np.int32),
        np.array([min(1.0, records[k][0]) for k in keys]),
        np.array([records[k][1] / records[k][0] for k in keys]),
    )
