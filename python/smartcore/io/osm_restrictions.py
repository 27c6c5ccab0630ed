"""OpenStreetMap turn restrictions (``type=restriction`` relations) as a routing
:class:`~smartcore.routing.TurnTable`.

:func:`read_turn_restrictions` reads the restriction relations of an extract (``.osm`` XML, also
bz2/gzip compressed, or ``.osm.pbf``) and turns them into turn bans on the links of a network read
from the same extract (:func:`smartcore.io.osm.read_osm`, which keeps each link's way id in
``link_extra["osmid"]``)::

    net = smartcore.io.osm.read_osm("city.osm.pbf")
    turns = read_turn_restrictions("city.osm.pbf", net)
    path = smartcore.routing.shortest_path(net, a, b, turns=turns)

Semantics (OSM wiki, Relation:restriction)
------------------------------------------
A relation has ``from`` way(s), one ``via`` node and ``to`` way(s). ``no_left_turn``,
``no_right_turn``, ``no_straight_on``, ``no_u_turn``, ``no_entry`` and ``no_exit`` ban the turns
from the ``from`` links entering the via node to the ``to`` links leaving it; ``only_left_turn``,
``only_right_turn``, ``only_straight_on`` and ``only_u_turn`` ban every *other* turn from those
``from`` links at the via node (U-turn included).

Which restrictions apply to the vehicle follows the OSRM car profile: the most specific of
``restriction:motorcar``, ``restriction:motor_vehicle``, ``restriction:vehicle``, ``restriction``
gives the kind (for ``vehicle="motorcar"``; other vehicles have their own chain, see
:data:`VEHICLE_CLASSES`), and a relation whose ``except`` lists the vehicle or one of its classes
does not apply. Conditional restrictions (``restriction:conditional``) and the deprecated
``day_on``/``hour_on`` tags are ignored.

Ways should start or end at the via node, but mappers often let a way run through the junction:
its links then enter (or leave) the via node from both sides. Such ambiguities are settled by the
turn angle, computed from the link geometries (or the end nodes): the pair of links whose angle is
closest to the kind's (left -90 degrees, straight 0, right +90, U-turn 180) is the restricted turn.
For ``no_u_turn`` / ``only_u_turn`` the turn is the reversal (the ``to`` link leads back to where
the ``from`` link came from); when ``from`` and ``to`` are the same way for any other kind, the
reversal is excluded.

Not supported: restrictions with ``via`` *ways* (they restrict sequences of three or more links,
which a table of single turns cannot express) and relations naming several via nodes. They are
skipped; :func:`explain_restrictions` lists, per relation, what was applied or why not.
"""

from __future__ import annotations

import dataclasses
import math
import os
import struct
import zlib
from collections.abc import Iterable, Iterator, Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, NoReturn

import numpy as np

from smartcore.errors import FormatError, InputError
from smartcore.io.osm import _check_file, _open_xml
from smartcore.network import Network
from smartcore.routing import TurnTable

if TYPE_CHECKING:  # pragma: no cover
    import pandas as pd

__all__ = [
    "Restriction",
    "RESTRICTION_KINDS",
    "VEHICLE_CLASSES",
    "read_restrictions",
    "restrictions_to_turns",
    "explain_restrictions",
    "read_turn_restrictions",
]

#: Restriction values understood, with the ideal turn angle in degrees (negative: left; None: any).
RESTRICTION_KINDS: Mapping[str, float | None] = {
    "no_left_turn": -90.0,
    "no_right_turn": 90.0,
    "no_straight_on": 0.0,
    "no_u_turn": 180.0,
    "no_entry": None,
    "no_exit": None,
    "only_left_turn": -90.0,
    "only_right_turn": 90.0,
    "only_straight_on": 0.0,
    "only_u_turn": 180.0,
}

#: For each vehicle, the access classes it belongs to, most specific first (OSM wiki Key:access).
VEHICLE_CLASSES: Mapping[str, tuple[str, ...]] = {
    "motorcar": ("motorcar", "motor_vehicle", "vehicle"),
    "hgv": ("hgv", "motor_vehicle", "vehicle"),
    "bus": ("bus", "psv", "motor_vehicle", "vehicle"),
    "bicycle": ("bicycle", "vehicle"),
}


