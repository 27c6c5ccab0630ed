"""GMNS networks: ``node.csv``, ``link.csv`` and ``config.csv`` folders.

The General Modeling Network Specification (GMNS, Zephyr Foundation, zephyr-data-specs/GMNS,
version 0.96) stores a routable network as CSV tables. :func:`read_gmns` and :func:`write_gmns`
speak the static-model part of it:

``node.csv``
    ``node_id`` (required, integer here), ``x_coord`` / ``y_coord`` (required columns, in the
    config's ``crs``), ``zone_id``, ``node_type``, ``ctrl_type`` (``signal`` ->
    :attr:`Network.signalized`). Other columns go to :attr:`Network.node_extra`.
``link.csv``
    ``link_id`` (required), ``from_node_id`` / ``to_node_id`` (required), ``directed``,
    ``length`` (``long_length`` units), ``lanes``, ``capacity`` (**per lane**, vehicles/hour/lane:
    multiplied by ``lanes`` into :attr:`Network.capacity`, which counts all lanes),
    ``free_speed`` (``speed`` units), ``toll`` (``currency`` units), ``facility_type``,
    ``geometry`` (WKT, with ``dir_flag`` = -1 meaning the shape points run against the link).
    Other columns (``name``, ``allowed_uses``, ad hoc fields) go to :attr:`Network.link_extra`.
``config.csv``
    One row: ``dataset_name`` (network name), ``long_length`` (unit of ``length``), ``speed``
    (unit of ``free_speed``), ``currency`` (unit of ``toll``), ``crs``. Fields the network does not
    model (``short_length``, ``version_number``, ...) are kept in ``metadata["gmns"]``.

GMNS allows ad hoc fields; smartcore adds these so that a network survives a round trip exactly
(e.g. TNTP -> GMNS -> :class:`~smartcore.network.Network` gives identical arrays):

=========================  ===========  ========================================================
field                      file         meaning
=========================  ===========  ========================================================
``free_flow_time``         link.csv     free-flow travel time, unit ``free_flow_time_unit``;
                                        when absent or empty it is computed as
                                        ``length / free_speed`` in seconds
``bpr_alpha``/``bpr_beta`` link.csv     BPR parameters (default 0.15 and 4)
``link_type``              link.csv     integer link type code; ``facility_type`` holds its name
``link_capacity``          link.csv     capacity of all lanes (veh/h), written only on rows where
                                        per-lane capacity x lanes does not give back the exact
                                        float (or lanes = 0); it wins over ``capacity``
``link_key``               link.csv     :attr:`Network.link_keys` when they are not unique link
                                        ids (e.g. osmnx edge keys); otherwise ``link_id`` is the key
``<attribute>_unit``       config.csv   unit of a link attribute GMNS has no unit field for, e.g.
                                        ``free_flow_time_unit = min``, ``capacity_unit = veh/h``
``zones_passable``         config.csv   ``false``: paths never pass through a zone centroid
                                        (TNTP's ``<FIRST THRU NODE>`` rule); default ``true``
``metadata``               config.csv   :attr:`Network.metadata` as JSON (JSON-able entries only)
=========================  ===========  ========================================================

Zones
    smartcore identifies a zone by the node id of its centroid. A node is a zone centroid when its
    ``node_type`` is ``centroid``; files that mark no node that way (DTALite / Path4GMNS style)
    use the nodes whose ``zone_id`` equals their own ``node_id``. Zones keep their ``node.csv``
    order. :func:`write_gmns` writes zone nodes first, with ``node_type = centroid`` and
    ``zone_id = node_id``.

Units
    Values are kept in the units the files state (nothing is rescaled); the units are recorded in
    :attr:`Network.units`, so ``network.attribute("length", "m")`` converts. GMNS states capacity
    in veh/h/lane, so ``units["capacity"]`` is ``veh/h`` unless ``capacity_unit`` says otherwise
    (an empty ``capacity_unit`` means "not stated"). Free-flow times computed from
    ``length / free_speed`` are in seconds and need the ``long_length`` and ``speed`` units.

Undirected links (``directed = false``) become two links, the forward one then the reverse one,
with the same attributes and ``link_id``. Every error names the file, the 1-based line (the header
is line 1) and the field.
"""

from __future__ import annotations

import csv
import io
import json
import math
import os
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from smartcore.errors import FormatError, InputError
from smartcore.io._common import PathLike, atomic_directory, read_text
from smartcore.network import DEFAULT_BPR_ALPHA, DEFAULT_BPR_BETA, Network, convert_units

__all__ = ["read_gmns", "write_gmns", "GMNS_VERSION"]

#: The GMNS version :func:`write_gmns` declares in ``config.csv``.
GMNS_VERSION = "0.96"

_NODE_REQUIRED = ("node_id", "x_coord", "y_coord")
_LINK_REQUIRED = ("link_id", "from_node_id", "to_node_id", "length")

