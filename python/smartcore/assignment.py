"""Static user-equilibrium traffic assignment.

:func:`assign` loads origin-destination demand onto a :class:`~smartcore.network.Network` so that
no traveller can lower their generalised cost by changing route (Wardrop's first principle,
1952). Link travel times follow a volume-delay function of the link flow; the generalised cost a
class minimises is

    cost = time + toll_factor * toll + distance_factor * length

in the network's time unit (minutes for most TNTP networks). The equilibrium is the minimiser of
the Beckmann objective (Beckmann, McGuire and Winsten, *Studies in the Economics of
Transportation*, 1956), computed by the compiled kernel with one of:

``"bush"`` (default)
    Algorithm B (Dial, R.B., "A path-based user-equilibrium traffic assignment algorithm that
    obviates path storage and enumeration", *Transportation Research Part B* 40(10), 917-936,
    2006): acyclic bushes per origin with Newton flow shifts. Converges to relative gaps of 1e-10
    and below in seconds on the TNTP benchmark networks.
``"bfw"``, ``"cfw"``
    Bi-conjugate and conjugate Frank-Wolfe (Mitradjieva, M. and Lindberg, P.O., "The stiff is
    moving - conjugate direction Frank-Wolfe methods with applications to traffic assignment",
    *Transportation Science* 47(2), 280-293, 2013), with the step sequence AequilibraE uses.
``"fw"``
    Frank-Wolfe (Frank and Wolfe 1956; LeBlanc, Morlok and Pierskalla 1975) with an exact line
    search on the Beckmann objective.
``"msa"``
    Method of successive averages (step 1/k).
``"aon"``
    One all-or-nothing loading at free-flow costs.

Volume-delay functions: ``"bpr"`` (Bureau of Public Roads, *Traffic Assignment Manual*, 1964:
``t = t0 (1 + alpha (v/c)^beta)`` with the network's per-link ``bpr_alpha`` and ``bpr_beta``) and
``"conical"`` (Spiess, H., "Conical volume-delay functions", *Transportation Science* 24(2),
153-158, 1990).

Conventions (those of the TNTP benchmark codes): the relative gap is ``(TSTC - SPTC) / SPTC`` with
SPTC the shortest-path cost of all demand at the current link costs; intrazonal demand (origin
zone == destination zone) is not assigned and costs 0; zones below the network's
``first_thru_node`` are never passed through. Demand between zones with no path is not assigned:
it is reported (:attr:`AssignmentResult.unreachable_pairs`, ``unreachable_demand``) and a
:class:`UnassignableDemandWarning` is issued.

Multiple classes (e.g. cars and trucks) share the link times: the flow a link sees is the sum of
the class flows times their passenger car equivalents (PCE), and each class has its own toll and
distance factors (``1 / value of time``).

Analysis of a result (:class:`AssignmentResult`): :meth:`~AssignmentResult.skims` (time, distance,
toll, generalised cost or any per-link value, zone to zone; flow-weighted averages over the used
paths, or along shortest paths), :meth:`~AssignmentResult.select_link` (OD matrix of the flow
through given links), :meth:`~AssignmentResult.path_flows` and
:meth:`~AssignmentResult.origin_flows` (from Algorithm B's origin-based flows; path flows follow
one stated decomposition, see the class notes), :meth:`~AssignmentResult.to_frame`,
:meth:`~AssignmentResult.to_geodataframe` and :meth:`~AssignmentResult.write_flows` (TNTP or CSV,
written atomically). ``assign(..., warm_start=previous)`` re-equilibrates after a change of demand
or link parameters from a previous result.
"""

from __future__ import annotations

import argparse
import dataclasses
import math
import sys
import warnings
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from smartcore.errors import ConvergenceError, InputError, SmartcoreError

if TYPE_CHECKING:  # pragma: no cover
    import pandas as pd

    from smartcore.demand import Demand
    from smartcore.network import Network

__all__ = [
    "assign",
    "AssignmentResult",
    "TrafficClass",
    "UnassignableDemandWarning",
    "ALGORITHMS",
    "VDFS",
    "link_performance",
    "generalised_cost_terms",
    "add_assign_parser",
    "cmd_assign",
]

#: Algorithm names accepted by :func:`assign` and their kernel codes.
ALGORITHMS: dict[str, int] = {"aon": 0, "msa": 1, "fw": 2, "cfw": 3, "bfw": 4, "bush": 5}
_ALGORITHM_ALIASES = {"all-or-nothing": "aon", "frank-wolfe": "fw", "algorithm-b": "bush", "b": "bush"}
#: Volume-delay functions and their kernel codes.
VDFS: dict[str, int] = {"bpr": 0, "conical": 1}

#: Default iteration caps (Algorithm B counts outer sweeps; the FW family counts loadings).
DEFAULT_MAX_ITERATIONS = {"bush": 1000, "aon": 1}
DEFAULT_MAX_ITERATIONS_LINK_BASED = 1000


class UnassignableDemandWarning(UserWarning):
    """Some OD demand has no path in the network; it is reported, not assigned."""


