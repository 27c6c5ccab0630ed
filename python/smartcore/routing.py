"""Shortest paths on a :class:`~smartcore.Network`: trees, isochrones, paths and skims.

All searches run in the C++ kernel (``smartcore._core``) with the GIL released.

Weights and units
-----------------
Every function takes ``weight``, the cost of traversing each link:

* ``None``: the network's ``free_flow_time`` (its unit is ``network.units["free_flow_time"]``:
  minutes for most TNTP networks, ``0.01 h`` for SiouxFalls, seconds for OSM networks);
* the name of a link attribute (``"length"``, ``"toll"``, ...) or of a ``network.link_extra`` array;
* a float64 array with one value per link (a generalised cost, congested times, ...).

Costs are returned **in the unit of the weight**, unconverted. Weights must be finite and >= 0;
zero-cost links (connectors) are fine. Unreachable nodes cost ``inf``.

Nodes and zones
---------------
Origins, destinations and path nodes are **external node ids** (``network.node_ids``: TNTP node
numbers, OSM ids); per-node arrays (the costs of :func:`tree`) are in dense node order, i.e.
``costs[i]`` belongs to ``network.node_ids[i]``. Links are dense link indices (file order).
Nodes with a dense index below ``network.first_thru_node`` (TNTP zones when
``<FIRST THRU NODE>`` > 1) are never passed through: a path may start or end at one, not cross it.

Turns
-----
Every function takes ``turns``: a :class:`TurnTable` of turn penalties and bans (for instance from
OpenStreetMap restriction relations, :func:`smartcore.io.osm_restrictions.read_turn_restrictions`).
With turns the searches label links instead of nodes (Dijkstra on the line graph), so a path can
enter a node one way and leave it in any direction allowed from there; hierarchies do not support
turns (``method="hierarchy"`` raises InputError), ``"auto"`` uses Dijkstra.

Threads
-------
Batched calls take ``threads`` (``None``: all cores). Results never depend on the thread count.
Ctrl-C interrupts long batched calls (``KeyboardInterrupt``).
"""

from __future__ import annotations

import dataclasses
import threading
from collections.abc import Callable, Iterator, Sequence
from typing import TYPE_CHECKING, Any

import numpy as np

from smartcore import _core
from smartcore.errors import InputError
from smartcore.network import LINK_ATTRIBUTES, Network

if TYPE_CHECKING:  # pragma: no cover
    import pandas as pd

__all__ = [
    "Router",
    "TurnTable",
    "Path",
    "Paths",
    "Isochrone",
    "tree",
    "isochrone",
    "shortest_path",
    "shortest_paths",
    "skim",
    "link_weight",
]

#: What ``weight=`` accepts: None (free-flow time), an attribute name or one value per link.
Weight = None | str | np.ndarray | Sequence[float]
#: What ``origins=`` / ``destinations=`` accept: ``"zones"``, ``"nodes"`` or external node ids.
NodeSet = str | np.ndarray | Sequence[int]
#: ``progress(stage, done, total)``; see :class:`Router`. Returning ``False`` cancels.
Progress = Callable[[str, int, int], object]


# ---------------------------------------------------------------------------------------- helpers
def link_weight(network: Network, weight: Weight = None) -> np.ndarray:
    """The float64 link-cost array that ``weight`` designates (see the module docs).

    Values are checked by the kernel when a search uses them (finite, >= 0; the error names the
    link); here only the name or the length.
    """
    if weight is None:
        return network.free_flow_time
    if isinstance(weight, str):
        if weight in LINK_ATTRIBUTES:
            return np.ascontiguousarray(getattr(network, weight), dtype=np.float64)
        if weight in network.link_extra:
            arr = np.asarray(network.link_extra[weight])
            if arr.ndim != 1 or not np.issubdtype(arr.dtype, np.number):
                raise InputError(f"link attribute {weight!r} is not a numeric 1-D array",
                                 field="weight")
            return np.ascontiguousarray(arr, dtype=np.float64)
        known = list(LINK_ATTRIBUTES) + sorted(network.link_extra)
        raise InputError(f"unknown link attribute {weight!r} for weight; known: {known}",
                         field="weight")
    try:
        arr = np.ascontiguousarray(weight, dtype=np.float64)
    except (TypeError, ValueError) as exc:
        raise InputError(f"weight must be None, an attribute name or numbers: {exc}",
                         field="weight") from None
    if arr.shape != (network.num_links,):
        raise InputError(
            f"weight must have one value per link, shape ({network.num_links},); got {arr.shape}",
            field="weight")
    return arr


def _threads(threads: int | None) -> int:
    if threads is None:
        return 0  # the kernel's "all cores"
    if isinstance(threads, (bool, np.bool_)) or not isinstance(threads, (int, np.integer)) or threads < 1:
        raise InputError(f"threads must be a positive integer or None, got {threads!r}",
                         field="threads")
    return int(threads)


