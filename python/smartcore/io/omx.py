"""OMX matrices: the Open Matrix format (HDF5), read and written with h5py.

An OMX file (https://github.com/osPID/omx, format version 0.2) is an HDF5 file holding:

* root attributes ``OMX_VERSION`` (``b"0.2"``) and ``SHAPE`` (int32 ``[rows, columns]``);
* matrices as 2-D datasets ``/data/<name>``, all of shape ``SHAPE``, chunked, optionally zlib
  compressed, with free-form attributes;
* optional zone lookups as 1-D datasets ``/lookup/<name>`` whose entries label the rows/columns.

smartcore reads a square matrix into a :class:`~smartcore.demand.Demand`: ``matrix[i, j]`` trips
from zone ``zone_ids[i]`` to ``zone_ids[j]``, zone ids taken from a lookup (default 1..Z). The
unit of the trips is the matrix attribute ``unit`` when present (smartcore writes it), else
``"trips"``. Every error names the file and the matrix or lookup at fault (``data/<name>``,
``lookup/<name>``); HDF5 has no lines, so ``line`` is None.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from smartcore.demand import Demand
from smartcore.errors import FormatError, InputError
from smartcore.io._common import PathLike, atomic_path

if TYPE_CHECKING:  # pragma: no cover
    import h5py

    from smartcore.network import Network

__all__ = ["read_omx", "read_omx_all", "write_omx", "write_omx_matrices", "list_matrices", "OMX_VERSION"]

#: The OMX format version written (and the only one published).
OMX_VERSION = b"0.2"


def _open(path: PathLike) -> h5py.File:
    import h5py

    p = Path(path)
    if not p.exists():
        raise FormatError("OMX file not found", path=p)
    if p.is_dir():
        raise FormatError("expected an OMX file, got a directory", path=p)
    if not h5py.is_hdf5(p):
        raise FormatError("not an HDF5 file (OMX matrices are HDF5 files)", path=p)
    try:
        return h5py.File(p, "r")
    except OSError as exc:
        raise FormatError(f"cannot open the HDF5 file: {exc}", path=p) from None


def _python(value: Any) -> Any:
    """An HDF5 attribute value as plain Python (bytes decoded, numpy unwrapped)."""
    if isinstance(value, bytes | np.bytes_):
        return bytes(value).decode("utf-8", errors="replace")
    if isinstance(value, np.ndarray):
        return [_python(v) for v in value.tolist()]
    if isinstance(value, np.generic):
        return value.item()
    return value


def _names(f: h5py.File, group: str, path: PathLike) -> list[str]:
    import h5py

    if group not in f:
        if group == "data":
            raise FormatError("no /data group: not an OMX file", path=path, field="data")
        return []
    node = f[group]
    if not isinstance(node, h5py.Group):
        raise FormatError(f"/{group} is not a group: not an OMX file", path=path, field=group)
    return [k for k, v in node.items() if isinstance(v, h5py.Dataset)]


def _file_shape(f: h5py.File, path: PathLike) -> tuple[int, int] | None:
    if "SHAPE" not in f.attrs:
        return None
    raw = np.asarray(f.attrs["SHAPE"]).ravel()
    if len(raw) != 2 or not all(float(v).is_integer() and v >= 0 for v in raw.tolist()):
        raise FormatError(f"root attribute SHAPE is {raw.tolist()}, expected two non-negative "
                          "integers", path=path, field="SHAPE")
    return int(raw[0]), int(raw[1])


def _zone_ids(f: h5py.File, path: PathLike, lookup: str | bool | None, z: int
              ) -> tuple[np.ndarray, str | None]:
    """Zone ids from a lookup (the named one, or the only one), else 1..Z."""
    available = _names(f, "lookup", path)
    if lookup is False or (lookup is None and not available):
        return np.arange(1, z + 1, dtype=np.int64), None
    if lookup is None or lookup is True:
        if len(available) > 1:
            raise FormatError(f"the file has several lookups {available}; pass lookup= to name "
                              "the one holding the zone ids (or lookup=False for 1..Z)",
                              path=path, field="lookup")
        if not available:
            raise FormatError("the file has no lookup", path=path, field="lookup")
        lookup = available[0]
    field = f"lookup/{lookup}"
    if lookup not in available:
        raise FormatError(f"no lookup {lookup!r}; the file has {available or 'none'}", path=path,
                          field=field)
    raw = f["lookup"][lookup][()]
    if raw.ndim != 1 or len(raw) != z:
        raise FormatError(f"lookup has shape {raw.shape}, expected ({z},) to label the {z} zones",
                          path=path, field=field)
    if raw.dtype.kind in "SUO":
        try:
            ids = np.array([int(_python(v)) for v in raw.tolist()], dtype=np.int64)
        except ValueError:
            raise FormatError("lookup entries are not integers; smartcore zone ids are integer "
                              "node ids", path=path, field=field) from None
    elif raw.dtype.kind in "iu":
        ids = raw.astype(np.int64)
    elif raw.dtype.kind == "f" and np.isfinite(raw).all() and (raw == np.round(raw)).all():
        ids = raw.astype(np.int64)
    else:
        raise FormatError(f"lookup has dtype {raw.dtype}; zone ids must be integers", path=path,
                          field=field)
    uniq, counts = np.unique(ids, return_counts=True)
    if (counts > 1).any():
        raise FormatError(f"zone id {int(uniq[counts > 1][0])} appears twice in the lookup",
                          path=path, field=field)
    return ids, lookup


# Bookkeeping attributes PyTables (hence the openmatrix library) adds to every array.
_PYTABLES_ATTRS = frozenset({"CLASS", "TITLE", "VERSION", "FLAVOR"})


def _load(f: h5py.File, path: PathLike, name: str, zone_ids: np.ndarray,
          shape: tuple[int, int] | None, lookup_name: str | None, network: Network | None,
          demand_name: str | None) -> Demand:
    import h5py

    ds = f["data"][name]
    field = f"data/{name}"
    if ds.ndim != 2 or ds.shape[0] != ds.shape[1]:
        raise FormatError(f"matrix has shape {ds.shape}; demand must be square (zones x zones)",
                          path=path, field=field)
    if shape is not None and tuple(ds.shape) != shape:
        raise FormatError(f"matrix has shape {ds.shape} but the file's SHAPE is {shape}",
                          path=path, field=field)
    if ds.dtype.kind not in "fiub":
        raise FormatError(f"matrix has dtype {ds.dtype}; expected numbers", path=path, field=field)
    mat = np.asarray(ds[()], dtype=np.float64)
    for bad, what in ((~np.isfinite(mat), "is not a finite number"), (mat < 0, "is negative")):
        hits = np.argwhere(bad)
        if len(hits):
            i, j = (int(v) for v in hits[0])
            raise FormatError(f"trips {zone_ids[i]}->{zone_ids[j]} (row {i}, column {j}) "
                              f"{what}: {mat[i, j]!r}", path=path, field=field)
    attrs = {k: _python(v) for k, v in ds.attrs.items()
             if k not in _PYTABLES_ATTRS and not isinstance(v, h5py.Empty)}
    unit = attrs.get("unit")
    demand = Demand(zone_ids=zone_ids, matrix=mat,
                    unit=unit if isinstance(unit, str) and unit else "trips",
                    name=demand_name or name, source=os.fspath(path),
                    metadata={"omx": {"matrix": name, "lookup": lookup_name, "attrs": attrs}})
    if network is not None:
        try:
            demand.zone_nodes(network)
        except InputError as exc:
            raise FormatError(str(exc), path=path,
                              field=f"lookup/{lookup_name}" if lookup_name else "zone_ids") from None
    return demand


def list_matrices(path: PathLike) -> list[str]:
    """Names of the matrices in an OMX file (``/data/<name>``), in HDF5 order."""
    with _open(path) as f:
        return _names(f, "data", path)


def read_omx(
    path: PathLike,
    network: Network | None = None,
    *,
    matrix: str | None = None,
    lookup: str | bool | None = None,
    name: str | None = None,
) -> Demand:
    """Read one matrix of an OMX file as a :class:`~smartcore.demand.Demand`.

    Parameters
    ----------
    path : path
        The ``.omx`` file.
    network : Network, optional
        When given, every zone id must be a zone (or, for a network without zones, a node) of it.
    matrix : str, optional
        Name of the matrix under ``/data``; default the only one (an error lists them otherwise).
    lookup : str or bool, optional
        Lookup under ``/lookup`` holding the zone ids; default the only one, else ``1..Z`` when
        the file has none. ``False`` ignores lookups and numbers the zones ``1..Z``.
    name : str, optional
        Name of the demand (user class); default the matrix name.

    Returns
    -------
    Demand
        Trips per period as stored (float64); ``unit`` from the matrix attribute ``unit``, else
        ``"trips"``; ``metadata["omx"]`` holds the matrix name, lookup name and attributes.

    Raises
    ------
    FormatError
        Naming the file and field (``data/<matrix>``, ``lookup/<name>``, ``SHAPE``): a missing
        file, a file that is not HDF5 or has no ``/data``, an unknown or ambiguous matrix or
        lookup, a matrix that is not square or not of the file's ``SHAPE``, a lookup of the wrong
        length, non-integer or repeated zone ids, a non-finite or negative value, a zone unknown
        to ``network``.
    """
    with _open(path) as f:
        names = _names(f, "data", path)
        if matrix is None:
            if len(names) != 1:
                raise FormatError(
                    f"the file holds {len(names)} matrices {names}; pass matrix= to choose one"
                    if names else "the file holds no matrix under /data", path=path, field="data")
            matrix = names[0]
        elif matrix not in names:
            raise FormatError(f"no matrix {matrix!r}; the file has {names or 'none'}", path=path,
                              field=f"data/{matrix}")
        shape = _file_shape(f, path)
        ds = f["data"][matrix]
        z = int(ds.shape[0]) if ds.ndim >= 1 else 0
        zone_ids, lookup_name = _zone_ids(f, path, lookup, z)
        return _load(f, path, matrix, zone_ids, shape, lookup_name, network, name)


def read_omx_all(
    path: PathLike,
    network: Network | None = None,
    *,
    lookup: str | bool | None = None,
) -> dict[str, Demand]:
    """Read every matrix of an OMX file: ``{matrix name: Demand}`` in HDF5 order.

    All matrices share the file's zones (see :func:`read_omx` for ``lookup`` and the errors).
    """
    with _open(path) as f:
        names = _names(f, "data", path)
        if not names:
            raise FormatError("the file holds no matrix under /data", path=path, field="data")
        shape = _file_shape(f, path)
        first = f["data"][names[0]]
        z = shape[0] if shape is not None else (int(first.shape[0]) if first.ndim >= 1 else 0)
        zone_ids, lookup_name = _zone_ids(f, path, lookup, z)
        return {nm: _load(f, path, nm, zone_ids, shape, lookup_name, network, None) for nm in names}


def _check_name(name: Any, what: str) -> str:
    if not isinstance(name, str) or not name or "/" in name or name in (".", ".."):
        raise InputError(f"{what} name {name!r} cannot be an HDF5 dataset name (non-empty, "
                         "no '/')", field="name")
    return name


def write_omx(
    path: PathLike,
    demands: Demand | Mapping[str, Demand],
    *,
    lookup_name: str = "zone_id",
) -> None:
    """Write one or several demands as an OMX 0.2 file (atomic: no partial file on failure).

    Parameters
    ----------
    path : path
        The ``.omx`` file to write (replaced if it exists).
    demands : Demand or mapping of str to Demand
        A single demand is written under its name (``"matrix"`` when it has none); a mapping
        writes one matrix per key. All demands must have the same zone ids in the same order.
    lookup_name : str
        Name of the lookup ``/lookup/<lookup_name>`` holding the zone ids (int64).

    Matrices are stored as float64 ``/data/<name>``, chunked with zlib level 1 and shuffle (the
    OMX reference library's defaults), with the attribute ``unit``; the root has ``OMX_VERSION``
    and ``SHAPE`` (int32).

    Raises
    ------
    InputError
        When ``demands`` is empty or not demands, a name is not a valid dataset name, or the
        zone ids differ between demands.
    """
    if isinstance(demands, Demand):
        items = [(demands.name or "matrix", demands)]
    elif isinstance(demands, Mapping):
        items = list(demands.items())
    else:
        raise InputError(f"expected a Demand or a mapping of names to Demand, got "
                         f"{type(demands).__name__}", field="demands")
    if not items:
        raise InputError("no demand to write", field="demands")
    for key, demand in items:
        _check_name(key, "matrix")
        if not isinstance(demand, Demand):
            raise InputError(f"matrix {key!r}: expected a Demand, got {type(demand).__name__}",
                             field="demands")
    _check_name(lookup_name, "lookup")
    zone_ids = items[0][1].zone_ids
    for key, demand in items[1:]:
        if not np.array_equal(demand.zone_ids, zone_ids):
            raise InputError(f"matrix {key!r} has other zone ids than {items[0][0]!r}; OMX "
                             "matrices of one file share their zones", field="zone_ids")
    write_omx_matrices(path, {key: d.matrix for key, d in items}, zone_ids,
                       units={key: d.unit for key, d in items}, lookup_name=lookup_name)


def write_omx_matrices(
    path: PathLike,
    matrices: Mapping[str, np.ndarray],
    zone_ids: np.ndarray,
    *,
    units: Mapping[str, str] | None = None,
    lookup_name: str = "zone_id",
) -> None:
    """Write square float matrices (e.g. skims, which may hold ``inf`` for unreachable pairs) as
    an OMX file (atomic). ``zone_ids`` label rows and columns; ``units`` per matrix name."""
    import h5py

    from smartcore import __version__

    if not matrices:
        raise InputError("no matrix to write", field="matrices")
    _check_name(lookup_name, "lookup")
    zone_ids = np.asarray(zone_ids, dtype=np.int64).ravel()
    z = len(zone_ids)
    arrays = {}
    for key, m in matrices.items():
        _check_name(key, "matrix")
        arr = np.asarray(m, dtype=np.float64)
        if arr.shape != (z, z):
            raise InputError(f"matrix {key!r} has shape {arr.shape}, expected ({z}, {z}) for "
                             f"{z} zone ids", field="matrices")
        if np.isnan(arr).any():
            raise InputError(f"matrix {key!r} holds NaN", field="matrices")
        arrays[key] = arr
    with atomic_path(path) as tmp, h5py.File(tmp, "w") as f:
        f.attrs["OMX_VERSION"] = np.bytes_(OMX_VERSION)
        f.attrs["OMX_CREATED_WITH"] = np.bytes_(f"smartcore {__version__}".encode())
        f.attrs["SHAPE"] = np.array([z, z], dtype=np.int32)
        data = f.create_group("data")
        store = {"chunks": True, "compression": "gzip", "compression_opts": 1, "shuffle": True}
        for key, arr in arrays.items():
            ds = data.create_dataset(key, data=arr, dtype=np.float64, **(store if z else {}))
            ds.attrs["unit"] = np.bytes_(((units or {}).get(key, "")).encode())
        f.create_group("lookup").create_dataset(lookup_name, data=zone_ids)
