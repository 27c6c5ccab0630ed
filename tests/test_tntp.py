"""TNTP readers on every shared network: counts against each file's own metadata and README."""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pytest

import smartcore
from smartcore import datasets
from smartcore.io import tntp

# (folder, prefix, nodes, links, zones, zones passable) as the TransportationNetworks README's
# summary table states them.
NETWORKS = [
    ("SiouxFalls", "SiouxFalls", 24, 76, 24, True),
    ("Braess-Example", "Braess", 4, 5, 2, True),
    ("Anaheim", "Anaheim", 416, 914, 38, False),
    ("Chicago-Sketch", "ChicagoSketch", 933, 2950, 387, True),
    ("Eastern-Massachusetts", "EMA", 74, 258, 74, True),
    ("Berlin-Friedrichshain", "friedrichshain-center", 224, 523, 23, False),
    ("Philadelphia", "Philadelphia", 13389, 40003, 1525, False),
]


def _raw_links(path: Path) -> np.ndarray:
    """Independent parse of the link lines: every line after the metadata that is not a comment."""
    text = path.read_text()
    body = text.split("<END OF METADATA>", 1)[1]
    rows = []
    for line in body.splitlines():
        s = line.strip()
        if s and not s.startswith("~"):
            rows.append([float(x) for x in s.rstrip(";").replace(";", "").split()])
    return np.array(rows)


@pytest.mark.parametrize("folder,prefix,nodes,links,zones,passable", NETWORKS)
def test_net_counts_and_values(tntp_dir, folder, prefix, nodes, links, zones, passable):
    path = tntp_dir / folder / f"{prefix}_net.tntp"
    net = smartcore.read_network(path)
    assert (net.num_nodes, net.num_links, net.num_zones) == (nodes, links, zones)
    assert net.zones_passable is passable
    raw = _raw_links(path)
    assert raw.shape == (links, 10)
    np.testing.assert_array_equal(net.link_ids, raw[:, :2].astype(np.int64))
    np.testing.assert_array_equal(net.capacity, raw[:, 2])
    np.testing.assert_array_equal(net.length, raw[:, 3])
    np.testing.assert_array_equal(net.free_flow_time, raw[:, 4])
    np.testing.assert_array_equal(net.bpr_alpha, raw[:, 5])
    np.testing.assert_array_equal(net.bpr_beta, raw[:, 6])
    np.testing.assert_array_equal(net.toll, raw[:, 8])
    np.testing.assert_array_equal(net.link_type, raw[:, 9].astype(np.int32))
    # Zones are the first dense nodes and are TNTP nodes 1..Z.
    np.testing.assert_array_equal(net.zone_ids, np.arange(1, zones + 1))