class _NodeLookup:
    """Vectorised external id -> dense index for one network (sorted-ids fast path)."""

    def __init__(self, network: Network) -> None:
        ids = network.node_ids
        self._ids = ids
        if len(ids) < 2 or bool(np.all(ids[1:] > ids[:-1])):
            self._sorted, self._sorter = ids, None
        else:
            self._sorter = np.argsort(ids, kind="stable")
            self._sorted = ids[self._sorter]

    def __call__(self, ids: Any, field: str) -> np.ndarray:
        try:
            arr = np.asarray(ids)
            if arr.dtype.kind == "f" and np.all(np.isfinite(arr)) and np.all(arr == np.round(arr)):
                arr = arr.astype(np.int64)
            if arr.dtype.kind not in "iu" and arr.size:
                raise TypeError(f"dtype {arr.dtype}")
            arr = arr.astype(np.int64, copy=False).ravel()
        except (TypeError, ValueError, OverflowError) as exc:
            raise InputError(f"{field} must be node ids (integers): {exc}", field=field) from None
        if len(self._sorted) == 0:
            if arr.size:
                raise InputError(f"{field}: unknown node id {int(arr[0])}", field=field)
            return np.empty(0, dtype=np.int32)
        pos = np.searchsorted(self._sorted, arr).clip(max=len(self._sorted) - 1)
        bad = np.flatnonzero(self._sorted[pos] != arr)
        if len(bad):
            raise InputError(f"{field}: unknown node id {int(arr[bad[0]])}", field=field)
        dense = pos if self._sorter is None else self._sorter[pos]
        return np.ascontiguousarray(dense, dtype=np.int32)

    def scalar(self, node: Any, field: str) -> int:
        if np.ndim(node) != 0:
            raise InputError(f"{field} must be a single node id, got shape {np.shape(node)}",
                             field=field)
        return int(self(np.asarray([node]), field)[0])

    def node_set(self, network: Network, nodes: NodeSet, field: str) -> tuple[np.ndarray, np.ndarray]:
        """(external ids, dense indices) of ``"zones"``, ``"nodes"`` or an id array."""
        if isinstance(nodes, str):
            if nodes == "zones":
                if network.num_zones == 0:
                    raise InputError(f"{field}='zones' but the network has no zones", field=field)
                dense = np.arange(network.num_zones, dtype=np.int32)
            elif nodes == "nodes":
                dense = np.arange(network.num_nodes, dtype=np.int32)
            else:
                raise InputError(f"{field} must be 'zones', 'nodes' or node ids, got {nodes!r}",
                                 field=field)
            return network.node_ids[dense], dense
        dense = self(nodes, field)
        return network.node_ids[dense], dense


def _radius(radius: float | None) -> float:
    if radius is None:
        return float("inf")
    try:
        r = float(radius)
    except (TypeError, ValueError):
        raise InputError(f"radius must be a number, got {radius!r}", field="radius") from None
    if not r >= 0:  # NaN too
        raise InputError(f"radius must be >= 0, got {radius!r}", field="radius")
    return r


# ---------------------------------------------------------------------------------------- results
@dataclasses.dataclass(frozen=True)
class Path:
    """One shortest path.

    ``nodes`` are external node ids from origin to destination and ``links`` dense link indices
    (``len(nodes) == len(links) + 1``). An unreachable destination has ``cost == inf`` and empty
    ``nodes`` and ``links``; origin == destination gives cost 0, ``nodes == [origin]``, no links.
    """

    origin: int
    destination: int
    cost: float
    nodes: np.ndarray
    links: np.ndarray

    @property
    def reachable(self) -> bool:
        return bool(np.isfinite(self.cost))


@dataclasses.dataclass(frozen=True)
class Paths:
    """Many shortest paths in flat arrays (path ``i`` is ``links[offsets[i]:offsets[i+1]]``).

    Index or iterate to get :class:`Path` objects; ``costs`` holds every cost (``inf`` when
    unreachable).
    """

    network: Network = dataclasses.field(repr=False)
    origins: np.ndarray  #: int64 external ids
    destinations: np.ndarray  #: int64 external ids
    costs: np.ndarray  #: float64, in the unit of the weight
    offsets: np.ndarray  #: int64[len + 1]
    links: np.ndarray  #: int32 dense link indices, all paths concatenated

    def __len__(self) -> int:
        return len(self.costs)

    def __getitem__(self, i: int) -> Path:
        n = len(self)
        if not -n <= i < n:
            raise IndexError(f"path index {i} out of range for {n} paths")
        i %= n
        links = self.links[self.offsets[i]:self.offsets[i + 1]]
        return _make_path(self.network, int(self.origins[i]), int(self.destinations[i]),
                          float(self.costs[i]), links)

    def __iter__(self) -> Iterator[Path]:
        return (self[i] for i in range(len(self)))


def _make_path(network: Network, origin: int, destination: int, cost: float, links: np.ndarray) -> Path:
    if not np.isfinite(cost):
        nodes = np.empty(0, dtype=np.int64)
    else:
        nodes = np.concatenate([[origin], network.node_ids[network.link_head[links]]]).astype(np.int64)
    links = np.array(links, dtype=np.int32)  # a copy: never a view into a larger batch
    for a in (nodes, links):
        a.flags.writeable = False
    return Path(origin, destination, cost, nodes, links)


