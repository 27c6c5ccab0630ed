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

Threads
-------
Batched calls take ``threads`` (``None``: all cores). Results never depend on the thread count.
Ctrl-C interrupts long batched calls (``KeyboardInterrupt``).
"""

from __future__ import annotations

import dataclasses
import threading
from collections.abc import Iterator, Sequence
from typing import TYPE_CHECKING, Any

import numpy as np

from smartcore import _core
from smartcore.errors import InputError
from smartcore.network import LINK_ATTRIBUTES, Network

if TYPE_CHECKING:  # pragma: no cover
    import pandas as pd

__all__ = [
    "Router",
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


# ---------------------------------------------------------------------------------------- Router
_HIERARCHIES = ("cch", "ch")
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
      (default) builds a *customisable* CH, whose node order ignores the weight, so that
      :meth:`customize` re-weights it in milliseconds (Philadelphia: ~5-8 ms); ``"ch"`` builds a
      classic CH for this weight (slower to build: ~1 s on Philadelphia; queries ~2-3x faster).

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
    """

    def __init__(self, network: Network, *, weight: Weight = None, threads: int | None = None,
                 hierarchy: str = "cch") -> None:
        if not isinstance(network, Network):
            raise InputError(f"expected a Network, got {type(network).__name__}", field="network")
        if hierarchy not in _HIERARCHIES:
            raise InputError(f"hierarchy must be one of {_HIERARCHIES}, got {hierarchy!r}",
                             field="hierarchy")
        self.network = network
        self.threads = threads
        self.hierarchy = hierarchy
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
        return (f"<Router {self.network.name or '<unnamed>'}: {self.network.num_nodes} nodes, "
                f"built: {', '.join(built) or 'nothing yet'}>")

    # -- engines
    def _dijkstra(self) -> Any:
        with self._lock:
            if self._graph is None:
                n = self.network
                self._graph = _core.RoutingGraph(n.fs_first, n.fs_link, n.fs_head, self.weight,
                                                 n.first_thru_node)
            return self._graph

    def _hierarchy(self) -> Any:
        with self._lock:
            if self._hier is None:
                n = self.network
                if self.hierarchy == "ch":
                    self._hier = _core.contraction_hierarchy(n.fs_first, n.fs_link, n.fs_head,
                                                             self.weight, n.first_thru_node)
                else:
                    if self._cch is None:
                        self._cch = _core.CustomizableCH(n.fs_first, n.fs_link, n.fs_head,
                                                         n.first_thru_node)
                    self._hier = self._cch.customize(self.weight)
            return self._hier

    def build(self, *, hierarchy: bool = True) -> Router:
        """Build the Dijkstra index and (by default) the hierarchy now; returns ``self``.

        Useful before timing queries or sharing the router with threads.
        """
        self._dijkstra()
        if hierarchy:
            self._hierarchy()
        return self

    def customize(self, weight: Weight) -> Router:
        """A router for the same network with another weight.

        It shares the weight-independent parts already built: the node order of the Dijkstra
        index and, for ``hierarchy="cch"``, the hierarchy's topology, which is then customised
        right away (milliseconds). A classic CH is rebuilt when first needed.
        """
        out = Router(self.network, weight=weight, threads=self.threads, hierarchy=self.hierarchy)
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
        if method != "auto":
            return method == "hierarchy"
        with self._lock:
            built = self._hier is not None or (self.hierarchy == "cch" and self._cch is not None)
        return ((built or origins >= AUTO_HIERARCHY_MIN_ORIGINS)
                and destinations <= AUTO_HIERARCHY_MAX_DESTINATIONS)

    # -- queries
    def tree(self, origin: int, *, targets: Any = None, radius: float | None = None
             ) -> tuple[np.ndarray, np.ndarray]:
        """Shortest-path tree from ``origin``: ``(costs, pred_links)``, see :func:`tree`."""
        o = self._lookup.scalar(origin, "origin")
        t = None if targets is None else self._lookup(targets, "targets")
        return self._dijkstra().tree(o, t, _radius(radius))

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
        o = self._lookup(origins, "origins")
        d = self._lookup(destinations, "destinations")
        if len(o) != len(d):
            raise InputError(f"origins and destinations differ in length ({len(o)} != {len(d)})",
                             field="destinations")
        nthreads = self._threads if threads is None else _threads(threads)
        distinct = len(np.unique(o)) if method == "auto" else 0
        use = self._use_hierarchy(method, distinct, 0)
        engine = self._hierarchy() if use else self._dijkstra()
        costs, offsets, links = engine.shortest_paths(o, d, nthreads)
        ids = self.network.node_ids
        return Paths(self.network, ids[o], ids[d], costs, offsets, links)

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
        out = engine.distance_matrix(o, d, nthreads)
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
         radius: float | None = None) -> tuple[np.ndarray, np.ndarray]:
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

    Returns
    -------
    costs : float64[num_nodes]
        Cost from the origin to every node, in dense node order, in the unit of the weight.
    pred_links : int32[num_nodes]
        The link entering each node on its shortest path (-1 at the origin).

    Nodes the search did not settle - unreachable, beyond ``radius``, or (with ``targets``)
    costlier than the costliest target - have cost ``inf`` and predecessor -1.
    """
    w = link_weight(network, weight)
    lookup = _NodeLookup(network)
    o = lookup.scalar(origin, "origin")
    t = None if targets is None else lookup(targets, "targets")
    return _core.tree(network.fs_first, network.fs_link, network.fs_head, w,
                      network.first_thru_node, o, t, _radius(radius))


def isochrone(network: Network, origin: int, radius: float, *, weight: Weight = None) -> Isochrone:
    """Nodes reachable from ``origin`` with cost <= ``radius`` (in the unit of the weight)."""
    r = _radius(radius)
    costs, pred = tree(network, origin, weight=weight, radius=r)
    return _isochrone(network, origin, r, costs, pred)


def shortest_path(network: Network, origin: int, destination: int, *, weight: Weight = None) -> Path:
    """The shortest path from ``origin`` to ``destination`` (external node ids).

    Returns a :class:`Path`: ``cost`` (unit of the weight; ``inf`` when unreachable), ``nodes``
    (external ids) and ``links`` (dense link indices).
    """
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
                   threads: int | None = None, method: str = "auto") -> Paths:
    """Shortest paths for the pairs ``(origins[i], destinations[i])``, in parallel.

    Returns :class:`Paths` (costs plus flat link arrays; index it for :class:`Path` objects).
    ``method`` is as in :meth:`Router.shortest_paths`: with ``"dijkstra"`` pairs sharing an origin
    are answered by one search; with many distinct origins a hierarchy pays for its building.
    """
    return Router(network, weight=weight, threads=threads).shortest_paths(
        origins, destinations, method=method)


def skim(network: Network, origins: NodeSet = "zones", destinations: NodeSet = "zones", *,
         weight: Weight = None, threads: int | None = None, method: str = "auto",
         as_frame: bool = False) -> np.ndarray | pd.DataFrame:
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

    Returns
    -------
    float64[len(origins), len(destinations)] in the unit of the weight; ``inf`` when unreachable.
    """
    return Router(network, weight=weight, threads=threads).skim(
        origins, destinations, method=method, as_frame=as_frame)