# config.csv fields that carry the unit of a link attribute (GMNS names -> Network attribute).
_CONFIG_UNITS = {"long_length": "length", "speed": "speed", "currency": "toll"}
_UNIT_FIELD_OF = {attr: field for field, attr in _CONFIG_UNITS.items()}

_TRUE = {"true", "t", "yes", "y", "1"}
_FALSE = {"false", "f", "no", "n", "0"}
_MISSING = {"", "nan"}

# Fields of Network.from_links errors -> the GMNS column they come from.
_GMNS_FIELD = {"init_node": "from_node_id", "tail": "from_node_id", "head": "to_node_id",
               "speed": "free_speed", "node_ids": "node_id", "zones": "zone_id"}


# ------------------------------------------------------------------------------------ tables
class _Table:
    """A parsed CSV file: stripped cells by column, with the 1-based line of every row."""

    def __init__(self, path: Path, header: list[str], rows: list[list[str]], lines: list[int]):
        self.path = path
        self.header = header
        self.lines = lines
        self.columns: dict[str, list[str]] = {}
        for k, name in enumerate(header):
            self.columns[name.lower()] = [row[k].strip() for row in rows]
        self.names = {name.lower(): name for name in header}

    def __len__(self) -> int:
        return len(self.lines)

    def has(self, name: str) -> bool:
        return name in self.columns

    def get(self, name: str) -> list[str] | None:
        return self.columns.get(name)

    def fail(self, message: str, row: int | None, field: str | None) -> FormatError:
        line = 1 if row is None else self.lines[row]
        return FormatError(message, path=self.path, line=line, field=field)


def _read_table(path: Path, what: str, required: Sequence[str] = ()) -> _Table:
    text = read_text(path, what=what)
    reader = csv.reader(io.StringIO(text, newline=""))
    header: list[str] | None = None
    rows: list[list[str]] = []
    lines: list[int] = []
    previous = 0
    try:
        for row in reader:
            start, previous = previous + 1, reader.line_num
            if not row or not any(cell.strip() for cell in row):
                continue  # blank line
            if header is None:
                header = [cell.strip() for cell in row]
                seen: dict[str, int] = {}
                for k, name in enumerate(header):
                    if not name:
                        raise FormatError(f"column {k + 1} of the header has no name", path=path,
                                          line=start, field=None)
                    if name.lower() in seen:
                        raise FormatError(f"column {name!r} appears twice in the header",
                                          path=path, line=start, field=name)
                    seen[name.lower()] = k
                continue
            if len(row) != len(header):
                field = header[len(row)] if len(row) < len(header) else None
                raise FormatError(f"expected {len(header)} fields ({','.join(header)}), "
                                  f"found {len(row)}", path=path, line=start, field=field)
            rows.append(row)
            lines.append(start)
    except csv.Error as exc:
        raise FormatError(f"not a valid CSV file: {exc}", path=path, line=reader.line_num,
                          field=None) from None
    assert header is not None  # read_text rejects blank files
    table = _Table(path, header, rows, lines)
    for name in required:
        if not table.has(name):
            raise FormatError(f"required column {name!r} is missing (columns: {', '.join(header)})",
                              path=path, line=1, field=name)
    return table


def _floats(table: _Table, name: str, *, default: float | None = None,
            values: list[str] | None = None) -> np.ndarray:
    """Numbers of a column; empty / ``NaN`` cells become ``default`` or raise when it is None."""
    vals = table.get(name) if values is None else values
    assert vals is not None
    out = np.empty(len(vals), dtype=np.float64)
    for k, tok in enumerate(vals):
        if tok.lower() in _MISSING:
            if default is None:
                raise table.fail("empty value: a number is required", k, name)
            out[k] = default
            continue
        try:
            x = float(tok)
        except ValueError:
            raise table.fail(f"{tok!r} is not a number", k, name) from None
        if not math.isfinite(x):
            raise table.fail(f"{tok!r} is not a finite number", k, name)
        out[k] = x
    return out


def _parse_id(tok: str) -> int | None:
    """An integer id, accepting ``12`` and ``12.0``; None when ``tok`` is not one."""
    try:
        return int(tok)
    except ValueError:
        pass
    try:
        x = float(tok)
    except ValueError:
        return None
    if math.isfinite(x) and x.is_integer() and abs(x) < 2**63:
        return int(x)
    return None


def _ids(table: _Table, name: str) -> np.ndarray:
    vals = table.get(name)
    assert vals is not None
    out = np.empty(len(vals), dtype=np.int64)
    for k, tok in enumerate(vals):
        if not tok:
            raise table.fail("empty id", k, name)
        v = _parse_id(tok)
        if v is None:
            raise table.fail(f"id {tok!r} is not an integer (smartcore needs integer node ids)",
                             k, name)
        out[k] = v
    return out


def _check_unique(table: _Table, keys: Sequence[Any], name: str) -> None:
    first: dict[Any, int] = {}
    for k, key in enumerate(keys):
        j = first.setdefault(key, k)
        if j != k:
            raise table.fail(f"duplicate {name} {key} (first on line {table.lines[j]})", k, name)


