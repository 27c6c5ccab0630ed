"""The main job (`smartcore run`): baseline scenario on the embedded default city."""

from __future__ import annotations

import subprocess
import sys

import numpy as np
import pytest
import scipy.sparse as sp
from reference import scipy_relative_gap
from scipy.sparse.csgraph import dijkstra

from smartcore.scenario import run_default_city


@pytest.fixture(scope="module")
def baseline():
    return run_default_city(zones=20, peak_voc=1.5, gap=1e-10)


def scipy_aon(net, demand, cost):
    """Independent all-or-nothing loading: scipy shortest paths, predecessors walked by hand.

    Zones are not passed through: their outgoing links are kept only for the origin's own search.
    """
    flows = np.zeros(net.num_links)
    z = net.num_zones
    from_zone = net.link_tail < z
    for o in range(z):
        keep = ~from_zone | (net.link_tail == o)
        # Cheapest of parallel links (scipy would sum duplicates).
        best = {}
        for k in np.flatnonzero(keep):
            key = (net.link_tail[k], net.link_head[k])
            if key not in best or cost[k] < cost[best[key]]:
                best[key] = k
        ks = np.array(sorted(best.values()))
        g = sp.csr_matrix((cost[ks] + 1e-300, (net.link_tail[ks], net.link_head[ks])),
                          shape=(net.num_nodes, net.num_nodes))
        _, pred = dijkstra(g, indices=o, return_predecessors=True)
        link_of = {(net.link_tail[k], net.link_head[k]): k for k in ks}
        for d in range(z):
            trips = demand.matrix[o, d]
            if d == o or trips == 0:
                continue
            v = d
            while v != o:
                u = pred[v]
                flows[link_of[(u, v)]] += trips
                v = u
    return flows


def test_baseline_converges_and_conserves_flow(baseline):
    res, net = baseline.assignment, baseline.network
    assert res.converged and res.gap <= 1e-10
    assert res.unassigned_demand == 0
    # Flow conservation at every node: inflow - outflow = attracted - produced (zones only).
    balance = (np.bincount(net.link_head, weights=res.link_flows, minlength=net.num_nodes)
               - np.bincount(net.link_tail, weights=res.link_flows, minlength=net.num_nodes))
    m = baseline.demand.matrix
    expected = np.zeros(net.num_nodes)
    expected[:net.num_zones] = m.sum(axis=0) - m.sum(axis=1)
    np.testing.assert_allclose(balance, expected, atol=1e-6 * m.sum())


def test_demand_level_matches_its_definition(baseline):
    """Busiest road link under free-flow all-or-nothing carries peak_voc x capacity (checked
    with an independent scipy loading)."""
    net = baseline.network
    flows = scipy_aon(net, baseline.demand, np.asarray(net.free_flow_time, dtype=float))
    road = np.ones(net.num_links, dtype=bool)
    road[baseline.zoning.connector_links] = False
    assert (flows / net.capacity)[road].max() == pytest.approx(1.5, rel=1e-9)


def test_wardrop_conditions_hold(baseline):
    """At equilibrium, the total cost equals the shortest-path total cost (relative gap ~ 0),
    recomputed here with scipy on the equilibrium link costs."""
    net, res, dem = baseline.network, baseline.assignment, baseline.demand
    assert scipy_relative_gap(net, dem, res.link_flows, res.link_costs) < 1e-8


def test_report_names_streets(baseline):
    text = baseline.report(top=5)
    assert "relative gap" in text and "converged" in text and "veh-h" in text
    rows = text.split("Most congested streets")[1].split("\n\n")[0].splitlines()[2:]
    assert len(rows) == 5
    names = [r[2:30].strip() for r in rows]
    assert len(set(n for n in names if n != "(unnamed)")) == len([n for n in names if n != "(unnamed)"])


def test_cli_run_main_job():
    r = subprocess.run([sys.executable, "-m", "smartcore", "run", "--zones", "12", "--top", "3"],
                       capture_output=True, text=True)
    assert r.returncode == 0, r.stderr
    assert "Network Helsinki" in r.stdout and "Most congested streets" in r.stdout
    assert "(converged)" in r.stdout


def test_signals_timed_before_and_after(baseline):
    sig = baseline.signals
    assert sig is not None
    assert len(sig.before) == len(sig.after) > 50  # Helsinki extract: 64 signalised junctions
    assert sig.pi_after <= sig.pi_before
    # One common cycle after coordination.
    assert len(np.unique(np.round(sig.after["cycle_s"].to_numpy(), 6))) == 1
    # LOS letters follow the HCM 2000 signalised-intersection thresholds (Exhibit 16-2):
    # A <= 10, B <= 20, C <= 35, D <= 55, E <= 80 s/veh, F above.
    for df in (sig.before, sig.after):
        for d, los in zip(df["delay_s"], df["los"]):
            if np.isfinite(d):
                expected = "ABCDEF"[int(np.searchsorted([10, 20, 35, 55, 80], d, side="left"))]
                assert los == expected, (d, los)
    text = baseline.report()
    assert "Traffic signals:" in text and "before (isolated Webster)" in text
