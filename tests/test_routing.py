"""smartcore.routing against scipy.sparse.csgraph (an independent Dijkstra), on random multigraphs
(hypothesis) and on every shared TNTP network.

scipy needs two adaptations, both done here independently of smartcore:
* it sums parallel entries of a sparse matrix, so the reference matrix keeps the cheapest of
  parallel links;
* it has no zones rule, so a reference graph removes the outgoing links of zone nodes (nodes with
  dense index < first_thru_node), except for the origin's: for a tree, literally; for a matrix,
  each zone's outgoing links move to a copy of the zone that serves as its origin.
"""

from __future__ import annotations

from pathlib import Path as FsPath

import numpy as np
import pytest
import scipy.sparse as sp
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from scipy.sparse.csgraph import dijkstra
from strategies import random_networks

import smartcore
from smartcore import _core, routing
from smartcore.network import Network


# ------------------------------------------------------------------------------------ references
def _min_matrix(n: int, tail: np.ndarray, head: np.ndarray, w: np.ndarray) -> sp.csr_matrix:
    """CSR matrix with the cheapest of parallel links (explicit zeros kept: csgraph reads them as
    zero-cost edges)."""
    order = np.lexsort((w, head, tail))
    t, h, c = tail[order], head[order], w[order]
    first = np.ones(len(t), dtype=bool)
    first[1:] = (t[1:] != t[:-1]) | (h[1:] != h[:-1])
    m = sp.csr_matrix((c[first], (t[first], h[first])), shape=(n, n))
    assert m.nnz == int(first.sum())  # no duplicates were summed, no zero dropped
    return m


def scipy_tree(net: Network, w: np.ndarray, origin: int) -> np.ndarray:
    """Distances from dense `origin`, zone out-links removed except the origin's."""
    t, h = net.link_tail, net.link_head
    keep = (t >= net.first_thru_node) | (t == origin)
    return dijkstra(_min_matrix(net.num_nodes, t[keep], h[keep], w[keep]), indices=origin)


def scipy_matrix(net: Network, w: np.ndarray, origins: np.ndarray, dests: np.ndarray) -> np.ndarray:
    """Distance matrix between dense node sets, zones rule by per-zone source copies."""
    n, z = net.num_nodes, net.first_thru_node
    t = np.where(net.link_tail < z, n + net.link_tail, net.link_tail)  # zone k's links leave copy n+k
    m = _min_matrix(n + z, t, net.link_head.astype(np.int64), w)
    src = np.where(origins < z, n + origins, origins)
    d = dijkstra(m, indices=src)[:, dests]
    d[origins[:, None] == dests[None, :]] = 0.0  # a zone's copy does not reach the zone at cost 0
    return d


def check_path(net: Network, w: np.ndarray, path: routing.Path, expect: float) -> None:
    np.testing.assert_allclose(path.cost, expect, rtol=1e-12)
    if not np.isfinite(expect):
        assert len(path.links) == 0 and len(path.nodes) == 0
        return
    assert path.nodes[0] == path.origin and path.nodes[-1] == path.destination
    assert len(path.nodes) == len(path.links) + 1
    dense = net.node_index(path.nodes)
    np.testing.assert_array_equal(net.link_tail[path.links], dense[:-1])
    np.testing.assert_array_equal(net.link_head[path.links], dense[1:])
    assert (dense[1:-1] >= net.first_thru_node).all(), "path passes through a zone"
    np.testing.assert_allclose(w[path.links].sum(), path.cost, rtol=1e-12)


# ------------------------------------------------------------------------------------ random graphs
def networks():
    """Random multigraphs with zones: zero costs, repeated costs (ties) and arbitrary reals."""
    return random_networks(25, 80, [0.0, 0.5, 1.0, 3.0], 1e3)