def _non_negative(table: _Table, values: np.ndarray, name: str, what: str = "") -> None:
    bad = np.flatnonzero(values < 0)
    if len(bad):
        k = int(bad[0])
        raise table.fail(f"negative value {values[k]:g}{what} (must be >= 0)", k, name)


def _bools(table: _Table, name: str, values: list[str]) -> np.ndarray:
    out = np.empty(len(values), dtype=bool)
    for k, tok in enumerate(values):
        low = tok.lower()
        if low in _TRUE:
            out[k] = True
        elif low in _FALSE:
            out[k] = False
        else:
            raise table.fail(f"{tok!r} is not a boolean (expected TRUE or FALSE)", k, name)
    return out


def _extra_column(values: list[str]) -> np.ndarray:
    """An ad hoc column as int64 (all integers), float64 (numbers, empties as NaN), bool
    (all TRUE/FALSE) or str objects, in that order of preference."""
    present = [v for v in values if v.lower() not in _MISSING]
    if present and len(present) == len(values):
        try:
            return np.array([int(v) for v in values], dtype=np.int64)
        except (ValueError, OverflowError):
            pass
    if present:
        try:
            return np.array([float(v) if v.lower() not in _MISSING else np.nan for v in values],
                            dtype=np.float64)
        except ValueError:
            pass
    lowered = {v.lower() for v in values}
    if values and lowered <= {"true", "false"}:
        return np.array([v.lower() == "true" for v in values], dtype=bool)
    return np.array(values, dtype=object)


# ------------------------------------------------------------------------------------ config
def _read_config(folder: Path) -> tuple[dict[str, str], Path]:
    path = folder / "config.csv"
    if not path.exists():
        return {}, path
    table = _read_table(path, "GMNS config.csv")
    if len(table) != 1:
        row = 1 if len(table) > 1 else None
        raise table.fail(f"config.csv must hold exactly one data row, found {len(table)}", row,
                         None)
    return {name: vals[0] for name, vals in table.columns.items()}, path


def _config_units(config: Mapping[str, str]) -> dict[str, str]:
    units: dict[str, str] = {}
    for field, attr in _CONFIG_UNITS.items():
        if config.get(field):
            units[attr] = config[field]
    for field, value in config.items():
        if field.endswith("_unit") and value:
            units[field[: -len("_unit")]] = value
    if "capacity_unit" not in config:
        units.setdefault("capacity", "veh/h")  # GMNS: capacity is veh / hr / lane
    return units


# ------------------------------------------------------------------------------------ reader
def read_gmns(
    folder: PathLike,
    *,
    name: str | None = None,
    units: Mapping[str, str] | None = None,
    duplicates: str = "error",
) -> Network:
    """Read a GMNS folder (``node.csv``, ``link.csv``, optional ``config.csv``) into a Network.

    Parameters
    ----------
    folder : path
        The folder holding the GMNS tables. Required columns: ``node_id``, ``x_coord``,
        ``y_coord`` in node.csv (coordinates may be empty for every node, meaning "none");
        ``link_id``, ``from_node_id``, ``to_node_id``, ``length`` and ``capacity`` (or
        ``link_capacity``) in link.csv, plus ``free_speed`` wherever ``free_flow_time`` is not
        given. A missing ``directed`` column means every link is directed; missing ``lanes``,
        ``toll``, ``bpr_alpha``, ``bpr_beta`` mean 1, 0, 0.15 and 4.
    name : str, optional
        Network name; default ``config.csv``'s ``dataset_name``, else the folder name.
    units : mapping, optional
        Units of link attributes (``length``, ``speed``, ``toll``, ``free_flow_time``,
        ``capacity``), overriding ``config.csv``; e.g. ``{"length": "m", "speed": "km/h"}`` for a
        folder without ``config.csv`` (osm2gmns writes metres and km/h).
    duplicates : {"error", "keep"}
        Exact duplicate links (same ends, identical attributes) raise by default.

    Returns
    -------
    Network
        Links in ``link.csv`` order (undirected rows become two links); nodes with zone centroids
        first, then the others in ``node.csv`` order. ``length`` is in ``long_length`` units,
        ``speed`` in ``speed`` units, ``capacity`` in veh/h for all lanes, ``free_flow_time`` in
        ``free_flow_time_unit`` (seconds when computed from length and speed); all recorded in
        :attr:`Network.units`. ``link_keys`` holds the integer ``link_id``\\ s.

    Raises
    ------
    FormatError
        Naming file (``node.csv``, ``link.csv`` or ``config.csv``), 1-based line (header = 1) and
        field: missing file or required column, empty file, wrong encoding, a row with the wrong
        number of fields, a non-numeric or non-finite value, a duplicate ``node_id`` or
        ``link_id``, a link end that is not in ``node.csv``, a negative length, lane count,
        capacity, speed or toll, a capacity of 0, a free-flow time that cannot be computed.
    """
    root = Path(folder)
    if not root.is_dir():
        raise FormatError("GMNS folder not found (expected a folder holding node.csv and link.csv)",
                          path=root, field=None)
    config, config_path = _read_config(root)
    unit_map = _config_units(config)
    unit_map.update(units or {})

    passable = True
    if config.get("zones_passable"):
        low = config["zones_passable"].lower()
        if low not in _TRUE | _FALSE:
            raise FormatError(f"{config['zones_passable']!r} is not a boolean", path=config_path,
                              line=2, field="zones_passable")
        passable = low in _TRUE
    meta: dict[str, Any] = {}
    if config.get("metadata"):
        try:
            meta = json.loads(config["metadata"])
        except json.JSONDecodeError as exc:
            raise FormatError(f"not valid JSON: {exc.msg}", path=config_path, line=2,
                              field="metadata") from None
        if not isinstance(meta, dict):
            raise FormatError("expected a JSON object", path=config_path, line=2, field="metadata")
    consumed = {"dataset_name", "crs", "zones_passable", "metadata", *_CONFIG_UNITS}
    leftover = {k: v for k, v in config.items()
                if k not in consumed and not k.endswith("_unit") and v}
    if leftover:
        meta["gmns"] = leftover
    crs = config.get("crs") or None
    if crs is not None and crs.isdigit():
        crs = f"EPSG:{crs}"

    nodes = _read_nodes(root / "node.csv")
    links = _read_table(root / "link.csv", "GMNS link.csv", _LINK_REQUIRED)
    if not len(links):
        raise links.fail("link.csv has a header but no links", None, "link_id")
    return _build(root, nodes, links, unit_map, passable, crs, meta, config_path,
                  name or config.get("dataset_name") or root.name, duplicates)


