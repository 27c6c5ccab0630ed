"""Analysis of assignment results (skims, select-link, path flows, outputs) and warm starts, against
outside references: the Braess equilibrium solved by hand, scipy's Dijkstra on the equilibrium
link costs, a brute-force path enumeration written here independently of the kernel, and cold
starts of the same problem (warm starts must reach the same equilibrium).
"""

from __future__ import annotations

import numpy as np
import pytest
import scipy.sparse
import scipy.sparse.csgraph

from smartcore import Demand, InputError, datasets
from smartcore.assignment import AssignmentResult, TrafficClass, assign
from smartcore.io.tntp import read_flows


@pytest.fixture(scope="module")
def chicago(tntp_dir):
    return datasets.tntp("ChicagoSketch")


@pytest.fixture(scope="module")
def chicago_eq(chicago) -> AssignmentResult:
    net, trips = chicago
    return assign(net, trips, gap=1e-11, threads=2)


def scipy_distances(net, cost: np.ndarray, zone_nodes: np.ndarray) -> np.ndarray:
    """Zone-to-zone shortest path costs by scipy (parallel links: the cheapest one)."""
    assert net.first_thru_node == 0  # scipy knows no zones rule: only for passable zones
    key = net.link_tail.astype(np.int64) * net.num_nodes + net.link_head
    uniq, inv = np.unique(key, return_inverse=True)
    best = np.full(len(uniq), np.inf)
    np.minimum.at(best, inv, cost)
    # Zero costs would vanish from a sparse matrix: scipy treats explicit zeros as edges only in
    # a dense/masked input, so lift them by a negligible epsilon.
    g = scipy.sparse.csr_matrix((np.maximum(best, 1e-300), (uniq // net.num_nodes, uniq % net.num_nodes)),
                                shape=(net.num_nodes, net.num_nodes))
    d = scipy.sparse.csgraph.dijkstra(g, directed=True, indices=zone_nodes)
    return d[:, zone_nodes]


def brute_force_paths(net, origin_flow: np.ndarray, origin_node: int, dest_node: int, demand: float):
    """All paths of one origin's link flows to one destination under the proportional rule,
    enumerated recursively (independent of the kernel's implementation)."""
    inflow = np.bincount(net.link_head, origin_flow, net.num_nodes)
    into: dict[int, list[int]] = {}
    for a in np.flatnonzero(origin_flow > 0):
        into.setdefault(int(net.link_head[a]), []).append(int(a))
    out = []

    def walk(node: int, share: float, suffix: list[int]) -> None:
        if node == origin_node:
            out.append((suffix[::-1], demand * share))
            return
        for a in into.get(node, []):
            walk(int(net.link_tail[a]), share * origin_flow[a] / inflow[node], suffix + [a])

    walk(dest_node, 1.0, [])
    return out


# ------------------------------------------------------------------------------------------------
def test_braess_paths_select_link_and_skims_by_hand(tntp_dir):
    # Equilibrium of the Braess example (see test_assignment.py): path flows 1-3-2, 1-4-2 and
    # 1-3-4-2 all 2 (unique here: 3 paths, link flows 4/2/2/2/4), every path costs 92 + 4e/13.
    net, trips = datasets.tntp("Braess")
    res = assign(net, trips, gap=1e-14)
    e = 1e-8
    paths = {tuple(net.node_ids[np.r_[net.link_tail[p[0]], net.link_head[p]]]): f
             for p, f in res.path_flows(1, 2)}
    assert paths.keys() == {(1, 3, 2), (1, 4, 2), (1, 3, 4, 2)}
    for f in paths.values():
        assert f == pytest.approx(2.0, abs=1e-8)
    link = {tuple(ids): k for k, ids in enumerate(net.link_ids.tolist())}
    for (a, b), flow in (((3, 4), 2.0), ((1, 3), 4.0), ((1, 4), 2.0), ((3, 2), 2.0), ((4, 2), 4.0)):
        sl = res.select_link([link[(a, b)]])
        assert sl[0, 1] == pytest.approx(flow, abs=1e-8) and sl[1, 0] == 0 and sl.sum() == sl[0, 1]
    np.testing.assert_allclose(res.select_link([(1, 3), (1, 4)]), [[0, 6], [0, 0]], atol=1e-12)  # a cut
    np.testing.assert_allclose(res.select_link([(1, 4), (3, 4)])[0, 1], 4.0, atol=1e-8)  # either one
    sk = res.skims()
    assert sk["cost"][0, 1] == pytest.approx(92 + 4 * e / 13, rel=1e-13)
    assert sk["time"][0, 1] == pytest.approx(92 + 4 * e / 13, rel=1e-13)
    assert np.isinf(sk["time"][1, 0]) and sk["time"][0, 0] == 0 and sk["time"][1, 1] == 0
    # The mean distance of a trip: each path carries a third of the demand.
    length = dict(zip(map(tuple, net.link_ids.tolist()), net.length))
    mean = np.mean([sum(length[(p[i], p[i + 1])] for i in range(len(p) - 1)) for p in paths])
    assert sk["distance"][0, 1] == pytest.approx(mean, rel=1e-9)


def test_select_link_and_path_flows_match_brute_force_enumeration(sioux_falls, sioux_falls_eq):
    net, trips = sioux_falls
    res = sioux_falls_eq
    zones = trips.zone_ids
    nodes = trips.zone_nodes(net)
    rng = np.random.default_rng(3)
    link_sets = [[int(a)] for a in rng.choice(net.num_links, 6, replace=False)]
    link_sets += [list(rng.choice(net.num_links, 3, replace=False)), [int(np.argmax(res.link_flows))]]
    expected = [np.zeros((len(zones), len(zones))) for _ in link_sets]
    total = np.zeros(net.num_links)
    for o, oz in enumerate(zones):
        of = res.origin_flows(oz)
        total += of
        from_paths = np.zeros(net.num_links)
        for d, dz in enumerate(zones):
            if d == o or trips.matrix[o, d] == 0:
                assert res.path_flows(oz, dz) == [] or d != o
                continue
            brute = brute_force_paths(net, of, nodes[o], nodes[d], trips.matrix[o, d])
            kernel = res.path_flows(oz, dz)
            # Same decomposition, same paths and flows (order aside).
            assert sorted((tuple(p), round(f, 6)) for p, f in brute) == \
                sorted((tuple(p.tolist()), round(f, 6)) for p, f in kernel)
            assert sum(f for _, f in kernel) == pytest.approx(trips.matrix[o, d], rel=1e-12)
            for p, f in kernel:
                np.add.at(from_paths, p, f)
            for s, links in enumerate(link_sets):
                expected[s][o, d] = sum(f for p, f in brute if set(p) & set(links))
        # Path flows over all destinations rebuild the origin's link flows.
        np.testing.assert_allclose(from_paths, of, rtol=1e-10, atol=1e-8)
    np.testing.assert_allclose(total, res.link_flows, rtol=1e-12, atol=1e-9)
    for s, links in enumerate(link_sets):
        np.testing.assert_allclose(res.select_link(links), expected[s], rtol=1e-9, atol=1e-8)


def test_select_link_totals_equal_link_flows(chicago, chicago_eq):
    net, _ = chicago
    res = chicago_eq
    rng = np.random.default_rng(5)
    busy = np.flatnonzero(res.link_flows > 0)
    for a in rng.choice(busy, 25, replace=False):
        assert res.select_link(int(a)).sum() == pytest.approx(res.link_flows[a], rel=1e-9, abs=1e-7)
    # All links leaving the zones: every trip uses one, so the matrix is the demand (less the
    # intrazonal trips), and with cls= the class's vehicles.
    sel = res.select_link(np.flatnonzero(net.link_tail < net.num_zones), cls="class0" if
                          "class0" in res.class_flows else 0)
    m = res.classes[0].demand.matrix.copy()
    np.fill_diagonal(m, 0.0)
    np.testing.assert_allclose(sel, m, rtol=1e-9, atol=1e-9)


def test_skims_against_scipy_on_equilibrium_costs(chicago, chicago_eq):
    # Used paths at equilibrium all have the minimum cost: the flow-weighted average cost skim
    # equals scipy's shortest path costs at the equilibrium link costs within the gap, and the
    # shortest-path skim equals them to rounding.
    net, trips = chicago
    res = chicago_eq
    zn = trips.zone_nodes(net)
    ref = scipy_distances(net, res.link_costs, zn)
    avg = res.skims(["cost", "time", "distance"])
    sp = res.skims(["cost"], method="shortest")["cost"]
    np.testing.assert_allclose(sp, ref, rtol=1e-12, atol=1e-12)
    has = trips.matrix > 0
    np.fill_diagonal(has, False)
    rel = np.abs(avg["cost"] - ref)[has] / ref[has]
    assert rel.max() < 1e-6, rel.max()
    # Demand-weighted, the excess of the average over the shortest cost is the average excess
    # cost of the result (TSTC - SPTC) / demand, i.e. within the gap.
    excess = float(((avg["cost"] - ref) * trips.matrix)[has].sum())
    assert 0 <= excess <= (res.total_cost - res.sptc) * (1 + 1e-6) + 1e-9 * res.total_cost
    # Chicago's generalised cost is time + 0.04 min/mile (NOTES.md item 5): skims are additive.
    np.testing.assert_allclose(avg["cost"], avg["time"] + 0.04 * avg["distance"], rtol=1e-12)
    # Pairs without demand take a shortest path; the diagonal is 0.
    assert np.array_equal(avg["cost"][~has & ~np.eye(len(zn), dtype=bool)],
                          sp[~has & ~np.eye(len(zn), dtype=bool)])
    assert np.all(np.diag(avg["time"]) == 0)


def test_average_skims_equal_path_flow_averages(sioux_falls, sioux_falls_eq):
    net, trips = sioux_falls
    res = sioux_falls_eq
    values = np.random.default_rng(1).uniform(0, 5, net.num_links)
    sk = res.skim(values)
    zones = trips.zone_ids
    for o in range(0, len(zones), 5):
        for d in range(len(zones)):
            if o == d or trips.matrix[o, d] == 0:
                continue
            paths = res.path_flows(zones[o], zones[d])
            mean = sum(f * values[p].sum() for p, f in paths) / sum(f for _, f in paths)
            assert sk[o, d] == pytest.approx(mean, rel=1e-12)


def test_frank_wolfe_results_skim_along_shortest_paths_only(sioux_falls):
    net, trips = sioux_falls
    r = assign(net, trips, algorithm="bfw", gap=1e-6, max_iterations=5000)
    assert r.bushes is None
    ref = scipy_distances(net, r.link_costs, trips.zone_nodes(net))
    np.testing.assert_allclose(r.skim("cost"), ref, rtol=1e-12)
    for call in (lambda: r.select_link([1]), lambda: r.path_flows(1, 2), lambda: r.skim(method="average")):
        with pytest.raises(InputError, match="warm_start"):
            call()
    assert assign(net, trips, gap=1e-6, keep_bushes=False).bushes is None


def test_multiclass_select_link_per_class(sioux_falls):
    net, trips = sioux_falls
    cars = Demand(trips.zone_ids, trips.matrix * 0.8, name="car")
    trucks = Demand(trips.zone_ids, trips.matrix * 0.2, name="truck")
    r = assign(net, classes=[TrafficClass(cars), TrafficClass(trucks, pce=2.0, distance_factor=0.3)],
               gap=1e-11)
    a = int(np.argmax(r.link_flows))
    assert r.select_link(a).sum() == pytest.approx(r.link_flows[a], rel=1e-9)  # PCE
    for name in ("car", "truck"):
        assert r.select_link(a, cls=name).sum() == pytest.approx(r.class_flows[name][a], rel=1e-9)
    sk = r.skims(["cost", "distance"], cls="truck")
    np.testing.assert_allclose(sk["cost"], r.skims(["time"], cls="truck")["time"] + 0.3 * sk["distance"],
                               rtol=1e-12)
    with pytest.raises(InputError, match="unknown class"):
        r.select_link(a, cls="bus")


def test_outputs_frame_geodataframe_and_files(chicago, chicago_eq, tmp_path):
    net, _ = chicago
    res = chicago_eq
    gdf = res.to_geodataframe()
    assert len(gdf) == net.num_links and gdf.crs == net.crs
    np.testing.assert_array_equal(gdf["flow"].to_numpy(), res.link_flows)
    first = gdf.geometry.iloc[0]
    assert first.coords[0] == (net.node_x[net.link_tail[0]], net.node_y[net.link_tail[0]])
    out = res.write_flows(tmp_path / "chicago_flow.tntp")
    back = read_flows(out).link_flows(net)
    np.testing.assert_allclose(back, res.link_flows, rtol=1e-15)
    csv = res.write_flows(tmp_path / "flows.csv")
    assert csv.read_text().startswith("link,from_node,to_node,flow,time,cost,voc")
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".")] == []  # no temp files left
    with pytest.raises(InputError, match="expected a .tntp or .csv"):
        res.write_flows(tmp_path / "flows.xlsx")