SETTINGS = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@SETTINGS
@given(networks(), st.data())
def test_tree_equals_scipy(case, data):
    net, w = case
    origin = data.draw(st.integers(0, net.num_nodes - 1))
    expect = scipy_tree(net, w, origin)
    costs, pred = routing.tree(net, origin)
    np.testing.assert_allclose(costs, expect, rtol=1e-12)
    r_costs, r_pred = routing.Router(net).tree(origin)
    np.testing.assert_allclose(r_costs, expect, rtol=1e-12)
    ref, _ = _core.reference_dijkstra(net.fs_first, net.fs_link, net.fs_head, w,
                                      net.first_thru_node, origin)
    np.testing.assert_allclose(ref, expect, rtol=1e-12)
    trees = [(costs, pred), (r_costs, r_pred)]
    for kind in ("ch", "cch"):  # PHAST (or Dijkstra where its predecessors form no tree)
        router = routing.Router(net, hierarchy=kind).build()
        trees.append(router.tree(origin, method="hierarchy"))
        np.testing.assert_allclose(trees[-1][0], expect, rtol=1e-12)
        np.testing.assert_array_equal(router.tree(origin)[0], r_costs)  # auto: Dijkstra
    for c, p in trees:
        reached = np.isfinite(c)
        assert p[origin] == -1 and (p[~reached] == -1).all()
        nodes = np.flatnonzero(reached & (np.arange(net.num_nodes) != origin))
        links = p[nodes]
        # every tree link enters its node, leaves a reached node that may be passed, and is tight
        assert (net.link_head[links] == nodes).all()
        tails = net.link_tail[links]
        assert ((tails == origin) | (tails >= net.first_thru_node)).all()
        np.testing.assert_allclose(c[tails] + w[links], c[nodes], rtol=1e-12)


@SETTINGS
@given(networks(), st.data())
def test_targets_and_radius(case, data):
    net, w = case
    n = net.num_nodes
    origin = data.draw(st.integers(0, n - 1))
    expect = scipy_tree(net, w, origin)
    targets = np.array(data.draw(st.lists(st.integers(0, n - 1), min_size=1, max_size=4)))
    costs, _ = routing.tree(net, origin, targets=targets)
    np.testing.assert_allclose(costs[targets], expect[targets], rtol=1e-12)
    settled = np.isfinite(costs)
    np.testing.assert_allclose(costs[settled], expect[settled], rtol=1e-12)
    radius = data.draw(st.floats(0, 2e3))
    costs, _ = routing.tree(net, origin, radius=radius)
    np.testing.assert_array_equal(np.isfinite(costs), expect <= radius)
    np.testing.assert_allclose(costs[expect <= radius], expect[expect <= radius], rtol=1e-12)
    iso = routing.isochrone(net, origin, radius)
    assert set(iso.nodes.tolist()) == set(np.flatnonzero(expect <= radius).tolist())
    assert (np.diff(iso.costs) >= 0).all() and len(iso.links) == len(iso.nodes) - 1


@SETTINGS
@given(networks(), st.data())
def test_skim_and_paths_equal_scipy(case, data):
    net, w = case
    n = net.num_nodes
    nodes = st.lists(st.integers(0, n - 1), min_size=0, max_size=6)
    o = np.array(data.draw(nodes), dtype=np.int64)
    d = np.array(data.draw(nodes), dtype=np.int64)
    expect = scipy_matrix(net, w, o, d) if len(o) and len(d) else np.zeros((len(o), len(d)))
    got = routing.skim(net, o, d, threads=2)
    assert got.shape == (len(o), len(d))
    np.testing.assert_allclose(got, expect, rtol=1e-12)
    if len(o) and len(d):
        oo, dd = np.repeat(o, len(d)), np.tile(d, len(o))
        paths = routing.shortest_paths(net, oo, dd, threads=3)
        assert len(paths) == len(oo)
        for i, path in enumerate(paths):
            check_path(net, w, path, expect.ravel()[i])