class _Nodes:
    def __init__(self, table: _Table, ids: np.ndarray, perm: np.ndarray, zones: np.ndarray,
                 x: np.ndarray | None, y: np.ndarray | None, signalized: np.ndarray,
                 extra: dict[str, np.ndarray]):
        self.table, self.ids, self.perm, self.zones = table, ids, perm, zones
        self.x, self.y, self.signalized, self.extra = x, y, signalized, extra


def _read_nodes(path: Path) -> _Nodes:
    table = _read_table(path, "GMNS node.csv", _NODE_REQUIRED)
    n = len(table)
    if not n:
        raise table.fail("node.csv has a header but no nodes", None, "node_id")
    ids = _ids(table, "node_id")
    _check_unique(table, ids.tolist(), "node_id")

    coords: list[np.ndarray | None] = []
    for axis in ("x_coord", "y_coord"):
        coord = _floats(table, axis, default=np.nan)
        missing = np.isnan(coord)
        if missing.all():
            coords.append(None)
            continue
        if missing.any():
            k = int(np.flatnonzero(missing)[0])
            raise table.fail("empty coordinate: give every node coordinates, or none", k, axis)
        coords.append(coord)
    if (coords[0] is None) != (coords[1] is None):
        axis = "x_coord" if coords[0] is None else "y_coord"
        raise table.fail("empty coordinate: give every node coordinates, or none", 0, axis)

    node_type = [v.lower() for v in table.get("node_type") or [""] * n]
    zone_tok = table.get("zone_id") or [""] * n
    centroid = np.array([t == "centroid" for t in node_type], dtype=bool)
    if centroid.any():
        for k in np.flatnonzero(centroid).tolist():
            if zone_tok[k] and _parse_id(zone_tok[k]) != ids[k]:
                raise table.fail(
                    f"centroid node {ids[k]} has zone_id {zone_tok[k]}: smartcore identifies a "
                    "zone by its centroid's node_id (set zone_id to the node_id or leave it empty)",
                    k, "zone_id")
        is_zone = centroid
    else:
        is_zone = np.array([bool(z) and _parse_id(z) == i for z, i in zip(zone_tok, ids.tolist())],
                           dtype=bool)
    zone_rows = np.flatnonzero(is_zone)
    perm = np.concatenate([zone_rows, np.flatnonzero(~is_zone)]).astype(np.int64)

    ctrl = table.get("ctrl_type") or [""] * n
    signalized = np.array([c.lower() == "signal" for c in ctrl], dtype=bool)

    extra: dict[str, np.ndarray] = {}
    for key, vals in table.columns.items():
        if key in _NODE_REQUIRED:
            continue
        if key == "zone_id":
            # the centroids' zone is themselves; other nodes' zone_id is kept as an attribute
            vals = ["" if z else v for v, z in zip(vals, is_zone)]
            if not any(vals):
                continue
        if key == "node_type" and set(node_type) <= {"", "centroid"}:
            continue
        if key == "ctrl_type" and {c.lower() for c in vals} <= {"", "signal"}:
            continue
        extra[table.names[key]] = _extra_column(vals)[perm]
    x, y = coords
    return _Nodes(table, ids, perm, ids[zone_rows],
                  None if x is None else x[perm], None if y is None else y[perm],
                  signalized[perm], extra)


