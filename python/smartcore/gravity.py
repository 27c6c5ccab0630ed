"""Synthetic OD demand by a doubly constrained gravity model.

For zones ``i, j`` with productions ``O_i``, attractions ``D_j`` and travel cost ``c_ij``:

    T_ij = A_i O_i B_j D_j f(c_ij),   f(c) = exp(-beta * c)

with balancing factors ``A_i``, ``B_j`` found by the Furness (iterative proportional fitting)
method so that every row sums to ``O_i`` and every column to ``D_j`` (Ortúzar & Willumsen,
*Modelling Transport*, 4th ed., 2011, sec. 5.2-5.4; Furness 1965). The negative exponential
deterrence function is the classic choice for a single mode in a small area.

Intrazonal trips are excluded (``T_ii = 0``): they never load the network, and a zone-to-itself
cost of zero would otherwise attract a large share of the trips.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from smartcore.demand import Demand
from smartcore.errors import ConvergenceError, InputError

if TYPE_CHECKING:  # pragma: no cover
    from smartcore.network import Network

__all__ = ["furness", "gravity_demand", "free_flow_gravity_demand"]


def furness(seed: np.ndarray, productions: np.ndarray, attractions: np.ndarray, *,
            tolerance: float = 1e-10, max_iterations: int = 1000) -> np.ndarray:
    """Scale ``seed`` (Z x Z, >= 0) by row and column factors to the given margins.

    Alternately scales rows to ``productions`` and columns to ``attractions`` until the largest
    relative error of any margin is below ``tolerance``. Margins must be >= 0 and have equal
    totals; a zone with a positive margin needs a positive seed entry in its row/column.

    Raises
    ------
    InputError
        On inconsistent margins or a margin no seed entry can carry.
    ConvergenceError
        When ``max_iterations`` pass without reaching ``tolerance``.
    """
    t = np.array(seed, dtype=np.float64)
    o = np.asarray(productions, dtype=np.float64)
    d = np.asarray(attractions, dtype=np.float64)
    z = len(o)
    if t.shape != (z, z) or d.shape != (z,):
        raise InputError(f"seed must be ({z}, {z}) and attractions ({z},)", field="seed")
    if (t < 0).any() or not np.isfinite(t).all() or (o < 0).any() or (d < 0).any():
        raise InputError("seed and margins must be finite and >= 0", field="seed")
    if not np.isclose(o.sum(), d.sum(), rtol=1e-9):
        raise InputError(f"productions ({o.sum():g}) and attractions ({d.sum():g}) differ",
                         field="attractions")
    bad_row = np.flatnonzero((o > 0) & (t.sum(axis=1) == 0))
    bad_col = np.flatnonzero((d > 0) & (t.sum(axis=0) == 0))
    if len(bad_row) or len(bad_col):
        which = f"row {bad_row[0]}" if len(bad_row) else f"column {bad_col[0]}"
        raise InputError(f"{which} has a positive margin but no admissible cell", field="seed")
    for _ in range(max_iterations):
        rs = t.sum(axis=1)
        t *= np.divide(o, rs, out=np.zeros(z), where=rs > 0)[:, None]
        cs = t.sum(axis=0)
        t *= np.divide(d, cs, out=np.zeros(z), where=cs > 0)[None, :]
        row_err = np.abs(t.sum(axis=1) - o) / np.maximum(o, 1e-300)
        if row_err[o > 0].max(initial=0.0) < tolerance:
            return t
    raise ConvergenceError(f"Furness balancing did not reach {tolerance:g} in {max_iterations} "
                           "iterations (margins may be infeasible for the seed's zero pattern)")


def gravity_demand(
    cost: np.ndarray,
    zone_ids: np.ndarray,
    *,
    total: float,
    productions: np.ndarray | None = None,
    attractions: np.ndarray | None = None,
    beta: float = 0.1,
    unit: str = "veh/h",
    name: str = "car",
) -> Demand:
    """A gravity-model demand matrix.

    Parameters
    ----------
    cost : float64[Z, Z]
        Zone-to-zone travel cost (e.g. a free-flow time skim). ``inf`` marks pairs that cannot
        travel: they get no trips.
    zone_ids : int array
        External zone ids, in the order of ``cost``'s rows.
    total : float
        Total trips (in ``unit``).
    productions, attractions : float arrays, optional
        Relative zone weights (scaled to ``total``); default equal weights. Typically a zone's
        activity, e.g. :attr:`smartcore.zoning.Zoning.mass`.
    beta : float
        Deterrence parameter, per unit of ``cost`` (0.1 per minute is a common urban car value;
        pass costs in minutes).
    unit, name : str
        Recorded on the returned :class:`~smartcore.demand.Demand`.
    """
    c = np.asarray(cost, dtype=np.float64)
    z = len(zone_ids)
    if c.shape != (z, z):
        raise InputError(f"cost must be ({z}, {z}), got {c.shape}", field="cost")
    if np.isnan(c).any() or (c < 0).any():
        raise InputError("cost must be >= 0 (inf for impossible pairs), not NaN", field="cost")
    if not (np.isfinite(total) and total >= 0):
        raise InputError(f"total must be finite and >= 0, got {total}", field="total")
    if not (np.isfinite(beta) and beta >= 0):
        raise InputError(f"beta must be finite and >= 0, got {beta}", field="beta")
    o = np.ones(z) if productions is None else np.asarray(productions, dtype=np.float64)
    d = np.ones(z) if attractions is None else np.asarray(attractions, dtype=np.float64)
    if o.shape != (z,) or d.shape != (z,) or (o < 0).any() or (d < 0).any():
        raise InputError(f"productions and attractions need {z} values >= 0", field="productions")
    if o.sum() <= 0 or d.sum() <= 0:
        raise InputError("productions and attractions must not all be zero", field="productions")
    o = o * (total / o.sum())
    d = d * (total / d.sum())
    seed = np.where(np.isfinite(c), np.exp(-beta * np.where(np.isfinite(c), c, 0.0)), 0.0)
    np.fill_diagonal(seed, 0.0)
    matrix = furness(seed, o, d) if total > 0 else np.zeros((z, z))
    return Demand(zone_ids=zone_ids, matrix=matrix, unit=unit, name=name,
                  metadata={"model": "doubly constrained gravity, exp(-beta c)", "beta": beta})


def free_flow_gravity_demand(
    network: Network,
    *,
    total: float,
    beta: float = 0.1,
    productions: np.ndarray | None = None,
    attractions: np.ndarray | None = None,
    toll_factor: float | None = None,
    distance_factor: float | None = None,
    threads: int | None = None,
    unit: str = "veh/h",
    name: str = "car",
) -> Demand:
    """A gravity-model demand between the zones of ``network`` on its free-flow skims.

    The cost of a zone pair is its shortest-path generalised cost at free flow, in minutes:
    free-flow time plus ``toll_factor * toll + distance_factor * length`` (the same generalised
    cost :func:`smartcore.assign` uses; factors default to the network's metadata, e.g. 0.055
    min/cent for Philadelphia), with zones never passed through (TNTP ``<FIRST THRU NODE>``).
    Then :func:`gravity_demand` with these costs. Pairs without a path get no trips. The result
    is deterministic (shortest-path costs do not depend on ``threads``).

    Parameters
    ----------
    network : Network
        With zones, and the unit of ``free_flow_time`` stated in ``network.units``.
    total, beta, productions, attractions, unit, name
        As for :func:`gravity_demand` (``beta`` per minute).
    toll_factor, distance_factor : float, optional
        Generalised-cost factors in the network's time unit per toll unit / length unit.
    threads : int, optional
        Threads for the skim.

    Raises
    ------
    InputError
        A network without zones or without a stated time unit, or bad gravity inputs.
    """
    from smartcore import routing
    from smartcore.assignment import generalised_cost_terms
    from smartcore.network import convert_units

    if network.num_zones == 0:
        raise InputError(f"network {network.name or '<unnamed>'} has no zones", field="network")
    have = network.units.get("free_flow_time")
    if not have:
        label = network.name or "<unnamed>"
        raise InputError(f"the unit of 'free_flow_time' is not stated for network {label}; "
                         "pass units= when reading it", field="free_flow_time")
    to_min = float(convert_units(np.array([1.0]), have, "min")[0])
    cost = (network.free_flow_time + generalised_cost_terms(network, toll_factor, distance_factor)) * to_min
    skim = routing.skim(network, weight=cost, threads=threads)
    demand = gravity_demand(skim, network.zone_ids, total=total, productions=productions,
                            attractions=attractions, beta=beta, unit=unit, name=name)
    meta = dict(demand.metadata)
    meta["cost"] = "free-flow generalised cost (min), zones not passed through"
    return Demand(zone_ids=demand.zone_ids, matrix=demand.matrix, unit=unit, name=name, metadata=meta)
