"""TNTP files: the research benchmark format of the TransportationNetworks repository.

Reads and writes ``*_net.tntp`` (links), ``*_trips.tntp`` (OD demand), ``*_flow.tntp`` (best-known
link flows) and ``*_node.tntp`` (coordinates). The format, as the files actually are:

* a metadata header of ``<TAG> value`` lines, values cut at ``~``, closed by ``<END OF METADATA>``;
  spacing and trailing tabs vary, so tags are matched by pattern, never by line counting;
* ``~`` starts a comment; link lines start with a tab, end with ``;`` and may pad with spaces or
  write ``0.0E+00``;
* the standard link columns are init node, term node, capacity, length, free-flow time, B, power,
  speed, toll, type. A ``~`` column-name line (and ``<ORIGINAL HEADER>``) can reorder or rename them;
  units stated in ``<ORIGINAL HEADER>`` (e.g. ``Length (ft)``) are recorded on the network;
* zones are nodes ``1..Z``; with ``<FIRST THRU NODE>`` > 1 no path may pass through a node numbered
  below it.

Every error names the file, the 1-based line and the field.
"""

from __future__ import annotations

import dataclasses
import os
import re
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np

from smartcore.demand import Demand
from smartcore.errors import FormatError, InputError
from smartcore.io._common import PathLike, atomic_write, read_text
from smartcore.network import Network

__all__ = [
    "read_net", "read_trips", "read_flows", "read_nodes", "read_metadata",
    "write_net", "write_trips", "write_flows", "FlowTable", "NET_COLUMNS",
]

#: Standard order of link columns in a ``_net.tntp`` file (names as in the files' ``~`` line).
NET_COLUMNS = ("init_node", "term_node", "capacity", "length", "free_flow_time", "b", "power",
               "speed", "toll", "link_type")

# Column-name spellings seen in TNTP files -> standard column.
_COLUMN_ALIASES = {
    "init_node": "init_node", "init": "init_node", "tail": "init_node", "from": "init_node",
    "tail_node": "init_node", "a_node": "init_node",
    "term_node": "term_node", "term": "term_node", "head": "term_node", "to": "term_node",
    "head_node": "term_node", "b_node": "term_node",
    "capacity": "capacity", "cap": "capacity",
    "length": "length", "len": "length",
    "free_flow_time": "free_flow_time", "fftt": "free_flow_time", "ftime": "free_flow_time",
    "fft": "free_flow_time", "free_flow": "free_flow_time", "freeflowtime": "free_flow_time",
    "b": "b", "alpha": "b",
    "power": "power", "beta": "power",
    "speed": "speed", "speed_limit": "speed",
    "toll": "toll",
    "link_type": "link_type", "type": "link_type",
}

# Network attribute for each TNTP column.
_ATTRIBUTE_OF = {"capacity": "capacity", "length": "length", "free_flow_time": "free_flow_time",
                 "b": "bpr_alpha", "power": "bpr_beta", "speed": "speed", "toll": "toll"}

_END_OF_METADATA = re.compile(r"<\s*END\s+OF\s+METADATA\s*>", re.IGNORECASE)
_TAG = re.compile(r"^\s*<\s*([^>]+?)\s*>(.*)$")
_UNIT_IN_HEADER = re.compile(r"\(([^)]*)\)")


def _norm_col(name: str) -> str:
    key = re.sub(r"[\s\-]+", "_", name.strip().lower()).strip("_")
    key = _UNIT_IN_HEADER.sub("", key).strip("_")
    return _COLUMN_ALIASES.get(key, key)


def read_metadata(path: PathLike, text: str | None = None) -> tuple[dict[str, str], int]:
    """Parse the ``<TAG> value`` header.

    Returns the tags (upper-case names, values with ``~`` comments cut and whitespace stripped)
    and the 0-based index of the first line after ``<END OF METADATA>``.
    """
    if text is None:
        text = read_text(path, what="TNTP file")
    # Split only the header: the body of a large file is left to the scanner.
    end = _END_OF_METADATA.search(text)
    head = text[: text.find("\n", end.end()) + 1 or len(text)] if end else text
    lines = head.split("\n")
    meta: dict[str, str] = {}
    for i, line in enumerate(lines):
        m = _TAG.match(line)
        if m is None:
            if line.strip() and not line.lstrip().startswith("~"):
                raise FormatError(f"expected a <TAG> metadata line, got {line.strip()[:40]!r}",
                                  path=path, line=i + 1, field="metadata")
            continue
        tag = re.sub(r"\s+", " ", m.group(1).upper())
        if tag == "END OF METADATA":
            return meta, i + 1
        value = m.group(2)
        if tag != "ORIGINAL HEADER":
            value = value.split("~", 1)[0]
        meta[tag] = value.strip()
    raise FormatError("no <END OF METADATA> line: the file is truncated or not a TNTP file",
                      path=path, line=len(lines), field="metadata")


