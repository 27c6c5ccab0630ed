"""Network conversions: pandas tables, networkx, osmnx round trips and GeoDataFrames, checked
against networkx, osmnx and scipy computations made here."""

from __future__ import annotations

import numpy as np
import pytest

import smartcore
from smartcore import convert, datasets
from smartcore.io import osm, tntp
from smartcore.network import LINK_ATTRIBUTES, Network


@pytest.fixture(scope="module")
def helsinki() -> Network:
    return osm.read_osm(datasets.helsinki_pbf())


@pytest.fixture(scope="module")
def sioux(tntp_dir) -> Network:
    return tntp.read_net(tntp_dir / "SiouxFalls" / "SiouxFalls_net.tntp")


def scipy_distances(net: Network, weight: np.ndarray, source: int) -> np.ndarray:
    """Shortest path lengths from dense node ``source`` by scipy (min over parallel links)."""
    sparse = pytest.importorskip("scipy.sparse")
    csgraph = pytest.importorskip("scipy.sparse.csgraph")
    n = net.num_nodes
    best: dict[tuple[int, int], float] = {}
    for t, h, w in zip(net.link_tail.tolist(), net.link_head.tolist(), weight.tolist()):
        if t != h:
            best[(t, h)] = min(w, best.get((t, h), np.inf))
    rows, cols = zip(*best)
    # scipy drops explicit zeros; a tiny epsilon keeps zero-length links as edges
    vals = np.maximum(np.fromiter(best.values(), float), 1e-300)
    m = sparse.csr_matrix((vals, (rows, cols)), shape=(n, n))
    return csgraph.dijkstra(m, directed=True, indices=source)


# --------------------------------------------------------------------------- tables
def test_link_table(helsinki):
    df = helsinki.link_table()
    assert len(df) == helsinki.num_links and df.index.name == "link"
    assert list(df.columns[:2 + len(LINK_ATTRIBUTES)]) == ["from_id", "to_id", *LINK_ATTRIBUTES]
    assert list(df.columns[-1:]) == ["key"] and "link_type_name" in df.columns
    np.testing.assert_array_equal(df[["from_id", "to_id"]].to_numpy(), helsinki.link_ids)
    for name in LINK_ATTRIBUTES:
        np.testing.assert_array_equal(df[name].to_numpy(), getattr(helsinki, name))
    for name, values in helsinki.link_extra.items():
        np.testing.assert_array_equal(df[name].to_numpy(), values)
    names = df["link_type_name"].to_numpy()
    assert set(names) == set(helsinki.link_type_names.values())
    np.testing.assert_array_equal(names, df["highway"].to_numpy())


def test_node_table(helsinki, sioux):
    df = helsinki.node_table()
    assert df.shape[0] == helsinki.num_nodes and df.index.name == "node"
    np.testing.assert_array_equal(df["node_id"], helsinki.node_ids)
    np.testing.assert_array_equal(df["x"], helsinki.node_x)
    assert df["signalized"].sum() == helsinki.signalized.sum()
    assert (df.loc[df["signalized"], "highway"] == "traffic_signals").all()
    s = sioux.node_table()
    assert s["zone"].sum() == 24 and "x" in s.columns  # read with SiouxFalls_node.tntp


# --------------------------------------------------------------------------- networkx
def test_to_networkx_matches_links(helsinki):
    G = helsinki.to_networkx()
    assert G.number_of_edges() == helsinki.num_links and G.number_of_nodes() == helsinki.num_nodes
    for u, v, k, d in G.edges(keys=True, data=True):
        i = d["link"]
        assert (u, v) == tuple(helsinki.link_ids[i]) and k == helsinki.link_keys[i]
        assert d["length"] == helsinki.length[i] and d["highway"] == helsinki.link_extra["highway"][i]
    assert G.graph["crs"] == "EPSG:4326" and G.graph["units"]["length"] == "m"
    n = helsinki.node_ids[helsinki.signalized][0]
    assert G.nodes[int(n)]["signalized"] is True


