"""GMNS reader and writer: TNTP -> GMNS -> Network round trips on every shared network, checked
against an independent parse of the TNTP files and a pandas read of the written CSVs; a small
hand-written folder following the GMNS 0.96 spec with units converted by hand; bad inputs."""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import shapely

import smartcore
from smartcore import datasets
from smartcore.io import gmns
from smartcore.network import LINK_ATTRIBUTES

NET_FILES = ["SiouxFalls/SiouxFalls_net.tntp", "Braess-Example/Braess_net.tntp",
             "Anaheim/Anaheim_net.tntp", "Chicago-Sketch/ChicagoSketch_net.tntp",
             "Eastern-Massachusetts/EMA_net.tntp",
             "Berlin-Friedrichshain/friedrichshain-center_net.tntp",
             "Philadelphia/Philadelphia_net.tntp"]


def _tntp_raw(path: Path) -> tuple[dict[str, str], np.ndarray]:
    """Independent parse of a _net.tntp file: header tags and the 10 link columns."""
    head, body = path.read_text().split("<END OF METADATA>", 1)
    tags = {k.strip().upper(): v.split("~")[0].strip() for k, v in re.findall(r"<([^>]+)>([^\n]*)", head)}
    rows = [[float(x) for x in s.strip().rstrip(";").replace(";", "").split()]
            for s in body.splitlines() if s.strip() and not s.strip().startswith("~")]
    return tags, np.array(rows)


def _assert_same_network(a: smartcore.Network, b: smartcore.Network) -> None:
    for attr in LINK_ATTRIBUTES:
        np.testing.assert_array_equal(getattr(b, attr), getattr(a, attr), err_msg=attr)
    for attr in ("node_ids", "link_tail", "link_head", "link_type", "signalized"):
        np.testing.assert_array_equal(getattr(b, attr), getattr(a, attr), err_msg=attr)
    for attr in ("node_x", "node_y"):
        if getattr(a, attr) is None:
            assert getattr(b, attr) is None
        else:
            np.testing.assert_array_equal(getattr(b, attr), getattr(a, attr), err_msg=attr)
    assert (b.num_zones, b.first_thru_node, b.zones_passable) == (a.num_zones, a.first_thru_node,
                                                                  a.zones_passable)
    assert dict(b.units) == dict(a.units)
    assert (b.name, b.crs) == (a.name, a.crs)
    assert dict(b.link_type_names) == dict(a.link_type_names)
    assert {k: v for k, v in b.metadata.items() if k != "gmns"} == \
        {k: v for k, v in a.metadata.items() if k != "gmns"}


@pytest.mark.parametrize("rel", NET_FILES)
def test_tntp_gmns_round_trip_is_lossless(tmp_path, tntp_dir, rel):
    path = tntp_dir / rel
    net = smartcore.read_network(path)
    out = tmp_path / "gmns"
    smartcore.io.write_network(net, out)  # a folder name without extension -> GMNS
    back = smartcore.read_network(out)
    _assert_same_network(net, back)
    np.testing.assert_array_equal(back.link_keys, np.arange(1, net.num_links + 1))
    assert not back.link_extra and not back.node_extra and back.link_geometry is None

    # Independent check of the files: pandas on the CSVs against a separate parse of the TNTP file.
    tags, raw = _tntp_raw(path)
    links = pd.read_csv(out / "link.csv")
    nodes = pd.read_csv(out / "node.csv")
    config = pd.read_csv(out / "config.csv", keep_default_na=False)
    assert len(links) == int(float(tags["NUMBER OF LINKS"])) == len(raw)
    np.testing.assert_array_equal(links["from_node_id"], raw[:, 0])
    np.testing.assert_array_equal(links["to_node_id"], raw[:, 1])
    # GMNS capacity is per lane: capacity x lanes is the TNTP link capacity.
    np.testing.assert_array_equal(links["capacity"] * links["lanes"], raw[:, 2])
    np.testing.assert_array_equal(links["length"], raw[:, 3])
    np.testing.assert_array_equal(links["free_flow_time"], raw[:, 4])
    np.testing.assert_array_equal(links["bpr_alpha"], raw[:, 5])
    np.testing.assert_array_equal(links["bpr_beta"], raw[:, 6])
    np.testing.assert_array_equal(links["free_speed"], raw[:, 7])
    np.testing.assert_array_equal(links["toll"], raw[:, 8])
    np.testing.assert_array_equal(links["link_type"], raw[:, 9])
    assert links["link_id"].is_unique and (links["directed"] == True).all()  # noqa: E712
    zones = int(float(tags["NUMBER OF ZONES"]))
    centroids = nodes[nodes["node_type"] == "centroid"]
    np.testing.assert_array_equal(centroids["node_id"], np.arange(1, zones + 1))
    np.testing.assert_array_equal(centroids["zone_id"], centroids["node_id"])
    assert len(nodes) == int(float(tags["NUMBER OF NODES"]))
    first_thru = int(float(tags.get("FIRST THRU NODE", "1")))
    assert config.loc[0, "zones_passable"] == (first_thru <= 1)
    assert str(config.loc[0, "version_number"]) == gmns.GMNS_VERSION


