"""OMX reader and writer against the reference implementation (the openmatrix package, on
PyTables) and its validator, on the SiouxFalls trips of the TNTP repository."""

from __future__ import annotations

import contextlib
import io
from pathlib import Path

import h5py
import numpy as np
import openmatrix
import pytest
from openmatrix import validator

import smartcore
from smartcore.io import omx


@pytest.fixture(scope="module")
def sioux(tntp_dir):
    net = smartcore.read_network(tntp_dir / "SiouxFalls" / "SiouxFalls_net.tntp")
    trips = smartcore.read_demand(tntp_dir / "SiouxFalls" / "SiouxFalls_trips.tntp", net)
    # <TOTAL OD FLOW> 360600 and 1 -> 10 = 1300 trips (LeBlanc et al. 1975 table x 100)
    assert trips.total == 360600.0 and trips.matrix[0, 9] == 1300.0
    return net, trips


def _omx_write(path: Path, matrices: dict[str, np.ndarray], lookups: dict[str, list[int]]) -> None:
    """Write a file with the reference library."""
    f = openmatrix.open_file(str(path), "w")
    try:
        for name, mat in matrices.items():
            f[name] = mat
        for name, entries in lookups.items():
            f.create_mapping(name, entries)
    finally:
        f.close()


def test_ours_read_by_openmatrix(tmp_path, sioux):
    _, trips = sioux
    truck = smartcore.Demand(trips.zone_ids, trips.matrix * 0.05, unit="veh/h", name="truck")
    path = tmp_path / "sf.omx"
    omx.write_omx(path, {"car": trips, "truck": truck})
    f = openmatrix.open_file(str(path), "r")
    try:
        assert f.version() == b"0.2"
        assert tuple(int(v) for v in f.shape()) == (24, 24)
        assert sorted(f.list_matrices()) == ["car", "truck"]
        np.testing.assert_array_equal(np.array(f["car"]), trips.matrix)
        np.testing.assert_array_equal(np.array(f["truck"]), trips.matrix * 0.05)
        assert f.list_mappings() == ["zone_id"]
        assert f.map_entries("zone_id") == list(range(1, 25))
        assert f["truck"].attrs["unit"] == b"veh/h"
    finally:
        f.close()
    # the reference validator's required checks (version, SHAPE, /data, shapes, dtypes, chunks)
    report = io.StringIO()
    with contextlib.redirect_stdout(report):
        validator.run_checks(str(path))
    text = report.getvalue()
    for check in range(1, 8):
        assert f"Check {check} : " in text and f"Check {check} : Required : Fail" not in text
    assert "Overall :  Pass" in text


def test_openmatrix_read_by_ours(tmp_path, sioux):
    net, trips = sioux
    path = tmp_path / "ref.omx"
    _omx_write(path, {"trips": trips.matrix}, {"taz": list(range(1, 25))})
    demand = smartcore.read_demand(path, net)  # api dispatch on .omx
    np.testing.assert_array_equal(demand.matrix, trips.matrix)
    np.testing.assert_array_equal(demand.zone_ids, np.arange(1, 25))
    assert demand.name == "trips" and demand.unit == "trips" and demand.total == 360600.0
    assert demand.metadata["omx"]["lookup"] == "taz"
    np.testing.assert_array_equal(demand.zone_nodes(net), np.arange(24))


def test_multiple_matrices_and_lookups(tmp_path, sioux):
    _, trips = sioux
    path = tmp_path / "multi.omx"
    ids = list(range(101, 125))
    rng = np.random.default_rng(3)
    am = rng.integers(0, 50, (24, 24)).astype(np.int32)  # integer matrices are allowed by OMX
    _omx_write(path, {"am": am, "pm": trips.matrix}, {"taz": ids, "county": [1] * 24})
    with pytest.raises(smartcore.FormatError, match=r"\['am', 'pm'\]") as err:
        omx.read_omx(path, lookup="taz")
    assert err.value.field == "data"
    with pytest.raises(smartcore.FormatError, match="several lookups") as err:
        omx.read_omx(path, matrix="pm")
    assert err.value.field == "lookup"
    pm = omx.read_omx(path, matrix="pm", lookup="taz", name="car")
    np.testing.assert_array_equal(pm.matrix, trips.matrix)
    np.testing.assert_array_equal(pm.zone_ids, ids)
    assert pm.name == "car"
    assert omx.read_omx(path, matrix="pm", lookup=False).zone_ids[0] == 1
    every = omx.read_omx_all(path, lookup="taz")
    assert list(every) == ["am", "pm"] == omx.list_matrices(path)
    np.testing.assert_array_equal(every["am"].matrix, am)
    # the county lookup repeats ids: not zone ids
    with pytest.raises(smartcore.FormatError, match="twice") as err:
        omx.read_omx(path, matrix="am", lookup="county")
    assert err.value.field == "lookup/county"

    # and back: ours -> ours keeps names, ids, units, values
    out = tmp_path / "again.omx"
    omx.write_omx(out, every, lookup_name="taz")
    back = omx.read_omx_all(out)
    for name in every:
        np.testing.assert_array_equal(back[name].matrix, every[name].matrix)
        np.testing.assert_array_equal(back[name].zone_ids, ids)
    single = tmp_path / "single.omx"
    omx.write_omx(single, trips)
    assert omx.list_matrices(single) == [trips.name]
    assert omx.read_omx(single).unit == trips.unit