@dataclasses.dataclass(frozen=True)
class Restriction:
    """One ``type=restriction`` relation: its id, tags and member ids by role."""

    id: int
    tags: Mapping[str, str]
    from_ways: tuple[int, ...]
    via_nodes: tuple[int, ...]
    via_ways: tuple[int, ...]
    to_ways: tuple[int, ...]

    def kind(self, vehicle: str = "motorcar") -> str | None:
        """The restriction value that applies to ``vehicle`` (``None`` when none does)."""
        classes = _classes(vehicle)
        exempt = {v.strip() for v in self.tags.get("except", "").split(";")}
        if exempt & set(classes):
            return None
        for c in classes:
            value = self.tags.get(f"restriction:{c}")
            if value:
                return value.strip()
        value = self.tags.get("restriction")
        return value.strip() if value else None


def _classes(vehicle: str) -> tuple[str, ...]:
    if vehicle not in VEHICLE_CLASSES:
        raise InputError(f"vehicle must be one of {sorted(VEHICLE_CLASSES)}, got {vehicle!r}",
                         field="vehicle")
    return VEHICLE_CLASSES[vehicle]


def _restriction(rid: int, tags: Mapping[str, str],
                 members: Iterable[tuple[str, int, str]]) -> Restriction:
    roles: dict[tuple[str, str], list[int]] = {}
    for mtype, ref, role in members:
        roles.setdefault((mtype, role), []).append(ref)
    return Restriction(
        id=rid, tags=dict(tags), from_ways=tuple(roles.get(("way", "from"), ())),
        via_nodes=tuple(roles.get(("node", "via"), ())),
        via_ways=tuple(roles.get(("way", "via"), ())), to_ways=tuple(roles.get(("way", "to"), ())))


# ------------------------------------------------------------------------------------------ reading
def read_restrictions(path: str | os.PathLike[str]) -> list[Restriction]:
    """Every ``type=restriction`` relation of an OSM extract, in file order.

    ``.pbf`` files are decoded here (the PBF format's blobs, zlib or uncompressed, and its
    relation messages; no third-party parser); anything else is read as OSM XML (plain, bz2 or
    gzip). Raises :class:`~smartcore.errors.FormatError` naming the file (and the line, for XML).
    """
    p = _check_file(os.fspath(path), "OSM")
    with open(p, "rb") as fh:
        head = fh.read(16)
    # A PBF file starts with a 4-byte header length and the BlobHeader's type "OSMHeader".
    if b"OSMHeader" in head or p.name.endswith(".pbf"):
        return list(_pbf_restrictions(p))
    return _xml_restrictions(p)


def _xml_restrictions(p: Path) -> list[Restriction]:
    import xml.parsers.expat as expat

    out: list[Restriction] = []
    parser = expat.ParserCreate()
    state: dict[str, Any] = {"in": False, "id": 0, "tags": {}, "members": []}

    def fail(msg: str, field: str) -> NoReturn:
        raise FormatError(msg, path=str(p), line=parser.CurrentLineNumber, field=field)

    def start(name: str, attrs: dict[str, str]) -> None:
        if name == "relation":
            try:
                rid = int(attrs["id"])
            except (KeyError, ValueError):
                fail(f"<relation> id={attrs.get('id')!r} is not an integer", "id")
            state.update({"in": True, "id": rid, "tags": {}, "members": []})
        elif state["in"] and name == "tag":
            state["tags"][attrs.get("k", "")] = attrs.get("v", "")
        elif state["in"] and name == "member":
            try:
                ref = int(attrs["ref"])
            except (KeyError, ValueError):
                fail(f"<member> ref={attrs.get('ref')!r} is not an integer", "ref")
            state["members"].append((attrs.get("type", ""), ref, attrs.get("role", "")))

    def end(name: str) -> None:
        if name == "relation" and state["in"]:
            state["in"] = False
            if state["tags"].get("type") == "restriction":
                out.append(_restriction(state["id"], state["tags"], state["members"]))

    parser.StartElementHandler = start
    parser.EndElementHandler = end
    try:
        with _open_xml(p) as fh:
            parser.ParseFile(fh)
    except expat.ExpatError as exc:
        raise FormatError(f"not well-formed OSM XML: {expat.ErrorString(exc.code)}", path=str(p),
                          line=exc.lineno) from None
    except (OSError, EOFError, zlib.error) as exc:
        raise FormatError(f"cannot read OSM XML: {exc}", path=str(p)) from None
    return out