def test_networkx_shortest_paths_agree_with_scipy(helsinki, sioux):
    nx = pytest.importorskip("networkx")
    for net in (helsinki, sioux):
        G = net.to_networkx()
        src = 0
        ref = scipy_distances(net, net.free_flow_time, src)
        got = nx.single_source_dijkstra_path_length(G, int(net.node_ids[src]),
                                                    weight="free_flow_time")
        reach = np.isfinite(ref)
        assert len(got) == reach.sum() > 1
        for node, dist in got.items():
            assert dist == pytest.approx(ref[net.node_index(node)], abs=1e-9)


def test_networkx_parallel_links_and_zones(sioux):
    G = sioux.to_networkx()
    assert G.number_of_edges() == 76
    assert sum(1 for _, d in G.nodes(data=True) if d["zone"]) == 24
    net = Network.from_links([1, 1, 2], [2, 2, 1], length=[1, 2, 3], free_flow_time=1.0,
                             capacity=10.0)
    H = net.to_networkx()
    assert H.number_of_edges() == 3 and sorted(H[1][2]) == [0, 1]
    assert [H[1][2][k]["length"] for k in (0, 1)] == [1, 2]


# --------------------------------------------------------------------------- osmnx
def assert_same_network(a: Network, b: Network) -> None:
    for name in ("node_ids", "link_tail", "link_head", "link_type", "link_keys", "signalized",
                 "node_x", "node_y", *LINK_ATTRIBUTES):
        np.testing.assert_array_equal(getattr(a, name), getattr(b, name), err_msg=name)
    assert dict(a.link_type_names) == dict(b.link_type_names) and a.crs == b.crs
    assert dict(a.units) == dict(b.units)
    assert set(a.link_extra) == set(b.link_extra)
    for key in a.link_extra:
        np.testing.assert_array_equal(a.link_extra[key], b.link_extra[key], err_msg=key)
    assert all(g.equals(h) for g, h in zip(a.link_geometry, b.link_geometry))
    np.testing.assert_array_equal(a.node_extra["highway"], b.node_extra["highway"])


@pytest.mark.parametrize("simplify", [True, False])
def test_osmnx_round_trip(simplify):
    net = osm.read_osm(datasets.helsinki_pbf(), simplify=simplify)
    back = osm.from_osmnx(net.to_osmnx())
    assert_same_network(net, back)
    assert back.name == net.name


def test_osmnx_round_trip_converts_units():
    x = np.array([24.0, 24.01, 24.02])
    net = Network.from_links(
        [1, 2, 2], [2, 3, 1], node_ids=[1, 2, 3], length=[1.0, 2.0, 0.5],
        free_flow_time=[1.0, 3.0, 0.5], capacity=[1000, 2000, 1500], speed=[60, 40, 60],
        lanes=[1, 2, 1], link_type=[1, 2, 1], units={"length": "km", "free_flow_time": "min",
                                                     "speed": "km/h", "capacity": "veh/h"},
        node_x=x, node_y=np.full(3, 60.0), crs="EPSG:4326",
        link_extra={"gmns_link_id": [101, 102, 103]})
    G = net.to_osmnx()
    by_link = sorted((d["link"], d["length"], d["travel_time"]) for *_, d in G.edges(data=True))
    assert by_link == [(0, 1000.0, 60.0), (1, 2000.0, 180.0), (2, 500.0, 30.0)]  # m, s
    back = osm.from_osmnx(G)
    np.testing.assert_allclose(back.length, net.length * 1000)
    np.testing.assert_allclose(back.free_flow_time, net.free_flow_time * 60)
    np.testing.assert_array_equal(back.capacity, net.capacity)
    np.testing.assert_array_equal(back.lanes, net.lanes)
    np.testing.assert_array_equal(back.link_type, net.link_type)
    np.testing.assert_array_equal(back.link_ids, net.link_ids)
    np.testing.assert_array_equal(back.link_extra["gmns_link_id"], [101, 102, 103])
    assert back.link_geometry is None  # none stored: GeoDataFrames draw straight lines
    _, links = back.to_geodataframes()
    assert links.geometry.iloc[1].coords[:] == [(24.01, 60.0), (24.02, 60.0)]