def _int_tag(meta: Mapping[str, str], tag: str, path: PathLike, *, required: bool = True,
             default: int | None = None) -> int | None:
    if tag not in meta:
        if required:
            raise FormatError(f"metadata tag <{tag}> is missing", path=path, field=tag)
        return default
    raw = meta[tag]
    try:
        value = float(raw)
    except ValueError:
        raise FormatError(f"<{tag}> value {raw!r} is not a number", path=path, field=tag) from None
    if value != int(value) or value < 0:
        raise FormatError(f"<{tag}> value {raw!r} is not a non-negative integer", path=path, field=tag)
    return int(value)


def _units_from_header(header: str, columns: list[str]) -> dict[str, str]:
    """Units written in ``<ORIGINAL HEADER>``, e.g. ``Length (ft)`` -> {"length": "ft"}."""
    units: dict[str, str] = {}
    cells = [c for c in re.split(r"\t+", header.replace("~", "").replace(";", "")) if c.strip()]
    for cell in cells:
        m = _UNIT_IN_HEADER.search(cell)
        if not m:
            continue
        col = _norm_col(_UNIT_IN_HEADER.sub("", cell))
        unit = m.group(1).strip()
        if col in _ATTRIBUTE_OF and unit:
            unit = {"miles": "mi", "feet": "ft", "cents": "cents", "veh/h": "veh/h"}.get(unit.lower(), unit)
            units[_ATTRIBUTE_OF[col]] = unit
    return units


def _offset_of_line(text: str, line_index: int) -> int:
    """Character offset where 0-based line ``line_index`` of ``text`` starts."""
    pos = 0
    for _ in range(line_index):
        nxt = text.find("\n", pos)
        if nxt < 0:
            return len(text)
        pos = nxt + 1
    return pos


def _scan_table(
    text: str, start_line: int, names: list[str], path: PathLike
) -> tuple[np.ndarray, np.ndarray]:
    """Numbers of the table starting at 0-based line ``start_line`` -> (values[rows, ncols], line[rows]).

    Rows are the non-blank lines after cutting ``~`` comments, ``;`` counts as whitespace. The
    scanning is done by the C++ kernel; errors come back as (kind, line, column, token).
    """
    from smartcore import _core

    body = text[_offset_of_line(text, start_line):]
    values, row_line, err = _core.scan_numeric_table(body, start_line + 1, len(names))
    if err is not None:
        kind, line, column, raw = err
        token = raw.decode("utf-8", "replace")
        if kind == 1:
            raise FormatError(f"{token!r} is not a number", path=path, line=line, field=names[column])
        field = names[column] if column < len(names) else "line"
        raise FormatError(f"expected {len(names)} fields ({' '.join(names)}), found {column}",
                          path=path, line=line, field=field)
    return values, row_line


def _first_data_line(text: str, header_words: tuple[str, ...]) -> int:
    """0-based index of the first table line, skipping blank lines, ``<TAG>`` lines and a header
    line that starts with one of ``header_words`` (e.g. ``From To Volume Cost``)."""
    for i, line in enumerate(text.split("\n")):
        s = line.strip()
        if not s or s.startswith("<") or s.startswith("~"):
            continue
        return i + 1 if s.split()[0].lower() in header_words else i
    return 0


def _node_id_column(values: np.ndarray, lines: np.ndarray, name: str, path: PathLike) -> np.ndarray:
    bad = np.flatnonzero((values != np.round(values)) | (values < 0) | (values > 2**62))
    if len(bad):
        i = int(bad[0])
        raise FormatError(f"node id {values[i]!r} is not a non-negative integer", path=path,
                          line=int(lines[i]), field=name)
    return values.astype(np.int64)