# ------------------------------------------------------------------------------------------------
# Warm starts: the same equilibrium as a cold start, in fewer iterations.

def _cold_and_warm(net, demand, previous, **kwargs):
    return assign(net, demand, **kwargs), assign(net, demand, warm_start=previous, **kwargs)


@pytest.mark.parametrize("change", ["demand", "capacity"])
def test_bush_warm_start_reaches_the_cold_equilibrium(chicago, chicago_eq, change):
    net, trips = chicago
    demand, network = trips, net
    if change == "demand":
        demand = Demand(trips.zone_ids, trips.matrix * 1.05)
    else:
        busy = np.argmax(np.where(net.bpr_beta > 0, chicago_eq.link_flows / net.capacity, 0))
        cap = net.capacity.copy()
        cap[busy] *= 0.7
        network = net.replace(capacity=cap)
    cold, warm = _cold_and_warm(network, demand, chicago_eq, gap=1e-11, threads=2)
    assert cold.converged and warm.converged
    assert warm.beckmann == pytest.approx(cold.beckmann, rel=1e-9)
    inc = (net.bpr_alpha > 0) & (net.bpr_beta > 0) & (net.free_flow_time > 0)
    assert np.abs(warm.link_flows - cold.link_flows)[inc].max() < 1e-3
    assert warm.iterations < cold.iterations, (warm.iterations, cold.iterations)
    assert warm.gap_history[0] < 1e-2 * cold.gap_history[0]
    # Wall times on a shared machine are too noisy to assert. Measured with
    # `python bench/bench_assignment.py --warm` (CPU time, best of 3): 1.6-2.2x faster on Anaheim
    # and Chicago-Sketch to 1e-10, for demand x 1.05 and for a 30 % capacity cut.