@dataclasses.dataclass(frozen=True)
class Isochrone:
    """Nodes reachable from ``origin`` within ``radius``, by increasing cost.

    ``links`` are the shortest-path-tree links that reach them (one per node except the origin),
    handy for drawing the isochrone on the network.
    """

    origin: int
    radius: float
    nodes: np.ndarray  #: int64 external ids, by increasing cost
    costs: np.ndarray  #: float64, same order, <= radius
    links: np.ndarray  #: int32 dense link indices of the tree


# ---------------------------------------------------------------------------------------- turns
def _link_array(values: Any, field: str) -> np.ndarray:
    try:
        arr = np.asarray(values)
        if arr.size == 0:
            arr = arr.astype(np.int64)
        if arr.dtype.kind not in "iu" or arr.ndim != 1:
            raise TypeError(f"expected a 1-D integer array, got dtype {arr.dtype}, shape {arr.shape}")
    except (TypeError, ValueError) as exc:
        raise InputError(f"turns: {field} must be dense link indices: {exc}", field="turns") from None
    bad = np.flatnonzero((arr < 0) | (arr > np.iinfo(np.int32).max))
    if len(bad):
        raise InputError(f"turns: {field}[{bad[0]}] = {arr[bad[0]]} is not a link index",
                         field="turns")
    return arr


@dataclasses.dataclass(frozen=True)
class TurnTable:
    """Turn penalties and bans on a network's links.

    Entry ``i`` says that leaving link ``from_link[i]`` by link ``to_link[i]`` (dense link indices;
    the second must start where the first ends) costs ``penalty[i]`` on top of the link weights, in
    the unit of the weight; ``inf`` bans the turn. Turns not listed cost nothing. A turn listed
    more than once takes the largest penalty (a ban wins), so tables can simply be added
    (``a + b``).

    Build one with :meth:`bans`, :meth:`u_turns`, :meth:`from_nodes`, the constructor, or from
    OpenStreetMap restriction relations
    (:func:`smartcore.io.osm_restrictions.read_turn_restrictions`).
    """

    from_link: np.ndarray  #: int32 dense link indices
    to_link: np.ndarray  #: int32 dense link indices
    penalty: np.ndarray  #: float64, >= 0; inf bans the turn

    def __post_init__(self) -> None:
        put = object.__setattr__
        a = _link_array(self.from_link, "from_link")
        b = _link_array(self.to_link, "to_link")
        try:
            p = np.asarray(self.penalty, dtype=np.float64)
        except (TypeError, ValueError) as exc:
            raise InputError(f"turns: penalty must be numbers: {exc}", field="turns") from None
        if p.ndim == 0:
            p = np.full(len(a), float(p))
        if not (a.shape == b.shape == p.shape):
            raise InputError(f"turns: from_link, to_link and penalty differ in shape "
                             f"({a.shape}, {b.shape}, {p.shape})", field="turns")
        bad = np.flatnonzero(~(p >= 0))
        if len(bad):
            raise InputError(f"turns: penalty of turn {bad[0]} is {p[bad[0]]!r} (must be >= 0, inf to "
                             "ban the turn)", field="turns")
        for name, arr, dtype in (("from_link", a, np.int32), ("to_link", b, np.int32),
                                 ("penalty", p, np.float64)):
            out = np.array(arr, dtype=dtype)  # our own copy
            out.flags.writeable = False
            put(self, name, out)

    def __len__(self) -> int:
        return len(self.penalty)

    def __add__(self, other: TurnTable) -> TurnTable:
        if not isinstance(other, TurnTable):
            return NotImplemented
        return TurnTable(np.concatenate([self.from_link, other.from_link]),
                         np.concatenate([self.to_link, other.to_link]),
                         np.concatenate([self.penalty, other.penalty]))

    @classmethod
    def empty(cls) -> TurnTable:
        return cls(np.empty(0, np.int32), np.empty(0, np.int32), np.empty(0))

    @classmethod
    def bans(cls, from_link: Any, to_link: Any) -> TurnTable:
        """Ban the turns ``from_link[i] -> to_link[i]``."""
        a = _link_array(from_link, "from_link")
        return cls(a, to_link, np.full(len(a), np.inf))

    @classmethod
    def u_turns(cls, network: Network, penalty: float = np.inf) -> TurnTable:
        """Every U-turn of the network (``u -> v`` followed by ``v -> u``), with one penalty
        (default: banned). At dead ends a ban leaves no way back: give a finite penalty there."""
        t, h = network.link_tail.astype(np.int64), network.link_head.astype(np.int64)
        n = max(network.num_nodes, 1)
        # links by (tail, head) key; the reverse of a has key (head[a], tail[a])
        key = t * n + h
        order = np.argsort(key, kind="stable")
        sorted_keys = key[order]
        rev = h * n + t
        lo = np.searchsorted(sorted_keys, rev, side="left")
        hi = np.searchsorted(sorted_keys, rev, side="right")
        counts = hi - lo
        a = np.repeat(np.arange(len(t)), counts)
        starts = np.repeat(lo, counts)
        offs = np.arange(len(a)) - np.repeat(np.cumsum(counts) - counts, counts)
        b = order[starts + offs]
        keep = t[a] != h[a]  # a self loop is no U-turn
        return cls(a[keep], b[keep], np.full(int(keep.sum()), float(penalty)))

    @classmethod
    def from_nodes(cls, network: Network, from_nodes: Any, via_nodes: Any, to_nodes: Any,
                   penalty: Any = np.inf) -> TurnTable:
        """Turns given by node triples (external ids): every link ``from -> via`` followed by every
        link ``via -> to`` (parallel links all get the penalty). Unknown ids raise InputError;
        a triple with no such links adds nothing."""
        lookup = _NodeLookup(network)
        u = lookup(from_nodes, "turns")
        v = lookup(via_nodes, "turns")
        w = lookup(to_nodes, "turns")
        if not (len(u) == len(v) == len(w)):
            raise InputError("turns: from_nodes, via_nodes and to_nodes differ in length", field="turns")
        p = np.broadcast_to(np.asarray(penalty, dtype=np.float64), (len(u),))
        fs_first, fs_link, fs_head = network.fs_first, network.fs_link, network.fs_head
        froms: list[int] = []
        tos: list[int] = []
        pens: list[float] = []
        bs_first, bs_link, bs_tail = network.bs_first, network.bs_link, network.bs_tail
        for i in range(len(u)):
            into = slice(bs_first[v[i]], bs_first[v[i] + 1])
            out_of = slice(fs_first[v[i]], fs_first[v[i] + 1])
            ins = bs_link[into][bs_tail[into] == u[i]]
            outs = fs_link[out_of][fs_head[out_of] == w[i]]
            for a in ins.tolist():
                for b in outs.tolist():
                    froms.append(a)
                    tos.append(b)
                    pens.append(float(p[i]))
        return cls(np.array(froms, np.int64), np.array(tos, np.int64), np.array(pens))

    def check(self, network: Network) -> None:
        """Raise InputError (field ``"turns"``) unless every entry joins two links of ``network``
        that meet."""
        m = network.num_links
        for name, arr in (("from_link", self.from_link), ("to_link", self.to_link)):
            bad = np.flatnonzero((arr < 0) | (arr >= m))
            if len(bad):
                raise InputError(f"turns: {name}[{bad[0]}] = {arr[bad[0]]} is not a link of the network "
                                 f"({m} links)", field="turns")
        bad = np.flatnonzero(network.link_head[self.from_link] != network.link_tail[self.to_link])
        if len(bad):
            i = bad[0]
            raise InputError(f"turns: turn {i}: link {self.to_link[i]} does not start where link "
                             f"{self.from_link[i]} ends", field="turns")

    def to_frame(self, network: Network | None = None) -> pd.DataFrame:
        """The entries as a DataFrame (with the via node's external id when ``network`` is given)."""
        import pandas as pd

        data: dict[str, Any] = {"from_link": self.from_link, "to_link": self.to_link,
                                "penalty": self.penalty}
        if network is not None:
            self.check(network)
            data["via_node"] = network.node_ids[network.link_head[self.from_link]]
        return pd.DataFrame(data)