def read_net(
    path: PathLike,
    *,
    units: Mapping[str, str] | None = None,
    nodes: PathLike | None | bool = None,
    duplicates: str = "error",
    name: str | None = None,
    metadata: Mapping[str, Any] | None = None,
) -> Network:
    """Read a TNTP ``_net.tntp`` file into a :class:`~smartcore.network.Network`.

    Parameters
    ----------
    path : path
        The ``_net.tntp`` file.
    units : mapping, optional
        Units of the link attributes (``length``, ``free_flow_time``, ``capacity``, ``speed``,
        ``toll``), overriding those found in ``<ORIGINAL HEADER>``. TNTP files often state their
        units only in a README: :func:`smartcore.datasets.tntp` supplies them for known networks.
    nodes : path, bool or None
        A ``_node.tntp`` coordinates file; ``None`` (default) uses the sibling
        ``<name>_node.tntp`` when it exists, ``False`` skips coordinates.
    duplicates : {"error", "keep"}
        Exact duplicate link lines raise by default (see :meth:`Network.from_links`).
    name : str, optional
        Network name; default from the file name (``SiouxFalls_net.tntp`` -> ``SiouxFalls``).
    metadata : mapping, optional
        Extra facts stored on the network (e.g. generalised-cost factors).

    Raises
    ------
    FormatError
        Naming file, line and field: missing metadata, wrong field count, non-numeric value,
        negative or non-finite attribute, capacity <= 0, link count different from
        ``<NUMBER OF LINKS>`` (truncated file), node id outside the declared nodes.
    """
    path = os.fspath(path)
    text = read_text(path, what="TNTP network file")
    meta, start = read_metadata(path, text)
    n_nodes = _int_tag(meta, "NUMBER OF NODES", path)
    n_links = _int_tag(meta, "NUMBER OF LINKS", path)
    n_zones = _int_tag(meta, "NUMBER OF ZONES", path, required=False, default=0)
    first_thru = _int_tag(meta, "FIRST THRU NODE", path, required=False, default=1)
    assert n_nodes is not None and n_links is not None and n_zones is not None and first_thru is not None

    # The column-name line ("~ init_node term_node ..."), if any, comes before the first link.
    columns = list(NET_COLUMNS)
    pos = _offset_of_line(text, start)
    i = start - 1
    while pos < len(text):
        nxt = text.find("\n", pos)
        nxt = len(text) if nxt < 0 else nxt
        s = text[pos:nxt].strip()
        pos, i = nxt + 1, i + 1
        if not s:
            continue
        if not s.startswith("~"):
            break
        names = [c for c in re.split(r"[\s;]+", s[1:]) if c]
        normed = [_norm_col(c) for c in names]
        if len(names) >= 2 and set(normed[:2]) == {"init_node", "term_node"}:
            unknown = [c for c, k in zip(names, normed) if k not in NET_COLUMNS]
            if unknown:
                raise FormatError(f"unknown link column {unknown[0]!r}; expected {NET_COLUMNS}",
                                  path=path, line=i + 1, field=unknown[0])
            missing = [c for c in ("init_node", "term_node", "capacity", "free_flow_time")
                       if c not in normed]
            if missing:
                raise FormatError(f"required column {missing[0]!r} is missing", path=path,
                                  line=i + 1, field=missing[0])
            columns = normed
    data, line_no = _scan_table(text, start, columns, path)
    if len(data) != n_links:
        last = int(line_no[-1]) if len(line_no) else start
        raise FormatError(
            f"<NUMBER OF LINKS> says {n_links} but the file has {len(data)} link lines"
            + (" (truncated file?)" if len(data) < n_links else ""),
            path=path, line=last, field="NUMBER OF LINKS",
        )
    rows = data  # one row per link
    col = {c: data[:, k] for k, c in enumerate(columns)}
    tail = _node_id_column(col["init_node"], line_no, "init_node", path)
    head = _node_id_column(col["term_node"], line_no, "term_node", path)

    # TNTP numbers nodes 1..N (zones first); keep isolated nodes so counts match the metadata.
    for ids, field in ((tail, "init_node"), (head, "term_node")):
        bad = np.flatnonzero((ids < 1) | (ids > n_nodes))
        if len(bad):
            k = int(bad[0])
            raise FormatError(f"node {ids[k]} is outside 1..{n_nodes} (<NUMBER OF NODES>)",
                              path=path, line=int(line_no[k]), field=field)
    node_ids = np.arange(1, n_nodes + 1, dtype=np.int64)
    if n_zones > n_nodes:
        raise FormatError(f"<NUMBER OF ZONES> {n_zones} exceeds <NUMBER OF NODES> {n_nodes}",
                          path=path, field="NUMBER OF ZONES")

    unit_map = _units_from_header(meta.get("ORIGINAL HEADER", ""), columns)
    unit_map.update(units or {})
    stem = Path(path).name
    net_name = name or re.sub(r"_net\.tntp$", "", stem, flags=re.IGNORECASE)

    node_x = node_y = None
    if nodes is None:
        sibling = Path(path).with_name(re.sub(r"_net\.tntp$", "_node.tntp", stem, flags=re.IGNORECASE))
        nodes = sibling if sibling != Path(path) and sibling.exists() else False
    if nodes and nodes is not True:
        node_file = os.fspath(nodes)
        coord_ids, x, y = read_nodes(node_file)
        where = {int(v): k for k, v in enumerate(coord_ids.tolist())}
        rows_of = np.array([where.get(int(v), -1) for v in node_ids.tolist()], dtype=np.int64)
        if (rows_of < 0).any():
            unplaced = node_ids[rows_of < 0]
            raise FormatError(f"node {int(unplaced[0])} of the network has no coordinates",
                              path=node_file, field="node")
        node_x, node_y = x[rows_of], y[rows_of]

    zones = np.arange(1, n_zones + 1, dtype=np.int64)
    # FIRST THRU NODE: nodes numbered below it are not passed through. With zones 1..Z, that is
    # "zones not passable" when it is > 1. Numbers between Z+1 and FIRST THRU NODE-1 would be
    # non-zone nodes that are also blocked: not representable, so refuse rather than mis-model.
    if first_thru > 1 and first_thru != n_zones + 1:
        raise FormatError(
            f"<FIRST THRU NODE> {first_thru} is neither 1 nor <NUMBER OF ZONES>+1 = {n_zones + 1}; "
            "smartcore blocks through traffic at zones only",
            path=path, field="FIRST THRU NODE",
        )
    lt = col.get("link_type", np.zeros(len(rows)))
    if (lt != np.round(lt)).any():
        i = int(np.flatnonzero(lt != np.round(lt))[0])
        raise FormatError(f"link type {lt[i]!r} is not an integer", path=path,
                          line=int(line_no[i]), field="link_type")

    meta_out = {"tntp": dict(meta)}
    meta_out.update(metadata or {})
    return Network.from_links(
        tail, head,
        node_ids=node_ids,
        zones=zones,
        zones_passable=first_thru <= 1,
        capacity=col["capacity"],
        length=col.get("length", np.zeros(len(rows))),
        free_flow_time=col["free_flow_time"],
        bpr_alpha=col.get("b", 0.15),
        bpr_beta=col.get("power", 4.0),
        speed=col.get("speed", 0.0),
        toll=col.get("toll", 0.0),
        lanes=1.0,
        link_type=lt.astype(np.int32),
        units=unit_map,
        duplicates=duplicates,
        source_path=path,
        source_lines=line_no,
        name=net_name,
        source=path,
        node_x=node_x,
        node_y=node_y,
        metadata=meta_out,
    )