@pytest.mark.parametrize("folder,prefix,nodes,links,zones,passable", NETWORKS)
def test_csr_stars_agree_with_links(tntp_dir, folder, prefix, nodes, links, zones, passable):
    net = smartcore.read_network(tntp_dir / folder / f"{prefix}_net.tntp")
    assert net.fs_first[0] == 0 and net.fs_first[-1] == links
    for v in range(0, net.num_nodes, max(1, net.num_nodes // 50)):
        out = net.fs_link[net.fs_first[v]:net.fs_first[v + 1]]
        np.testing.assert_array_equal(out, np.flatnonzero(net.link_tail == v))
        np.testing.assert_array_equal(net.fs_head[net.fs_first[v]:net.fs_first[v + 1]], net.link_head[out])
        inc = net.bs_link[net.bs_first[v]:net.bs_first[v + 1]]
        np.testing.assert_array_equal(inc, np.flatnonzero(net.link_head == v))
    assert net.fs_first.dtype == np.int32 and net.fs_link.flags.c_contiguous
    assert not net.capacity.flags.writeable


TRIPS = [
    ("SiouxFalls", "SiouxFalls", 24, 360600.0),
    ("Braess-Example", "Braess", 2, 6.0),
    ("Anaheim", "Anaheim", 38, 104694.40),
    ("Chicago-Sketch", "ChicagoSketch", 387, 1260907.4400005303),
    ("Eastern-Massachusetts", "EMA", 74, 65576.37543099989),
    ("Berlin-Friedrichshain", "friedrichshain-center", 23, 11205.099999999995),
]


@pytest.mark.parametrize("folder,prefix,zones,total", TRIPS)
def test_trips_total_matches_header(tntp_dir, folder, prefix, zones, total):
    net = smartcore.read_network(tntp_dir / folder / f"{prefix}_net.tntp")
    demand = smartcore.read_demand(tntp_dir / folder / f"{prefix}_trips.tntp", net)
    assert demand.num_zones == zones
    assert demand.total == pytest.approx(total, rel=1e-9)
    np.testing.assert_array_equal(demand.zone_nodes(net), np.arange(zones))


def test_trips_values_independent_parse(tntp_dir):
    # SiouxFalls origin 1 -> 10 is 1300 trips, 10 -> 1 is 1300 too (LeBlanc 1975 table x 100).
    d = smartcore.read_demand(tntp_dir / "SiouxFalls" / "SiouxFalls_trips.tntp")
    assert d.matrix[0, 9] == 1300.0 and d.matrix[9, 0] == 1300.0
    text = (tntp_dir / "SiouxFalls" / "SiouxFalls_trips.tntp").read_text()
    pairs = re.findall(r"(\d+)\s*:\s*([\d.]+)", text.split("<END OF METADATA>")[1])
    assert len(pairs) == 24 * 24
    # Chicago-Sketch: 9.8% of trips are intrazonal (NOTES.md).
    c = datasets.load_demand("ChicagoSketch")
    assert c.intrazonal / c.total == pytest.approx(0.098, abs=0.001)


@pytest.mark.parametrize("folder,prefix,links", [("SiouxFalls", "SiouxFalls", 76),
                                                 ("Anaheim", "Anaheim", 914),
                                                 ("Chicago-Sketch", "ChicagoSketch", 2950)])
def test_flows_align_with_network(tntp_dir, folder, prefix, links):
    net = smartcore.read_network(tntp_dir / folder / f"{prefix}_net.tntp")
    flows = tntp.read_flows(tntp_dir / folder / f"{prefix}_flow.tntp")
    assert len(flows) == links
    v = flows.link_flows(net)
    assert v.shape == (links,) and (v >= 0).all()
    # SiouxFalls link 1->2 carries 4494.66 in the best-known file.
    if prefix == "SiouxFalls":
        assert v[net.link_index(1, 2)[0]] == pytest.approx(4494.6576464564205)


def test_node_coordinates_attached(tntp_dir):
    net = smartcore.read_network(tntp_dir / "SiouxFalls" / "SiouxFalls_net.tntp")
    assert net.node_x is not None
    assert net.node_x[0] == pytest.approx(-96.77041974) and net.node_y[0] == pytest.approx(43.61282792)
    phil = smartcore.read_network(tntp_dir / "Philadelphia" / "Philadelphia_net.tntp")
    assert phil.node_x is not None and phil.node_x[0] == 30208 and phil.node_y[0] == 74789


def test_units_from_original_header(tntp_dir):
    net = smartcore.read_network(tntp_dir / "Anaheim" / "Anaheim_net.tntp")
    assert net.units["length"] == "ft" and net.units["free_flow_time"] == "min"
    # 5280 ft = 1 mile
    assert net.attribute("length", "mi")[0] == pytest.approx(1.0)
    with pytest.raises(smartcore.InputError, match="not stated"):
        smartcore.read_network(tntp_dir / "Braess-Example" / "Braess_net.tntp").attribute("length", "m")


def test_datasets_known_units_and_cost_factors():
    net, demand = datasets.tntp("ChicagoSketch")
    assert net.metadata["distance_factor"] == 0.04 and net.metadata["toll_factor"] == 0.02
    sf, _ = datasets.tntp("SiouxFalls")
    # SiouxFalls free-flow times are in 0.01 h: link 1->2 has 6 -> 0.06 h = 3.6 min.
    assert sf.attribute("free_flow_time", "min")[sf.link_index(1, 2)[0]] == pytest.approx(3.6)


def test_tntp_round_trip(tmp_path, tntp_dir):
    net = smartcore.read_network(tntp_dir / "Anaheim" / "Anaheim_net.tntp")
    out = tmp_path / "A_net.tntp"
    tntp.write_net(net, out)
    back = smartcore.read_network(out)
    for attr in smartcore.network.LINK_ATTRIBUTES:
        np.testing.assert_array_equal(getattr(back, attr), getattr(net, attr))
    np.testing.assert_array_equal(back.link_ids, net.link_ids)
    assert back.zones_passable == net.zones_passable and back.num_zones == net.num_zones
    assert dict(back.units) == dict(net.units)
    d = smartcore.read_demand(tntp_dir / "Anaheim" / "Anaheim_trips.tntp", net)
    tntp.write_trips(d, tmp_path / "A_trips.tntp")
    np.testing.assert_array_equal(smartcore.read_demand(tmp_path / "A_trips.tntp", back).matrix, d.matrix)


def test_osm_network_to_tntp_renumbers_and_keeps_the_mapping(tmp_path):
    helsinki = datasets.load_network("helsinki")
    out = tmp_path / "hel_net.tntp"
    tntp.write_net(helsinki, out)
    back = smartcore.read_network(out)
    assert (back.num_nodes, back.num_links) == (helsinki.num_nodes, helsinki.num_links)
    np.testing.assert_array_equal(back.length, helsinki.length)
    np.testing.assert_array_equal(back.node_x, helsinki.node_x)
    import csv

    with open(tmp_path / "hel_node_ids.csv") as fh:
        mapping = {int(r["tntp_node"]): int(r["original_id"]) for r in csv.DictReader(fh)}
    original = np.array([[mapping[a], mapping[b]] for a, b in back.link_ids.tolist()])
    np.testing.assert_array_equal(original, helsinki.link_ids)
