"""Zones for OSM networks and gravity-model demand, checked against independent computations."""

from __future__ import annotations

import numpy as np
import pytest

from smartcore import InputError, datasets, routing
from smartcore.gravity import furness, gravity_demand
from smartcore.zoning import cluster_zones, kmeans, planar_coordinates


@pytest.fixture(scope="module")
def helsinki():
    return datasets.load_network("helsinki")


def haversine_m(lon1, lat1, lon2, lat2):
    lon1, lat1, lon2, lat2 = map(np.deg2rad, (lon1, lat1, lon2, lat2))
    a = np.sin((lat2 - lat1) / 2) ** 2 + np.cos(lat1) * np.cos(lat2) * np.sin((lon2 - lon1) / 2) ** 2
    return 2 * 6_371_008.8 * np.arcsin(np.sqrt(a))


def test_planar_projection_matches_haversine(helsinki):
    x, y = planar_coordinates(helsinki)
    i, j = 0, helsinki.num_nodes - 1
    planar = np.hypot(x[i] - x[j], y[i] - y[j])
    ref = haversine_m(helsinki.node_x[i], helsinki.node_y[i], helsinki.node_x[j], helsinki.node_y[j])
    assert planar == pytest.approx(ref, rel=1e-3)


def test_kmeans_recovers_separated_blobs():
    rng = np.random.default_rng(1)
    centres = np.array([[0, 0], [100, 0], [0, 100]])
    pts = np.concatenate([c + rng.normal(0, 1, (50, 2)) for c in centres])
    found, label = kmeans(pts, 3, seed=3)
    # Each blob is one cluster, and the centres are the blob means.
    for b in range(3):
        assert len(set(label[b * 50:(b + 1) * 50])) == 1
    got = found[np.argsort(found[:, 0] + 1000 * found[:, 1])]
    ref = np.array([pts[b * 50:(b + 1) * 50].mean(axis=0) for b in range(3)])
    ref = ref[np.argsort(ref[:, 0] + 1000 * ref[:, 1])]
    np.testing.assert_allclose(got, ref, atol=1e-9)
    again, label2 = kmeans(pts, 3, seed=3)
    assert np.array_equal(label, label2)  # deterministic for a seed


def test_cluster_zones_on_helsinki(helsinki):
    z = cluster_zones(helsinki, 12, connectors=2)
    net = z.network
    assert net.num_zones == 12 and not net.zones_passable
    assert net.num_nodes == helsinki.num_nodes + 12
    assert net.num_links == helsinki.num_links + 12 * 2 * 2
    # Original links keep their indices and attributes.
    np.testing.assert_array_equal(net.length[:helsinki.num_links], helsinki.length)
    np.testing.assert_array_equal(net.link_ids[:helsinki.num_links], helsinki.link_ids)
    # Connector lengths equal the haversine distance centroid-node (projection error < 0.1 %).
    k = z.connector_links
    a, b = net.link_tail[k], net.link_head[k]
    ref = haversine_m(net.node_x[a], net.node_y[a], net.node_x[b], net.node_y[b])
    np.testing.assert_allclose(net.length[k], ref, rtol=2e-3, atol=0.05)
    # 30 km/h connectors: t = L / (30 / 3.6) seconds, constant cost.
    np.testing.assert_allclose(net.free_flow_time[k], net.length[k] / (30 / 3.6))
    assert (net.bpr_alpha[k] == 0).all()
    # Every zone reaches every other one (largest strongly connected component only).
    sk = routing.skim(net)
    assert np.isfinite(sk).all()
    # Members partition the strongly connected core.
    members = np.concatenate(z.members)
    assert len(members) == len(set(members.tolist())) == helsinki.largest_strong_component().sum()
    # Mass = lane-km of links leaving the members, computed independently.
    lane_km = {}
    for t, ln, lanes in zip(helsinki.link_ids[:, 0], helsinki.length, helsinki.lanes):
        lane_km[int(t)] = lane_km.get(int(t), 0.0) + ln * lanes / 1000
    ref_mass = [sum(lane_km.get(int(v), 0.0) for v in m) for m in z.members]
    np.testing.assert_allclose(z.mass, ref_mass)