def test_link_based_warm_start(sioux_falls):
    net, trips = sioux_falls
    prev = assign(net, trips, algorithm="bfw", gap=1e-6, max_iterations=5000)
    for scale in (1.05, 0.9):
        d = Demand(trips.zone_ids, trips.matrix * scale)
        cold, warm = _cold_and_warm(net, d, prev, algorithm="bfw", gap=1e-6, max_iterations=5000)
        assert warm.converged and warm.iterations < cold.iterations
        # Both within their gap of the optimum (convexity bound), so within each other's.
        eq = assign(net, d, gap=1e-12)
        for r in (cold, warm):
            assert 0 <= r.beckmann - eq.beckmann <= (r.total_cost - r.sptc) * (1 + 1e-9)
    # Demand that changes unevenly (one OD pair dropped, another doubled) is still feasible.
    m = trips.matrix.copy()
    m[0, 1], m[2, 3] = 0.0, 2 * m[2, 3]
    d = Demand(trips.zone_ids, m)
    warm = assign(net, d, algorithm="bfw", gap=1e-6, warm_start=prev, max_iterations=5000)
    eq = assign(net, d, gap=1e-12)
    assert warm.converged and 0 <= warm.beckmann - eq.beckmann <= warm.total_cost - warm.sptc
    # Algorithm B from a link-based result: trees at its costs, same equilibrium.
    b = assign(net, trips, gap=1e-12, warm_start=prev)
    assert b.converged and b.beckmann == pytest.approx(assign(net, trips, gap=1e-12).beckmann, rel=1e-12)


def test_warm_start_checks_the_network(sioux_falls, sioux_falls_eq):
    net, trips = sioux_falls
    other = net.replace(link_head=np.roll(net.link_head, 1))
    with pytest.raises(InputError, match="another network"):
        assign(other, trips, warm_start=sioux_falls_eq)
    two = [TrafficClass(trips, name="a"), TrafficClass(trips, name="b")]
    with pytest.raises(InputError, match="classes"):
        assign(net, classes=two, warm_start=sioux_falls_eq)
    with pytest.raises(InputError, match="AssignmentResult"):
        assign(net, trips, warm_start=sioux_falls_eq.link_flows)
