"""Signal-aware traffic assignment: timings and route choice that are consistent with each other.

Drivers choose routes by travel time including the delay at signals, and good timings depend on
the flows that result. :func:`signal_aware_assignment` finds a mutually consistent pair by the
classic *iterative optimisation and assignment* procedure (Allsop 1974; Smith 1979; see also
Meneguzzer 1995 for its convergence behaviour):

1. assign the demand without signal delays (user equilibrium, :func:`smartcore.assign`);
2. time the signals for the current link flows: default plans from the network's signalised
   junctions (:func:`smartcore.signals.from_network`), then either each junction on its own
   (``timing="webster"``) or all of them together (``timing="network"``: common cycle, splits and
   offsets by the TRANSYT-style optimiser);
3. evaluate the HCM 2000 control delay of every lane group and give each approach link the
   flow-weighted mean delay of its lane groups (seconds per vehicle, converted to the network's
   time unit) as a fixed extra cost;
4. re-assign with them, and average the assigned flows over the outer iterations (method of
   successive averages, which damps the oscillation that plain alternation shows); the next
   timing is made for the averaged flows;
5. stop when the flows the timings were made for and the flows these timings produce differ by
   less than ``tolerance`` (relative L1 difference: the fixed-point residual), or after
   ``max_iterations``.

The loop's history (flow change, assignment gap, mean signal delay, performance index) is kept so
that its convergence can be reported. The fixed point is a *user* equilibrium given the timings
and a timing optimum given the flows; it need not minimise total travel time (Smith 1979).
"""

from __future__ import annotations

import dataclasses
from typing import TYPE_CHECKING, Any

import numpy as np

from smartcore.errors import InputError

if TYPE_CHECKING:  # pragma: no cover
    from smartcore.assignment import AssignmentResult
    from smartcore.demand import Demand
    from smartcore.network import Network
    from smartcore.signals.plan import SignalPlan

__all__ = ["SignalAwareResult", "signal_aware_assignment", "approach_delays"]


@dataclasses.dataclass(frozen=True)
class SignalAwareResult:
    """Outcome of :func:`signal_aware_assignment`.

    Attributes
    ----------
    assignment : AssignmentResult
        The last assignment (its link costs include ``link_signal_delay``).
    plan : SignalPlan
        The timings the last assignment was made with (timed for the averaged flows).
    link_signal_delay : float64[num_links]
        The signal delay per link (the plan's HCM delay) used by the last assignment (network
        time unit).
    history : list of dict
        Per outer iteration: ``iteration``, ``flow_change`` (fixed-point residual: relative L1
        difference between the flows the timings were made for and the flows they produce), ``gap``,
        ``mean_delay_s`` (flow-weighted HCM control delay over signalised approaches),
        ``cycle_s`` (min and max cycle).
    converged : bool
        ``flow_change`` fell below ``tolerance``.
    """

    assignment: AssignmentResult
    plan: SignalPlan
    link_signal_delay: np.ndarray
    history: list[dict[str, Any]]
    converged: bool

    def summary(self) -> str:
        lines = [f"signal-aware assignment: {'converged' if self.converged else 'NOT converged'} "
                 f"after {len(self.history)} outer iterations"]
        lines.append(f"  {'iter':>4} {'flow change':>12} {'gap':>10} {'mean delay':>11} {'cycles':>10}")
        for h in self.history:
            lines.append(f"  {h['iteration']:>4} {h['flow_change']:>12.3e} {h['gap']:>10.2e} "
                         f"{h['mean_delay_s']:>9.1f} s {h['cycle_s']:>10}")
        return "\n".join(lines)


def approach_delays(plan: SignalPlan, num_links: int) -> tuple[np.ndarray, float]:
    """HCM 2000 control delay per approach link (s/veh) and the flow-weighted network mean.

    Each approach link gets the flow-weighted mean delay of its lane groups (their plain mean when
    no flow arrives: the delay a first vehicle would meet). Links that are not approaches get 0.
    """
    from smartcore.signals.hcm import evaluate

    ev = evaluate(plan)
    delay = np.asarray(ev.groups["delay_s"], dtype=np.float64)
    out = np.zeros(num_links)
    k = 0
    total_vd = total_v = 0.0
    for it in plan:
        for ap in it.approaches:
            n = len(ap.lane_groups)
            d = delay[k:k + n]
            v = np.array([float(g.flow_vph) for g in ap.lane_groups])
            k += n
            if ap.link is None:
                continue
            mean = float(np.dot(v, d) / v.sum()) if v.sum() > 0 else float(d.mean())
            out[ap.link] = mean
            total_vd += float(np.dot(v, d))
            total_v += float(v.sum())
    return out, (total_vd / total_v if total_v > 0 else float("nan"))