def read_trips(path: PathLike, network: Network | None = None, *, name: str | None = None,
               unit: str = "trips", check_total: bool = True) -> Demand:
    """Read a TNTP ``_trips.tntp`` file into a :class:`~smartcore.demand.Demand`.

    ``Origin o`` blocks hold ``d : v;`` pairs, several per line. Zones are ``1..<NUMBER OF ZONES>``;
    with a ``network``, every zone must also be a zone of that network.

    Raises
    ------
    FormatError
        Naming file, line and field: a pair outside an Origin block, a non-numeric or negative
        value, a zone outside 1..Z or unknown to the network, a repeated OD pair, or a parsed total
        that differs from ``<TOTAL OD FLOW>`` (the header's checksum; truncated files fail it).
    """
    path = os.fspath(path)
    text = read_text(path, what="TNTP trips file")
    meta, start = read_metadata(path, text)
    n_zones = _int_tag(meta, "NUMBER OF ZONES", path)
    assert n_zones is not None
    if network is not None and network.num_zones and n_zones != network.num_zones:
        raise FormatError(
            f"<NUMBER OF ZONES> {n_zones} differs from the network's {network.num_zones} zones",
            path=path, field="NUMBER OF ZONES",
        )
    from smartcore import _core

    lines = text.split("\n")
    body = text[_offset_of_line(text, start):]
    org, dst, val, ln, block_origin, block_line, err = _core.scan_tntp_trips(body, start + 1)
    if err is not None:
        kind, line, column, raw = err
        token = raw.decode("utf-8", "replace")
        if kind == 1:
            field = "origin" if column == 0 and lines[line - 1].strip()[:6].lower() == "origin" else (
                "destination" if column == 0 else "trips")
            raise FormatError(f"{token!r} is not a number", path=path, line=line, field=field)
        if column < 0:
            raise FormatError("destination pairs before any 'Origin' line", path=path, line=line,
                              field="origin")
        raise FormatError(f"expected 'destination : trips;' pairs, got {token!r}", path=path,
                          line=line, field="destination")

    def check_zone(values: np.ndarray, field: str) -> np.ndarray:
        bad = np.flatnonzero((values != np.round(values)) | (values < 1) | (values > n_zones))
        if len(bad):
            k = int(bad[0])
            raise FormatError(f"{field} {values[k]:g} is not a zone: zones are 1..{n_zones}"
                              + (" (<NUMBER OF ZONES>)" if n_zones else ""),
                              path=path, line=int(ln[k]), field=field)
        return values.astype(np.int64) - 1

    # Origins are checked on their own "Origin o" lines (an empty block must be valid too).
    bad = np.flatnonzero((block_origin != np.round(block_origin)) | (block_origin < 1)
                         | (block_origin > n_zones))
    if len(bad):
        k = int(bad[0])
        raise FormatError(f"origin {block_origin[k]:g} is not a zone: zones are 1..{n_zones}",
                          path=path, line=int(block_line[k]), field="origin")
    o_idx = check_zone(org, "origin")
    d_idx = check_zone(dst, "destination")
    bad = np.flatnonzero(~np.isfinite(val) | (val < 0))
    if len(bad):
        k = int(bad[0])
        raise FormatError(f"trips {val[k]} for {o_idx[k] + 1}->{d_idx[k] + 1} must be finite and >= 0",
                          path=path, line=int(ln[k]), field="trips")
    flat = o_idx * n_zones + d_idx
    counts = np.bincount(flat, minlength=n_zones * n_zones)
    if len(flat) and counts.max() > 1:
        dup = int(np.argmax(counts > 1))
        where = np.flatnonzero(flat == dup)
        raise FormatError(f"OD pair {o_idx[where[0]] + 1}->{d_idx[where[0]] + 1} repeated (first on "
                          f"line {int(ln[where[0]])})", path=path, line=int(ln[where[1]]),
                          field="destination")
    matrix = np.zeros((n_zones, n_zones))
    matrix.reshape(-1)[flat] = val
    if check_total and "TOTAL OD FLOW" in meta:
        try:
            declared = float(meta["TOTAL OD FLOW"])
        except ValueError:
            raise FormatError(f"<TOTAL OD FLOW> {meta['TOTAL OD FLOW']!r} is not a number",
                              path=path, field="TOTAL OD FLOW") from None
        total = float(matrix.sum())
        if abs(total - declared) > 1e-6 * max(1.0, abs(declared)) + 0.01:
            raise FormatError(
                f"the trips sum to {total:.6f} but <TOTAL OD FLOW> says {declared:.6f} "
                "(truncated or edited file?)", path=path, line=len(lines), field="TOTAL OD FLOW",
            )
    zone_ids = np.arange(1, n_zones + 1, dtype=np.int64)
    if network is not None:
        if not network.num_zones:
            unknown = [int(z) for z in zone_ids if not network.has_node(int(z))]
            if unknown:
                raise FormatError(f"zone {unknown[0]} is not a node of network {network.name}",
                                  path=path, field="destination")
    stem = Path(path).name
    return Demand(zone_ids=zone_ids, matrix=matrix, unit=unit,
                  name=name or re.sub(r"_trips\.tntp$", "", stem, flags=re.IGNORECASE),
                  source=path, metadata={"tntp": dict(meta)})