def test_osmnx_functions_work_on_to_osmnx(helsinki):
    ox = pytest.importorskip("osmnx")
    nx = pytest.importorskip("networkx")
    G = helsinki.to_osmnx()
    nodes, edges = ox.convert.graph_to_gdfs(G)
    assert len(nodes) == helsinki.num_nodes and len(edges) == helsinki.num_links
    assert str(nodes.crs) == "EPSG:4326"
    # route between two nodes of the largest strongly connected part
    comp = max(nx.strongly_connected_components(G), key=len)
    ids = sorted(comp)
    orig, dest = ids[0], ids[len(ids) // 2]
    route = ox.routing.shortest_path(G, orig, dest, weight="travel_time")
    assert route[0] == orig and route[-1] == dest
    cost = sum(min(d["travel_time"] for d in G[u][v].values()) for u, v in zip(route, route[1:]))
    ref = scipy_distances(helsinki, helsinki.free_flow_time, helsinki.node_index(orig))
    assert cost == pytest.approx(ref[helsinki.node_index(dest)], rel=1e-12)
    # nearest_nodes on a projected copy (scipy's KD-tree; unprojected graphs need scikit-learn).
    k = helsinki.node_index(dest)
    P = ox.projection.project_graph(G)
    assert ox.distance.nearest_nodes(P, P.nodes[dest]["x"], P.nodes[dest]["y"]) == dest
    assert G.nodes[dest]["x"] == helsinki.node_x[k]


def test_to_osmnx_needs_coordinates_and_units(tntp_dir, sioux):
    braess = tntp.read_net(tntp_dir / "Braess-Example" / "Braess_net.tntp")
    with pytest.raises(smartcore.InputError, match="no node coordinates") as err:
        braess.to_osmnx()
    assert err.value.field == "node_x"
    with pytest.raises(smartcore.InputError, match="length") as err:
        sioux.to_osmnx()  # coordinates, but SiouxFalls states no length unit
    assert err.value.field == "length"
    # once units are stated (assumed here) and the coordinates are degrees, it works
    stated = sioux.replace(units={"length": "mi", "free_flow_time": "0.01 h", "speed": "mph",
                                  "capacity": "veh/h"})
    G = stated.to_osmnx()
    assert G.graph["crs"] == "EPSG:4326" and G.number_of_edges() == 76
    d = next(d for *_, d in G.edges(data=True) if d["link"] == 0)
    assert d["length"] == pytest.approx(sioux.length[0] * 1609.344)
    assert d["travel_time"] == pytest.approx(sioux.free_flow_time[0] * 36)
    projected = stated.replace(node_x=stated.node_x * 1e4, node_y=stated.node_y * 1e4)
    with pytest.raises(smartcore.InputError, match="crs") as err:
        projected.to_osmnx()
    assert err.value.field == "crs"


# --------------------------------------------------------------------------- GeoDataFrames
def test_geodataframes_osm(helsinki):
    nodes, links = helsinki.to_geodataframes()
    assert nodes.shape[0] == helsinki.num_nodes and links.shape[0] == helsinki.num_links
    assert nodes.crs.to_epsg() == 4326 and links.crs.to_epsg() == 4326
    np.testing.assert_array_equal(nodes.geometry.x.to_numpy(), helsinki.node_x)
    assert all(g.equals(h) for g, h in zip(links.geometry, helsinki.link_geometry))
    assert (links.geometry.geom_type == "LineString").all()


def test_geodataframes_straight_lines(sioux, tntp_dir):
    nodes, links = sioux.to_geodataframes()
    assert links.crs is None and len(links) == 76 and len(nodes) == 24
    t, h = sioux.link_tail, sioux.link_head
    start = np.array([g.coords[0] for g in links.geometry])
    end = np.array([g.coords[-1] for g in links.geometry])
    np.testing.assert_array_equal(start, np.column_stack([sioux.node_x[t], sioux.node_y[t]]))
    np.testing.assert_array_equal(end, np.column_stack([sioux.node_x[h], sioux.node_y[h]]))
    braess = tntp.read_net(tntp_dir / "Braess-Example" / "Braess_net.tntp")
    with pytest.raises(smartcore.InputError, match="coordinates"):
        convert.to_geodataframes(braess)