@SETTINGS
@given(networks(), st.data(), st.sampled_from(["cch", "ch", "ch-dissection"]))
def test_hierarchies_equal_scipy_and_customize(case, data, kind):
    net, w = case
    n = net.num_nodes
    nodes = st.lists(st.integers(0, n - 1), min_size=1, max_size=6)
    o = np.array(data.draw(nodes), dtype=np.int64)
    d = np.array(data.draw(nodes), dtype=np.int64)
    if kind == "ch-dissection":  # a classic CH contracted in nested dissection order
        router = routing.Router(net, hierarchy="ch", order="dissection")
    else:
        router = routing.Router(net, hierarchy=kind)
    expect = scipy_matrix(net, w, o, d)
    np.testing.assert_allclose(router.skim(o, d, method="hierarchy", threads=2), expect, rtol=1e-12)
    oo, dd = np.repeat(o, len(d)), np.tile(d, len(o))
    for i, path in enumerate(router.shortest_paths(oo, dd, method="hierarchy", threads=2)):
        check_path(net, w, path, expect.ravel()[i])
    # another weight on the same hierarchy topology (CCH) or a rebuilt one (CH)
    w2 = np.array(data.draw(st.lists(st.floats(0, 50), min_size=len(w), max_size=len(w))))
    custom = router.customize(w2)
    np.testing.assert_allclose(custom.skim(o, d, method="hierarchy"), scipy_matrix(net, w2, o, d),
                               rtol=1e-12)
    np.testing.assert_allclose(router.skim(o, d, method="hierarchy"), expect, rtol=1e-12)


# ------------------------------------------------------------------------------------ TNTP networks
def _tntp_networks(root: FsPath) -> list[FsPath]:
    return sorted(p for p in root.iterdir() if p.is_dir() and list(p.glob("*_net.tntp")))


@pytest.fixture(scope="module")
def tntp_networks(tntp_dir):
    nets = {p.name: smartcore.read_network(p) for p in _tntp_networks(tntp_dir)}
    assert len(nets) >= 7
    return nets


def test_every_tntp_network_trees_skims_paths(tntp_networks):
    rng = np.random.default_rng(0)
    for name, net in tntp_networks.items():
        w = net.free_flow_time
        router = routing.Router(net)
        origins = np.unique(np.concatenate([[0, net.num_nodes - 1],
                                            rng.integers(0, net.num_nodes, 5)]))
        for o in origins:
            expect = scipy_tree(net, w, int(o))
            costs, _ = router.tree(net.node_ids[o])
            np.testing.assert_allclose(costs, expect, rtol=1e-12, err_msg=name)
            costs, pred = router.tree(net.node_ids[o], method="hierarchy")
            np.testing.assert_allclose(costs, expect, rtol=1e-12, err_msg=name)
            reached = np.flatnonzero(np.isfinite(costs) & (np.arange(net.num_nodes) != o))
            assert (net.link_head[pred[reached]] == reached).all()
            np.testing.assert_allclose(costs[net.link_tail[pred[reached]]] + w[pred[reached]],
                                       costs[reached], rtol=1e-9, err_msg=name)
            costs, _ = routing.tree(net, net.node_ids[o])
            np.testing.assert_allclose(costs, expect, rtol=1e-12, err_msg=name)
        # zone skim (all zones, or a node sample for zone-less networks) and its paths
        if net.num_zones:
            zones = np.arange(min(net.num_zones, 300))
        else:
            zones = rng.integers(0, net.num_nodes, 50)
        expect = scipy_matrix(net, w, zones, zones)
        got = router.skim(net.node_ids[zones], net.node_ids[zones])
        np.testing.assert_allclose(got, expect, rtol=1e-12, err_msg=name)
        k = rng.integers(0, len(zones), (2, 200))
        paths = router.shortest_paths(net.node_ids[zones[k[0]]], net.node_ids[zones[k[1]]],
                                      method="dijkstra")
        for i, path in enumerate(paths):
            check_path(net, w, path, expect[k[0, i], k[1, i]])
        for kind in ("cch", "ch"):
            hier = routing.Router(net, hierarchy=kind)
            got = hier.skim(net.node_ids[zones], net.node_ids[zones], method="hierarchy")
            np.testing.assert_allclose(got, expect, rtol=1e-12, err_msg=f"{name} {kind}")
            paths = hier.shortest_paths(net.node_ids[zones[k[0]]], net.node_ids[zones[k[1]]],
                                        method="hierarchy")
            for i, path in enumerate(paths):
                check_path(net, w, path, expect[k[0, i], k[1, i]])