# PBF (OSM wiki "PBF Format"; osmformat.proto / fileformat.proto field numbers).
def _varint(buf: bytes, pos: int) -> tuple[int, int]:
    result = shift = 0
    while True:
        b = buf[pos]
        pos += 1
        result |= (b & 0x7F) << shift
        if b < 0x80:
            return result, pos
        shift += 7


def _fields(buf: bytes, pos: int = 0, end: int | None = None) -> Iterator[tuple[int, int, Any]]:
    """(field number, wire type, value) of a protobuf message; length-delimited values are
    (start, end) offsets into buf."""
    end = len(buf) if end is None else end
    while pos < end:
        key, pos = _varint(buf, pos)
        wire = key & 7
        value: Any
        if wire == 0:
            value, pos = _varint(buf, pos)
        elif wire == 2:
            n, pos = _varint(buf, pos)
            value = (pos, pos + n)
            pos += n
        elif wire == 1:
            value, pos = buf[pos:pos + 8], pos + 8
        elif wire == 5:
            value, pos = buf[pos:pos + 4], pos + 4
        else:
            raise ValueError(f"unsupported protobuf wire type {wire}")
        if pos > end:
            raise ValueError("truncated protobuf message")
        yield key >> 3, wire, value


def _ints(buf: bytes, wire: int, value: Any, into: list[int]) -> None:
    """A repeated varint field, packed (wire type 2) or not."""
    if wire == 0:
        into.append(value)
        return
    pos, end = value
    while pos < end:
        v, pos = _varint(buf, pos)
        into.append(v)


def _zigzag(n: int) -> int:
    return (n >> 1) ^ -(n & 1)


def _blobs(p: Path) -> Iterator[tuple[str, bytes]]:
    with open(p, "rb") as fh:
        while True:
            size = fh.read(4)
            if not size:
                return
            if len(size) < 4:
                raise ValueError("truncated blob header length")
            (n,) = struct.unpack(">I", size)
            if n > 64 * 1024:
                raise ValueError(f"blob header of {n} bytes (at most 64 KiB allowed)")
            header = fh.read(n)
            kind, datasize = "", 0
            for fn, _, v in _fields(header):
                if fn == 1:
                    kind = header[v[0]:v[1]].decode("utf-8", "replace")
                elif fn == 3:
                    datasize = v
            blob = fh.read(datasize)
            if len(blob) < datasize:
                raise ValueError("truncated blob")
            data = b""
            for fn, _, v in _fields(blob):
                if fn == 1:
                    data = blob[v[0]:v[1]]
                elif fn == 3:
                    data = zlib.decompress(blob[v[0]:v[1]])
                elif fn == 4:
                    import lzma

                    data = lzma.decompress(blob[v[0]:v[1]])
                elif fn in (5, 6, 7):
                    raise ValueError("blob compression other than zlib/lzma is not supported")
            yield kind, data


def _pbf_restrictions(p: Path) -> Iterator[Restriction]:
    try:
        for kind, block in _blobs(p):
            if kind != "OSMData":
                continue
            strings: list[str] | None = None
            table = (0, 0)
            groups = []
            for fn, _, v in _fields(block):
                if fn == 1:
                    table = v
                elif fn == 2:
                    groups.append(v)
            for g0, g1 in groups:
                for fn, _, v in _fields(block, g0, g1):
                    if fn != 4:  # nodes, dense nodes, ways, changesets: skipped unread
                        continue
                    if strings is None:
                        strings = [block[a:b].decode("utf-8", "replace")
                                   for f, _, (a, b) in _fields(block, *table) if f == 1]
                    r = _pbf_relation(block, v, strings)
                    if r is not None:
                        yield r
    except (ValueError, IndexError, zlib.error, struct.error, OSError) as exc:
        raise FormatError(f"cannot read as OSM PBF: {exc}", path=str(p)) from None


_MEMBER_TYPES = ("node", "way", "relation")