@dataclasses.dataclass(frozen=True)
class TrafficClass:
    """One user class of a multi-class assignment.

    Attributes
    ----------
    demand : Demand
        Trips of the class (vehicles).
    pce : float
        Passenger car equivalent of one vehicle (> 0): link times depend on the PCE-weighted sum
        of the class flows.
    toll_factor, distance_factor : float or None
        Generalised cost per toll unit and per length unit, in the network's time unit (for a
        value of time ``vot``, ``toll_factor = 1 / vot``). None takes the network's metadata
        (``toll_factor`` / ``distance_factor``), else 0.
    name : str
        Label of the class in results (default: the demand's name, else ``class<k>``).
    """

    demand: Demand
    pce: float = 1.0
    toll_factor: float | None = None
    distance_factor: float | None = None
    name: str = ""


@dataclasses.dataclass(frozen=True, eq=False, repr=False)
class AssignmentResult:
    """The outcome of :func:`assign`: link flows and times at the returned solution, plus how the
    algorithm got there. Arrays are aligned with the network's link order.

    Attributes
    ----------
    link_flows : float64[num_links]
        Total link flow in PCE (equal to vehicles for a single class with ``pce=1``), in the
        demand's unit (e.g. veh/h).
    link_times : float64[num_links]
        Travel time at ``link_flows`` (network time unit).
    link_costs : float64[num_links]
        Generalised cost of the first class: ``link_times + toll_factor * toll +
        distance_factor * length``.
    class_flows : dict[str, float64[num_links]]
        Vehicle flow of each class.
    class_costs : dict[str, float64[num_links]]
        Generalised cost of each class.
    gap : float
        Relative gap ``(TSTC - SPTC) / SPTC`` of the returned flows (at machine precision it can
        be a tiny negative number, e.g. -1e-16).
    gap_history : float64[iterations]
        Relative gap after each iteration.
    iteration_seconds : float64[iterations]
        Wall time of each iteration (gap evaluation included).
    iterations : int
    converged : bool
        True when ``gap`` reached the requested target.
    stop_reason : str
        ``converged``, ``max_iterations``, ``time_limit``, ``cancelled`` or ``all_or_nothing``.
    tstt : float
        Total system travel time ``sum(link_flows * link_times)`` (PCE x time).
    total_cost : float
        TSTC: total generalised cost over all classes (PCE x time).
    sptc : float
        Shortest-path total cost at the returned link costs (PCE x time).
    beckmann : float
        Beckmann objective (fixed generalised costs included).
    average_excess_cost : float
        ``(TSTC - SPTC) / assigned demand`` (time per PCE trip).
    unreachable_pairs, unreachable_demand : dict[str, int], dict[str, float]
        Per class: OD pairs with demand but no path, and their demand (not assigned).
    assigned_demand, intrazonal_demand : dict[str, float]
        Per class: demand loaded on the network, and intrazonal demand (not loaded, cost 0).
    algorithm, vdf : str
    network : Network
    classes : tuple of TrafficClass
        The classes assigned (demand, PCE, cost factors), in the order of ``class_flows``.
    bushes : smartcore._core.BushSolution or None
        Algorithm B's origin-based solution (one acyclic bush per class and origin with that
        origin's link flows), kept for :meth:`skim`, :meth:`select_link`, :meth:`path_flows`,
        :meth:`origin_flows` and ``assign(..., warm_start=result)``; None for the Frank-Wolfe
        family or with ``keep_bushes=False``. Opaque (``bushes.nbytes`` tells its memory).
    threads : int
        Threads requested (0: all cores), reused by the analysis methods.

    Notes
    -----
    Path flows at equilibrium are not unique: only the link flows are (on links whose cost
    strictly increases with flow). The analysis methods that need paths (select-link, average
    skims, path flows) all use one definite decomposition of each origin's bush flows, the
    *proportional rule*: the origin's flow reaching a node, whatever its destination, arrives
    over the node's incoming links in proportion to their flows from that origin. A path's share
    of an OD flow is then the product of the shares of its links. Consequences: select-link
    totals over all OD pairs equal the link flow, path flows of an OD pair sum to its demand,
    and over all destinations they add up to the origin's link flows; at equilibrium every path
    with flow has the minimum cost, so average cost skims equal shortest-path costs within the
    gap. Other decompositions (e.g. Bar-Gera's maximum-entropy paths) give the same link flows
    but can split OD flows over the paths differently.
    """

    link_flows: np.ndarray
    link_times: np.ndarray
    link_costs: np.ndarray
    class_flows: dict[str, np.ndarray]
    class_costs: dict[str, np.ndarray]
    gap: float
    gap_history: np.ndarray
    iteration_seconds: np.ndarray
    iterations: int
    converged: bool
    stop_reason: str
    tstt: float
    total_cost: float
    sptc: float
    beckmann: float
    average_excess_cost: float
    unreachable_pairs: dict[str, int]
    unreachable_demand: dict[str, float]
    assigned_demand: dict[str, float]
    intrazonal_demand: dict[str, float]
    algorithm: str
    vdf: str
    network: Network
    classes: tuple[TrafficClass, ...] = ()
    bushes: Any = None
    threads: int = 0

    @property
    def seconds(self) -> float:
        """Total wall time of the iterations."""
        return float(self.iteration_seconds.sum())

    @property
    def unassigned_demand(self) -> float:
        """Total demand (vehicles, all classes) that has no path and was not assigned."""
        return float(sum(self.unreachable_demand.values()))

    def to_frame(self) -> pd.DataFrame:
        """One row per link: external ``from_node``/``to_node``, ``flow``, ``time``, ``cost``,
        ``voc`` (flow / capacity) and, with several classes, ``flow_<class>`` columns."""
        import pandas as pd

        net = self.network
        ids = net.link_ids
        cols: dict[str, Any] = {
            "from_node": ids[:, 0],
            "to_node": ids[:, 1],
            "flow": self.link_flows,
            "time": self.link_times,
            "cost": self.link_costs,
            "voc": self.link_flows / net.capacity,
        }
        if len(self.class_flows) > 1:
            for name, flows in self.class_flows.items():
                cols[f"flow_{name}"] = flows
        frame = pd.DataFrame(cols)
        frame.index.name = "link"
        return frame

    # -------------------------------------------------------------- analysis
    def _class_index(self, cls: str | int | None) -> int:
        names = list(self.class_flows)
        if cls is None:
            return 0
        if isinstance(cls, (int, np.integer)) and not isinstance(cls, bool):
            if 0 <= int(cls) < len(names):
                return int(cls)
        elif cls in names:
            return names.index(cls)
        raise InputError(f"unknown class {cls!r}; classes: {names}", field="cls")

    def _zone_index(self, zone: int, field: str) -> int:
        ids = self.classes[0].demand.zone_ids if self.classes else self.network.zone_ids
        hit = np.flatnonzero(ids == zone)
        if not len(hit):
            raise InputError(f"{field} {zone!r} is not a zone of the assignment", field=field)
        return int(hit[0])

    def _need_bushes(self, what: str) -> Any:
        if self.bushes is None:
            why = ("keep_bushes=False" if self.algorithm == "bush" else
                   f"the {self.algorithm!r} algorithm keeps link flows only")
            raise InputError(
                f"{what} needs Algorithm B's origin-based flows ({why}); re-run with "
                "algorithm='bush' (cheap from this result: assign(..., algorithm='bush', "
                "warm_start=result))", field="algorithm")
        return self.bushes

    def _link_values(self, kind: Any, k: int) -> tuple[str, np.ndarray]:
        net = self.network
        if isinstance(kind, str):
            key = kind.lower()
            if key == "time":
                return key, np.ascontiguousarray(self.link_times, dtype=np.float64)
            if key == "distance":
                return key, np.ascontiguousarray(net.length, dtype=np.float64)
            if key == "toll":
                return key, np.ascontiguousarray(net.toll, dtype=np.float64)
            if key == "cost":
                return key, np.ascontiguousarray(list(self.class_costs.values())[k], dtype=np.float64)
            raise InputError(f"unknown skim kind {kind!r}; use 'time', 'distance', 'toll', 'cost' or a "
                             "per-link array", field="kind")
        values = np.ascontiguousarray(kind, dtype=np.float64)
        if values.shape != (net.num_links,) or not np.all(np.isfinite(values)):
            raise InputError(f"a skim array needs {net.num_links} finite values (one per link)", field="kind")
        return "values", values

    def skims(self, kinds: Sequence[Any] = ("time", "distance", "toll", "cost"), *,
              cls: str | int | None = None, method: str | None = None) -> dict[str, np.ndarray]:
        """Zone-to-zone skims at the returned solution, several in one pass.

        Parameters
        ----------
        kinds : sequence of {"time", "distance", "toll", "cost"} or per-link arrays
            ``time``: link travel times (network time unit); ``distance``: ``network.length``;
            ``toll``: ``network.toll`` (its own unit); ``cost``: the class's generalised cost
            (time unit). An array gives the sum of its per-link values. Arrays are keyed
            ``values<i>`` in the result.
        cls : str or int, optional
            Class name or index (default: the first class).
        method : {"average", "shortest"}, optional
            ``average`` (default when the result has bushes): for OD pairs with demand, the
            flow-weighted average over the paths the class uses (proportional rule, see the class
            notes), i.e. the mean skim of a trip; other pairs along a shortest path.
            ``shortest``: along one shortest path of the class's generalised cost at the
            returned link costs (ties broken by the search). At equilibrium every used path has
            the minimum cost, so the two agree for ``cost`` within the gap; for time, distance
            and toll they differ where several paths of equal cost are used.

        Returns
        -------
        dict[str, float64[Z, Z]]
            Rows are origins and columns destinations in the order of the demand's
            ``zone_ids``; 0 on intrazonal pairs (same node), ``inf`` where there is no path.
        """
        from smartcore import _core

        k = self._class_index(cls)
        method = method or ("average" if self.bushes is not None else "shortest")
        if method not in ("average", "shortest"):
            raise InputError(f"method must be 'average' or 'shortest', got {method!r}", field="method")
        names, values = [], []
        for i, kind in enumerate(kinds):
            name, v = self._link_values(kind, k)
            names.append(f"values{i}" if name == "values" else name)
            values.append(v)
        net = self.network
        demand = self.classes[k].demand if self.classes else None
        zone_nodes = np.ascontiguousarray(
            demand.zone_nodes(net) if demand is not None else np.arange(net.num_zones), dtype=np.int32)
        cost = np.ascontiguousarray(list(self.class_costs.values())[k], dtype=np.float64)
        out = _core.shortest_path_skims(net.fs_first, net.fs_link, net.fs_head, net.link_tail,
                                        net.link_head, int(net.first_thru_node), zone_nodes, cost,
                                        values, self.threads)
        if method == "average":
            out = _core.bush_average_skims(self._need_bushes("method='average'"), k, values, out,
                                           self.threads)
        return dict(zip(names, out))

    def skim(self, kind: Any = "time", *, cls: str | int | None = None,
             method: str | None = None) -> np.ndarray:
        """One zone-to-zone skim (``float64[Z, Z]``); see :meth:`skims` for the arguments."""
        return next(iter(self.skims([kind], cls=cls, method=method).values()))

    def select_link(self, links: Any, *, cls: str | int | None = None) -> np.ndarray:
        """Select-link analysis: the OD matrix of the flow whose path uses any of ``links``.

        Parameters
        ----------
        links : int, array of int, or sequence of (from_node, to_node)
            Dense link indices (rows of :meth:`to_frame`), or external node id pairs (all
            parallel links between them).
        cls : str or int, optional
            A class (result in its vehicles). Default: all classes together in PCE, so that for a
            single link the matrix sums to ``link_flows[link]``.

        Returns
        -------
        float64[Z, Z]
            Flow from each origin zone (row) to each destination zone (column) that passes
            through at least one of the links, from Algorithm B's origin-based flows and the
            proportional rule (see the class notes). Needs ``algorithm="bush"``.
        """
        from smartcore import _core

        bushes = self._need_bushes("select_link")
        index = self._links(links)
        k = -1 if cls is None else self._class_index(cls)
        return _core.select_link(bushes, k, index, self.threads)

    def _links(self, links: Any) -> np.ndarray:
        net = self.network
        arr = np.asarray(links)
        if arr.dtype == object or (arr.ndim == 2 and arr.shape[1] == 2):
            out: list[int] = []
            for pair in arr.reshape(-1, 2).tolist():
                idx = net.link_index(int(pair[0]), int(pair[1]))
                if not len(idx):
                    raise InputError(f"no link from {pair[0]} to {pair[1]}", field="links")
                out.extend(int(i) for i in idx)
            return np.asarray(out, dtype=np.int32)
        if arr.size and not np.issubdtype(arr.dtype, np.integer):
            raise InputError("links must be link indices or (from_node, to_node) pairs", field="links")
        arr = arr.astype(np.int64).ravel()
        bad = arr[(arr < 0) | (arr >= net.num_links)]
        if len(bad):
            raise InputError(f"link index {int(bad[0])} outside [0, {net.num_links})", field="links")
        return np.ascontiguousarray(arr, dtype=np.int32)

    def path_flows(self, origin: int, destination: int, *, cls: str | int | None = None,
                   max_paths: int = 10_000, min_flow: float = 0.0) -> list[tuple[np.ndarray, float]]:
        """Paths from ``origin`` to ``destination`` (zone ids) and their flows (vehicles).

        Decomposed from the origin's bush flows by the proportional rule (see the class notes):
        path flows at equilibrium are not unique, this is one definite decomposition. The flows
        sum to the OD demand of the class; over all destinations they add up to
        :meth:`origin_flows`. Paths come in depth-first order from the destination back over each
        node's incoming bush links.

        Parameters
        ----------
        origin, destination : int
            Zone ids.
        cls : str or int, optional
            Default: the first class.
        max_paths : int
            InputError when more paths than this carry flow (their number can grow exponentially
            with the number of merge nodes); raise it or ``min_flow``.
        min_flow : float
            Leave out paths with less flow (vehicles).

        Returns
        -------
        list of (int32[links], float)
            Link indices from origin to destination, and the path's flow. Empty when the pair has
            no assigned demand.
        """
        from smartcore import _core

        bushes = self._need_bushes("path_flows")
        k = self._class_index(cls)
        o = self._zone_index(origin, "origin")
        d = self._zone_index(destination, "destination")
        if int(max_paths) != max_paths or max_paths < 0:
            raise InputError(f"max_paths must be an integer >= 0, got {max_paths}", field="max_paths")
        if not (min_flow >= 0):
            raise InputError(f"min_flow must be >= 0, got {min_flow}", field="min_flow")
        return [(links, float(flow)) for links, flow in
                _core.bush_path_flows(bushes, k, o, d, int(max_paths), float(min_flow))]

    def origin_flows(self, origin: int, *, cls: str | int | None = None) -> np.ndarray:
        """Link flows (vehicles of the class, default the first) of the trips from one origin zone."""
        from smartcore import _core

        bushes = self._need_bushes("origin_flows")
        return _core.bush_origin_flows(bushes, self._class_index(cls), self._zone_index(origin, "origin"))

    def to_geodataframe(self) -> Any:
        """:meth:`to_frame` as a GeoDataFrame with the links' geometry (stored, else straight lines
        between the end nodes) in the network's CRS. InputError when the network has no node
        coordinates."""
        import geopandas as gpd

        _, links = self.network.to_geodataframes()
        return gpd.GeoDataFrame(self.to_frame(), geometry=links.geometry.to_numpy(), crs=links.crs)

    def write_flows(self, path: str | Path) -> Path:
        """Write the link flows atomically: ``*.tntp`` as a TNTP flow file (From, To, Volume,
        Cost: the first class's generalised cost), ``*.csv`` as :meth:`to_frame`. Returns the path."""
        from smartcore.io._common import atomic_path
        from smartcore.io.tntp import write_flows

        out = Path(path)
        suffix = out.suffix.lower()
        if suffix == ".tntp":
            write_flows(out, self.network, self.link_flows, self.link_costs)
        elif suffix == ".csv":
            with atomic_path(out) as tmp:
                self.to_frame().to_csv(tmp)
        else:
            raise InputError(f"{out}: expected a .tntp or .csv file name", field="path")
        return out

    def summary(self) -> str:
        """A few lines: algorithm, gap, iterations, time, objective, unassigned demand."""
        lines = [
            f"{self.algorithm} assignment of {self.network.name or '<unnamed>'}: "
            f"{'converged' if self.converged else 'not converged (' + self.stop_reason + ')'}",
            f"  relative gap        {self.gap:.3e}  after {self.iterations} iterations "
            f"({self.seconds:.3f} s)",
            f"  TSTT                {self.tstt:.10g}",
            f"  Beckmann objective  {self.beckmann:.10g}",
            f"  avg excess cost     {self.average_excess_cost:.3e}",
        ]
        if self.unassigned_demand > 0:
            pairs = sum(self.unreachable_pairs.values())
            lines.append(f"  unassignable        {self.unassigned_demand:.6g} trips in {pairs} OD pairs "
                         "(no path)")
        return "\n".join(lines)

    def __repr__(self) -> str:
        return (f"<AssignmentResult {self.algorithm}: gap {self.gap:.3e}, {self.iterations} iterations, "
                f"converged={self.converged}>")