def test_units_and_metadata_survive(tmp_path):
    # ChicagoSketch: README units (miles, mph, cents) and the generalised-cost factors.
    net, _ = datasets.tntp("ChicagoSketch")
    gmns.write_gmns(net, tmp_path / "chicago")
    config = pd.read_csv(tmp_path / "chicago" / "config.csv", keep_default_na=False)
    assert (config.loc[0, "long_length"], config.loc[0, "speed"], config.loc[0, "currency"]) == \
        ("mi", "mph", "cents")
    assert config.loc[0, "free_flow_time_unit"] == "min"
    back = gmns.read_gmns(tmp_path / "chicago")
    _assert_same_network(net, back)
    assert back.metadata["distance_factor"] == 0.04 and back.metadata["toll_factor"] == 0.02
    # 1 mile = 1609.344 m (international mile).
    np.testing.assert_allclose(back.attribute("length", "m"), net.length * 1609.344, rtol=1e-15)


def test_lanes_geometry_extras_and_keys_round_trip(tmp_path, tntp_dir):
    net = smartcore.read_network(tntp_dir / "SiouxFalls" / "SiouxFalls_net.tntp")
    m = net.num_links
    rng = np.random.default_rng(7)
    lanes = rng.integers(0, 6, m).astype(float)
    lanes[0] = 3.0
    x, y = net.node_x, net.node_y
    geoms = np.empty(m, dtype=object)
    for k, (t, h) in enumerate(zip(net.link_tail, net.link_head)):
        mid = ((x[t] + x[h]) / 2 + rng.normal() * 1e-3, (y[t] + y[h]) / 2 + rng.normal() * 1e-3)
        geoms[k] = None if k == 5 else shapely.LineString([(x[t], y[t]), mid, (x[h], y[h])])
    rich = net.replace(
        lanes=lanes,
        capacity=net.capacity * np.pi,  # per-lane values that do not multiply back exactly
        link_keys=np.arange(m) % 3,  # osmnx-style keys: not unique link ids
        link_geometry=geoms,
        crs="EPSG:4326",
        signalized=np.arange(net.num_nodes) % 4 == 0,
        link_type_names={int(net.link_type[0]): "arterial"},
        link_extra={"name": np.array([f"road, {k}" for k in range(m)], dtype=object),
                    "grade": rng.normal(size=m), "count": np.arange(m, dtype=np.int64),
                    "bus": np.arange(m) % 2 == 0},
        node_extra={"elevation": rng.normal(size=net.num_nodes)},
    )
    gmns.write_gmns(rich, tmp_path / "sf")
    back = gmns.read_gmns(tmp_path / "sf")
    _assert_same_network(rich, back)
    np.testing.assert_array_equal(back.link_keys, rich.link_keys)
    for k in range(m):
        if geoms[k] is None:
            assert back.link_geometry[k] is None
        else:
            np.testing.assert_array_equal(shapely.get_coordinates(back.link_geometry[k]),
                                          shapely.get_coordinates(geoms[k]))
    for key, values in rich.link_extra.items():
        assert back.link_extra[key].dtype.kind == values.dtype.kind
        np.testing.assert_array_equal(back.link_extra[key], values)
    np.testing.assert_array_equal(back.node_extra["elevation"], rich.node_extra["elevation"])
    # pandas: per-lane capacity x lanes equals the link capacity, exactly where link_capacity is
    # empty and to rounding elsewhere; lanes = 0 has no per-lane capacity.
    links = pd.read_csv(tmp_path / "sf" / "link.csv")
    exact = links["link_capacity"].isna()
    np.testing.assert_array_equal((links["capacity"] * links["lanes"])[exact], rich.capacity[exact])
    np.testing.assert_array_equal(links["link_capacity"][~exact], rich.capacity[~exact])
    zero = links["lanes"] == 0
    assert links["capacity"][zero].isna().all() and (~exact[zero]).all()
    np.testing.assert_allclose((links["capacity"] * links["lanes"])[~zero], rich.capacity[~zero],
                               rtol=1e-15)