def _planar_coordinates(network: Network) -> tuple[np.ndarray | None, np.ndarray | None]:
    """Node coordinates for the geometric cuts of the CCH's nested dissection: longitude scaled by
    the cosine of the mean latitude when the CRS is geographic (EPSG:4326), as given otherwise;
    (None, None) when the network has none or any is not finite."""
    x, y = network.node_x, network.node_y
    if x is None or y is None or network.num_nodes == 0:
        return None, None
    x = np.asarray(x, dtype=np.float64)
    y = np.asarray(y, dtype=np.float64)
    if not (np.isfinite(x).all() and np.isfinite(y).all()):
        return None, None
    if network.crs is not None and "4326" in str(network.crs):
        x = x * np.cos(np.radians(float(np.mean(y))))
    return np.ascontiguousarray(x), np.ascontiguousarray(y)


def _turns(network: Network, turns: TurnTable | None) -> TurnTable | None:
    if turns is None:
        return None
    if not isinstance(turns, TurnTable):
        raise InputError(f"turns must be a TurnTable or None, got {type(turns).__name__}",
                         field="turns")
    turns.check(network)
    return turns


def _turn_graph(network: Network, weight: np.ndarray, turns: TurnTable) -> Any:
    return _core.TurnGraph(network.fs_first, network.fs_link, network.fs_head, weight,
                           network.first_thru_node, turns.from_link, turns.to_link, turns.penalty)


# ---------------------------------------------------------------------------------------- Router
_HIERARCHIES = ("cch", "ch")
_CH_ORDERS = ("greedy", "dissection")
_METHODS = ("auto", "dijkstra", "hierarchy")
#: ``method="auto"`` builds a hierarchy for at least this many origins (building one costs about
#: as much as this many Dijkstra trees on Philadelphia) ...
AUTO_HIERARCHY_MIN_ORIGINS = 100
#: ... and uses it for at most this many destinations (the bucket method keeps, per destination,
#: an entry for each node of its upward search space: a few hundred).
AUTO_HIERARCHY_MAX_DESTINATIONS = 20_000