@dataclasses.dataclass(frozen=True)
class FlowTable:
    """Link flows of a ``_flow.tntp`` file (e.g. a published best-known equilibrium).

    ``from_ids``/``to_ids`` are TNTP node numbers; ``volume`` the link flow; ``cost`` the link cost
    at that flow (for Chicago-Sketch it includes the hidden distance term).
    """

    from_ids: np.ndarray
    to_ids: np.ndarray
    volume: np.ndarray
    cost: np.ndarray
    source: str = ""

    def __len__(self) -> int:
        return int(len(self.volume))

    def align(self, network: Network) -> np.ndarray:
        """Indices into this table for each network link (link order), matching (from, to).

        Parallel links are matched in order of appearance. Raises InputError when a network link
        has no row or the table has rows no link matches.
        """
        buckets: dict[tuple[int, int], list[int]] = {}
        for k, (a, b) in enumerate(zip(self.from_ids.tolist(), self.to_ids.tolist())):
            buckets.setdefault((a, b), []).append(k)
        out = np.empty(network.num_links, dtype=np.int64)
        ids = network.link_ids.tolist()
        for link, (a, b) in enumerate(ids):
            rows = buckets.get((a, b))
            if not rows:
                raise InputError(f"link {a}->{b} of the network has no row in {self.source}",
                                 field="from")
            out[link] = rows.pop(0)
        left = [k for rows in buckets.values() for k in rows]
        if left:
            k = left[0]
            raise InputError(f"row {self.from_ids[k]}->{self.to_ids[k]} of {self.source} matches no "
                             "network link", field="from")
        return out

    def link_flows(self, network: Network) -> np.ndarray:
        """Volumes aligned with the network's link order."""
        return self.volume[self.align(network)]

    def link_costs(self, network: Network) -> np.ndarray:
        """Costs aligned with the network's link order."""
        return self.cost[self.align(network)]