def _h5(path: Path, build) -> Path:
    with h5py.File(path, "w") as f:
        f.attrs["OMX_VERSION"] = np.bytes_(b"0.2")
        build(f)
    return path


@pytest.mark.parametrize("case,field,match", [
    ("not_hdf5", None, "not an HDF5"),
    ("no_data", "data", "no /data"),
    ("missing_matrix", "data/bus", "no matrix 'bus'"),
    ("lookup_shape", "lookup/taz", r"shape \(23,\)"),
    ("not_square", "data/m", "square"),
    ("shape_attr", "data/m", "SHAPE"),
    ("negative", "data/m", r"3->5 .* is negative"),
    ("nan", "data/m", "not a finite"),
    ("unknown_zone", "lookup/taz", "zone 99"),
    ("missing_lookup", "lookup/zone", "no lookup 'zone'"),
])
def test_bad_files(tmp_path, sioux, case, field, match):
    net, trips = sioux
    path = tmp_path / "bad.omx"
    good = trips.matrix.copy()

    def matrix(mat, taz=None):
        def build(f):
            f.attrs["SHAPE"] = np.array(mat.shape[:2] if mat.ndim == 2 else (0, 0), dtype=np.int32)
            f.create_group("data").create_dataset("m", data=mat)
            if taz is not None:
                f.create_group("lookup").create_dataset("taz", data=np.asarray(taz))
        return build

    kwargs: dict = {}
    network = None
    if case == "not_hdf5":
        path.write_text("origin,destination,trips\n1,2,3\n")
    elif case == "no_data":
        _h5(path, lambda f: f.create_group("lookup"))
    elif case == "missing_matrix":
        _h5(path, matrix(good))
        kwargs["matrix"] = "bus"
    elif case == "lookup_shape":
        _h5(path, matrix(good, taz=np.arange(1, 24)))
    elif case == "not_square":
        _h5(path, matrix(good[:, :20]))
    elif case == "shape_attr":
        def build(f):
            matrix(good)(f)
            f.attrs["SHAPE"] = np.array([25, 25], dtype=np.int32)
        _h5(path, build)
    elif case == "negative":
        bad = good.copy()
        bad[2, 4] = -1.0
        _h5(path, matrix(bad))
    elif case == "nan":
        bad = good.copy()
        bad[1, 1] = np.nan
        _h5(path, matrix(bad))
    elif case == "unknown_zone":
        _h5(path, matrix(good, taz=[*range(1, 24), 99]))
        network = net
    elif case == "missing_lookup":
        _h5(path, matrix(good, taz=np.arange(1, 25)))
        kwargs["lookup"] = "zone"
    with pytest.raises(smartcore.FormatError, match=match) as err:
        omx.read_omx(path, network, **kwargs)
    assert err.value.path == str(path) and err.value.field == field and err.value.line is None


def test_missing_file_and_bad_writes(tmp_path, sioux):
    _, trips = sioux
    with pytest.raises(smartcore.FormatError, match="not found"):
        omx.read_omx(tmp_path / "nope.omx")
    other = smartcore.Demand(np.arange(2, 26), trips.matrix, name="other")
    with pytest.raises(smartcore.InputError, match="other zone ids"):
        omx.write_omx(tmp_path / "x.omx", {"a": trips, "b": other})
    with pytest.raises(smartcore.InputError, match="dataset name"):
        omx.write_omx(tmp_path / "x.omx", {"a/b": trips})
    with pytest.raises(smartcore.InputError):
        omx.write_omx(tmp_path / "x.omx", {})
    assert list(tmp_path.iterdir()) == []


def test_failed_write_leaves_nothing(tmp_path, sioux, monkeypatch):
    _, trips = sioux
    path = tmp_path / "x.omx"
    omx.write_omx(path, trips)
    before = path.read_bytes()
    real = h5py.Group.create_dataset
    calls = []

    def fail_second(self, name, *args, **kwargs):
        calls.append(name)
        if len(calls) == 2:
            raise OSError("disk full")
        return real(self, name, *args, **kwargs)

    monkeypatch.setattr(h5py.Group, "create_dataset", fail_second)
    with pytest.raises(OSError, match="disk full"):
        omx.write_omx(path, {"a": trips, "b": trips})
    assert path.read_bytes() == before  # the old file is untouched
    with pytest.raises(OSError, match="disk full"):
        calls.clear()
        omx.write_omx(tmp_path / "new.omx", {"a": trips, "b": trips})
    assert [p.name for p in tmp_path.iterdir()] == ["x.omx"]