def _time_signals(network: Network, flows: np.ndarray, timing: str, seed: int,
                  threads: int | None) -> SignalPlan:
    from smartcore.signals.osm import from_network

    if timing == "webster":
        return from_network(network, link_flow_vph=flows, timing="webster")
    from smartcore.signals import workflow

    _, _, res = workflow.optimise_osm(network, flows_vph=flows, restarts=1, seed=seed,
                                      threads=threads)
    return res.plan


def signal_aware_assignment(
    network: Network,
    demand: Demand,
    *,
    timing: str = "network",
    max_iterations: int = 30,
    tolerance: float = 1e-2,
    gap: float = 1e-8,
    seed: int = 0,
    threads: int | None = None,
    toll_factor: float | None = None,
    distance_factor: float | None = None,
) -> SignalAwareResult:
    """Alternate signal timing and user-equilibrium assignment until both settle (module docs).

    Parameters
    ----------
    network : Network
        With zones, node coordinates and signalised nodes (e.g. an OSM network after
        :func:`smartcore.zoning.cluster_zones`); ``free_flow_time`` in a stated time unit.
    demand : Demand
        Trips per hour (signal delays are computed for flows in veh/h).
    timing : {"network", "webster"}
        Coordinated TRANSYT-style optimisation, or isolated Webster timing per junction.
    max_iterations : int
        Outer iterations (each: one timing and one assignment).
    tolerance : float
        Fixed-point residual (relative L1 flow difference) that counts as settled; default 1 %.
    gap : float
        Relative gap of each inner assignment.
    seed, threads
        Passed to the timing optimiser and the assignment.
    toll_factor, distance_factor : float, optional
        Generalised-cost factors (default from the network's metadata, else 0).
    """
    from smartcore.assignment import assign
    from smartcore.network import convert_units

    if timing not in ("network", "webster"):
        raise InputError("timing must be 'network' or 'webster'", field="timing")
    if max_iterations < 1:
        raise InputError("max_iterations must be >= 1", field="max_iterations")
    if not network.signalized.any():
        raise InputError(f"network {network.name!r} has no signalised node", field="network")
    time_unit = network.units.get("free_flow_time")
    if not time_unit:
        raise InputError("the unit of free_flow_time is not stated", field="free_flow_time")
    tf = float(network.metadata.get("toll_factor", 0.0)) if toll_factor is None else float(toll_factor)
    base_toll_cost = tf * np.asarray(network.toll)

    def run(extra: np.ndarray, previous: AssignmentResult | None) -> AssignmentResult:
        # Each re-assignment starts from the previous equilibrium (its bushes): the signal delays
        # change little from one outer iteration to the next, so a warm start saves most of the
        # inner iterations (see assign's warm_start).
        net = network.replace(toll=base_toll_cost + extra)
        return assign(net, demand, gap=gap, threads=threads, toll_factor=1.0,
                      distance_factor=distance_factor, warm_start=previous)

    result = run(np.zeros(network.num_links), None)
    mean_flows = result.link_flows.copy()  # MSA average of the assigned flows
    history: list[dict[str, Any]] = []
    converged = False
    delay = np.zeros(network.num_links)
    for k in range(1, max_iterations + 1):
        plan = _time_signals(network, mean_flows, timing, seed, threads)
        delay_s, mean_delay = approach_delays(plan, network.num_links)
        delay = convert_units(delay_s, "s", time_unit)
        result = run(delay, result)
        # Fixed-point residual: how far the flows the timings were made for are from the flows
        # that these timings produce.
        residual = float(np.abs(result.link_flows - mean_flows).sum()
                         / max(float(np.abs(result.link_flows).sum()), 1e-300))
        cycles = [it.cycle_s for it in plan]
        history.append({"iteration": k, "flow_change": residual, "gap": float(result.gap),
                        "mean_delay_s": mean_delay,
                        "cycle_s": f"{min(cycles):.0f}-{max(cycles):.0f}" if cycles else "-"})
        if residual < tolerance:
            converged = True
            break
        mean_flows += (result.link_flows - mean_flows) / (k + 1)
    return SignalAwareResult(result, plan, delay, history, converged)