class Router:
    """A routing index over one network and one weight, built once and queried many times.

    Two engines answer the queries; both are built on first use (or by :meth:`build`), and both
    renumber nodes internally for memory locality, invisibly to the caller:

    * Dijkstra on a copy of the forward star with costs in star order: trees, isochrones, and
      matrices or paths for few origins;
    * a contraction hierarchy: many-to-many matrices by the bucket method and point-to-point paths
      by bidirectional search, orders of magnitude faster per query once built. ``hierarchy="cch"``
      (default) builds a *customisable* CH, whose node order ignores the weight (nested
      dissection, with geometric cuts when the network has node coordinates), so that
      :meth:`customize` re-weights it in milliseconds (Philadelphia: ~10 ms; building the order
      takes ~1 s); ``"ch"`` builds a classic CH for this weight (~1-2 s on Philadelphia; queries
      ~1.5-2x faster), in the contraction order given by ``order``. Queries that need no paths
      are faster through :meth:`path_costs`.

    Both engines return the same costs up to floating-point rounding (sums in another order).
    The router is immutable and thread-safe: share it between threads freely.

    Parameters
    ----------
    network : Network
    weight : None, str or array
        Link costs (see the module docs); finite and >= 0, else InputError naming the link.
    threads : int, optional
        Default thread count of the batched queries (``None``: all cores).
    hierarchy : {"cch", "ch"}
        Which contraction hierarchy to build when one is needed.
    order : {"greedy", "dissection"}
        Contraction order of a classic CH (``hierarchy="ch"``; ignored for ``"cch"``).
        ``"greedy"`` (default) contracts next the node whose shortcuts grow the graph least
        (Geisberger et al. 2008, with RoutingKit's priority): the smallest search spaces, on road
        networks and grids alike (1000 x 1000 grid with random weights: built in ~9 CPU
        minutes, peak 1.9 GB; a 1000 x 1000 matrix then takes 0.22 s on one thread, ~1000x
        faster than scipy). ``"dissection"`` contracts in the customisable CH's nested
        dissection order (geometric cuts when the network has node coordinates), still with
        witness searches so the hierarchy stays sparser than the CCH's; its build time is set
        by the separators (the same grid: ~12 CPU minutes, ~2-3 GB), but its search spaces are
        larger (Philadelphia: queries ~1.7x slower; the grid's matrix ~10-50x slower), so it is
        an explicit choice, kept for comparison and for graphs where the greedy priority
        updates are slow.
    turns : TurnTable, optional
        Turn penalties and bans; every query then runs the edge-based Dijkstra (no hierarchy).
    progress : callable, optional
        ``progress(stage, done, total)`` during the long calls: ``"hierarchy"`` while a hierarchy
        is built (done of total nodes contracted or ordered), ``"skim"`` for matrices (searches
        done of origins + destinations for the bucket method, of origins for Dijkstra) and
        ``"paths"`` for batches of paths or path costs (queries done; distinct origins for
        Dijkstra, which answers an origin's queries with one search). It is called on the
        calling thread, at most every 0.5 s, and once at the end (so a call shorter than 0.5 s
        reports only its end); returning ``False`` cancels the call, which then raises
        KeyboardInterrupt, as Ctrl-C does (with or without a callback). Not called by single
        trees, paths and isochrones (milliseconds).
    """

    def __init__(self, network: Network, *, weight: Weight = None, threads: int | None = None,
                 hierarchy: str = "cch", order: str = "greedy", turns: TurnTable | None = None,
                 progress: Progress | None = None) -> None:
        if not isinstance(network, Network):
            raise InputError(f"expected a Network, got {type(network).__name__}", field="network")
        if hierarchy not in _HIERARCHIES:
            raise InputError(f"hierarchy must be one of {_HIERARCHIES}, got {hierarchy!r}",
                             field="hierarchy")
        if order not in _CH_ORDERS:
            raise InputError(f"order must be one of {_CH_ORDERS}, got {order!r}", field="order")
        if progress is not None and not callable(progress):
            raise InputError("progress must be callable(stage, done, total)", field="progress")
        self.network = network
        self.threads = threads
        self.progress = progress
        self.hierarchy = hierarchy
        self.order = order
        self.turns = _turns(network, turns)
        self._threads = _threads(threads)
        w = np.array(link_weight(network, weight), dtype=np.float64)  # our own frozen copy
        bad = np.flatnonzero(~(np.isfinite(w) & (w >= 0)))
        if len(bad):  # fail here rather than when an engine is first built
            raise InputError(f"weight of link {bad[0]} is {w[bad[0]]!r} (must be finite and >= 0)",
                             field="weight")
        w.flags.writeable = False
        self.weight = w
        self._lookup = _NodeLookup(network)
        self._lock = threading.Lock()
        self._graph: Any = None  # _core.RoutingGraph
        self._cch: Any = None  # _core.CustomizableCH (shared by customised routers)
        self._hier: Any = None  # _core.Hierarchy

    def __repr__(self) -> str:
        built = [name for name, obj in (("dijkstra", self._graph), (self.hierarchy, self._hier))
                 if obj is not None]
        turns = f", {len(self.turns)} turns" if self.turns is not None else ""
        return (f"<Router {self.network.name or '<unnamed>'}: {self.network.num_nodes} nodes{turns}, "
                f"built: {', '.join(built) or 'nothing yet'}>")

    # -- engines
    def _report(self, stage: str) -> Callable[[int, int], object] | None:
        """The kernel's progress(done, total) callback for one stage (None without progress)."""
        progress = self.progress
        if progress is None:
            return None
        return lambda done, total: progress(stage, done, total)

    def _dijkstra(self) -> Any:
        with self._lock:
            if self._graph is None:
                n = self.network
                if self.turns is not None:
                    self._graph = _turn_graph(n, self.weight, self.turns)
                else:
                    self._graph = _core.RoutingGraph(n.fs_first, n.fs_link, n.fs_head, self.weight,
                                                     n.first_thru_node)
            return self._graph

    def _hierarchy(self) -> Any:
        with self._lock:
            if self._hier is None:
                n = self.network
                if self.hierarchy == "ch":
                    x, y = _planar_coordinates(n) if self.order == "dissection" else (None, None)
                    self._hier = _core.contraction_hierarchy(n.fs_first, n.fs_link, n.fs_head,
                                                             self.weight, n.first_thru_node,
                                                             order=self.order, node_x=x, node_y=y,
                                                             progress=self._report("hierarchy"))
                else:
                    if self._cch is None:
                        x, y = _planar_coordinates(n)
                        self._cch = _core.CustomizableCH(n.fs_first, n.fs_link, n.fs_head,
                                                         n.first_thru_node, x, y,
                                                         progress=self._report("hierarchy"))
                    self._hier = self._cch.customize(self.weight)
            return self._hier

    def build(self, *, hierarchy: bool = True) -> Router:
        """Build the Dijkstra index and (by default) the hierarchy now; returns ``self``.

        Useful before timing queries or sharing the router with threads. With turns there is no
        hierarchy to build.
        """
        self._dijkstra()
        if hierarchy and self.turns is None:
            self._hierarchy()
        return self

    def customize(self, weight: Weight) -> Router:
        """A router for the same network with another weight.

        It shares the weight-independent parts already built: the node order of the Dijkstra
        index and, for ``hierarchy="cch"``, the hierarchy's topology, which is then customised
        right away (milliseconds). A classic CH is rebuilt when first needed.
        """
        out = Router(self.network, weight=weight, threads=self.threads, hierarchy=self.hierarchy,
                     order=self.order, turns=self.turns, progress=self.progress)
        with self._lock:
            graph, cch = self._graph, self._cch
        if graph is not None:
            out._graph = graph.with_weight(out.weight)
        if cch is not None:
            out._cch = cch
            out._hier = cch.customize(out.weight)
        return out

    def _use_hierarchy(self, method: str, origins: int, destinations: int) -> bool:
        if method not in _METHODS:
            raise InputError(f"method must be one of {_METHODS}, got {method!r}", field="method")
        if self.turns is not None:
            if method == "hierarchy":
                raise InputError("hierarchies do not support turn restrictions: use method='dijkstra' "
                                 "or 'auto'", field="method")
            return False
        if method != "auto":
            return method == "hierarchy"
        with self._lock:
            built = self._hier is not None or (self.hierarchy == "cch" and self._cch is not None)
        return ((built or origins >= AUTO_HIERARCHY_MIN_ORIGINS)
                and destinations <= AUTO_HIERARCHY_MAX_DESTINATIONS)

    def _pair_query(self, origins: Any, destinations: Any, threads: int | None,
                    method: str) -> tuple[np.ndarray, np.ndarray, int, Any]:
        """Dense ``(origins, destinations)`` of equal length, the thread count and the engine for
        :meth:`shortest_paths` and :meth:`path_costs`."""
        o = self._lookup(origins, "origins")
        d = self._lookup(destinations, "destinations")
        if len(o) != len(d):
            raise InputError(f"origins and destinations differ in length ({len(o)} != {len(d)})",
                             field="destinations")
        nthreads = self._threads if threads is None else _threads(threads)
        distinct = len(np.unique(o)) if method == "auto" else 0
        engine = self._hierarchy() if self._use_hierarchy(method, distinct, 0) else self._dijkstra()
        return o, d, nthreads, engine

    # -- queries
    def tree(self, origin: int, *, targets: Any = None, radius: float | None = None,
             method: str = "auto") -> tuple[np.ndarray, np.ndarray]:
        """Shortest-path tree from ``origin``: ``(costs, pred_links)``, see :func:`tree`.

        ``method``: ``"dijkstra"`` (also what ``"auto"`` means here, so that a router's trees do
        not depend on what it has built) or ``"hierarchy"``: PHAST, an upward search in the
        contraction hierarchy and one sweep over all nodes, several times faster than Dijkstra
        for a whole tree once the hierarchy is built (not with ``targets`` or ``radius``, which
        stop Dijkstra early). Both give the same costs up to rounding; where several shortest
        paths tie, their predecessors may differ. Along zero-cost cycles PHAST's predecessors can
        fail to form a tree: Dijkstra answers then.
        """
        o = self._lookup.scalar(origin, "origin")
        t = None if targets is None else self._lookup(targets, "targets")
        r = _radius(radius)
        if method not in _METHODS:
            raise InputError(f"method must be one of {_METHODS}, got {method!r}", field="method")
        complete = t is None and r == np.inf
        if method == "hierarchy" and not complete:
            raise InputError("method='hierarchy' computes complete trees: no targets or radius",
                             field="method")
        if method == "hierarchy" and self._use_hierarchy(method, 1, self.network.num_nodes):
            costs, pred, ok = self._hierarchy().tree(o, self._dijkstra())
            if ok:
                return costs, pred
        return self._dijkstra().tree(o, t, r)

    def isochrone(self, origin: int, radius: float) -> Isochrone:
        """Nodes within ``radius`` of ``origin`` (see :func:`isochrone`)."""
        r = _radius(radius)
        costs, pred = self.tree(origin, radius=r)
        return _isochrone(self.network, origin, r, costs, pred)

    def shortest_path(self, origin: int, destination: int, *, method: str = "auto") -> Path:
        """One shortest path (see :class:`Path`); ``method`` as in :meth:`shortest_paths`."""
        o = self._lookup.scalar(origin, "origin")
        d = self._lookup.scalar(destination, "destination")
        engine = self._hierarchy() if self._use_hierarchy(method, 1, 1) else self._dijkstra()
        costs, _, links = engine.shortest_paths(np.array([o], dtype=np.int32),
                                                np.array([d], dtype=np.int32), 1)
        ids = self.network.node_ids
        return _make_path(self.network, int(ids[o]), int(ids[d]), float(costs[0]), links)

    def shortest_paths(self, origins: Any, destinations: Any, *, threads: int | None = None,
                       method: str = "auto") -> Paths:
        """Shortest paths for the pairs ``(origins[i], destinations[i])`` (see :class:`Paths`).

        ``method``: ``"dijkstra"`` (one search per distinct origin, stopped at its last
        destination), ``"hierarchy"`` (one bidirectional hierarchy query per pair), or ``"auto"``:
        the hierarchy when it is built or there are at least ``AUTO_HIERARCHY_MIN_ORIGINS``
        distinct origins.
        """
        o, d, nthreads, engine = self._pair_query(origins, destinations, threads, method)
        costs, offsets, links = engine.shortest_paths(o, d, nthreads, self._report("paths"))
        ids = self.network.node_ids
        return Paths(self.network, ids[o], ids[d], costs, offsets, links)

    def path_costs(self, origins: Any, destinations: Any, *, threads: int | None = None,
                   method: str = "auto") -> np.ndarray:
        """Costs of the shortest paths for the pairs ``(origins[i], destinations[i])``.

        The costs of :meth:`shortest_paths` (float64, ``inf`` when unreachable, in the unit of the
        weight) without building the paths, which makes hierarchy queries about a fifth faster.
        ``method`` is as in :meth:`shortest_paths`.
        """
        o, d, nthreads, engine = self._pair_query(origins, destinations, threads, method)
        if self.turns is not None:
            return engine.shortest_paths(o, d, nthreads, self._report("paths"))[0]
        return engine.shortest_path_costs(o, d, nthreads, self._report("paths"))

    def skim(self, origins: NodeSet = "zones", destinations: NodeSet = "zones", *,
             threads: int | None = None, method: str = "auto", as_frame: bool = False
             ) -> np.ndarray | pd.DataFrame:
        """Matrix of shortest-path costs, ``[len(origins), len(destinations)]`` (see :func:`skim`).

        ``method``: ``"dijkstra"`` (one search per origin), ``"hierarchy"`` (bucket method), or
        ``"auto"``: the hierarchy when it is built or there are at least
        ``AUTO_HIERARCHY_MIN_ORIGINS`` origins, and at most
        ``AUTO_HIERARCHY_MAX_DESTINATIONS`` destinations.
        """
        o_ids, o = self._lookup.node_set(self.network, origins, "origins")
        d_ids, d = self._lookup.node_set(self.network, destinations, "destinations")
        nthreads = self._threads if threads is None else _threads(threads)
        use = self._use_hierarchy(method, len(o), len(d))
        engine = self._hierarchy() if use else self._dijkstra()
        out = engine.distance_matrix(o, d, nthreads, self._report("skim"))
        if as_frame:
            import pandas as pd

            return pd.DataFrame(out, index=pd.Index(o_ids, name="origin"),
                                columns=pd.Index(d_ids, name="destination"))
        return out