def read_flows(path: PathLike) -> FlowTable:
    """Read a ``_flow.tntp`` file (``From To Volume Cost`` per line, optional header line)."""
    path = os.fspath(path)
    text = read_text(path, what="TNTP flow file")
    names = ["from", "to", "volume", "cost"]
    data, ln = _scan_table(text, _first_data_line(text, ("from",)), names, path)
    if not len(data):
        raise FormatError("no flow lines", path=path, field="volume")
    frm = _node_id_column(data[:, 0], ln, "from", path)
    to = _node_id_column(data[:, 1], ln, "to", path)
    for k, nm in ((2, "volume"), (3, "cost")):
        bad = np.flatnonzero(~np.isfinite(data[:, k]))
        if len(bad):
            raise FormatError(f"{data[bad[0], k]} is not a finite number", path=path,
                              line=int(ln[bad[0]]), field=nm)
    return FlowTable(frm, to, data[:, 2].copy(), data[:, 3].copy(), source=path)


def read_nodes(path: PathLike) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Read a ``_node.tntp`` file -> (node ids int64, x float64, y float64).

    Accepts an optional ``Node X Y`` header and trailing ``;``; the coordinate system is whatever
    the network's README says (not stated in the file).
    """
    path = os.fspath(path)
    text = read_text(path, what="TNTP node file")
    names = ["node", "x", "y"]
    data, lines_no = _scan_table(text, _first_data_line(text, ("node",)), names, path)
    if not len(data):
        raise FormatError("no node lines", path=path, field="node")
    ids = _node_id_column(data[:, 0], lines_no, "node", path)
    uniq, counts = np.unique(ids, return_counts=True)
    if (counts > 1).any():
        dup = int(uniq[counts > 1][0])
        k = int(np.flatnonzero(ids == dup)[1])
        raise FormatError(f"node {dup} listed twice", path=path, line=int(lines_no[k]), field="node")
    return ids, data[:, 1].copy(), data[:, 2].copy()


# ---------------------------------------------------------------------------------------- writers
def _fmt(x: float) -> str:
    return repr(float(x)) if x != int(x) or abs(x) >= 1e15 else str(int(x))


def write_net(network: Network, path: PathLike) -> None:
    """Write ``network`` as a ``_net.tntp`` file (atomic: no partial file on failure).

    Values are written with full ``float`` precision (``repr``), so reading the file back gives
    the same network. TNTP numbers nodes 1..N with the zones first; a network whose node ids are
    not already 1..N (OSM, GMNS) is written with TNTP number = dense index + 1, and the original
    ids are kept beside it in ``<prefix>_node.tntp`` order via ``<prefix>_node_ids.csv``
    (``tntp_node,original_id``) so results can be mapped back. Coordinates, when the network has
    them, are written to ``<prefix>_node.tntp``.
    """
    n = network.num_nodes
    target = Path(path)
    renumber = not np.array_equal(network.node_ids, np.arange(1, n + 1))
    tntp_ids = np.arange(1, n + 1, dtype=np.int64)
    first_thru = 1 if network.zones_passable else network.num_zones + 1
    tail = tntp_ids[network.link_tail]
    head = tntp_ids[network.link_head]
    cols = [network.capacity, network.length, network.free_flow_time, network.bpr_alpha,
            network.bpr_beta, network.speed, network.toll]
    unit_header = ["Init node", "Term node"] + [
        f"{label} ({network.units[attr]})" if attr in network.units else label
        for label, attr in (("Capacity", "capacity"), ("Length", "length"),
                            ("Free Flow Time", "free_flow_time"), ("B", "bpr_alpha"),
                            ("Power", "bpr_beta"), ("Speed", "speed"), ("Toll", "toll"))
    ] + ["Type"]
    prefix = re.sub(r"_net\.tntp$", "", target.name, flags=re.IGNORECASE)
    with atomic_write(target) as fh:
        fh.write(f"<NUMBER OF ZONES> {network.num_zones}\n")
        fh.write(f"<NUMBER OF NODES> {n}\n")
        fh.write(f"<FIRST THRU NODE> {first_thru}\n")
        fh.write(f"<NUMBER OF LINKS> {network.num_links}\n")
        fh.write("<ORIGINAL HEADER>~\t" + "\t".join(unit_header) + "\t;\n")
        fh.write("<END OF METADATA>\n\n\n")
        if renumber:
            fh.write(f"~ nodes renumbered 1..N by smartcore; original ids in {prefix}_node_ids.csv\n")
        fh.write("~\t" + "\t".join(NET_COLUMNS) + "\t;\n")
        for k in range(network.num_links):
            vals = "\t".join(_fmt(c[k]) for c in cols)
            fh.write(f"\t{tail[k]}\t{head[k]}\t{vals}\t{int(network.link_type[k])}\t;\n")
    if renumber:
        with atomic_write(target.with_name(f"{prefix}_node_ids.csv")) as fh:
            fh.write("tntp_node,original_id\n")
            fh.writelines(f"{a},{b}\n" for a, b in zip(tntp_ids.tolist(), network.node_ids.tolist()))
    if network.node_x is not None and network.node_y is not None:
        with atomic_write(target.with_name(f"{prefix}_node.tntp")) as fh:
            fh.write("Node\tX\tY\t;\n")
            fh.writelines(f"{a}\t{float(x)!r}\t{float(y)!r}\t;\n"
                          for a, x, y in zip(tntp_ids.tolist(), network.node_x, network.node_y))


def write_trips(demand: Demand, path: PathLike) -> None:
    """Write ``demand`` as a ``_trips.tntp`` file (zones must be 1..Z; atomic)."""
    z = demand.num_zones
    if not np.array_equal(demand.zone_ids, np.arange(1, z + 1)):
        raise InputError("TNTP requires zones 1..Z", field="zone_ids")
    with atomic_write(path) as fh:
        fh.write(f"<NUMBER OF ZONES> {z}\n<TOTAL OD FLOW> {demand.total!r}\n<END OF METADATA>\n\n\n")
        for o in range(z):
            fh.write(f"Origin \t{o + 1}\n")
            row = demand.matrix[o]
            nz = np.flatnonzero(row)
            for start in range(0, len(nz), 5):
                fh.write("".join(f"{d + 1:5d} : {float(row[d])!r};" for d in nz[start:start + 5]) + "\n")
            fh.write("\n")


def write_flows(path: PathLike, network: Network, volume: np.ndarray, cost: np.ndarray) -> None:
    """Write link volumes and costs as a ``_flow.tntp`` file (atomic)."""
    volume = np.asarray(volume, dtype=np.float64)
    cost = np.asarray(cost, dtype=np.float64)
    if volume.shape != (network.num_links,) or cost.shape != (network.num_links,):
        raise InputError(f"volume and cost must have {network.num_links} entries", field="volume")
    ids = network.link_ids
    with atomic_write(path) as fh:
        fh.write("From \tTo \tVolume \tCost \n")
        for k in range(network.num_links):
            fh.write(f"{ids[k, 0]} \t{ids[k, 1]} \t{float(volume[k])!r} \t{float(cost[k])!r} \n")
