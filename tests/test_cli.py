"""The smartcore command line: help, info, convert, run; exit codes; import stays light."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

import smartcore
from smartcore.cli import main


def run(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "smartcore", *args], capture_output=True, text=True)


def test_help_explains_itself():
    r = run("--help")
    assert r.returncode == 0
    for word in ("info", "convert", "run", "TNTP", "OpenStreetMap"):
        assert word in r.stdout
    for sub in ("info", "convert", "run"):
        r = run(sub, "--help")
        assert r.returncode == 0 and "usage: smartcore " + sub in r.stdout


def test_no_command_prints_help(capsys):
    assert main([]) == 2
    assert "usage:" in capsys.readouterr().out


def test_info_tntp(tntp_dir, capsys):
    assert main(["info", str(tntp_dir / "Anaheim" / "Anaheim_net.tntp")]) == 0
    out = capsys.readouterr().out
    assert "416" in out and "914" in out and "38" in out and "not passed through" in out


def test_info_json_and_dataset_name(capsys):
    assert main(["info", "SiouxFalls", "--json"]) == 0
    s = json.loads(capsys.readouterr().out)
    assert (s["nodes"], s["links"], s["zones"]) == (24, 76, 24)
    assert s["units"]["free_flow_time"] == "0.01 h"


def test_info_units_option(tntp_dir, capsys):
    assert main(["info", str(tntp_dir / "Braess-Example" / "Braess_net.tntp"), "--json",
                 "--units", "length=m"]) == 0
    assert json.loads(capsys.readouterr().out)["units"] == {"length": "m"}


def test_convert_tntp_round_trip(tntp_dir, tmp_path):
    out = tmp_path / "SF_net.tntp"
    r = run("convert", str(tntp_dir / "SiouxFalls" / "SiouxFalls_net.tntp"), str(out))
    assert r.returncode == 0, r.stderr
    a = smartcore.read_network(tntp_dir / "SiouxFalls" / "SiouxFalls_net.tntp")
    b = smartcore.read_network(out)
    assert (b.capacity == a.capacity).all() and (b.link_ids == a.link_ids).all()


def test_bad_input_exit_code(tmp_path):
    r = run("info", str(tmp_path / "missing_net.tntp"))
    assert r.returncode == 2
    assert "error" in r.stderr and "Traceback" not in r.stderr
    r = run("info", "NoSuchNetwork")
    assert r.returncode == 2 and "unknown TNTP network" in r.stderr


def test_import_is_light():
    """`import smartcore` must not import the heavy optional libraries (they load lazily)."""
    code = ("import sys, smartcore; heavy = [m for m in ('pandas', 'osmnx', 'geopandas', 'pyrosm', "
            "'ortools', 'numba', 'networkx', 'shapely', 'h5py') if m in sys.modules]; print(heavy)")
    r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert r.returncode == 0, r.stderr
    assert r.stdout.strip() == "[]"


@pytest.mark.parametrize("attr", ["Network", "Demand", "read_network", "read_demand", "FormatError"])
def test_public_api_names(attr):
    assert hasattr(smartcore, attr)


def test_route_path_and_isochrone(capsys):
    # SiouxFalls 1 -> 20 by free-flow time: 1-2-6-8-7-18-20 (6+5+2+3+2+4 = 22 x 0.01 h), checked
    # against scipy in test_routing; here the command must print it with its unit.
    assert main(["route", "SiouxFalls", "--from", "1", "--to", "20"]) == 0
    out = capsys.readouterr().out
    assert "cost 22 0.01 h over 6 links" in out and "nodes: 1 2 6 8 7 18 20" in out
    assert main(["route", "SiouxFalls", "--from", "1", "--radius", "4"]) == 0
    # nodes within 4 x 0.01 h of node 1: 1 (0), 3 (4) -> 2 nodes (the link 1->2 costs 6)
    assert "2 nodes within 4" in capsys.readouterr().out


def test_route_skim_to_omx(tmp_path, tntp_dir):
    import h5py
    import numpy as np
    from scipy.sparse import csr_matrix
    from scipy.sparse.csgraph import dijkstra

    out = tmp_path / "skim.omx"
    assert main(["route", str(tntp_dir / "Braess-Example" / "Braess_net.tntp"), "--skim",
                 "--out", str(out)]) == 0
    net = smartcore.read_network(tntp_dir / "Braess-Example" / "Braess_net.tntp")
    g = csr_matrix((net.free_flow_time, (net.link_tail, net.link_head)), shape=(4, 4))
    ref = dijkstra(g)[:2, :2]
    with h5py.File(out) as f:
        np.testing.assert_allclose(f["data/cost"][()], ref)
        assert f["lookup/zone_id"][()].tolist() == [1, 2]


def test_route_needs_a_question():
    r = run("route", "SiouxFalls")
    assert r.returncode == 2 and "--from" in r.stderr