def _build(root: Path, nodes: _Nodes, links: _Table, units: dict[str, str], passable: bool,
           crs: str | None, meta: dict[str, Any], config_path: Path, net_name: str,
           duplicates: str) -> Network:
    m = len(links)
    # ---- ids
    raw_ids = links.get("link_id")
    assert raw_ids is not None
    parsed = [_parse_id(tok) if tok else None for tok in raw_ids]
    for k, tok in enumerate(raw_ids):
        if not tok:
            raise links.fail("empty link_id", k, "link_id")
    int_ids = all(v is not None for v in parsed)
    _check_unique(links, parsed if int_ids else raw_ids, "link_id")
    known = set(nodes.ids.tolist())
    ends = {}
    for col in ("from_node_id", "to_node_id"):
        ends[col] = _ids(links, col)
        unknown = [k for k, v in enumerate(ends[col].tolist()) if v not in known]
        if unknown:
            k = unknown[0]
            raise links.fail(f"node {ends[col][k]} is not in node.csv", k, col)

    # ---- attributes (GMNS units, see module docs)
    length = _floats(links, "length")
    _non_negative(links, length, "length")
    lanes = _floats(links, "lanes", default=1.0) if links.has("lanes") else np.ones(m)
    _non_negative(links, lanes, "lanes")
    capacity = _capacity(links, lanes)
    speed = _floats(links, "free_speed", default=0.0) if links.has("free_speed") else np.zeros(m)
    _non_negative(links, speed, "free_speed")
    toll = _floats(links, "toll", default=0.0) if links.has("toll") else np.zeros(m)
    _non_negative(links, toll, "toll")
    fft = _free_flow_time(links, length, speed, units, config_path)
    alpha = (_floats(links, "bpr_alpha", default=DEFAULT_BPR_ALPHA) if links.has("bpr_alpha")
             else np.full(m, DEFAULT_BPR_ALPHA))
    _non_negative(links, alpha, "bpr_alpha")
    beta = (_floats(links, "bpr_beta", default=DEFAULT_BPR_BETA) if links.has("bpr_beta")
            else np.full(m, DEFAULT_BPR_BETA))
    _non_negative(links, beta, "bpr_beta")
    link_type, type_names, names_used = _link_types(links)
    directed = (_bools(links, "directed", links.get("directed") or [])
                if links.has("directed") else np.ones(m, dtype=bool))
    geometry = _geometry(links)

    consumed = {"link_id", "from_node_id", "to_node_id", "directed", "length", "lanes",
                "capacity", "link_capacity", "free_speed", "toll", "free_flow_time", "bpr_alpha",
                "bpr_beta", "link_type", "geometry", "dir_flag", "link_key"}
    if names_used:
        consumed.add(names_used)
    link_keys: np.ndarray | None = None
    extra: dict[str, np.ndarray] = {}
    if links.has("link_key"):
        link_keys = _ids(links, "link_key")
    elif int_ids:
        link_keys = np.array(parsed, dtype=np.int64)
    if not int_ids:
        extra[links.names["link_id"]] = np.array(raw_ids, dtype=object)
    for key, vals in links.columns.items():
        if key not in consumed:
            extra[links.names[key]] = _extra_column(vals)

    # ---- undirected rows -> forward link then reverse link
    # (an undirected self-loop stays one link: its reverse would be an exact duplicate)
    single = directed | (ends["from_node_id"] == ends["to_node_id"])
    rows = np.repeat(np.arange(m), np.where(single, 1, 2))
    reverse = np.zeros(len(rows), dtype=bool)
    reverse[1:] = rows[1:] == rows[:-1]
    tail = np.where(reverse, ends["to_node_id"][rows], ends["from_node_id"][rows])
    head = np.where(reverse, ends["from_node_id"][rows], ends["to_node_id"][rows])
    geoms = None
    if geometry is not None:
        geoms = geometry[rows]
        for k in np.flatnonzero(reverse & (geoms != None)).tolist():  # noqa: E711
            geoms[k] = geoms[k].reverse()
    line_no = np.asarray(links.lines, dtype=np.int64)[rows]

    try:
        return Network.from_links(
            tail, head,
            node_ids=nodes.ids,
            zones=nodes.zones,
            zones_passable=passable,
            length=length[rows], free_flow_time=fft[rows], capacity=capacity[rows],
            bpr_alpha=alpha[rows], bpr_beta=beta[rows], speed=speed[rows], lanes=lanes[rows],
            toll=toll[rows], link_type=link_type[rows],
            units=units,
            duplicates=duplicates,
            source_path=os.fspath(links.path),
            source_lines=line_no,
            name=net_name,
            source=os.fspath(root),
            link_type_names=type_names,
            node_x=nodes.x, node_y=nodes.y, crs=crs,
            signalized=nodes.signalized,
            link_keys=None if link_keys is None else link_keys[rows],
            link_geometry=geoms,
            link_extra={k: v[rows] for k, v in extra.items()},
            node_extra=nodes.extra,
            metadata=meta,
        )
    except FormatError as exc:
        raise FormatError(exc.reason, path=exc.path, line=exc.line,
                          field=_GMNS_FIELD.get(exc.field or "", exc.field)) from None