# ------------------------------------------------------------------------------------------------
def _factor(value: float | None, network: Network, key: str) -> float:
    if value is None:
        value = network.metadata.get(key, 0.0)
    try:
        x = float(value)
    except (TypeError, ValueError):
        raise InputError(f"{key} must be a number, got {value!r}", field=key) from None
    if not (math.isfinite(x) and x >= 0):
        raise InputError(f"{key} must be finite and >= 0, got {x}", field=key)
    return x


def generalised_cost_terms(network: Network, toll_factor: float | None = None,
                           distance_factor: float | None = None) -> np.ndarray:
    """Per-link fixed part of the generalised cost: ``toll_factor * toll + distance_factor * length``.

    Parameters
    ----------
    network : Network
        Supplies ``toll`` and ``length`` (in the units of ``network.units``).
    toll_factor, distance_factor : float, optional
        Time per toll unit and per length unit (e.g. min/cent, min/mile). Default: the network's
        ``metadata`` (Chicago-Sketch: 0.02 min/cent and 0.04 min/mile, from its README, set by
        :func:`smartcore.datasets.tntp`), else 0.

    Returns
    -------
    float64[num_links]
        In the network's time unit; added to the link travel time by :func:`assign`.

    Raises
    ------
    InputError
        A factor that is not a finite number >= 0.
    """
    tf = _factor(toll_factor, network, "toll_factor")
    df = _factor(distance_factor, network, "distance_factor")
    return tf * network.toll + df * network.length


