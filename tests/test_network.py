"""The Network and Demand models: dense numbering, CSR, immutability, units, validation."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest

import smartcore
from smartcore import Demand, InputError, Network
from smartcore.network import convert_units


def small() -> Network:
    # External ids are sparse and 64-bit (as OSM's are); zone 900 must become dense node 0.
    return Network.from_links(
        [10, 10, 20, 30, 10, 2**40], [20, 20, 30, 10, 30, 10],
        zones=[900], node_ids=[2**40, 10, 20, 30, 900],
        length=[1, 2, 3, 4, 5, 6], free_flow_time=[1, 1, 1, 1, 1, 0], capacity=100,
        units={"length": "km", "free_flow_time": "min"}, name="small",
    )


def test_dense_numbering_zones_first():
    net = small()
    assert net.node_ids.tolist() == [900, 2**40, 10, 20, 30]
    assert net.num_zones == 1 and net.zone_ids.tolist() == [900]
    assert net.node_index(10) == 2 and net.node_index([30, 900]).tolist() == [4, 0]
    assert net.link_ids.tolist() == [[10, 20], [10, 20], [20, 30], [30, 10], [10, 30], [2**40, 10]]
    assert net.link_index(10, 20).tolist() == [0, 1]  # parallel links kept, in order
    with pytest.raises(InputError, match="unknown node id 11"):
        net.node_index(11)


def test_csr_matches_brute_force():
    net = small()
    for v in range(net.num_nodes):
        out = net.fs_link[net.fs_first[v]:net.fs_first[v + 1]].tolist()
        assert out == [k for k in range(net.num_links) if net.link_tail[k] == v]
        inc = net.bs_link[net.bs_first[v]:net.bs_first[v + 1]].tolist()
        assert inc == [k for k in range(net.num_links) if net.link_head[k] == v]


def test_immutable():
    net = small()
    with pytest.raises(ValueError):
        net.capacity[0] = 5
    with pytest.raises(dataclasses.FrozenInstanceError):
        net.name = "x"  # type: ignore[misc]
    other = net.replace(name="other")
    assert other.name == "other" and net.name == "small"


def test_summary_counts():
    s = small().summary()
    assert s["nodes"] == 5 and s["links"] == 6 and s["parallel_links"] == 1
    assert s["weak_components"] == 2  # the zone 900 is isolated
    assert s["total_length"] == 21


def test_unit_conversions_closed_form():
    net = small()
    assert net.attribute("length", "m").tolist() == [1000, 2000, 3000, 4000, 5000, 6000]
    assert net.attribute("free_flow_time", "s")[0] == 60
    assert convert_units(np.array([5280.0]), "ft", "mi")[0] == pytest.approx(1.0)
    assert convert_units(np.array([1.0]), "mph", "km/h")[0] == pytest.approx(1.609344)
    assert convert_units(np.array([6.0]), "0.01 h", "min")[0] == pytest.approx(3.6)
    assert convert_units(np.array([2400.0]), "veh/day", "veh/h")[0] == pytest.approx(100.0)
    with pytest.raises(InputError, match="cannot convert"):
        convert_units(np.array([1.0]), "km", "s")
    with pytest.raises(InputError, match="unknown unit"):
        convert_units(np.array([1.0]), "furlong", "m")


def test_empty_network():
    net = Network.from_links([], [], length=[], free_flow_time=[], capacity=[])
    assert net.num_nodes == 0 and net.num_links == 0 and net.fs_first.tolist() == [0]


def test_demand_validation():
    with pytest.raises(InputError, match="not a finite"):
        Demand(zone_ids=[1, 2], matrix=[[0, np.nan], [1, 0]])
    with pytest.raises(InputError, match="negative"):
        Demand(zone_ids=[1, 2], matrix=[[0, -1], [1, 0]])
    with pytest.raises(InputError, match="shape"):
        Demand(zone_ids=[1, 2, 3], matrix=[[0, 1], [1, 0]])
    with pytest.raises(InputError, match="duplicate zone"):
        Demand(zone_ids=[1, 1], matrix=[[0, 1], [1, 0]])
    d = Demand.from_array(np.array([[1.0, 2.0], [3.0, 4.0]]))
    assert d.zone_ids.tolist() == [1, 2] and d.total == 10 and d.intrazonal == 5
    assert d.to_frame()["trips"].sum() == 10


def test_demand_zones_must_exist_in_network():
    net = small()
    with pytest.raises(InputError, match="zone 5"):
        Demand.from_array(np.ones((1, 1)), zone_ids=[5], network=net)
    d = Demand.from_array(np.ones((1, 1)), network=net)
    assert d.zone_nodes(net).tolist() == [0]


def test_read_demand_from_array(tntp_dir):
    net = smartcore.read_network(tntp_dir / "Braess-Example" / "Braess_net.tntp")
    d = smartcore.read_demand(np.array([[0.0, 6.0], [0.0, 0.0]]), net)
    assert d.total == 6.0 and d.zone_ids.tolist() == [1, 2]


def test_strong_components_match_scipy(tntp_dir):
    import scipy.sparse as sp
    from scipy.sparse.csgraph import connected_components

    from smartcore import datasets

    for net in (datasets.load_network("helsinki"),
                smartcore.read_network(tntp_dir / "Anaheim" / "Anaheim_net.tntp")):
        count, label = net.strong_components()
        g = sp.csr_matrix((np.ones(net.num_links), (net.link_tail, net.link_head)),
                          shape=(net.num_nodes, net.num_nodes))
        ref_count, ref = connected_components(g, directed=True, connection="strong")
        assert count == ref_count
        # Same partition: a bijection between labels.
        pairs = set(zip(label.tolist(), ref.tolist()))
        assert len(pairs) == count == len({a for a, _ in pairs}) == len({b for _, b in pairs})
        big = net.largest_strong_component()
        assert big.sum() == np.bincount(ref).max()


def test_subnetwork_largest_matches_networkx():
    import networkx as nx

    from smartcore import datasets

    net = datasets.load_network("helsinki")
    sub = net.subnetwork("largest")
    g = nx.MultiDiGraph()
    g.add_nodes_from(net.node_ids.tolist())
    g.add_edges_from(zip(net.node_ids[net.link_tail].tolist(), net.node_ids[net.link_head].tolist(),
                         range(net.num_links)))
    ref = g.subgraph(max(nx.strongly_connected_components(g), key=len))
    assert sorted(sub.node_ids.tolist()) == sorted(ref.nodes)
    kept = sorted(k for _, _, k in ref.edges(keys=True))  # original link positions, in order
    assert sub.num_links == len(kept) < net.num_links
    assert sub.link_ids.tolist() == net.link_ids[kept].tolist()
    np.testing.assert_array_equal(sub.length, net.length[kept])
    assert sub.link_geometry is not None and list(sub.link_geometry) == list(net.link_geometry[kept])
    for k, v in net.link_extra.items():
        assert list(sub.link_extra[k]) == list(v[kept])
    at = net.node_index(sub.node_ids)
    np.testing.assert_array_equal(sub.node_x, net.node_x[at])
    np.testing.assert_array_equal(sub.signalized, net.signalized[at])
    assert sub.strong_components()[0] == 1 and dict(sub.units) == dict(net.units)


def test_subnetwork_zones_and_bad_input():
    net = small()  # zone 900 (dense 0) has no link: dropping it leaves no zone
    keep = np.array([False, True, True, True, True])
    sub = net.subnetwork(keep)
    assert sub.num_zones == 0 and sub.first_thru_node == 0 and sub.num_links == net.num_links
    assert sub.link_ids.tolist() == net.link_ids.tolist()
    # Zones kept keep their rule: two zones, one dropped.
    two = Network.from_links([1, 3, 2, 3], [3, 2, 3, 1], zones=[1, 2, 5], node_ids=[1, 2, 3, 5],
                             length=1, free_flow_time=1, capacity=1, zones_passable=False)
    assert two.first_thru_node == 3
    sub = two.subnetwork(np.isin(two.node_ids, [1, 2, 3]))
    assert sub.zone_ids.tolist() == [1, 2] and sub.first_thru_node == 2 and sub.num_links == 4
    with pytest.raises(InputError, match="boolean mask"):
        net.subnetwork(np.array([0, 1, 2]))
    with pytest.raises(InputError, match="'largest'"):
        net.subnetwork("biggest")