def test_cluster_zones_errors(helsinki, tntp_dir):
    import smartcore

    with pytest.raises(InputError, match="already has"):
        cluster_zones(smartcore.read_network(tntp_dir / "SiouxFalls" / "SiouxFalls_net.tntp"), 3)
    with pytest.raises(InputError, match="fewer than"):
        cluster_zones(helsinki, 100_000)


def test_furness_margins_and_structure():
    rng = np.random.default_rng(5)
    seed = rng.uniform(0.1, 1.0, (6, 6))
    o = rng.uniform(1, 10, 6)
    d = rng.uniform(1, 10, 6)
    d *= o.sum() / d.sum()
    t = furness(seed, o, d)
    np.testing.assert_allclose(t.sum(axis=1), o, rtol=1e-9)
    np.testing.assert_allclose(t.sum(axis=0), d, rtol=1e-9)
    # The solution has the form a_i b_j seed_ij: log(t/seed) is additive (rank one in logs).
    r = np.log(t / seed)
    np.testing.assert_allclose(r - r[:, :1] - r[:1, :] + r[0, 0], 0, atol=1e-9)
    with pytest.raises(InputError, match="differ"):
        furness(seed, o, d * 2)


def test_gravity_two_zones_closed_form():
    # Two zones, no intrazonal trips: all of zone 1's trips go to zone 2 and vice versa.
    d = gravity_demand(np.array([[0, 5.0], [5.0, 0]]), [1, 2], total=100.0)
    np.testing.assert_allclose(d.matrix, [[0, 50], [50, 0]])
    # Three symmetric zones with equal weights: T_ij = 100/6 each whatever beta.
    c = np.array([[0, 1, 1], [1, 0, 1], [1, 1, 0.0]])
    np.testing.assert_allclose(gravity_demand(c, [1, 2, 3], total=100.0, beta=0.7).matrix,
                               (1 - np.eye(3)) * 100 / 6)


def test_gravity_deterrence_ratio():
    """Doubly constrained: T_ij T_kl / (T_il T_kj) = f(c_ij) f(c_kl) / (f(c_il) f(c_kj))."""
    rng = np.random.default_rng(2)
    c = rng.uniform(1, 20, (5, 5))
    beta = 0.15
    d = gravity_demand(c, np.arange(1, 6), total=1000, beta=beta,
                       productions=rng.uniform(1, 3, 5), attractions=rng.uniform(1, 3, 5)).matrix
    i, j, k, q = 0, 1, 2, 3
    lhs = d[i, j] * d[k, q] / (d[i, q] * d[k, j])
    rhs = np.exp(-beta * (c[i, j] + c[k, q] - c[i, q] - c[k, j]))
    assert lhs == pytest.approx(rhs, rel=1e-8)
    assert d.sum() == pytest.approx(1000)


def test_gravity_unreachable_pairs_get_no_trips():
    c = np.ones((4, 4)) - np.eye(4)
    c[0, 3] = np.inf
    d = gravity_demand(c, [1, 2, 3, 4], total=120.0).matrix
    assert d[0, 3] == 0 and d.sum() == pytest.approx(120)
    np.testing.assert_allclose(d.sum(axis=1), 30)
    with pytest.raises(InputError):
        gravity_demand(c, [1, 2, 3, 4], total=-1)


def test_furness_infeasible_margins_raise():
    from smartcore import ConvergenceError

    # Zone 1 may only send to zone 2, which may only receive 1 trip: infeasible.
    seed = np.array([[0, 1.0, 0], [1, 0, 1], [1, 1, 0]])
    with pytest.raises(ConvergenceError):
        furness(seed, np.array([5.0, 1, 1]), np.array([1.0, 1, 5]), max_iterations=200)