def _capacity(links: _Table, lanes: np.ndarray) -> np.ndarray:
    """Capacity of all lanes, veh/h: ``link_capacity`` where given, else capacity/lane x lanes."""
    m = len(links)
    total = (_floats(links, "link_capacity", default=np.nan) if links.has("link_capacity")
             else np.full(m, np.nan))
    _non_negative(links, np.nan_to_num(total), "link_capacity")
    need = np.isnan(total)
    if not need.any():
        return total
    if not links.has("capacity"):
        raise links.fail("required column 'capacity' (veh/h per lane) is missing", None,
                         "capacity")
    per_lane = _floats(links, "capacity", default=np.nan)
    missing = need & np.isnan(per_lane)
    if missing.any():
        raise links.fail("empty capacity: smartcore needs a capacity (veh/h per lane) on every link",
                         int(np.flatnonzero(missing)[0]), "capacity")
    _non_negative(links, np.where(need, per_lane, 0.0), "capacity", " veh/h per lane")
    return np.where(need, per_lane * lanes, total)


def _free_flow_time(links: _Table, length: np.ndarray, speed: np.ndarray, units: dict[str, str],
                    config_path: Path) -> np.ndarray:
    """``free_flow_time`` where given; elsewhere ``length / free_speed`` (see module docs)."""
    m = len(links)
    target = units.get("free_flow_time")
    if links.has("free_flow_time"):
        fft = _floats(links, "free_flow_time", default=np.nan)
        _non_negative(links, np.nan_to_num(fft), "free_flow_time")
    else:
        fft = np.full(m, np.nan)
        target = units["free_flow_time"] = target or "s"
    need = np.isnan(fft)
    if not need.any():
        return fft
    if target is None:
        raise links.fail("empty free_flow_time, and config.csv has no free_flow_time_unit to say "
                         "which unit to compute it in", int(np.flatnonzero(need)[0]),
                         "free_flow_time")
    if not links.has("free_speed"):
        raise links.fail("no free_flow_time and no free_speed column: the free-flow time cannot "
                         "be computed", None, "free_speed")
    zero = need & (speed <= 0)
    if zero.any():
        raise links.fail("free_speed is empty or 0: the free-flow time cannot be computed (give "
                         "a speed or a free_flow_time)", int(np.flatnonzero(zero)[0]), "free_speed")
    for attr in ("length", "speed"):
        if not units.get(attr):
            field = _UNIT_FIELD_OF[attr]
            raise FormatError(
                f"free-flow times are computed as length / free_speed, but the unit of {attr} is "
                f"not stated: add {field} to config.csv or pass units={{'{attr}': ...}}",
                path=config_path, field=field)
    steps = (("length", units["length"], "m", "long_length"),
             ("speed", units["speed"], "m/s", "speed"),
             ("free_flow_time", "s", target, "free_flow_time_unit"))
    sources: dict[str, np.ndarray | float] = {"length": length, "speed": speed, "free_flow_time": 1.0}
    converted = {}
    for attr, src, dst, field in steps:
        try:
            converted[attr] = convert_units(sources[attr], src, dst)
        except InputError as exc:
            raise FormatError(f"cannot convert {attr} units: {exc}", path=config_path,
                              field=field) from None
    with np.errstate(divide="ignore", invalid="ignore"):
        computed = converted["length"] / converted["speed"] * converted["free_flow_time"]
    return np.where(need, computed, fft)


def _link_types(links: _Table) -> tuple[np.ndarray, dict[int, str], str | None]:
    """Link type codes, their names, and the column the names came from (None: not consumed)."""
    m = len(links)
    name_col = "link_type_name" if links.has("link_type_name") else "facility_type"
    names = links.get(name_col)
    if links.has("link_type"):
        vals = _floats(links, "link_type", default=0.0)
        bad = np.flatnonzero((vals != np.round(vals)) | (np.abs(vals) >= 2**31))
        if len(bad):
            k = int(bad[0])
            raise links.fail(f"link type {vals[k]:g} is not an integer", k, "link_type")
        codes = vals.astype(np.int32)
        if names is None:
            return codes, {}, None
        table: dict[int, str] = {}
        for code, label in zip(codes.tolist(), names):
            if label and table.setdefault(code, label) != label:
                return codes, {}, None  # names do not follow codes: keep them as a column
        return codes, table, name_col
    if names is None:
        return np.zeros(m, dtype=np.int32), {}, None
    index: dict[str, int] = {}
    codes = np.array([index.setdefault(v, len(index) + 1) if v else 0 for v in names],
                     dtype=np.int32)
    return codes, {code: label for label, code in index.items()}, name_col


def _geometry(links: _Table) -> np.ndarray | None:
    wkt = links.get("geometry")
    if wkt is None or not any(wkt):
        return None
    import shapely
    from shapely.errors import ShapelyError

    flags = links.get("dir_flag")
    out = np.empty(len(wkt), dtype=object)
    for k, tok in enumerate(wkt):
        if not tok:
            out[k] = None
            continue
        try:
            geom = shapely.from_wkt(tok)
        except (ShapelyError, ValueError) as exc:
            raise links.fail(f"not valid WKT: {exc}", k, "geometry") from None
        if flags is not None and flags[k] and _parse_id(flags[k]) == -1:
            geom = geom.reverse()
        out[k] = geom
    return out