SPEC_CONFIG = """dataset_name,short_length,long_length,speed,crs,geometry_field_format,currency,version_number
Tiny,foot,mile,mph,4326,WKT,USD,0.96
"""
SPEC_NODES = """node_id,name,x_coord,y_coord,z_coord,node_type,ctrl_type,zone_id,parent_node_id
10,Main & 1st,-71.10,42.36,,intersection,signal,,
11,,-71.09,42.36,,intersection,stop,,
12,,-71.08,42.37,,,none,2,
1,Zone 1,-71.11,42.35,,centroid,,1,
2,Zone 2,-71.07,42.38,,centroid,,,
"""
SPEC_LINKS = (
    "link_id,name,from_node_id,to_node_id,directed,geometry,dir_flag,length,facility_type,"
    "capacity,free_speed,lanes,allowed_uses,toll\n"
    '100,"Main St, east",10,11,TRUE,"LINESTRING (-71.09 42.36, -71.095 42.361, -71.10 42.36)",'
    '-1,0.5,arterial,1800,30,2,"auto, bike",0\n'
    "101,Connector,1,10,TRUE,,,0.25,connector,9999,15,1,auto,0\n"
    "102,Side St,11,12,FALSE,,,0.75,local,600,25,1,auto,0.5\n"
    "103,Connector,12,2,true,,,0.1,connector,9999,15,1,auto,0\n"
)

def _spec_folder(tmp: Path, *, config: str | None = SPEC_CONFIG, nodes: str = SPEC_NODES,
                 links: str = SPEC_LINKS) -> Path:
    folder = tmp / "tiny"
    folder.mkdir(exist_ok=True)
    if config is not None:
        (folder / "config.csv").write_text(config)
    (folder / "node.csv").write_text(nodes)
    (folder / "link.csv").write_text(links)
    return folder