def _isochrone(network: Network, origin: int, radius: float, costs: np.ndarray,
               pred: np.ndarray) -> Isochrone:
    reached = np.flatnonzero(np.isfinite(costs))
    order = reached[np.argsort(costs[reached], kind="stable")]
    links = pred[order]
    links = links[links >= 0]
    out = Isochrone(int(origin), radius, network.node_ids[order], costs[order],
                    links.astype(np.int32))
    for a in (out.nodes, out.costs, out.links):
        a.flags.writeable = False
    return out


# ---------------------------------------------------------------------------------------- one-off
def tree(network: Network, origin: int, *, weight: Weight = None, targets: Any = None,
         radius: float | None = None, turns: TurnTable | None = None
         ) -> tuple[np.ndarray, np.ndarray]:
    """Shortest-path tree from one origin (Dijkstra).

    Runs on the network's own arrays without building an index; for many queries build a
    :class:`Router`.

    Parameters
    ----------
    network : Network
    origin : int
        External id of the origin node.
    weight : None, str or array
        Link costs (see the module docs).
    targets : array of int, optional
        External node ids; the search stops once all of them are settled.
    radius : float, optional
        The search settles only nodes whose cost is <= radius (an isochrone).
    turns : TurnTable, optional
        Turn penalties and bans (edge-based search; see the module docs).

    Returns
    -------
    costs : float64[num_nodes]
        Cost from the origin to every node, in dense node order, in the unit of the weight.
    pred_links : int32[num_nodes]
        The link entering each node on its shortest path (-1 at the origin). Without turns these
        links form a tree; with turns a path may enter a node one way and leave it another, so
        ``pred_links`` gives the last link only: ask :func:`shortest_path` for whole paths.

    Nodes the search did not settle - unreachable, beyond ``radius``, or (with ``targets``)
    costlier than the costliest target - have cost ``inf`` and predecessor -1.
    """
    w = link_weight(network, weight)
    lookup = _NodeLookup(network)
    o = lookup.scalar(origin, "origin")
    t = None if targets is None else lookup(targets, "targets")
    table = _turns(network, turns)
    if table is not None:
        return _turn_graph(network, w, table).tree(o, t, _radius(radius))
    return _core.tree(network.fs_first, network.fs_link, network.fs_head, w,
                      network.first_thru_node, o, t, _radius(radius))