# ------------------------------------------------------------------------------------ writer
def _num(x: float) -> str:
    """Shortest text that reads back as exactly ``x`` (integers without ``.0``)."""
    if math.isnan(x):
        return ""
    return str(int(x)) if x.is_integer() and abs(x) < 1e15 else repr(x)


def _text_column(values: np.ndarray, key: str) -> list[str]:
    """An extra attribute as CSV text that :func:`_extra_column` reads back to the same dtype."""
    arr = np.asarray(values)
    if arr.ndim != 1:
        raise InputError(f"extra attribute {key!r} has shape {arr.shape}; GMNS columns hold one "
                         "value per row", field=key)
    kind = arr.dtype.kind
    if kind == "f":
        return ["" if math.isnan(v) else repr(v) for v in arr.astype(np.float64).tolist()]
    if kind in "iu":
        return [str(int(v)) for v in arr.tolist()]
    if kind == "b":
        return ["TRUE" if v else "FALSE" for v in arr.tolist()]
    out = []
    for v in arr.tolist():
        if v is None or (isinstance(v, float) and math.isnan(v)):
            out.append("")
        elif isinstance(v, float):
            out.append(repr(v))
        else:
            out.append(str(v))
    return out


def _wkt(geom: Any) -> str:
    """WKT with every coordinate as ``repr`` (GEOS's own writer can be off by one ulp)."""
    import shapely

    if geom.is_empty or geom.geom_type not in ("Point", "LineString", "MultiLineString"):
        return shapely.to_wkt(geom, rounding_precision=-1)

    def seq(coords: Any) -> str:
        return ", ".join(" ".join(repr(float(v)) for v in point) for point in coords)

    z = " Z" if geom.has_z else ""
    if geom.geom_type == "MultiLineString":
        return f"MULTILINESTRING{z} (" + ", ".join(f"({seq(g.coords)})" for g in geom.geoms) + ")"
    return f"{geom.geom_type.upper()}{z} ({seq(geom.coords)})"


def _json_default(obj: Any) -> Any:
    if isinstance(obj, np.generic):
        return obj.item()
    if isinstance(obj, np.ndarray):
        return obj.tolist()
    if isinstance(obj, Mapping):
        return dict(obj)
    raise TypeError(type(obj).__name__)


def _metadata_json(metadata: Mapping[str, Any]) -> str:
    """JSON of the metadata entries that JSON can hold ("gmns" is written as config fields)."""
    keep: dict[str, Any] = {}
    for key, value in metadata.items():
        if key == "gmns":
            continue
        try:
            json.dumps(value, default=_json_default)
        except (TypeError, ValueError):
            continue
        keep[str(key)] = value
    return json.dumps(keep, default=_json_default) if keep else ""


def _add_extra(columns: dict[str, list[str]], extra: Mapping[str, np.ndarray], skip: set[str],
               what: str) -> None:
    taken = {c.lower() for c in columns}
    for key, values in extra.items():
        if key in skip:
            continue
        if key.lower() in taken:
            raise InputError(f"{what} attribute {key!r} clashes with a column smartcore writes "
                             f"to {what}.csv; rename it", field=key)
        columns[key] = _text_column(values, key)
        taken.add(key.lower())


def _write_csv(path: Path, columns: dict[str, list[str]]) -> None:
    with open(path, "w", encoding="utf-8", newline="") as fh:
        writer = csv.writer(fh, lineterminator="\n")
        writer.writerow(list(columns))
        writer.writerows(zip(*columns.values()))