def test_philadelphia_full_zone_skim(tntp_networks):
    net = tntp_networks["Philadelphia"]
    assert not net.zones_passable and net.num_zones == 1525
    zones = np.arange(net.num_zones)
    expect = scipy_matrix(net, net.free_flow_time, zones, zones)
    assert np.isfinite(expect).all()
    router = routing.Router(net)
    np.testing.assert_allclose(router.skim(method="dijkstra"), expect, rtol=1e-12)
    np.testing.assert_allclose(router.skim(method="hierarchy"), expect, rtol=1e-12)
    # a congested-like weight through the customisable hierarchy
    w2 = net.free_flow_time * (1 + np.random.default_rng(1).random(net.num_links))
    np.testing.assert_allclose(router.customize(w2).skim(), scipy_matrix(net, w2, zones, zones),
                               rtol=1e-12)


def test_zones_rule_changes_anaheim_costs(tntp_networks):
    """Anaheim (FIRST THRU NODE 39): passing through zones would make some trips cheaper."""
    net = tntp_networks["Anaheim"]
    passable = net.replace(first_thru_node=0)
    blocked = routing.skim(net)
    free = routing.skim(passable)
    assert (free <= blocked + 1e-9).all() and (free < blocked - 1e-9).any()


# ------------------------------------------------------------------------------------ behaviour
@pytest.fixture(scope="module")
def sioux(tntp_networks):
    return tntp_networks["SiouxFalls"]


def test_known_sioux_falls_path(sioux):
    # Links are listed in node order with SiouxFalls' free-flow times in 0.01 h (README):
    # 1 -> 2 (6), 2 -> 6 (5), 6 -> 8 (2) is the cheapest way from 1 to 8: 13.
    p = routing.shortest_path(sioux, 1, 8)
    assert p.cost == 13.0
    np.testing.assert_array_equal(p.nodes, [1, 2, 6, 8])


def test_same_node_and_unreachable():
    net = Network.from_links([1, 2], [2, 1], node_ids=[1, 2, 3], length=1.0, free_flow_time=[2.0, 3.0],
                             capacity=1.0)
    p = routing.shortest_path(net, 1, 1)
    assert p.cost == 0 and p.nodes.tolist() == [1] and len(p.links) == 0
    p = routing.shortest_path(net, 1, 3)
    assert p.cost == np.inf and not p.reachable and len(p.nodes) == 0 and len(p.links) == 0
    assert routing.skim(net, [1, 3], [1, 2, 3]).tolist() == [[0, 2, np.inf], [np.inf, np.inf, 0]]


def test_threads_do_not_change_results(tntp_networks):
    net = tntp_networks["Chicago-Sketch"]
    router = routing.Router(net)
    a = router.skim(threads=1)
    b = router.skim(threads=2)
    np.testing.assert_array_equal(a, b)
    rng = np.random.default_rng(3)
    o, d = net.node_ids[rng.integers(0, net.num_nodes, (2, 500))]
    p1, p2 = router.shortest_paths(o, d, threads=1), router.shortest_paths(o, d, threads=2)
    np.testing.assert_array_equal(p1.costs, p2.costs)
    np.testing.assert_array_equal(p1.offsets, p2.offsets)
    np.testing.assert_array_equal(p1.links, p2.links)