def link_performance(network: Network, flows: Any, *, vdf: str = "bpr",
                     vdf_alpha: Any = None) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Link time, its derivative and its integral from 0 at the given flows.

    Parameters
    ----------
    network : Network
        Supplies ``free_flow_time``, ``capacity``, ``bpr_alpha``, ``bpr_beta``.
    flows : array of float
        Flow per link (same unit as capacity).
    vdf : {"bpr", "conical"}
    vdf_alpha : float or array, optional
        Conical alpha (> 1); default the network's ``bpr_beta``.

    Returns
    -------
    time, derivative, integral : float64[num_links]
        In the network's time unit, time per flow unit, and time x flow.
    """
    from smartcore import _core

    code, alpha, beta = _vdf_arrays(network, vdf, vdf_alpha)
    flows = np.ascontiguousarray(flows, dtype=np.float64)
    if flows.shape != (network.num_links,):
        raise InputError(f"flows must have shape ({network.num_links},), got {flows.shape}", field="flows")
    return _core.link_performance(code, np.ascontiguousarray(network.free_flow_time),
                                  np.ascontiguousarray(network.capacity), alpha, beta, flows)


def _vdf_arrays(network: Network, vdf: str, vdf_alpha: Any) -> tuple[int, np.ndarray, np.ndarray]:
    key = str(vdf).lower()
    if key not in VDFS:
        raise InputError(f"unknown vdf {vdf!r}; known: {sorted(VDFS)}", field="vdf")
    m = network.num_links
    if key == "bpr":
        if vdf_alpha is not None:
            raise InputError("vdf_alpha applies to the conical function only (BPR reads the "
                             "network's bpr_alpha and bpr_beta)", field="vdf_alpha")
        return VDFS[key], np.ascontiguousarray(network.bpr_alpha), np.ascontiguousarray(network.bpr_beta)
    src = network.bpr_beta if vdf_alpha is None else vdf_alpha
    alpha = np.ascontiguousarray(np.broadcast_to(np.asarray(src, dtype=np.float64), (m,)))
    bad = np.flatnonzero(~(alpha > 1.0) | ~np.isfinite(alpha))
    if len(bad):
        raise InputError(f"conical alpha of link {int(bad[0])} is {alpha[bad[0]]} (must be > 1; pass "
                         "vdf_alpha=)", field="vdf_alpha")
    return VDFS[key], alpha, np.zeros(m)


def _warm_start_arrays(warm: AssignmentResult | None, network: Network, classes: list[TrafficClass],
                       names: list[str]) -> tuple[Any, list[np.ndarray] | None, list[np.ndarray] | None]:
    """(bushes, class vehicle flows, class demands) of a warm start, after checking that it fits."""
    if warm is None:
        return None, None, None
    if not isinstance(warm, AssignmentResult):
        raise InputError(f"warm_start must be an AssignmentResult, got {type(warm).__name__}",
                         field="warm_start")
    prev = warm.network
    same = prev is network or (
        prev.num_nodes == network.num_nodes and prev.first_thru_node == network.first_thru_node
        and np.array_equal(prev.link_tail, network.link_tail)
        and np.array_equal(prev.link_head, network.link_head))
    if not same:
        raise InputError("warm_start was computed on another network (nodes, links or zones differ)",
                         field="warm_start")
    if len(warm.classes) != len(classes):
        raise InputError(f"warm_start has {len(warm.classes)} classes, this assignment {len(classes)}",
                         field="warm_start")
    if not np.array_equal(warm.classes[0].demand.zone_ids, classes[0].demand.zone_ids):
        raise InputError("warm_start uses other zones", field="warm_start")
    flows = [np.ascontiguousarray(f, dtype=np.float64) for f in warm.class_flows.values()]
    demand = [np.ascontiguousarray(c.demand.matrix, dtype=np.float64) for c in warm.classes]
    return warm.bushes, flows, demand


def _algorithm_name(algorithm: str) -> str:
    key = str(algorithm).lower()
    key = _ALGORITHM_ALIASES.get(key, key)
    if key not in ALGORITHMS:
        raise InputError(f"unknown algorithm {algorithm!r}; known: {sorted(ALGORITHMS)}",
                         field="algorithm")
    return key


def assign(
    network: Network,
    demand: Demand | None = None,
    *,
    classes: Sequence[TrafficClass] | None = None,
    algorithm: str = "bush",
    gap: float = 1e-10,
    max_iterations: int | None = None,
    time_limit: float | None = None,
    threads: int | None = None,
    toll_factor: float | None = None,
    distance_factor: float | None = None,
    vdf: str = "bpr",
    vdf_alpha: Any = None,
    progress: Callable[[int, float], bool | None] | None = None,
    require_convergence: bool = False,
    warm_start: AssignmentResult | None = None,
    keep_bushes: bool = True,
) -> AssignmentResult:
    """Static user-equilibrium assignment of ``demand`` on ``network``.

    Parameters
    ----------
    network : Network
        Link attributes ``free_flow_time`` (time unit of all results), ``capacity``,
        ``bpr_alpha``, ``bpr_beta``, ``toll``, ``length``; zones are its first ``num_zones``
        nodes, and nodes below ``first_thru_node`` are not passed through.
    demand : Demand, optional
        Trips of a single class (vehicles per period). Give either ``demand`` or ``classes``.
    classes : sequence of TrafficClass, optional
        Several user classes sharing the links (PCE-weighted), each with its own factors.
    algorithm : {"bush", "bfw", "cfw", "fw", "msa", "aon"}
        See the module documentation. Default Algorithm B.
    gap : float
        Target relative gap ``(TSTC - SPTC) / SPTC`` (default 1e-10; 0 runs to the other limits).
    max_iterations : int, optional
        Default 1000 (Algorithm B: outer iterations; FW family: loadings).
    time_limit : float, optional
        Wall-time limit in seconds (checked between iterations and, for Algorithm B, between
        origins). The current solution is returned with ``converged=False``.
    threads : int, optional
        Threads for the shortest-path searches and Algorithm B's bush improvements (default: all
        cores). Algorithm B's results do not depend on it (its flow shifts are sequential, each
        bush's improvement reads only the costs and that bush); the FW family's are identical for
        a given thread count and equal up to rounding across counts.
    toll_factor, distance_factor : float, optional
        Generalised cost per toll unit and per length unit (network time unit); default from
        ``network.metadata``, else 0. Single-class form of :class:`TrafficClass`'s factors.
    vdf : {"bpr", "conical"}
        Volume-delay function (BPR 1964 or Spiess 1990).
    vdf_alpha : float or array, optional
        Conical alpha per link (> 1); default the network's ``bpr_beta``.
    progress : callable, optional
        ``progress(iteration, gap)`` after every iteration; returning ``False`` stops the
        assignment, which then returns its current solution (``stop_reason="cancelled"``).
        Exceptions raised by it propagate. Ctrl-C raises :class:`KeyboardInterrupt`.
    require_convergence : bool
        Raise :class:`~smartcore.errors.ConvergenceError` when the gap target is not reached.
    warm_start : AssignmentResult, optional
        A previous result on the same network topology and zones (link parameters and demand may
        differ, e.g. after a capacity change or with scaled demand) to start from. Algorithm B
        starts from its bushes when the result has them: each keeps its links and the split of
        flow at every node, rescaled to the new demand (new origins get shortest-path trees);
        from a Frank-Wolfe-family result, from shortest-path trees at its link costs. The
        Frank-Wolfe family starts from ``r * previous flows + all-or-nothing(new - r * old
        demand)``, ``r`` the smallest ratio of new to old OD demand: a feasible flow for the new
        demand (the scaled previous flows when demand is scaled uniformly; a cold start when an
        OD pair of the old demand has none now). MSA's 1/k steps forget a warm start at once.
        The equilibrium reached is the same as from a cold start; only the way there is shorter.
    keep_bushes : bool
        Keep Algorithm B's bushes in the result (:attr:`AssignmentResult.bushes`, needed for
        select-link analysis, average skims, path flows and bush warm starts). False frees
        their memory (about 16 bytes per bush link and 8 per bush node) with the kernel's.

    Returns
    -------
    AssignmentResult

    Raises
    ------
    InputError
        Bad arguments, demand zones that are not network zones, invalid link parameters.
    ConvergenceError
        Only with ``require_convergence=True``.

    Examples
    --------
    >>> net, trips = smartcore.datasets.tntp("SiouxFalls")          # doctest: +SKIP
    >>> res = smartcore.assign(net, trips, gap=1e-10)               # doctest: +SKIP
    >>> res.gap <= 1e-10, res.to_frame().head()                     # doctest: +SKIP
    """
    from smartcore import _core
    from smartcore.demand import Demand

    alg = _algorithm_name(algorithm)
    if (demand is None) == (classes is None):
        raise InputError("pass either demand= or classes=", field="demand")
    if classes is None:
        classes = [TrafficClass(demand, 1.0, toll_factor, distance_factor)]  # type: ignore[arg-type]
    elif toll_factor is not None or distance_factor is not None:
        raise InputError("with classes=, give toll_factor/distance_factor per TrafficClass",
                         field="toll_factor")
    classes = list(classes)
    if not classes:
        raise InputError("classes is empty", field="classes")
    try:
        gap = float(gap)
    except (TypeError, ValueError):
        raise InputError(f"gap must be a number, got {gap!r}", field="gap") from None
    if not (gap >= 0 and math.isfinite(gap)):
        raise InputError(f"gap must be finite and >= 0, got {gap}", field="gap")
    if max_iterations is None:
        max_iterations = DEFAULT_MAX_ITERATIONS.get(alg, DEFAULT_MAX_ITERATIONS_LINK_BASED)
    if int(max_iterations) != max_iterations or max_iterations < 1:
        raise InputError(f"max_iterations must be an integer >= 1, got {max_iterations}",
                         field="max_iterations")
    limit = math.inf if time_limit is None else float(time_limit)
    if not limit > 0:
        raise InputError(f"time_limit must be > 0 seconds, got {time_limit}", field="time_limit")
    nthreads = 0 if threads is None else int(threads)
    if nthreads < 0:
        raise InputError(f"threads must be >= 1 (or None for all cores), got {threads}", field="threads")
    if progress is not None and not callable(progress):
        raise InputError("progress must be callable(iteration, gap)", field="progress")
    code, alpha, beta = _vdf_arrays(network, vdf, vdf_alpha)

    for k, c in enumerate(classes):
        if not isinstance(c, TrafficClass):
            raise InputError(f"classes[{k}] is a {type(c).__name__}, not a TrafficClass", field="classes")
        if not isinstance(c.demand, Demand):
            raise InputError(f"demand is a {type(c.demand).__name__}, not a Demand (use Demand.from_array)",
                             field="demand")
    # All classes must use the same zones (one zone -> node map for the kernel).
    zone_ids = classes[0].demand.zone_ids
    names: list[str] = []
    kernel_classes = []
    for k, c in enumerate(classes):
        if not np.array_equal(c.demand.zone_ids, zone_ids):
            raise InputError(f"class {k}: its demand zones differ from class 0's (use the same zone ids)",
                             field="classes")
        pce = float(c.pce)
        if not (pce > 0 and math.isfinite(pce)):
            raise InputError(f"class {k}: pce must be finite and > 0, got {c.pce}", field="pce")
        fixed = generalised_cost_terms(network, c.toll_factor, c.distance_factor)
        name = c.name or c.demand.name or f"class{k}"
        if name in names:
            name = f"{name}_{k}"
        names.append(name)
        kernel_classes.append((np.ascontiguousarray(c.demand.matrix, dtype=np.float64), pce,
                               np.ascontiguousarray(fixed) if np.any(fixed) else None))
    zone_nodes = np.ascontiguousarray(classes[0].demand.zone_nodes(network), dtype=np.int32)
    warm_bushes, warm_flows, warm_demand = _warm_start_arrays(warm_start, network, classes, names)

    raw = _core.assign(
        network.fs_first, network.fs_link, network.fs_head, network.link_tail, network.link_head,
        int(network.first_thru_node), zone_nodes, code,
        np.ascontiguousarray(network.free_flow_time), np.ascontiguousarray(network.capacity),
        alpha, beta, kernel_classes, ALGORITHMS[alg], gap, int(max_iterations), limit, nthreads,
        progress, keep_bushes=bool(keep_bushes), warm_bushes=warm_bushes, warm_flows=warm_flows,
        warm_demand=warm_demand,
    )
    times = raw["link_time"]
    class_flows = {name: raw["class_flow"][k] for k, name in enumerate(names)}
    class_costs = {name: times + (kc[2] if kc[2] is not None else 0.0)
                   for name, kc in zip(names, kernel_classes)}
    result = AssignmentResult(
        link_flows=raw["link_flow"],
        link_times=times,
        link_costs=class_costs[names[0]],
        class_flows=class_flows,
        class_costs=class_costs,
        gap=float(raw["relative_gap"]),
        gap_history=raw["gap_history"],
        iteration_seconds=raw["iteration_seconds"],
        iterations=int(raw["iterations"]),
        converged=bool(raw["converged"]),
        stop_reason=str(raw["stop_reason"]),
        tstt=float(raw["total_travel_time"]),
        total_cost=float(raw["total_cost"]),
        sptc=float(raw["shortest_path_cost"]),
        beckmann=float(raw["beckmann"]),
        average_excess_cost=float(raw["average_excess_cost"]),
        unreachable_pairs={n: int(x) for n, x in zip(names, raw["unreachable_pairs"])},
        unreachable_demand={n: float(x) for n, x in zip(names, raw["unreachable_demand"])},
        assigned_demand={n: float(x) for n, x in zip(names, raw["assigned_demand"])},
        intrazonal_demand={n: float(x) for n, x in zip(names, raw["intrazonal_demand"])},
        algorithm=alg,
        vdf=str(vdf).lower(),
        network=network,
        classes=tuple(classes),
        bushes=raw["bushes"],
        threads=nthreads,
    )
    if result.unassigned_demand > 0:
        pairs = sum(result.unreachable_pairs.values())
        warnings.warn(
            f"{result.unassigned_demand:.6g} trips in {pairs} OD pairs have no path in network "
            f"{network.name or '<unnamed>'} and were not assigned (see AssignmentResult."
            "unreachable_pairs / unreachable_demand)", UnassignableDemandWarning, stacklevel=2)
    if require_convergence and alg != "aon" and not result.converged:
        raise ConvergenceError(
            f"{alg} assignment stopped ({result.stop_reason}) at relative gap {result.gap:.3e} after "
            f"{result.iterations} iterations; target {gap:.3e}")
    return result


# ------------------------------------------------------------------------------------------------
# Command line: ``smartcore assign NETWORK [TRIPS] --gap 1e-10 --out FILE``


def add_assign_parser(subparsers: Any) -> argparse.ArgumentParser:
    """Register the ``assign`` sub-command on an ``argparse`` sub-parsers object."""
    p = subparsers.add_parser(
        "assign", help="static user-equilibrium traffic assignment",
        description="Assign OD demand to a network at user equilibrium (Algorithm B by default) and "
                    "write link flows. NETWORK is a file/folder or a dataset name (e.g. "
                    "ChicagoSketch, which also supplies its trips and generalised-cost factors).")
    p.add_argument("network", help="network file or folder, or a TNTP dataset name")
    p.add_argument("trips", nargs="?", default=None,
                   help="demand: *_trips.tntp or .omx (default: the dataset's trips)")
    p.add_argument("--algorithm", default="bush", choices=sorted(ALGORITHMS),
                   help="bush (Algorithm B, default), bfw, cfw, fw, msa, aon")
    p.add_argument("--gap", type=float, default=1e-10, help="target relative gap (default 1e-10)")
    p.add_argument("--max-iterations", type=int, default=None, help="iteration cap (default 1000)")
    p.add_argument("--time-limit", type=float, default=None, help="wall-time limit in seconds")
    p.add_argument("--threads", type=int, default=None, help="threads (default: all cores)")
    p.add_argument("--toll-factor", type=float, default=None,
                   help="generalised cost per toll unit (default: network metadata, else 0)")
    p.add_argument("--distance-factor", type=float, default=None,
                   help="generalised cost per length unit (default: network metadata, else 0)")
    p.add_argument("--vdf", default="bpr", choices=sorted(VDFS), help="volume-delay function")
    p.add_argument("--out", default=None,
                   help="write link flows: *_flow.tntp / *.tntp (TNTP From To Volume Cost) or *.csv")
    p.add_argument("--quiet", action="store_true", help="no per-iteration progress on stderr")
    p.add_argument("--units", metavar="ATTR=UNIT", action="append", default=[],
                   help="state a link attribute's unit, e.g. --units free_flow_time=min")
    p.set_defaults(func=cmd_assign)
    return p


def _load_inputs(args: argparse.Namespace) -> tuple[Network, Demand]:
    from smartcore import datasets
    from smartcore.api import network_format, read_demand, read_network

    units = {}
    for pair in args.units:
        if "=" not in pair:
            raise InputError(f"--units expects ATTR=UNIT, got {pair!r}", field="units")
        k, v = pair.split("=", 1)
        units[k.strip()] = v.strip()
    if Path(args.network).exists():
        kwargs = {"units": units} if units and network_format(args.network) == "tntp" else {}
        net = read_network(args.network, **kwargs)
        if args.trips is None:
            raise InputError("give the trips file (TRIPS) for a network read from a path", field="trips")
        return net, read_demand(args.trips, net)
    net, trips = datasets.tntp(args.network)
    if args.trips is not None:
        trips = read_demand(args.trips, net)
    if trips is None:
        raise InputError(f"dataset {args.network} has no trips; give TRIPS", field="trips")
    return net, trips


def cmd_assign(args: argparse.Namespace) -> int:
    """Run ``smartcore assign``: print a summary, optionally write link flows."""
    net, trips = _load_inputs(args)

    def report(iteration: int, gap: float) -> bool:
        print(f"iteration {iteration:5d}  relative gap {gap:.3e}", file=sys.stderr)
        return True

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UnassignableDemandWarning)  # printed in the summary
        res = assign(net, trips, algorithm=args.algorithm, gap=args.gap,
                     max_iterations=args.max_iterations, time_limit=args.time_limit,
                     threads=args.threads, toll_factor=args.toll_factor,
                     distance_factor=args.distance_factor, vdf=args.vdf,
                     progress=None if args.quiet else report)
    print(res.summary())
    if args.out:
        out = str(args.out)
        if not out.lower().endswith((".tntp", ".csv")):
            raise SmartcoreError(f"--out {out}: expected a .tntp or .csv file name")
        res.write_flows(out)
        print(f"wrote link flows of {net.num_links:,} links to {out}")
    return 0