def write_gmns(network: Network, folder: PathLike) -> None:
    """Write ``network`` as a GMNS folder: ``node.csv``, ``link.csv`` and ``config.csv``.

    Every value is written with full ``float`` precision and the smartcore extension fields of
    the module docs, so :func:`read_gmns` gives back the same link order, node ids and order,
    zones and their passable flag, coordinates and crs, attribute arrays, link types and names,
    units, geometry, extras and JSON-able metadata. GMNS ``capacity`` is written per lane
    (veh/h/lane = :attr:`Network.capacity` / ``lanes``). Links are written ``directed = TRUE``.
    A network without :attr:`Network.link_keys` gets ``link_id`` 1..num_links, which
    :func:`read_gmns` returns as ``link_keys``.

    The folder is written atomically: a failed write leaves no partial output, and an existing
    folder is replaced only once the new one is complete.

    Raises
    ------
    InputError
        When an extra attribute is not one-dimensional or clashes with a GMNS column.
    """
    m, n = network.num_links, network.num_nodes
    ids = network.link_ids
    # ---- nodes, dense order (zones first)
    node_ids = network.node_ids.tolist()
    is_zone = np.arange(n) < network.num_zones
    extra_nodes = dict(network.node_extra)
    old_zone = (_text_column(extra_nodes["zone_id"], "zone_id") if "zone_id" in extra_nodes
                else [""] * n)
    old_type = (_text_column(extra_nodes["node_type"], "node_type") if "node_type" in extra_nodes
                else [""] * n)
    old_ctrl = (_text_column(extra_nodes["ctrl_type"], "ctrl_type") if "ctrl_type" in extra_nodes
                else [""] * n)
    xs = [""] * n if network.node_x is None else [repr(v) for v in network.node_x.tolist()]
    ys = [""] * n if network.node_y is None else [repr(v) for v in network.node_y.tolist()]
    node_cols: dict[str, list[str]] = {
        "node_id": [str(v) for v in node_ids],
        "x_coord": xs,
        "y_coord": ys,
        "zone_id": [str(v) if z else old for v, z, old in zip(node_ids, is_zone, old_zone)],
        "node_type": ["centroid" if z else ("" if old.lower() == "centroid" else old)
                      for z, old in zip(is_zone, old_type)],
        "ctrl_type": ["signal" if s else ("" if old.lower() == "signal" else old)
                      for s, old in zip(network.signalized.tolist(), old_ctrl)],
    }
    _add_extra(node_cols, extra_nodes, {"zone_id", "node_type", "ctrl_type"}, "node")

    # ---- links, link order
    extra_links = dict(network.link_extra)
    keys = network.link_keys
    link_key_col: list[str] | None = None
    skip: set[str] = set()
    if keys is not None and len(np.unique(keys)) == m:
        link_id = [str(v) for v in keys.tolist()]
    else:
        link_id = [str(k) for k in range(1, m + 1)]
        if keys is not None:
            link_key_col = [str(v) for v in keys.tolist()]
        elif "link_id" in extra_links:
            given = _text_column(extra_links["link_id"], "link_id")
            if len(set(given)) == m and all(given):
                link_id, skip = given, {"link_id"}
    lanes = network.lanes
    with np.errstate(divide="ignore", invalid="ignore"):
        per_lane = np.where(lanes > 0, network.capacity / np.where(lanes > 0, lanes, 1.0), np.nan)
    inexact = np.isnan(per_lane) | (per_lane * lanes != network.capacity)
    names = network.link_type_names
    link_cols: dict[str, list[str]] = {
        "link_id": link_id,
        "from_node_id": [str(v) for v in ids[:, 0].tolist()],
        "to_node_id": [str(v) for v in ids[:, 1].tolist()],
        "directed": ["TRUE"] * m,
        "length": [_num(v) for v in network.length.tolist()],
        "lanes": [_num(v) for v in lanes.tolist()],
        "capacity": [_num(v) for v in per_lane.tolist()],
        "free_speed": [_num(v) for v in network.speed.tolist()],
        "toll": [_num(v) for v in network.toll.tolist()],
        "facility_type": [names.get(int(c), "") for c in network.link_type.tolist()],
        "free_flow_time": [_num(v) for v in network.free_flow_time.tolist()],
        "bpr_alpha": [_num(v) for v in network.bpr_alpha.tolist()],
        "bpr_beta": [_num(v) for v in network.bpr_beta.tolist()],
        "link_type": [str(int(c)) for c in network.link_type.tolist()],
    }
    if inexact.any():
        link_cols["link_capacity"] = [_num(c) if bad else ""
                                      for c, bad in zip(network.capacity.tolist(), inexact.tolist())]
    if link_key_col is not None:
        link_cols["link_key"] = link_key_col
    if network.link_geometry is not None:
        geoms = network.link_geometry.tolist()
        link_cols["geometry"] = ["" if g is None else _wkt(g) for g in geoms]
        link_cols["dir_flag"] = ["0" if g is None else "1" for g in geoms]
    _add_extra(link_cols, extra_links, skip, "link")

    # ---- config
    units = dict(network.units)
    config: dict[str, str] = {
        "dataset_name": network.name,
        "short_length": "",
        "long_length": units.pop("length", ""),
        "speed": units.pop("speed", ""),
        "crs": network.crs or "",
        "geometry_field_format": "WKT",
        "currency": units.pop("toll", ""),
        "version_number": GMNS_VERSION,
        "id_type": "integer" if not skip else "string",
        "capacity_unit": units.pop("capacity", ""),
    }
    for key, unit in units.items():
        config[f"{key}_unit"] = unit
    config["zones_passable"] = "TRUE" if network.zones_passable else "FALSE"
    config["metadata"] = _metadata_json(network.metadata)
    old = network.metadata.get("gmns")
    if isinstance(old, Mapping):
        for key, value in old.items():
            if key not in ("version_number", "id_type", "geometry_field_format") and (
                    not config.get(key)):
                config[str(key)] = str(value)

    with atomic_directory(folder) as tmp:
        _write_csv(tmp / "node.csv", node_cols)
        _write_csv(tmp / "link.csv", link_cols)
        _write_csv(tmp / "config.csv", {k: [v] for k, v in config.items()})