def isochrone(network: Network, origin: int, radius: float, *, weight: Weight = None,
              turns: TurnTable | None = None) -> Isochrone:
    """Nodes reachable from ``origin`` with cost <= ``radius`` (in the unit of the weight)."""
    r = _radius(radius)
    costs, pred = tree(network, origin, weight=weight, radius=r, turns=turns)
    return _isochrone(network, origin, r, costs, pred)


def shortest_path(network: Network, origin: int, destination: int, *, weight: Weight = None,
                  turns: TurnTable | None = None) -> Path:
    """The shortest path from ``origin`` to ``destination`` (external node ids).

    Returns a :class:`Path`: ``cost`` (unit of the weight plus turn penalties; ``inf`` when
    unreachable), ``nodes`` (external ids) and ``links`` (dense link indices). With ``turns``
    a path may visit a node more than once (a detour around a banned turn).
    """
    if turns is not None:
        return Router(network, weight=weight, turns=turns).shortest_path(origin, destination)
    w = link_weight(network, weight)
    lookup = _NodeLookup(network)
    o = lookup.scalar(origin, "origin")
    d = lookup.scalar(destination, "destination")
    # One search stopped at the destination, on the network's own arrays (no index to build).
    costs, pred = _core.tree(network.fs_first, network.fs_link, network.fs_head, w,
                             network.first_thru_node, o, np.array([d], dtype=np.int32))
    links: list[int] = []
    if np.isfinite(costs[d]):
        v = d
        while v != o:
            link = int(pred[v])
            links.append(link)
            v = int(network.link_tail[link])
    ids = network.node_ids
    return _make_path(network, int(ids[o]), int(ids[d]), float(costs[d]),
                      np.array(links[::-1], dtype=np.int32))