def test_hand_written_spec_folder(tmp_path):
    net = smartcore.read_network(_spec_folder(tmp_path))
    assert net.name == "Tiny" and net.crs == "EPSG:4326"
    # zones: the centroid nodes, in node.csv order, first in dense order; passable by default.
    np.testing.assert_array_equal(net.zone_ids, [1, 2])
    np.testing.assert_array_equal(net.node_ids, [1, 2, 10, 11, 12])
    assert net.zones_passable
    np.testing.assert_array_equal(net.signalized, [False, False, True, False, False])
    # the undirected Side St row becomes 11->12 then 12->11
    np.testing.assert_array_equal(net.link_ids, [[10, 11], [1, 10], [11, 12], [12, 11], [12, 2]])
    np.testing.assert_array_equal(net.link_keys, [100, 101, 102, 102, 103])
    # capacity per lane x lanes: 1800 x 2 = 3600 veh/h
    np.testing.assert_array_equal(net.capacity, [3600, 9999, 600, 600, 9999])
    assert net.units["capacity"] == "veh/h"
    # lengths in miles, speeds in mph as the config states; hand conversions:
    # 0.5 mi = 804.672 m; 30 mph = 48.28032 km/h; t = 0.5 mi / 30 mph = 1 min = 60 s,
    # 0.25 / 15 h = 60 s, 0.75 / 25 h = 108 s, 0.1 / 15 h = 24 s.
    np.testing.assert_array_equal(net.length, [0.5, 0.25, 0.75, 0.75, 0.1])
    assert net.attribute("length", "m")[0] == pytest.approx(804.672, rel=1e-15)
    assert net.attribute("speed", "km/h")[0] == pytest.approx(48.28032, rel=1e-15)
    np.testing.assert_allclose(net.free_flow_time, [60, 60, 108, 108, 24], rtol=1e-14)
    assert net.units["free_flow_time"] == "s"
    np.testing.assert_allclose(net.attribute("free_flow_time", "min"), [1, 1, 1.8, 1.8, 0.4],
                               rtol=1e-14)
    assert net.units["toll"] == "USD" and net.toll[2] == 0.5
    np.testing.assert_array_equal(net.bpr_alpha, 0.15)
    np.testing.assert_array_equal(net.bpr_beta, 4.0)
    names = {v: k for k, v in net.link_type_names.items()}
    assert [net.link_type_names[c] for c in net.link_type] == \
        ["arterial", "connector", "local", "local", "connector"]
    assert set(names) == {"arterial", "connector", "local"}
    # dir_flag = -1: the shape points run to -> from; the network stores them tail -> head.
    assert list(net.link_geometry[0].coords) == [(-71.10, 42.36), (-71.095, 42.361), (-71.09, 42.36)]
    assert net.link_geometry[1] is None
    assert list(net.link_extra["name"]) == ["Main St, east", "Connector", "Side St", "Side St",
                                            "Connector"]
    assert net.link_extra["allowed_uses"][0] == "auto, bike"
    # node 12 lies in zone 2 without being its centroid: kept as an attribute
    assert net.node_extra["zone_id"][net.node_index(12)] == 2
    assert net.node_extra["ctrl_type"][net.node_index(11)] == "stop"
    assert net.metadata["gmns"]["short_length"] == "foot"
    np.testing.assert_array_equal(net.node_x, [-71.11, -71.07, -71.10, -71.09, -71.08])

    # and GMNS -> GMNS keeps it all
    gmns.write_gmns(net, tmp_path / "again")
    again = gmns.read_gmns(tmp_path / "again")
    _assert_same_network(net, again)
    assert pd.read_csv(tmp_path / "again" / "config.csv").loc[0, "short_length"] == "foot"
    np.testing.assert_array_equal(again.link_keys, net.link_keys)
    for key in net.link_extra:
        np.testing.assert_array_equal(again.link_extra[key], net.link_extra[key])
    for key in net.node_extra:
        np.testing.assert_array_equal(again.node_extra[key], net.node_extra[key])


def test_zones_by_zone_id_and_units_keyword(tmp_path):
    # DTALite/Path4GMNS style: no node_type, centroids carry zone_id = node_id; no config.csv,
    # osm2gmns-style metres and km/h given as units=.
    nodes = "node_id,zone_id,x_coord,y_coord\n1,1,0,0\n2,2,1,0\n3,,0.5,1\n"
    links = ("link_id,from_node_id,to_node_id,length,free_speed,capacity,lanes\n"
             "1,1,3,500,36,1000,1\n2,3,2,500,36,1000,1\n3,2,1,1000,72,1000,1\n")
    folder = _spec_folder(tmp_path, config=None, nodes=nodes, links=links)
    with pytest.raises(smartcore.FormatError) as err:
        gmns.read_gmns(folder)
    assert Path(err.value.path).name == "config.csv" and err.value.field == "long_length"
    net = gmns.read_gmns(folder, units={"length": "m", "speed": "km/h"})
    np.testing.assert_array_equal(net.zone_ids, [1, 2])
    # 500 m at 36 km/h (10 m/s) = 50 s; 1000 m at 72 km/h (20 m/s) = 50 s
    np.testing.assert_allclose(net.free_flow_time, [50, 50, 50], rtol=1e-14)
    assert net.name == "tiny"