def test_one_router_shared_by_python_threads(tntp_networks):
    """The GIL is released during queries: concurrent calls share the immutable indexes and
    take workspaces from thread-safe pools."""
    from concurrent.futures import ThreadPoolExecutor

    net = tntp_networks["Anaheim"]
    router = routing.Router(net)
    ids = net.node_ids
    jobs = [("tree", int(ids[i])) for i in range(0, net.num_nodes, 7)]
    jobs += [("skim", None), ("paths", None)] * 4

    def run(job):
        kind, arg = job
        if kind == "tree":
            return router.tree(arg)[0]
        if kind == "skim":
            return router.skim(method="hierarchy", threads=2)
        return router.shortest_paths(ids[:100], ids[::-1][:100], method="hierarchy").costs

    serial = [run(j) for j in jobs]
    with ThreadPoolExecutor(4) as pool:
        parallel = list(pool.map(run, jobs))
    for a, b in zip(serial, parallel):
        np.testing.assert_array_equal(a, b)


def test_weights_by_name_array_and_customize(sioux):
    by_name = routing.skim(sioux, weight="length")
    by_array = routing.skim(sioux, weight=np.asarray(sioux.length))
    np.testing.assert_array_equal(by_name, by_array)
    router = routing.Router(sioux)
    custom = router.customize("length")
    np.testing.assert_array_equal(custom.skim(), by_name)
    np.testing.assert_array_equal(router.skim(), routing.skim(sioux))  # the original is unchanged
    assert not router.weight.flags.writeable


def test_auto_method_builds_the_hierarchy_for_large_batches(tntp_networks):
    net = tntp_networks["Chicago-Sketch"]
    router = routing.Router(net)
    few = router.skim(net.zone_ids[:5], "zones")
    assert "nothing yet" not in repr(router) and "cch" not in repr(router)  # Dijkstra only
    many = router.skim("zones", "zones")  # 387 origins: worth a hierarchy
    assert "cch" in repr(router)
    np.testing.assert_allclose(many[:5], few, rtol=1e-12)
    assert routing.AUTO_HIERARCHY_MIN_ORIGINS <= net.num_zones


def test_path_costs_and_geometric_dissection(tntp_networks):
    """Router.path_costs equals the costs of shortest_paths on every engine; the CCH built with
    node coordinates (geometric cuts) answers like the one without and like scipy."""
    net = tntp_networks["Philadelphia"]
    assert net.node_x is not None
    rng = np.random.default_rng(5)
    o, d = rng.integers(net.first_thru_node, net.num_nodes, (2, 300))
    expect = scipy_matrix(net, net.free_flow_time, o, d)[np.arange(300), np.arange(300)]
    for kind in ("cch", "ch"):
        router = routing.Router(net, hierarchy=kind)
        ids = net.node_ids
        for method in ("hierarchy", "dijkstra"):
            costs = router.path_costs(ids[o], ids[d], method=method, threads=2)
            np.testing.assert_allclose(costs, expect, rtol=1e-12)
            np.testing.assert_array_equal(
                costs, router.shortest_paths(ids[o], ids[d], method=method, threads=1).costs)
    w = net.free_flow_time
    plain = _core.CustomizableCH(net.fs_first, net.fs_link, net.fs_head, net.first_thru_node)
    geo = _core.CustomizableCH(net.fs_first, net.fs_link, net.fs_head, net.first_thru_node,
                               np.asarray(net.node_x), np.asarray(net.node_y))
    assert geo.num_edges < plain.num_edges  # geometric cuts: a smaller hierarchy here
    oo, dd = o.astype(np.int32), d.astype(np.int32)
    for h in (plain.customize(w), geo.customize(w)):
        np.testing.assert_allclose(h.shortest_path_costs(oo, dd), expect, rtol=1e-12)


