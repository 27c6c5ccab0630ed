"""Bad input: every case raises a smartcore error naming file, line and field, and no output is
left behind by a failed conversion."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

import smartcore
from smartcore import FormatError, InputError
from smartcore.io import tntp

GOOD_NET = """<NUMBER OF ZONES> 2
<NUMBER OF NODES> 4
<FIRST THRU NODE> 1
<NUMBER OF LINKS> 3
<END OF METADATA>


~\tinit_node\tterm_node\tcapacity\tlength\tfree_flow_time\tb\tpower\tspeed\ttoll\tlink_type\t;
\t1\t3\t100\t1\t2\t0.15\t4\t0\t0\t1\t;
\t3\t2\t100\t1\t2\t0.15\t4\t0\t0\t1\t;
\t1\t4\t100\t1\t2\t0.15\t4\t0\t0\t1\t;
"""

GOOD_TRIPS = """<NUMBER OF ZONES> 2
<TOTAL OD FLOW> 30.0
<END OF METADATA>

Origin 1
    1 :    0.0;    2 :    10.0;
Origin 2
    1 :   20.0;
"""


def write(tmp_path: Path, name: str, text: str | bytes) -> Path:
    p = tmp_path / name
    if isinstance(text, bytes):
        p.write_bytes(text)
    else:
        p.write_text(text)
    return p


def test_good_files_load(tmp_path):
    net = smartcore.read_network(write(tmp_path, "g_net.tntp", GOOD_NET))
    assert (net.num_nodes, net.num_links, net.num_zones) == (4, 3, 2)
    d = smartcore.read_demand(write(tmp_path, "g_trips.tntp", GOOD_TRIPS), net)
    assert d.matrix.tolist() == [[0.0, 10.0], [20.0, 0.0]]


def expect(exc_info, path: Path, line: int | None, field: str | None) -> None:
    err = exc_info.value
    assert isinstance(err, smartcore.SmartcoreError)
    assert err.path == os.fspath(path)
    assert err.line == line, str(err)
    assert err.field == field, str(err)
    assert os.fspath(path) in str(err)
    if line is not None:
        assert f":{line}:" in str(err)


@pytest.mark.parametrize("mutate,line,field", [
    # truncated: the last link line is missing
    (lambda s: s.rsplit("\t1\t4", 1)[0], 10, "NUMBER OF LINKS"),
    # non-numeric capacity
    (lambda s: s.replace("\t3\t2\t100", "\t3\t2\tlots"), 10, "capacity"),
    # negative capacity
    (lambda s: s.replace("\t3\t2\t100", "\t3\t2\t-100"), 10, "capacity"),
    # zero capacity (BPR divides by it)
    (lambda s: s.replace("\t3\t2\t100", "\t3\t2\t0"), 10, "capacity"),
    # negative free-flow time
    (lambda s: s.replace("100\t1\t2\t0.15\t4\t0\t0\t1\t;\n\t1\t4",
                         "100\t1\t-2\t0.15\t4\t0\t0\t1\t;\n\t1\t4"), 10,
     "free_flow_time"),
    # missing field
    (lambda s: s.replace("\t3\t2\t100\t1\t2\t0.15\t4\t0\t0\t1\t;", "\t3\t2\t100\t1\t2\t0.15\t4\t0\t0\t;"), 10,
     "link_type"),
    # NaN length
    (lambda s: s.replace("\t3\t2\t100\t1\t", "\t3\t2\t100\tnan\t"), 10, "length"),
    # duplicate link (identical line repeated; counts adjusted so only the duplicate is wrong)
    (lambda s: s.replace("<NUMBER OF LINKS> 3", "<NUMBER OF LINKS> 4")
     + "\t3\t2\t100\t1\t2\t0.15\t4\t0\t0\t1\t;\n", 12, "init_node"),
    # node id beyond the declared node count
    (lambda s: s.replace("\t1\t4\t", "\t1\t9\t"), 11, "term_node"),
    # fractional node id
    (lambda s: s.replace("\t1\t4\t", "\t1\t3.5\t"), 11, "term_node"),
    # missing metadata tag
    (lambda s: s.replace("<NUMBER OF LINKS> 3\n", ""), None, "NUMBER OF LINKS"),
    # no END OF METADATA
    (lambda s: s.split("<END OF METADATA>")[0], 5, "metadata"),
])
def test_bad_net_files(tmp_path, mutate, line, field):
    p = write(tmp_path, "bad_net.tntp", mutate(GOOD_NET))
    with pytest.raises(FormatError) as exc_info:
        smartcore.read_network(p)
    expect(exc_info, p, line, field)


def test_empty_file(tmp_path):
    p = write(tmp_path, "empty_net.tntp", "")
    with pytest.raises(FormatError, match="empty") as exc_info:
        smartcore.read_network(p)
    expect(exc_info, p, 1, None)


def test_wrong_encodings(tmp_path):
    p = write(tmp_path, "u16_net.tntp", GOOD_NET.encode("utf-16"))
    with pytest.raises(FormatError, match="UTF-16") as exc_info:
        smartcore.read_network(p)
    expect(exc_info, p, 1, "encoding")
    # Latin-1 byte in the column-name comment on line 8
    p = write(tmp_path, "l1_net.tntp", GOOD_NET.replace("~\tinit", "~ caf\u00e9\tinit").encode("latin-1"))
    with pytest.raises(FormatError, match="UTF-8") as exc_info:
        smartcore.read_network(p)
    expect(exc_info, p, 8, "encoding")


def test_missing_file(tmp_path):
    with pytest.raises(FormatError, match="not found"):
        smartcore.read_network(tmp_path / "nope_net.tntp")


@pytest.mark.parametrize("mutate,line,field", [
    (lambda s: s.replace("2 :    10.0", "3 :    10.0"), 6, "destination"),   # unknown zone
    (lambda s: s.replace("Origin 2", "Origin 7"), 7, "origin"),
    (lambda s: s + "Origin x\n", 9, "origin"),
    (lambda s: s + "Origin 3\n", 9, "origin"),  # empty block, unknown zone,
    (lambda s: s.replace("10.0;", "ten;"), 6, "trips"),
    (lambda s: s.replace("10.0;", "-10.0;").replace("30.0", "10.0"), 6, "trips"),
    (lambda s: s.replace("10.0;", "nan;"), 6, "trips"),
    (lambda s: s.replace("Origin 1\n", ""), 5, "origin"),                    # pairs before Origin
    (lambda s: s + "Origin 1\n 2 : 0.0;\n", 10, "destination"),            # repeated OD pair
    (lambda s: s.rsplit("Origin 2", 1)[0], None, "TOTAL OD FLOW"),          # truncated
])
def test_bad_trips_files(tmp_path, mutate, line, field):
    net = smartcore.read_network(write(tmp_path, "g_net.tntp", GOOD_NET))
    p = write(tmp_path, "bad_trips.tntp", mutate(GOOD_TRIPS))
    with pytest.raises(FormatError) as exc_info:
        smartcore.read_demand(p, net)
    err = exc_info.value
    assert err.field == field, str(err)
    if line is not None:
        assert err.line == line, str(err)
    else:
        assert err.line is not None  # points at the end of the file


def test_trips_zone_count_must_match_network(tmp_path):
    net = smartcore.read_network(write(tmp_path, "g_net.tntp", GOOD_NET))
    p = write(tmp_path, "z_trips.tntp", GOOD_TRIPS.replace("<NUMBER OF ZONES> 2", "<NUMBER OF ZONES> 3")
              .replace("30.0", "30.0"))
    with pytest.raises(FormatError, match="differs from the network") as exc_info:
        smartcore.read_demand(p, net)
    assert exc_info.value.field == "NUMBER OF ZONES"


def test_failed_conversion_leaves_no_output(tmp_path):
    """A write that fails midway leaves neither the target nor temporary files."""
    net = smartcore.read_network(write(tmp_path, "g_net.tntp", GOOD_NET))
    out_dir = tmp_path / "out"
    out_dir.mkdir()

    class Boom(Exception):
        pass

    bad = net.replace(name="x")
    # Make one attribute unwritable mid-file: a numpy array whose 2nd element raises on float().
    import numpy as np

    class Exploding(np.ndarray):
        def __getitem__(self, k):  # noqa: D105
            if k == 2:
                raise Boom("disk full")
            return super().__getitem__(k)

    object.__setattr__(bad, "toll", np.asarray(bad.toll).view(Exploding))
    with pytest.raises(Boom):
        tntp.write_net(bad, out_dir / "x_net.tntp")
    assert list(out_dir.iterdir()) == []


def test_cli_convert_bad_input_leaves_nothing(tmp_path):
    src = write(tmp_path, "bad_net.tntp", GOOD_NET.replace("\t3\t2\t100", "\t3\t2\tlots"))
    out = tmp_path / "converted"
    r = subprocess.run([sys.executable, "-m", "smartcore", "convert", str(src), str(out)],
                       capture_output=True, text=True)
    assert r.returncode == 2
    assert f"{src}:10: field 'capacity'" in r.stderr
    assert not out.exists()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["bad_net.tntp"]


def test_network_from_links_validation():
    with pytest.raises(InputError, match="capacity") as e:
        smartcore.Network.from_links([1], [2], length=1, free_flow_time=1, capacity=-5)
    assert e.value.field == "capacity"
    with pytest.raises(InputError, match="required"):
        smartcore.Network.from_links([1], [2], length=1, free_flow_time=1)
    with pytest.raises(InputError, match="not in the node list"):
        smartcore.Network.from_links([1], [2], node_ids=[1, 3], length=1, free_flow_time=1, capacity=1)
    with pytest.raises(InputError, match="expected 2 values"):
        smartcore.Network.from_links([1, 2], [2, 1], length=[1, 2, 3], free_flow_time=1, capacity=1)
    with pytest.raises(InputError, match="zone 5"):
        smartcore.Network.from_links([1], [2], node_ids=[1, 2], zones=[5], length=1, free_flow_time=1,
                                     capacity=1)