def shortest_paths(network: Network, origins: Any, destinations: Any, *, weight: Weight = None,
                   threads: int | None = None, method: str = "auto",
                   turns: TurnTable | None = None) -> Paths:
    """Shortest paths for the pairs ``(origins[i], destinations[i])``, in parallel.

    Returns :class:`Paths` (costs plus flat link arrays; index it for :class:`Path` objects).
    ``method`` is as in :meth:`Router.shortest_paths`: with ``"dijkstra"`` pairs sharing an origin
    are answered by one search; with many distinct origins a hierarchy pays for its building.
    """
    return Router(network, weight=weight, threads=threads, turns=turns).shortest_paths(
        origins, destinations, method=method)


def skim(network: Network, origins: NodeSet = "zones", destinations: NodeSet = "zones", *,
         weight: Weight = None, threads: int | None = None, method: str = "auto",
         as_frame: bool = False, turns: TurnTable | None = None,
         progress: Progress | None = None) -> np.ndarray | pd.DataFrame:
    """Shortest-path cost matrix between two node sets, in parallel.

    Parameters
    ----------
    origins, destinations : "zones", "nodes" or array of int
        External node ids, or all zones / all nodes of the network.
    weight : None, str or array
        Link costs (see the module docs).
    threads : int, optional
        Threads (``None``: all cores); the result does not depend on it.
    method : {"auto", "dijkstra", "hierarchy"}
        One Dijkstra per origin, or a customisable contraction hierarchy built for the call and
        the bucket method (see :meth:`Router.skim` for what ``"auto"`` picks). For repeated skims
        keep a :class:`Router`.
    as_frame : bool
        Return a pandas DataFrame indexed by origin id with destination ids as columns.
    turns : TurnTable, optional
        Turn penalties and bans (edge-based Dijkstra per origin).
    progress : callable, optional
        ``progress(stage, done, total)`` for the hierarchy build and the matrix (see
        :class:`Router`).

    Returns
    -------
    float64[len(origins), len(destinations)] in the unit of the weight; ``inf`` when unreachable.
    """
    return Router(network, weight=weight, threads=threads, turns=turns, progress=progress).skim(
        origins, destinations, method=method, as_frame=as_frame)