def _pbf_relation(buf: bytes, span: tuple[int, int], strings: Sequence[str]) -> Restriction | None:
    rid = 0
    keys: list[int] = []
    vals: list[int] = []
    roles: list[int] = []
    memids: list[int] = []
    types: list[int] = []
    for fn, wire, v in _fields(buf, *span):
        if fn == 1:
            rid = v
        elif fn == 2:
            _ints(buf, wire, v, keys)
        elif fn == 3:
            _ints(buf, wire, v, vals)
        elif fn == 8:
            _ints(buf, wire, v, roles)
        elif fn == 9:
            _ints(buf, wire, v, memids)
        elif fn == 10:
            _ints(buf, wire, v, types)
    tags = {strings[k]: strings[x] for k, x in zip(keys, vals)}
    if tags.get("type") != "restriction":
        return None
    refs, ref = [], 0
    for d in memids:  # delta coded, zigzag
        ref += _zigzag(d)
        refs.append(ref)
    roles_s = [strings[r] for r in roles]  # int32, not zigzag
    members = [(_MEMBER_TYPES[t] if 0 <= t < 3 else "", m, role)
               for t, m, role in zip(types, refs, roles_s)]
    if rid >= 1 << 63:
        rid -= 1 << 64
    return _restriction(rid, tags, members)


# ------------------------------------------------------------------------------------------ turns
@dataclasses.dataclass
class _Outcome:
    status: str
    turns: int = 0


def _bearing_deg(dx: float, dy: float) -> float:
    return math.degrees(math.atan2(dx, dy))  # clockwise from north / the y axis


class _Geometry:
    """Direction of travel at the ends of links (from geometries or end nodes)."""

    def __init__(self, network: Network) -> None:
        self.net = network
        self.geographic = network.crs is None or "4326" in str(network.crs)

    def _points(self, link: int) -> list[tuple[float, float]] | None:
        g = self.net.link_geometry[link] if self.net.link_geometry is not None else None
        if g is not None and not getattr(g, "is_empty", True):
            return list(g.coords)
        x, y = self.net.node_x, self.net.node_y
        if x is None or y is None:
            return None
        t, h = int(self.net.link_tail[link]), int(self.net.link_head[link])
        return [(float(x[t]), float(y[t])), (float(x[h]), float(y[h]))]

    def _dir(self, a: tuple[float, float], b: tuple[float, float]) -> float:
        dx, dy = b[0] - a[0], b[1] - a[1]
        if self.geographic:
            dx *= math.cos(math.radians((a[1] + b[1]) / 2))
        return _bearing_deg(dx, dy)

    def angle(self, a: int, b: int) -> float | None:
        """Turn angle from link a into link b in (-180, 180]: 0 straight on, < 0 left."""
        pa, pb = self._points(a), self._points(b)
        if not pa or not pb or len(pa) < 2 or len(pb) < 2:
            return None
        t = self._dir(pb[0], pb[1]) - self._dir(pa[-2], pa[-1])
        t = (t + 180.0) % 360.0 - 180.0
        return 180.0 if t == -180.0 else t


def _distance(angle: float | None, ideal: float) -> float:
    if angle is None:
        return 0.0
    d = abs(angle - ideal) % 360.0
    return min(d, 360.0 - d)