def test_zones_not_passable_flag(tmp_path, tntp_dir):
    net = smartcore.read_network(tntp_dir / "Anaheim" / "Anaheim_net.tntp")
    assert not net.zones_passable
    gmns.write_gmns(net, tmp_path / "a")
    text = (tmp_path / "a" / "config.csv").read_text()
    assert "zones_passable" in text.splitlines()[0] and "FALSE" in text.splitlines()[1]
    assert gmns.read_gmns(tmp_path / "a").first_thru_node == 38


# ------------------------------------------------------------------------------- bad inputs
def _replace_line(text: str, line: int, new: str) -> str:
    lines = text.splitlines()
    lines[line - 1] = new
    return "\n".join(lines) + "\n"


BAD = [
    # (what, file to corrupt, corruption, expected file, line, field)
    ("missing node column", "node", lambda t: t.replace("x_coord", "xx"), "node.csv", 1, "x_coord"),
    ("missing link column", "link", lambda t: t.replace("from_node_id", "from"), "link.csv", 1,
     "from_node_id"),
    ("non-numeric length", "link", lambda t: t.replace(",0.25,", ",quarter,"), "link.csv", 3,
     "length"),
    ("unknown node", "link", lambda t: t.replace("12,2,true", "12,99,true"), "link.csv", 5,
     "to_node_id"),
    ("negative capacity", "link", lambda t: t.replace(",600,", ",-600,"), "link.csv", 4,
     "capacity"),
    ("zero capacity", "link", lambda t: t.replace(",600,", ",0,"), "link.csv", 4, "capacity"),
    ("empty capacity", "link", lambda t: t.replace(",600,", ",,"), "link.csv", 4, "capacity"),
    ("duplicate link_id", "link", lambda t: t.replace("103,Connector", "101,Connector"),
     "link.csv", 5, "link_id"),
    ("duplicate node_id", "node", lambda t: t.replace("12,,-71.08", "10,,-71.08"), "node.csv", 4,
     "node_id"),
    ("empty file", "link", lambda t: "", "link.csv", 1, None),
    ("header only", "node", lambda t: t.splitlines()[0] + "\n", "node.csv", 1, "node_id"),
    ("wrong field count", "link", lambda t: _replace_line(t, 3, "101,Connector,1,10"), "link.csv",
     3, "directed"),
    ("non-integer node id", "node", lambda t: t.replace("11,,-71.09", "B11,,-71.09"), "node.csv",
     3, "node_id"),
    ("infinite coordinate", "node", lambda t: t.replace("-71.09", "inf"), "node.csv", 3,
     "x_coord"),
    ("bad boolean", "link", lambda t: t.replace("FALSE", "maybe"), "link.csv", 4, "directed"),
    ("negative length", "link", lambda t: t.replace(",0.75,", ",-0.75,"), "link.csv", 4,
     "length"),
    ("zero speed", "link", lambda t: t.replace(",25,1,", ",0,1,"), "link.csv", 4, "free_speed"),
    ("bad WKT", "link", lambda t: t.replace("LINESTRING (", "LINESTRING ("
                                            "oops "), "link.csv", 2, "geometry"),
    ("exact duplicate link", "link",
     lambda t: t + "104,Connector,12,2,TRUE,,,0.1,connector,9999,15,1,auto,0\n", "link.csv", 6,
     "from_node_id"),
    ("bad zones_passable", "config",
     lambda t: t.replace("version_number\n", "version_number,zones_passable\n")
     .replace("0.96\n", "0.96,perhaps\n"), "config.csv", 2, "zones_passable"),
    ("two config rows", "config", lambda t: t + "Tiny,foot,mile,mph,4326,WKT,USD,0.96\n",
     "config.csv", 3, None),
    ("centroid with another zone_id", "node", lambda t: t.replace("centroid,,1,", "centroid,,7,"),
     "node.csv", 5, "zone_id"),
]