def _grid(side: int, seed: int) -> tuple[Network, np.ndarray]:
    """The benchmark's grid (bench/bench_routing.py), smaller: two directed links per neighbour
    pair, independent uniform(1, 100) weights, node coordinates."""
    v = np.arange(side * side).reshape(side, side)
    a = np.concatenate([v[:, :-1].ravel(), v[:, 1:].ravel(), v[:-1, :].ravel(), v[1:, :].ravel()])
    b = np.concatenate([v[:, 1:].ravel(), v[:, :-1].ravel(), v[1:, :].ravel(), v[:-1, :].ravel()])
    w = np.random.default_rng(seed).uniform(1.0, 100.0, len(a))
    xy = np.arange(side * side)
    net = Network.from_links(a, b, node_ids=xy, length=w, free_flow_time=w, capacity=1.0,
                             duplicates="keep", node_x=(xy % side).astype(float),
                             node_y=(xy // side).astype(float))
    return net, w


def test_dissection_order_ch_on_a_grid_and_philadelphia(tntp_networks):
    """A classic CH in nested dissection order (with the coordinates' geometric cuts) gives
    scipy's matrix and paths on a grid and on Philadelphia."""
    net, w = _grid(60, 3)
    rng = np.random.default_rng(9)
    o, d = rng.integers(0, net.num_nodes, (2, 80))
    expect = scipy_matrix(net, w, o, d)
    router = routing.Router(net, hierarchy="ch", order="dissection")
    np.testing.assert_allclose(router.skim(o, d, method="hierarchy", threads=2), expect, rtol=1e-12)
    for i, path in enumerate(router.shortest_paths(o, d, method="hierarchy")):
        check_path(net, w, path, expect[i, i])
    greedy = routing.Router(net, hierarchy="ch").build()  # the default order
    assert router._hier.num_edges != greedy._hier.num_edges  # really another order
    phl = tntp_networks["Philadelphia"]
    ids = phl.node_ids
    o, d = rng.integers(phl.first_thru_node, phl.num_nodes, (2, 200))
    router = routing.Router(phl, hierarchy="ch", order="dissection")
    np.testing.assert_allclose(router.skim(ids[o], ids[d], method="hierarchy"),
                               scipy_matrix(phl, phl.free_flow_time, o, d), rtol=1e-12)
    assert router.customize(phl.free_flow_time * 2).order == "dissection"


def test_progress_reports_each_stage_to_its_end_and_can_cancel():
    """progress(stage, done, total): the hierarchy build and the matrix each end with done ==
    total, the results equal scipy's; returning False or raising in the callback stops a long
    call (KeyboardInterrupt, or the callback's exception), and the router still answers after."""
    net, w = _grid(40, 5)
    rng = np.random.default_rng(2)
    o, d = rng.integers(0, net.num_nodes, (2, 60))
    expect = scipy_matrix(net, w, o, d)
    for kind in ("ch", "cch"):
        calls: list[tuple[str, int, int]] = []
        router = routing.Router(net, hierarchy=kind, progress=lambda *a, calls=calls: calls.append(a))
        np.testing.assert_allclose(router.skim(o, d, method="hierarchy"), expect, rtol=1e-12)
        np.testing.assert_allclose(router.path_costs(o, d, method="hierarchy"),
                                   np.diag(expect), rtol=1e-12)
        stages = [c[0] for c in calls]
        assert stages[0] == "hierarchy" and "skim" in stages and stages[-1] == "paths"
        for stage, total in (("hierarchy", None), ("skim", len(o) + len(d)), ("paths", len(o))):
            seen = [c for c in calls if c[0] == stage]
            assert seen[-1][1] == seen[-1][2]  # ends complete
            assert all(a[1] <= b[1] for a, b in zip(seen, seen[1:]))  # never backwards
            if total is not None:
                assert seen[-1][2] == total

    # A call far longer than the 0.5 s reporting interval (3125 Dijkstra trees on a 250 x 250
    # grid, ~10 s), cancelled at its first report.
    big, _ = _grid(250, 1)
    origins = np.arange(0, big.num_nodes, 20)
    seen = []

    def stop(stage: str, done: int, total: int) -> bool:
        seen.append((done, total))
        return False

    router = routing.Router(big, progress=stop)
    with pytest.raises(KeyboardInterrupt):
        router.skim(origins, origins[:5], method="dijkstra", threads=1)
    assert len(seen) == 1 and seen[0][0] < seen[0][1] == len(origins)  # stopped midway

    def fail(stage: str, done: int, total: int) -> None:
        raise RuntimeError("from the callback")

    with pytest.raises(RuntimeError, match="from the callback"):
        routing.Router(big, progress=fail).skim(origins, origins[:5], method="dijkstra", threads=2)
    quiet = routing.Router(net)  # the same queries without progress, and after a cancellation
    np.testing.assert_allclose(quiet.skim(o, d, method="hierarchy"), expect, rtol=1e-12)
    again = routing.Router(net, progress=lambda *a: False)
    with pytest.raises(KeyboardInterrupt):  # False at the final report still cancels
        again.skim(o, d, method="dijkstra")
    again.progress = None
    np.testing.assert_allclose(again.skim(o, d, method="dijkstra"), expect, rtol=1e-12)
    with pytest.raises(smartcore.InputError, match="progress"):
        routing.Router(net, progress="yes")  # type: ignore[arg-type]


def test_skim_as_frame(sioux):
    df = routing.skim(sioux, [1, 2], [3, 4, 5], as_frame=True)
    assert list(df.index) == [1, 2] and list(df.columns) == [3, 4, 5]
    assert df.loc[1, 3] == routing.shortest_path(sioux, 1, 3).cost


# ------------------------------------------------------------------------------------ bad input
@pytest.mark.parametrize("bad", [-1.0, np.nan, np.inf])
def test_bad_weight_values_name_the_link(sioux, bad):
    w = np.array(sioux.free_flow_time)
    w[7] = bad
    built = routing.Router(sioux).build()
    for call in (lambda: routing.tree(sioux, 1, weight=w), lambda: routing.Router(sioux, weight=w),
                 lambda: routing.skim(sioux, weight=w),
                 lambda: routing.Router(sioux).customize(w), lambda: built.customize(w),
                 lambda: _core.contraction_hierarchy(sioux.fs_first, sioux.fs_link, sioux.fs_head, w, 0),
                 lambda: _core.CustomizableCH(sioux.fs_first, sioux.fs_link, sioux.fs_head, 0).customize(w)):
        with pytest.raises(smartcore.InputError, match="link 7") as info:
            call()
        assert info.value.field == "weight"


def test_bad_arguments(sioux):
    bad_calls = {
        "weight": [lambda: routing.tree(sioux, 1, weight=np.ones(3)),
                   lambda: routing.tree(sioux, 1, weight="no_such_attribute"),
                   lambda: routing.tree(sioux, 1, weight=[[1.0]])],
        "origin": [lambda: routing.tree(sioux, 999), lambda: routing.tree(sioux, [1, 2]),
                   lambda: routing.shortest_path(sioux, 0, 1)],
        "targets": [lambda: routing.tree(sioux, 1, targets=[1, 999])],
        "radius": [lambda: routing.tree(sioux, 1, radius=-1), lambda: routing.isochrone(sioux, 1, np.nan)],
        "destinations": [lambda: routing.shortest_paths(sioux, [1, 2], [3]),
                         lambda: routing.skim(sioux, [1], [1, 99])],
        "origins": [lambda: routing.skim(sioux, "everything", "zones"),
                    lambda: routing.skim(sioux, ["a"], [1])],
        "threads": [lambda: routing.skim(sioux, threads=0), lambda: routing.skim(sioux, threads=1.5)],
        "network": [lambda: routing.Router("SiouxFalls")],
        "method": [lambda: routing.skim(sioux, method="magic"),
                   lambda: routing.Router(sioux).shortest_path(1, 2, method="ch"),
                   lambda: routing.Router(sioux).tree(1, radius=3, method="hierarchy"),
                   lambda: routing.Router(sioux).tree(1, method="phast")],
        "hierarchy": [lambda: routing.Router(sioux, hierarchy="fast")],
        "order": [lambda: routing.Router(sioux, hierarchy="ch", order="metis"),
                  lambda: _core.contraction_hierarchy(sioux.fs_first, sioux.fs_link, sioux.fs_head,
                                                      sioux.free_flow_time, 0, order="random")],
        "node_x": [lambda: _core.contraction_hierarchy(sioux.fs_first, sioux.fs_link, sioux.fs_head,
                                                       sioux.free_flow_time, 0, order="dissection",
                                                       node_x=np.zeros(3), node_y=np.zeros(3)),
                   lambda: _core.contraction_hierarchy(sioux.fs_first, sioux.fs_link, sioux.fs_head,
                                                       sioux.free_flow_time, 0, order="dissection",
                                                       node_x=np.full(24, np.nan), node_y=np.zeros(24)),
                   lambda: _core.contraction_hierarchy(sioux.fs_first, sioux.fs_link, sioux.fs_head,
                                                       sioux.free_flow_time, 0, node_x=np.zeros(24),
                                                       node_y=np.zeros(24))],
    }
    for field, calls in bad_calls.items():
        for call in calls:
            with pytest.raises(smartcore.InputError) as info:
                call()
            assert info.value.field == field, (field, info.value)
    no_zones = Network.from_links([1], [2], length=1.0, free_flow_time=1.0, capacity=1.0)
    with pytest.raises(smartcore.InputError, match="no zones"):
        routing.skim(no_zones)


def test_core_rejects_out_of_range_dense_ids(sioux):
    """The compiled module checks what Python could pass it, without crashing."""
    w = sioux.free_flow_time
    g = _core.RoutingGraph(sioux.fs_first, sioux.fs_link, sioux.fs_head, w, 0)
    h = _core.CustomizableCH(sioux.fs_first, sioux.fs_link, sioux.fs_head, 0).customize(w)
    ids = np.array([0, 24], dtype=np.int32)
    calls = [
        lambda: h.distance_matrix(ids, ids[:1]), lambda: h.shortest_paths(ids, ids[:1]),
        lambda: h.shortest_paths(ids[:1], ids[1:]), lambda: h.distance_matrix(ids[:1] - 1, ids[:1]),
        lambda: _core.CustomizableCH(sioux.fs_first, sioux.fs_link, sioux.fs_head, 99),
        lambda: _core.CustomizableCH(sioux.fs_first, sioux.fs_link, sioux.fs_head, 0, np.zeros(3),
                                     np.zeros(3)),
        lambda: _core.CustomizableCH(sioux.fs_first, sioux.fs_link, sioux.fs_head, 0, np.zeros(24)),
        lambda: _core.CustomizableCH(sioux.fs_first, sioux.fs_link, sioux.fs_head, 0,
                                     np.full(24, np.nan), np.zeros(24)),
        lambda: h.shortest_path_costs(ids, ids[:1]), lambda: g.shortest_path_costs(ids[:1] - 1, ids[:1]),
        lambda: _core.contraction_hierarchy(sioux.fs_first, sioux.fs_link, sioux.fs_head, w, 0, 0),
        lambda: g.tree(-1), lambda: g.tree(24), lambda: g.tree(0, ids),
        lambda: g.distance_matrix(ids, ids[:1]), lambda: g.shortest_paths(ids, ids[:1]),
        lambda: g.shortest_paths(ids[:1], ids[1:]),
        lambda: _core.tree(sioux.fs_first, sioux.fs_link, sioux.fs_head, w, 0, 99),
        lambda: _core.tree(sioux.fs_first, sioux.fs_link, sioux.fs_head, w[:-1], 0, 0),
        lambda: _core.tree(sioux.fs_first, sioux.fs_link, sioux.fs_head, w, 25, 0),
        lambda: _core.tree(sioux.fs_first[:-1], sioux.fs_link, sioux.fs_head, w, 0, 0),
        lambda: _core.tree(np.zeros(1, np.int32), sioux.fs_link, sioux.fs_head, w, 0, 0),
        lambda: _core.RoutingGraph(sioux.fs_first, sioux.fs_link, sioux.fs_head[::-1].copy() + 100, w, 0),
        lambda: _core.reference_dijkstra(sioux.fs_first, sioux.fs_link, sioux.fs_head, -w, 0, 0),
    ]
    for call in calls:
        with pytest.raises(smartcore.InputError):
            call()