def _convert(network: Network, restrictions: Iterable[Restriction], vehicle: str
             ) -> tuple[TurnTable, list[tuple[Restriction, str | None, _Outcome]]]:
    _classes(vehicle)
    if "osmid" not in network.link_extra:
        raise InputError("the network has no way ids (link_extra['osmid']): read it with "
                         "smartcore.io.osm.read_osm or from_osmnx", field="network")
    way = np.asarray(network.link_extra["osmid"], dtype=np.int64)
    tail, head = network.link_tail, network.link_head
    node_pos = {int(v): i for i, v in enumerate(network.node_ids.tolist())}
    geometry = _Geometry(network)
    fs_first, fs_link = network.fs_first, network.fs_link
    bs_first, bs_link = network.bs_first, network.bs_link
    froms: list[int] = []
    tos: list[int] = []
    report: list[tuple[Restriction, str | None, _Outcome]] = []
    for r in restrictions:
        kind = r.kind(vehicle)
        if kind is None:
            report.append((r, kind, _Outcome(f"does not apply to {vehicle}")))
            continue
        if kind not in RESTRICTION_KINDS:
            report.append((r, kind, _Outcome(f"unknown restriction {kind!r}")))
            continue
        if r.via_ways:
            report.append((r, kind, _Outcome("via ways are not supported")))
            continue
        if len(r.via_nodes) != 1 or not r.from_ways or not r.to_ways:
            report.append((r, kind, _Outcome("needs from way(s), exactly one via node, to way(s)")))
            continue
        via = node_pos.get(r.via_nodes[0])
        if via is None:
            report.append((r, kind, _Outcome("via node not in the network")))
            continue
        entering = bs_link[bs_first[via]:bs_first[via + 1]]
        leaving = fs_link[fs_first[via]:fs_first[via + 1]]
        from_links = [int(a) for a in entering if way[a] in r.from_ways]
        to_links = [int(b) for b in leaving if way[b] in r.to_ways]
        if not from_links or not to_links:
            report.append((r, kind, _Outcome(
                "no from link enters the via node" if not from_links
                else "no to link leaves the via node")))
            continue
        ideal = RESTRICTION_KINDS[kind]
        u_turn = kind.endswith("u_turn")
        pairs: list[tuple[int, int]] = []
        # one turn per (from way, to way): the best by angle when a way runs through the node
        for fw in dict.fromkeys(int(way[a]) for a in from_links):
            for tw in dict.fromkeys(int(way[b]) for b in to_links):
                cand = [(a, b) for a in from_links if way[a] == fw for b in to_links if way[b] == tw]
                if u_turn:
                    back = [(a, b) for a, b in cand if head[b] == tail[a]]
                    cand = back or cand
                elif fw == tw:
                    cand = [(a, b) for a, b in cand if head[b] != tail[a]]
                if len(cand) > 1 and ideal is not None:
                    score = [_distance(geometry.angle(a, b), ideal) for a, b in cand]
                    best = min(score)
                    cand = [c for c, s in zip(cand, score) if s == best]
                pairs.extend(cand)
        if not pairs:
            report.append((r, kind, _Outcome("no matching turn at the via node")))
            continue
        if kind.startswith("no_"):
            banned = pairs
        else:
            allowed = set(pairs)
            banned = [(a, int(c)) for a in dict.fromkeys(a for a, _ in pairs) for c in leaving
                      if (a, int(c)) not in allowed]
        for a, b in banned:
            froms.append(a)
            tos.append(b)
        report.append((r, kind, _Outcome("applied", len(banned))))
    table = TurnTable.bans(np.array(froms, dtype=np.int64), np.array(tos, dtype=np.int64))
    return table, report


def restrictions_to_turns(network: Network, restrictions: Iterable[Restriction], *,
                          vehicle: str = "motorcar") -> TurnTable:
    """Turn bans on ``network``'s links for the restrictions that apply to ``vehicle``.

    ``network`` must carry way ids in ``link_extra["osmid"]`` (as :func:`~smartcore.io.osm.read_osm`
    and :func:`~smartcore.io.osm.from_osmnx` networks do). Relations that cannot be applied are
    skipped; :func:`explain_restrictions` says why.
    """
    return _convert(network, restrictions, vehicle)[0]


def explain_restrictions(network: Network, restrictions: Iterable[Restriction], *,
                         vehicle: str = "motorcar") -> pd.DataFrame:
    """One row per relation: id, the kind that applies, members, ``status`` (``"applied"`` or why
    not) and the number of turns banned."""
    import pandas as pd

    _, report = _convert(network, restrictions, vehicle)
    return pd.DataFrame({
        "relation": [r.id for r, _, _ in report],
        "restriction": [k for _, k, _ in report],
        "from_ways": [r.from_ways for r, _, _ in report],
        "via_nodes": [r.via_nodes for r, _, _ in report],
        "via_ways": [r.via_ways for r, _, _ in report],
        "to_ways": [r.to_ways for r, _, _ in report],
        "status": [o.status for _, _, o in report],
        "turns": [o.turns for _, _, o in report],
    })


def read_turn_restrictions(path: str | os.PathLike[str], network: Network, *,
                           vehicle: str = "motorcar") -> TurnTable:
    """:func:`read_restrictions` then :func:`restrictions_to_turns`: the turn bans of an extract
    on a network read from it."""
    return restrictions_to_turns(network, read_restrictions(path), vehicle=vehicle)
