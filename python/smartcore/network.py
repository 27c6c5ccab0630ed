"""The road network model every smartcore kernel reads.

A :class:`Network` is an immutable directed multigraph stored as contiguous numpy arrays:

* nodes have dense ``int32`` indices ``0 .. num_nodes-1`` and external ids in :attr:`Network.node_ids`
  (TNTP node numbers, 64-bit OSM ids, GMNS ``node_id``);
* links have dense indices ``0 .. num_links-1`` in the order of the source (file line order, osmnx
  edge order), with their end nodes in :attr:`Network.link_tail` / :attr:`Network.link_head` and their
  external ``(from, to)`` ids in :attr:`Network.link_ids`;
* a forward star (``fs_first``, ``fs_link``, ``fs_head``) and a reverse star (``bs_first``,
  ``bs_link``, ``bs_tail``) in CSR form, handed to the C++ kernel without copies;
* zones (centroids) are the first :attr:`Network.num_zones` dense nodes. Nodes with a dense index
  below :attr:`Network.first_thru_node` are never passed through by a path (TNTP's
  ``<FIRST THRU NODE>`` rule): they can only start or end one.

Link attributes are ``float64`` arrays aligned with link order. Their units are whatever the source
states and are recorded in :attr:`Network.units`; :meth:`Network.attribute` converts to a requested
unit. Networks built from OpenStreetMap or GMNS use SI-style units:

=================  ===========================  =====================
attribute          meaning                      OSM / GMNS unit
=================  ===========================  =====================
``length``         link length                  ``m``
``free_flow_time`` travel time at free flow     ``s``
``capacity``       link capacity (all lanes)    ``veh/h``
``bpr_alpha``      BPR ``B`` (alpha)            ``1``
``bpr_beta``       BPR power (beta)             ``1``
``speed``          free-flow / posted speed     ``km/h``
``lanes``          number of lanes              ``1``
``toll``           toll                         ``currency`` (as given)
=================  ===========================  =====================

The BPR link performance function is ``t = t0 * (1 + alpha * (v / c) ** beta)`` (Bureau of Public
Roads, *Traffic Assignment Manual*, 1964; alpha = 0.15 and beta = 4 are its defaults).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable, Mapping, Sequence
from types import MappingProxyType
from typing import TYPE_CHECKING, Any, NoReturn

import numpy as np
import numpy.typing as npt

from smartcore.errors import FormatError, InputError

if TYPE_CHECKING:  # pragma: no cover
    import geopandas as gpd
    import networkx as nx
    import pandas as pd

__all__ = ["Network", "LINK_ATTRIBUTES", "DEFAULT_BPR_ALPHA", "DEFAULT_BPR_BETA", "convert_units"]

#: Float link attributes every network carries, aligned with link order.
LINK_ATTRIBUTES: tuple[str, ...] = (
    "length",
    "free_flow_time",
    "capacity",
    "bpr_alpha",
    "bpr_beta",
    "speed",
    "lanes",
    "toll",
)

#: BPR defaults (Bureau of Public Roads, *Traffic Assignment Manual*, U.S. DoC, 1964).
DEFAULT_BPR_ALPHA = 0.15
DEFAULT_BPR_BETA = 4.0

# Attributes that may not be negative; free_flow_time and length may be zero (connectors), capacity
# must be strictly positive because BPR divides by it.
_NON_NEGATIVE = ("length", "free_flow_time", "bpr_alpha", "bpr_beta", "speed", "lanes", "toll")

# Unit conversion factors to a base unit per dimension: metres, seconds, metres/second.
_UNIT_FACTORS: dict[str, tuple[str, float]] = {
    "m": ("length", 1.0),
    "km": ("length", 1000.0),
    "ft": ("length", 0.3048),
    "mi": ("length", 1609.344),
    "s": ("time", 1.0),
    "min": ("time", 60.0),
    "h": ("time", 3600.0),
    "0.01 h": ("time", 36.0),
    "m/s": ("speed", 1.0),
    "km/h": ("speed", 1000.0 / 3600.0),
    "mph": ("speed", 1609.344 / 3600.0),
    "ft/min": ("speed", 0.3048 / 60.0),
    "veh/h": ("flow", 1.0),
    "veh/day": ("flow", 1.0 / 24.0),
}
_UNIT_ALIASES = {
    "meters": "m", "metres": "m", "meter": "m", "metre": "m", "kilometers": "km",
    "feet": "ft", "foot": "ft", "miles": "mi", "mile": "mi", "seconds": "s", "sec": "s",
    "minutes": "min", "minute": "min", "hours": "h", "hour": "h", "hr": "h", "kph": "km/h",
    "km/hr": "km/h", "kmh": "km/h", "ft/m": "ft/min", "feet per minute": "ft/min",
    "miles per hour": "mph", "veh/hr": "veh/h", "vph": "veh/h", "pcu/h": "veh/h",
}


def _canonical_unit(unit: str) -> str:
    u = unit.strip().lower()
    return _UNIT_ALIASES.get(u, u)


def convert_units(values: npt.ArrayLike, from_unit: str, to_unit: str) -> np.ndarray:
    """Convert ``values`` between two units of the same dimension.

    Known units: lengths ``m km ft mi``; times ``s min h "0.01 h"``; speeds ``m/s km/h mph ft/min``;
    flows ``veh/h veh/day`` (a daily flow is converted as a 24 h average).

    Raises
    ------
    InputError
        When a unit is unknown or the dimensions differ.
    """
    src, dst = _canonical_unit(from_unit), _canonical_unit(to_unit)
    if src == dst:
        return np.asarray(values, dtype=np.float64)
    if src not in _UNIT_FACTORS:
        raise InputError(f"unknown unit {from_unit!r}; known: {sorted(_UNIT_FACTORS)}", field="unit")
    if dst not in _UNIT_FACTORS:
        raise InputError(f"unknown unit {to_unit!r}; known: {sorted(_UNIT_FACTORS)}", field="unit")
    (d1, f1), (d2, f2) = _UNIT_FACTORS[src], _UNIT_FACTORS[dst]
    if d1 != d2:
        raise InputError(f"cannot convert {d1} ({from_unit}) to {d2} ({to_unit})", field="unit")
    return np.asarray(values, dtype=np.float64) * (f1 / f2)


def _readonly(a: np.ndarray) -> np.ndarray:
    a = np.ascontiguousarray(a)
    a.flags.writeable = False
    return a


@dataclasses.dataclass(frozen=True, eq=False, repr=False)
class Network:
    """An immutable, validated directed multigraph with link attributes (see module docs).

    Build one with :meth:`Network.from_links` or a reader (:func:`smartcore.read_network`); the
    constructor takes already-dense arrays and is meant for readers.
    """

    node_ids: np.ndarray  #: int64[num_nodes] external node ids
    link_tail: np.ndarray  #: int32[num_links] dense tail node of each link
    link_head: np.ndarray  #: int32[num_links] dense head node of each link
    length: np.ndarray
    free_flow_time: np.ndarray
    capacity: np.ndarray
    bpr_alpha: np.ndarray
    bpr_beta: np.ndarray
    speed: np.ndarray
    lanes: np.ndarray
    toll: np.ndarray
    link_type: np.ndarray  #: int32[num_links] link type code (TNTP type, or index into link_type_names)
    units: Mapping[str, str]
    num_zones: int = 0
    first_thru_node: int = 0
    name: str = ""
    source: str = ""
    link_type_names: Mapping[int, str] = dataclasses.field(default_factory=dict)
    node_x: np.ndarray | None = None  #: float64[num_nodes] x / longitude, in ``crs``
    node_y: np.ndarray | None = None  #: float64[num_nodes] y / latitude, in ``crs``
    crs: str | None = None
    #: bool[num_nodes]: node is a signalised intersection. Optional when constructing (None: no
    #: signals); __post_init__ always stores an array, so it is typed as what readers get.
    signalized: np.ndarray = None  # type: ignore[assignment]
    link_keys: np.ndarray | None = None  #: int64[num_links]: GMNS link_id / osmnx edge key
    link_geometry: np.ndarray | None = None  #: object[num_links] shapely LineStrings (or None)
    link_extra: Mapping[str, np.ndarray] = dataclasses.field(default_factory=dict)
    node_extra: Mapping[str, np.ndarray] = dataclasses.field(default_factory=dict)
    metadata: Mapping[str, Any] = dataclasses.field(default_factory=dict)
    # CSR stars, computed in __post_init__
    fs_first: np.ndarray = dataclasses.field(init=False)
    fs_link: np.ndarray = dataclasses.field(init=False)
    fs_head: np.ndarray = dataclasses.field(init=False)
    bs_first: np.ndarray = dataclasses.field(init=False)
    bs_link: np.ndarray = dataclasses.field(init=False)
    bs_tail: np.ndarray = dataclasses.field(init=False)
    _node_index: dict[int, int] | None = dataclasses.field(init=False, repr=False)

    # ------------------------------------------------------------------ construction
    def __post_init__(self) -> None:
        from smartcore import _core

        put = object.__setattr__
        n = int(len(self.node_ids))
        m = int(len(self.link_tail))
        put(self, "node_ids", _readonly(np.asarray(self.node_ids, dtype=np.int64)))
        for name in ("link_tail", "link_head"):
            arr = np.asarray(getattr(self, name))
            if arr.shape != (m,):
                raise InputError(f"{name} must have shape ({m},), got {arr.shape}", field=name)
            put(self, name, _readonly(arr.astype(np.int32, copy=False)))
        for name in LINK_ATTRIBUTES:
            arr = np.asarray(getattr(self, name), dtype=np.float64)
            if arr.shape != (m,):
                raise InputError(f"{name} must have shape ({m},), got {arr.shape}", field=name)
            put(self, name, _readonly(arr))
        lt = np.asarray(self.link_type)
        if lt.shape != (m,):
            raise InputError(f"link_type must have shape ({m},), got {lt.shape}", field="link_type")
        put(self, "link_type", _readonly(lt.astype(np.int32, copy=False)))
        for name in ("node_x", "node_y"):
            arr = getattr(self, name)
            if arr is not None:
                arr = np.asarray(arr, dtype=np.float64)
                if arr.shape != (n,):
                    raise InputError(f"{name} must have shape ({n},), got {arr.shape}", field=name)
                put(self, name, _readonly(arr))
        sig = self.signalized
        sig = np.zeros(n, dtype=bool) if sig is None else np.asarray(sig, dtype=bool)
        if sig.shape != (n,):
            raise InputError(f"signalized must have shape ({n},)", field="signalized")
        put(self, "signalized", _readonly(sig))
        if self.link_keys is not None:
            keys = np.asarray(self.link_keys, dtype=np.int64)
            if keys.shape != (m,):
                raise InputError(f"link_keys must have shape ({m},)", field="link_keys")
            put(self, "link_keys", _readonly(keys))
        if self.link_geometry is not None:
            geom = np.asarray(self.link_geometry, dtype=object)
            if geom.shape != (m,):
                raise InputError(f"link_geometry must have shape ({m},)", field="link_geometry")
            put(self, "link_geometry", _readonly(geom))
        put(self, "link_extra", MappingProxyType(self._check_extra(self.link_extra, m, "link")))
        put(self, "node_extra", MappingProxyType(self._check_extra(self.node_extra, n, "node")))
        put(self, "units", MappingProxyType(dict(self.units)))
        put(self, "metadata", MappingProxyType(dict(self.metadata)))
        put(self, "link_type_names", MappingProxyType(dict(self.link_type_names)))
        if not 0 <= self.num_zones <= n:
            raise InputError(f"num_zones={self.num_zones} outside [0, {n}]", field="num_zones")
        if not 0 <= self.first_thru_node <= n:
            raise InputError(
                f"first_thru_node={self.first_thru_node} outside [0, {n}]", field="first_thru_node"
            )
        # Node ids are unique (node_index relies on it).
        if n > 1:
            srt = np.sort(self.node_ids)
            dup = np.flatnonzero(srt[1:] == srt[:-1])
            if len(dup):
                raise InputError(f"duplicate node id {int(srt[dup[0]])}", field="node_ids")
        put(self, "_node_index", None)  # built on first use
        # CSR stars in C++ (validates that every link endpoint lies in [0, n)).
        fs = _core.build_star(n, self.link_tail, self.link_head)
        bs = _core.build_star(n, self.link_head, self.link_tail)
        for name, arr in zip(("fs_first", "fs_link", "fs_head", "bs_first", "bs_link", "bs_tail"),
                             (*fs, *bs)):
            put(self, name, _readonly(arr))

    @staticmethod
    def _check_extra(extra: Mapping[str, Any], size: int, what: str) -> dict[str, np.ndarray]:
        out: dict[str, np.ndarray] = {}
        for key, values in dict(extra).items():
            arr = np.asarray(values)
            if arr.shape[:1] != (size,):
                raise InputError(f"{what} attribute {key!r} must have {size} entries", field=key)
            out[key] = _readonly(arr)
        return out

    @classmethod
    def from_links(
        cls,
        tail: Sequence[int] | np.ndarray,
        head: Sequence[int] | np.ndarray,
        *,
        node_ids: Sequence[int] | np.ndarray | None = None,
        zones: Sequence[int] | np.ndarray | None = None,
        zones_passable: bool = True,
        length: Any = None,
        free_flow_time: Any = None,
        capacity: Any = None,
        bpr_alpha: Any = DEFAULT_BPR_ALPHA,
        bpr_beta: Any = DEFAULT_BPR_BETA,
        speed: Any = 0.0,
        lanes: Any = 1.0,
        toll: Any = 0.0,
        link_type: Any = 0,
        units: Mapping[str, str] | None = None,
        duplicates: str = "error",
        source_path: str | None = None,
        source_lines: np.ndarray | None = None,
        **kwargs: Any,
    ) -> Network:
        """Build a network from links given by external node ids.

        Parameters
        ----------
        tail, head : array of int
            External ids of each link's start and end node, in link order.
        node_ids : array of int, optional
            All node ids (isolated nodes included). Default: the sorted ids the links use.
        zones : array of int, optional
            External ids of the zone (centroid) nodes. They become dense nodes ``0..Z-1`` in this
            order; the other nodes follow in ``node_ids`` order.
        zones_passable : bool
            False applies TNTP's ``<FIRST THRU NODE>`` rule: paths never pass through a zone.
        length, free_flow_time, capacity, bpr_alpha, bpr_beta, speed, lanes, toll : scalar or array
            Link attributes (see module docs for meaning and units). ``length``,
            ``free_flow_time`` and ``capacity`` are required.
        link_type : int scalar or array
            Link type codes.
        units : mapping, optional
            Unit of each attribute (e.g. ``{"length": "mi", "free_flow_time": "min"}``).
        duplicates : {"error", "keep"}
            What to do with *exact* duplicate links (same ends and identical attributes, usually a
            line repeated by mistake). Parallel links that differ in any attribute are always kept.
        source_path, source_lines : optional
            The file and 1-based line of each link, so that validation errors name them.
        **kwargs
            Further :class:`Network` fields (``name``, ``node_x``, ``crs``, ``link_extra``, ...).

        Raises
        ------
        InputError, FormatError
            On a missing attribute, a negative or non-finite value, a capacity <= 0, an unknown node
            id, or an exact duplicate link; FormatError when ``source_path`` is given.
        """
        tail_ids = np.asarray(tail, dtype=np.int64).ravel()
        head_ids = np.asarray(head, dtype=np.int64).ravel()
        m = len(tail_ids)

        def fail(msg: str, field: str, link: int | None = None) -> NoReturn:
            if source_path is not None:
                line = int(source_lines[link]) if (source_lines is not None and link is not None) else None
                raise FormatError(msg, path=source_path, line=line, field=field)
            where = f"link {link} ({tail_ids[link]}->{head_ids[link]}): " if link is not None else ""
            raise InputError(where + msg, field=field)

        if len(head_ids) != m:
            fail(f"tail and head differ in length ({m} != {len(head_ids)})", "head")
        values = dict(length=length, free_flow_time=free_flow_time, capacity=capacity,
                      bpr_alpha=bpr_alpha, bpr_beta=bpr_beta, speed=speed, lanes=lanes, toll=toll)
        attrs: dict[str, np.ndarray] = {}
        for key, val in values.items():
            if val is None:
                fail(f"link attribute {key!r} is required", key)
            arr = np.asarray(val, dtype=np.float64)
            if arr.ndim == 0:
                arr = np.full(m, float(arr))
            if arr.shape != (m,):
                fail(f"expected {m} values, got shape {arr.shape}", key)
            bad = np.flatnonzero(~np.isfinite(arr))
            if len(bad):
                fail(f"value {arr[bad[0]]} is not a finite number", key, int(bad[0]))
            attrs[key] = arr
        for key in _NON_NEGATIVE:
            bad = np.flatnonzero(attrs[key] < 0)
            if len(bad):
                fail(f"negative value {attrs[key][bad[0]]:g} (must be >= 0)", key, int(bad[0]))
        bad = np.flatnonzero(attrs["capacity"] <= 0)
        if len(bad):
            fail(f"capacity {attrs['capacity'][bad[0]]:g} must be > 0", "capacity", int(bad[0]))
        ltype = np.asarray(link_type)
        if ltype.ndim == 0:
            ltype = np.full(m, int(ltype), dtype=np.int32)
        if ltype.shape != (m,):
            fail(f"expected {m} values, got shape {ltype.shape}", "link_type")

        # Dense node numbering: zones first (in the given order), then the rest in node_ids order.
        if node_ids is None:
            extra_ids = np.asarray(zones if zones is not None else [], dtype=np.int64)
            all_ids = np.unique(np.concatenate([tail_ids, head_ids, extra_ids]))
        else:
            all_ids = np.asarray(node_ids, dtype=np.int64).ravel()
            uniq, counts = np.unique(all_ids, return_counts=True)
            if (counts > 1).any():
                fail(f"duplicate node id {int(uniq[counts > 1][0])}", "node_ids")
        zone_ids = np.asarray(zones if zones is not None else [], dtype=np.int64).ravel()
        if len(zone_ids):
            uz, cz = np.unique(zone_ids, return_counts=True)
            if (cz > 1).any():
                fail(f"duplicate zone id {int(uz[cz > 1][0])}", "zones")
            missing = zone_ids[~np.isin(zone_ids, all_ids)]
            if len(missing):
                fail(f"zone {int(missing[0])} is not a node of the network", "zones")
            order = np.concatenate([zone_ids, all_ids[~np.isin(all_ids, zone_ids)]])
        else:
            order = all_ids
        sorter = np.argsort(order, kind="stable")
        sorted_ids = order[sorter]

        def dense(ids: np.ndarray, field: str) -> np.ndarray:
            if len(sorted_ids) == 0:
                if len(ids):
                    fail(f"node id {int(ids[0])} is not in the node list", field, 0)
                return np.empty(0, dtype=np.int32)
            lo = sorted_ids[0]
            if sorted_ids[-1] - lo == len(sorted_ids) - 1:  # contiguous ids (TNTP): no search
                pos = (ids - lo).clip(0, len(sorted_ids) - 1)
            else:
                pos = np.searchsorted(sorted_ids, ids).clip(max=len(sorted_ids) - 1)
            bad = np.flatnonzero(sorted_ids[pos] != ids)
            if len(bad):
                fail(f"node id {int(ids[bad[0]])} is not in the node list", field, int(bad[0]))
            return sorter[pos].astype(np.int32)

        t = dense(tail_ids, "tail")
        h = dense(head_ids, "head")

        if duplicates not in ("error", "keep"):
            raise InputError("duplicates must be 'error' or 'keep'", field="duplicates")
        if duplicates == "error" and m > 1:
            # Exact duplicates share (tail, head): sort on that key, compare neighbours only.
            key = t.astype(np.int64) * (len(order) + 1) + h
            srt = np.argsort(key, kind="stable")
            ks = key[srt]
            starts = np.flatnonzero(np.r_[True, ks[1:] != ks[:-1]])
            ends = np.r_[starts[1:], m]
            for lo, hi in zip(starts[ends - starts > 1], ends[ends - starts > 1]):
                group = srt[lo:hi]  # parallel links, in link order
                for x, i in enumerate(group[1:], start=1):
                    for j in group[:x]:
                        if ltype[i] == ltype[j] and all(attrs[a][i] == attrs[a][j] for a in LINK_ATTRIBUTES):
                            first_where = (f"line {int(source_lines[j])}" if source_lines is not None
                                           else f"link {int(j)}")
                            fail(f"duplicate link {tail_ids[i]}->{head_ids[i]}: identical to "
                                 f"{first_where} (pass duplicates='keep' to keep it)", "init_node", int(i))

        nz = len(zone_ids)
        return cls(
            node_ids=order,
            link_tail=t,
            link_head=h,
            link_type=ltype,
            units=dict(units or {}),
            num_zones=nz,
            first_thru_node=0 if zones_passable else nz,
            length=attrs["length"],
            free_flow_time=attrs["free_flow_time"],
            capacity=attrs["capacity"],
            bpr_alpha=attrs["bpr_alpha"],
            bpr_beta=attrs["bpr_beta"],
            speed=attrs["speed"],
            lanes=attrs["lanes"],
            toll=attrs["toll"],
            **kwargs,
        )

    def replace(self, **changes: Any) -> Network:
        """A copy with some fields changed (the network itself never changes)."""
        fields = {f.name: getattr(self, f.name) for f in dataclasses.fields(self) if f.init}
        fields.update(changes)
        return type(self)(**fields)

    # ------------------------------------------------------------------ sizes and ids
    @property
    def num_nodes(self) -> int:
        return int(len(self.node_ids))

    @property
    def num_links(self) -> int:
        return int(len(self.link_tail))

    @property
    def zones_passable(self) -> bool:
        """True when paths may pass through zone nodes (TNTP ``<FIRST THRU NODE>`` = 1)."""
        return self.first_thru_node == 0

    @property
    def zone_ids(self) -> np.ndarray:
        """External ids of the zone nodes (dense nodes ``0 .. num_zones-1``)."""
        return self.node_ids[: self.num_zones]

    @property
    def link_ids(self) -> np.ndarray:
        """int64[num_links, 2]: external ``(from, to)`` node ids of each link."""
        out = np.column_stack([self.node_ids[self.link_tail], self.node_ids[self.link_head]])
        out.flags.writeable = False
        return out

    @property
    def _index_map(self) -> dict[int, int]:
        if self._node_index is None:
            object.__setattr__(self, "_node_index",
                               {v: i for i, v in enumerate(self.node_ids.tolist())})
        return self._node_index  # type: ignore[return-value]

    def has_node(self, node_id: int) -> bool:
        """True when ``node_id`` is an external node id of this network."""
        return int(node_id) in self._index_map

    def node_index(self, ids: int | Iterable[int]) -> Any:
        """Dense index of external node id(s). Raises InputError naming the first unknown id."""
        index = self._index_map
        # One id: what np.isscalar accepts (int, float, numpy scalar, str, bytes); an isinstance test,
        # unlike numpy's TypeGuard, narrows ``ids`` in both branches.
        if not isinstance(ids, Iterable) or isinstance(ids, (str, bytes)):
            try:
                return index[int(ids)]
            except KeyError:
                raise InputError(f"unknown node id {ids!s}", field="node") from None
        arr = np.asarray(list(ids) if not isinstance(ids, np.ndarray) else ids, dtype=np.int64)
        out = np.empty(arr.size, dtype=np.int32)
        get = index.get
        for i, v in enumerate(arr.ravel().tolist()):
            k = get(v)
            if k is None:
                raise InputError(f"unknown node id {v}", field="node")
            out[i] = k
        return out.reshape(arr.shape)

    def link_index(self, from_id: int, to_id: int) -> np.ndarray:
        """Dense indices of all links from external node ``from_id`` to ``to_id`` (parallel links)."""
        u, v = self.node_index(from_id), self.node_index(to_id)
        lo, hi = self.fs_first[u], self.fs_first[u + 1]
        links = self.fs_link[lo:hi]
        return links[self.fs_head[lo:hi] == v]

    def attribute(self, name: str, unit: str | None = None) -> np.ndarray:
        """Link attribute ``name``, converted to ``unit`` when given.

        Raises InputError when the network does not state the attribute's unit.
        """
        if name not in LINK_ATTRIBUTES:
            raise InputError(f"unknown link attribute {name!r}; known: {LINK_ATTRIBUTES}", field=name)
        values = getattr(self, name)
        if unit is None:
            return values
        have = self.units.get(name)
        if not have:
            raise InputError(
                f"the unit of {name!r} is not stated for network {self.name or '<unnamed>'}; "
                "pass units= when reading it",
                field=name,
            )
        return convert_units(values, have, unit)

    # ------------------------------------------------------------------ connectivity
    def strong_components(self) -> tuple[int, np.ndarray]:
        """(count, label[num_nodes]): strongly connected components; a label is the smallest
        dense node index of its component."""
        from smartcore import _core

        count, label = _core.strong_components(self.fs_first, self.fs_link, self.fs_head,
                                               self.bs_first, self.bs_link, self.bs_tail)
        return int(count), label

    def largest_strong_component(self) -> np.ndarray:
        """bool[num_nodes]: nodes of the largest strongly connected component (ties: the one
        holding the smallest node index). Every node in it can reach every other one."""
        _, label = self.strong_components()
        if self.num_nodes == 0:
            return np.zeros(0, dtype=bool)
        sizes = np.bincount(label, minlength=self.num_nodes)
        return label == int(np.argmax(sizes))

    def subnetwork(self, nodes: np.ndarray | str) -> Network:
        """The network restricted to some nodes: those nodes and the links between them.

        Parameters
        ----------
        nodes : bool[num_nodes], or ``"largest"``
            The nodes to keep (a mask over dense node indices, e.g. from
            :meth:`largest_strong_component`), or ``"largest"`` for the largest strongly connected
            component, where every node can reach every other one: the usual clean-up of an
            OpenStreetMap extract, whose clipped edges leave fragments that demand cannot leave
            (what osmnx's ``largest_component(strongly=True)`` does).

        Every per-node and per-link array (coordinates, signals, geometry, keys, extras) is kept
        for what remains, in the same order; units, names and metadata are unchanged. Zones that
        are dropped are no longer zones: the remaining ones keep their order, ids and rule, so a
        demand must be restricted to ``zone_ids`` of the result.
        """
        if isinstance(nodes, str):
            if nodes != "largest":
                raise InputError(f"nodes must be a boolean mask or 'largest', got {nodes!r}", field="nodes")
            keep = self.largest_strong_component()
        else:
            keep = np.asarray(nodes)
            if keep.dtype != np.bool_ or keep.shape != (self.num_nodes,):
                raise InputError(f"nodes must be a boolean mask of shape ({self.num_nodes},), got "
                                 f"{keep.dtype} {keep.shape}", field="nodes")
        new_index = np.cumsum(keep, dtype=np.int64) - 1  # dense old -> dense new (where kept)
        links = np.flatnonzero(keep[self.link_tail] & keep[self.link_head])
        node_arrays = {"node_ids": self.node_ids[keep], "signalized": self.signalized[keep],
                       "node_x": None if self.node_x is None else self.node_x[keep],
                       "node_y": None if self.node_y is None else self.node_y[keep],
                       "node_extra": {k: v[keep] for k, v in self.node_extra.items()}}
        link_arrays = {name: getattr(self, name)[links] for name in (*LINK_ATTRIBUTES, "link_type")}
        link_arrays.update(
            link_tail=new_index[self.link_tail[links]], link_head=new_index[self.link_head[links]],
            link_keys=None if self.link_keys is None else self.link_keys[links],
            link_geometry=None if self.link_geometry is None else self.link_geometry[links],
            link_extra={k: v[links] for k, v in self.link_extra.items()})
        return self.replace(**node_arrays, **link_arrays,
                            num_zones=int(keep[: self.num_zones].sum()),
                            first_thru_node=int(keep[: self.first_thru_node].sum()))

    # ------------------------------------------------------------------ summaries
    def summary(self) -> dict[str, Any]:
        """Counts and totals as a plain dict (what ``smartcore info`` prints)."""
        from smartcore import _core

        ncomp, _ = _core.weak_components(self.num_nodes, self.link_tail, self.link_head)
        out: dict[str, Any] = {
            "name": self.name,
            "source": self.source,
            "nodes": self.num_nodes,
            "links": self.num_links,
            "zones": self.num_zones,
            "zones_passable": self.zones_passable,
            "signalized_nodes": int(self.signalized.sum()),
            "weak_components": int(ncomp),
            "strong_components": self.strong_components()[0],
            "parallel_links": int(self.num_links - len(np.unique(
                self.link_tail.astype(np.int64) * max(self.num_nodes, 1) + self.link_head))),
            "self_loops": int((self.link_tail == self.link_head).sum()),
            "coordinates": self.node_x is not None,
            "crs": self.crs,
        }
        if self.num_links:
            out["total_length"] = float(self.length.sum())
            out["total_lane_length"] = float((self.length * self.lanes).sum())
        out["units"] = dict(self.units)
        if self.link_type_names:
            size = max(self.link_type_names) + 1
            counts = (np.bincount(self.link_type, minlength=size) if self.num_links
                      else np.zeros(0, dtype=np.intp))
            out["link_types"] = {self.link_type_names.get(i, str(i)): int(c)
                                 for i, c in enumerate(counts) if c}
        return out

    def describe(self) -> str:
        """A human-readable multi-line summary."""
        s = self.summary()
        lines = [f"Network {s['name'] or '<unnamed>'}" + (f" ({s['source']})" if s["source"] else "")]
        lines.append(f"  nodes             {s['nodes']:>10,}")
        lines.append(f"  links             {s['links']:>10,}")
        lines.append(f"  zones             {s['zones']:>10,}" +
                     ("" if not s["zones"] else
                      ("  (passable)" if s["zones_passable"] else "  (not passed through)")))
        lines.append(f"  signalised nodes  {s['signalized_nodes']:>10,}")
        lines.append(f"  weak components   {s['weak_components']:>10,}")
        lines.append(f"  strong components {s['strong_components']:>10,}")
        lines.append(f"  parallel links    {s['parallel_links']:>10,}")
        if "total_length" in s:
            lu = self.units.get("length", "")
            total = s["total_length"]
            if lu == "m":
                lines.append(f"  total length      {total / 1000:>10,.2f} km")
            else:
                lines.append(f"  total length      {total:>10,.2f} {lu or '(unit not stated)'}")
        if "link_types" in s:
            top = sorted(s["link_types"].items(), key=lambda kv: -kv[1])[:8]
            lines.append("  link types        " + ", ".join(f"{k} {v}" for k, v in top))
        if s["crs"]:
            lines.append(f"  crs               {s['crs']}")
        if self.units:
            lines.append("  units             " + ", ".join(f"{k} [{v}]" for k, v in self.units.items()))
        return "\n".join(lines)

    def __repr__(self) -> str:
        return (f"<Network {self.name or '<unnamed>'}: {self.num_nodes} nodes, {self.num_links} links, "
                f"{self.num_zones} zones>")

    # ------------------------------------------------------------------ conversions
    def link_table(self) -> pd.DataFrame:
        """Links as a pandas DataFrame in link order (external ids, attributes, extras)."""
        from smartcore.convert import link_table

        return link_table(self)

    def node_table(self) -> pd.DataFrame:
        """Nodes as a pandas DataFrame in dense order."""
        from smartcore.convert import node_table

        return node_table(self)

    def to_networkx(self) -> nx.MultiDiGraph:
        """A networkx MultiDiGraph keyed by external node ids; edge attribute ``link`` = link index."""
        from smartcore.convert import to_networkx

        return to_networkx(self)

    def to_osmnx(self) -> nx.MultiDiGraph:
        """An osmnx-style MultiDiGraph (``x``/``y``, ``length`` m, ``speed_kph``, ``travel_time`` s)."""
        from smartcore.convert import to_osmnx

        return to_osmnx(self)

    def to_geodataframes(self) -> tuple[gpd.GeoDataFrame, gpd.GeoDataFrame]:
        """(nodes, links) GeoDataFrames; link geometry is the stored one or a straight line."""
        from smartcore.convert import to_geodataframes

        return to_geodataframes(self)