@pytest.mark.parametrize("what,which,corrupt,file,line,field", BAD, ids=[b[0] for b in BAD])
def test_bad_input_names_file_line_field(tmp_path, what, which, corrupt, file, line, field):
    texts = {"config": SPEC_CONFIG, "node": SPEC_NODES, "link": SPEC_LINKS}
    texts[which] = corrupt(texts[which])
    folder = _spec_folder(tmp_path, config=texts["config"], nodes=texts["node"],
                          links=texts["link"])
    with pytest.raises(smartcore.FormatError) as err:
        gmns.read_gmns(folder)
    e = err.value
    assert (Path(e.path).name, e.line, e.field) == (file, line, field), str(e)
    assert str(e).startswith(f"{e.path}:{line}: ")


@pytest.mark.parametrize("data,line", [
    (SPEC_LINKS.replace("Side St", "Rue d\xe9").encode("latin-1"), 4),
    (SPEC_LINKS.encode("utf-16"), 1),
])
def test_wrong_encoding(tmp_path, data, line):
    folder = _spec_folder(tmp_path)
    (folder / "link.csv").write_bytes(data)
    with pytest.raises(smartcore.FormatError) as err:
        gmns.read_gmns(folder)
    assert (Path(err.value.path).name, err.value.line, err.value.field) == ("link.csv", line,
                                                                           "encoding")


def test_missing_files(tmp_path):
    folder = _spec_folder(tmp_path)
    (folder / "node.csv").unlink()
    with pytest.raises(smartcore.FormatError) as err:
        gmns.read_gmns(folder)
    assert Path(err.value.path).name == "node.csv"
    with pytest.raises(smartcore.FormatError):
        gmns.read_gmns(tmp_path / "nowhere")


def test_failed_write_leaves_nothing(tmp_path, tntp_dir, monkeypatch):
    net = smartcore.read_network(tntp_dir / "Braess-Example" / "Braess_net.tntp")
    out = tmp_path / "out"
    # an extra attribute that cannot be a CSV column
    bad = net.replace(link_extra={"matrix": np.zeros((net.num_links, 2))})
    with pytest.raises(smartcore.InputError):
        gmns.write_gmns(bad, out)
    clash = net.replace(link_extra={"capacity": np.zeros(net.num_links)})
    with pytest.raises(smartcore.InputError, match="clashes"):
        gmns.write_gmns(clash, out)
    assert list(tmp_path.iterdir()) == []

    # a failure half-way through writing (after node.csv) leaves no folder and no temporary one
    real = gmns._write_csv

    def fail_on_links(path, columns):
        if path.name == "link.csv":
            raise OSError("disk full")
        real(path, columns)

    monkeypatch.setattr(gmns, "_write_csv", fail_on_links)
    with pytest.raises(OSError, match="disk full"):
        gmns.write_gmns(net, out)
    assert list(tmp_path.iterdir()) == []
    # ... and an existing folder survives a failed rewrite untouched
    monkeypatch.setattr(gmns, "_write_csv", real)
    gmns.write_gmns(net, out)
    before = {p.name: p.read_bytes() for p in out.iterdir()}
    monkeypatch.setattr(gmns, "_write_csv", fail_on_links)
    with pytest.raises(OSError):
        gmns.write_gmns(net.replace(name="other"), out)
    assert {p.name: p.read_bytes() for p in out.iterdir()} == before
    assert [p.name for p in tmp_path.iterdir()] == ["out"]
