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
