"""Conversions of a :class:`~smartcore.network.Network` to pandas, networkx, osmnx and GeoPandas.

The :class:`Network` methods ``link_table``, ``node_table``, ``to_networkx``, ``to_osmnx`` and
``to_geodataframes`` delegate here. pandas, networkx and geopandas are imported inside the functions
so that ``import smartcore`` stays light.

Values keep the network's own units (see :attr:`Network.units`) except in :func:`to_osmnx`, which
converts to osmnx's: ``length`` in metres, ``speed_kph`` in km/h, ``travel_time`` in seconds.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np

from smartcore.errors import InputError
from smartcore.network import LINK_ATTRIBUTES, Network

if TYPE_CHECKING:  # pragma: no cover
    import geopandas as gpd
    import networkx as nx
    import pandas as pd

__all__ = ["link_table", "node_table", "to_networkx", "to_osmnx", "to_geodataframes",
           "parallel_keys"]


def _column(values: np.ndarray) -> Any:
    """An array as a DataFrame column (rows of a 2-D array become one object each)."""
    return values if values.ndim == 1 else list(values)


def _type_names(net: Network) -> np.ndarray:
    names = net.link_type_names
    out = np.empty(net.num_links, dtype=object)
    if net.num_links:
        codes, inv = np.unique(net.link_type, return_inverse=True)
        lookup = np.array([names.get(int(c), "") for c in codes.tolist()], dtype=object)
        out[:] = lookup[inv.ravel()]
    return out


def link_table(net: Network) -> pd.DataFrame:
    """Links as a DataFrame, one row per link in link order (index ``link`` = dense index).

    Columns: ``from_id``, ``to_id`` (external node ids), the attributes of
    :data:`~smartcore.network.LINK_ATTRIBUTES` in the network's units, ``link_type``,
    ``link_type_name`` (``""`` when the network names no types), every ``link_extra`` entry, and
    ``key`` (``link_keys``) when the network has keys.
    """
    import pandas as pd

    data: dict[str, Any] = {
        "from_id": net.node_ids[net.link_tail],
        "to_id": net.node_ids[net.link_head],
    }
    for name in LINK_ATTRIBUTES:
        data[name] = np.asarray(getattr(net, name))
    data["link_type"] = np.asarray(net.link_type)
    data["link_type_name"] = _type_names(net)
    for key, values in net.link_extra.items():
        if key in data:
            key = f"extra_{key}"
        data[key] = _column(np.asarray(values))
    if net.link_keys is not None:
        data["key"] = np.asarray(net.link_keys)
    df = pd.DataFrame(data)
    df.index.name = "link"
    return df


def node_table(net: Network) -> pd.DataFrame:
    """Nodes as a DataFrame in dense order (index ``node`` = dense index).

    Columns: ``node_id``, ``x`` and ``y`` (when the network has coordinates, in ``net.crs``),
    ``zone`` (the node is a zone), ``signalized``, and every ``node_extra`` entry.
    """
    import pandas as pd

    data: dict[str, Any] = {"node_id": np.asarray(net.node_ids)}
    if net.node_x is not None and net.node_y is not None:
        data["x"] = np.asarray(net.node_x)
        data["y"] = np.asarray(net.node_y)
    zone = np.zeros(net.num_nodes, dtype=bool)
    zone[: net.num_zones] = True
    data["zone"] = zone
    data["signalized"] = np.asarray(net.signalized)
    for key, values in net.node_extra.items():
        if key in data:
            key = f"extra_{key}"
        data[key] = _column(np.asarray(values))
    df = pd.DataFrame(data)
    df.index.name = "node"
    return df


def _edge_keys(net: Network) -> list[int] | None:
    """``link_keys`` when they tell apart every pair of parallel links, else None."""
    if net.link_keys is None or net.num_links == 0:
        return None
    rows = np.column_stack([net.link_tail, net.link_head, net.link_keys])
    if len(np.unique(rows, axis=0)) != net.num_links:
        return None
    return net.link_keys.tolist()


def parallel_keys(tail: np.ndarray, head: np.ndarray) -> np.ndarray:
    """osmnx-style edge keys: 0 for the first link between two nodes, 1 for the next, ...

    Parameters
    ----------
    tail, head : array of int
        End nodes of each link (dense or external ids).

    Returns
    -------
    numpy.ndarray
        int64 key of each link, counting links with the same ``(tail, head)`` in link order.
    """
    m = len(tail)
    if m == 0:
        return np.zeros(0, dtype=np.int64)
    _, inv = np.unique(np.column_stack([tail, head]), axis=0, return_inverse=True)
    inv = inv.ravel()
    o = np.argsort(inv, kind="stable")
    starts = np.concatenate([[0], np.cumsum(np.bincount(inv))[:-1]])
    keys = np.empty(m, dtype=np.int64)
    keys[o] = np.arange(m) - starts[inv[o]]
    return keys


def _auto_keys(net: Network) -> list[int]:
    """0, 1, ... for successive links between the same two nodes (networkx's own numbering)."""
    return parallel_keys(net.link_tail, net.link_head).tolist()


def _pylist(values: Any) -> list[Any]:
    """An array as a list of Python objects (numpy scalars become int/float/bool/str)."""
    return np.asarray(values).tolist()


def to_networkx(net: Network) -> nx.MultiDiGraph:
    """A networkx ``MultiDiGraph`` keyed by external node ids.

    Edges follow link order; the edge key is ``link_keys`` when those distinguish parallel links,
    else 0, 1, ... per node pair. Edge attributes: ``link`` (dense link index), every attribute of
    :data:`~smartcore.network.LINK_ATTRIBUTES` (network units, see ``G.graph["units"]``),
    ``link_type``, ``link_type_name`` when named, the ``link_extra`` entries and ``geometry`` when
    stored. Node attributes: ``index`` (dense), ``x``/``y`` when known, ``zone``, ``signalized``
    and the ``node_extra`` entries. Graph attributes: ``name``, ``crs``, ``units``, ``source``.
    """
    import networkx as nx

    G = nx.MultiDiGraph(name=net.name, crs=net.crs, units=dict(net.units), source=net.source)
    node_cols: dict[str, list[Any]] = {"index": list(range(net.num_nodes))}
    if net.node_x is not None and net.node_y is not None:
        node_cols["x"] = net.node_x.tolist()
        node_cols["y"] = net.node_y.tolist()
    zone = np.zeros(net.num_nodes, dtype=bool)
    zone[: net.num_zones] = True
    node_cols["zone"] = zone.tolist()
    node_cols["signalized"] = net.signalized.tolist()
    for key, values in net.node_extra.items():
        node_cols.setdefault(key, _pylist(values))
    names = list(node_cols)
    G.add_nodes_from(
        (nid, dict(zip(names, row)))
        for nid, row in zip(net.node_ids.tolist(), zip(*node_cols.values()))
    )
    G.add_edges_from(_edge_rows(net, _edge_columns(net), _edge_keys(net) or _auto_keys(net)))
    return G


def _edge_columns(net: Network) -> dict[str, list[Any]]:
    cols: dict[str, list[Any]] = {"link": list(range(net.num_links))}
    for name in LINK_ATTRIBUTES:
        cols[name] = getattr(net, name).tolist()
    cols["link_type"] = net.link_type.tolist()
    if net.link_type_names:
        cols["link_type_name"] = _type_names(net).tolist()
    for key, values in net.link_extra.items():
        cols.setdefault(key, _pylist(values))
    if net.link_geometry is not None:
        cols["geometry"] = list(net.link_geometry)
    return cols


def _edge_rows(net: Network, cols: dict[str, list[Any]], keys: list[int],
               drop_none: tuple[str, ...] = ("geometry",)) -> list[tuple[int, int, int, dict]]:
    """(u, v, key, attrs) per link; attributes in ``drop_none`` are left out where None."""
    names = list(cols)
    ids = net.node_ids
    tails = ids[net.link_tail].tolist()
    heads = ids[net.link_head].tolist()
    attrs = [dict(zip(names, row)) for row in zip(*cols.values())]
    for name in drop_none:
        if name in cols:
            for i, val in enumerate(cols[name]):
                if val is None:
                    del attrs[i][name]
    return list(zip(tails, heads, keys, attrs))


def to_osmnx(net: Network) -> nx.MultiDiGraph:
    """An osmnx-compatible ``MultiDiGraph`` (osmnx 2.x conventions).

    Graph attributes: ``crs`` (the network's), ``name``, ``simplified=True`` (osmnx will not try to
    simplify it again), ``created_with``. Nodes: keyed by external id, with ``x``/``y`` and, for
    signals, ``highway="traffic_signals"`` (or the node's own ``highway`` tag). Edges: ``length``
    (m), ``speed_kph`` (km/h), ``travel_time`` (s), ``lanes`` (lanes of the edge's direction, a
    number), ``capacity`` (veh/h when the network states its unit), ``bpr_alpha``, ``bpr_beta``,
    ``toll``, ``link_type``, ``highway`` (the link type name), ``maxspeed`` (the raw tag, when
    known), ``link`` (dense index), ``geometry`` (when stored) and the ``link_extra`` entries.

    Units are converted with :meth:`Network.attribute`. A link whose speed is 0 (unknown) gets
    ``speed_kph = 3.6 x length / travel_time``. :func:`smartcore.io.osm.from_osmnx` reads the graph
    back into an equal network.

    Raises
    ------
    InputError
        When the network has no node coordinates (e.g. TNTP without a node file), states no crs
        while its coordinates are not degrees, or does not state the unit of ``length``,
        ``free_flow_time`` or ``speed``.
    """
    import networkx as nx

    if net.node_x is None or net.node_y is None:
        raise InputError(
            f"network {net.name or '<unnamed>'} has no node coordinates; osmnx graphs need x/y "
            "(read a TNTP network with its _node.tntp file, or use to_networkx())",
            field="node_x")
    length_m = net.attribute("length", "m")
    time_s = net.attribute("free_flow_time", "s")
    speed_kph = net.attribute("speed", "km/h").copy()
    unknown = speed_kph <= 0
    if unknown.any():
        with np.errstate(divide="ignore", invalid="ignore"):
            derived = np.where(time_s > 0, 3.6 * length_m / time_s, 0.0)
        speed_kph[unknown] = derived[unknown]
    capacity = net.attribute("capacity", "veh/h") if net.units.get("capacity") else net.capacity

    crs = net.crs
    if crs is None:
        if not (np.abs(net.node_x) <= 180).all() or not (np.abs(net.node_y) <= 90).all():
            raise InputError(f"network {net.name or '<unnamed>'} states no crs and its coordinates "
                             "are not longitude/latitude degrees; set one with "
                             "net.replace(crs=...)", field="crs")
        crs = "EPSG:4326"  # osmnx's default; the coordinates fit degrees
    G = nx.MultiDiGraph(crs=crs, name=net.name, simplified=True, created_with="smartcore")
    if net.link_type_names:
        G.graph["smartcore_link_type_names"] = dict(net.link_type_names)
    node_hw = net.node_extra.get("highway")
    hw = [str(h) if h else "" for h in _pylist(node_hw)] if node_hw is not None else [
        ""] * net.num_nodes
    others = {k: _pylist(v) for k, v in net.node_extra.items() if k != "highway"}
    node_attrs = []
    for i, (x, y, sig) in enumerate(zip(net.node_x.tolist(), net.node_y.tolist(),
                                        net.signalized.tolist())):
        attrs: dict[str, Any] = {"x": x, "y": y}
        if hw[i] or sig:
            attrs["highway"] = hw[i] or "traffic_signals"
        for key, column in others.items():
            attrs[key] = column[i]
        node_attrs.append(attrs)
    G.add_nodes_from(zip(net.node_ids.tolist(), node_attrs))

    names = _type_names(net).tolist() if net.link_type_names else [
        str(c) for c in net.link_type.tolist()]
    cols: dict[str, list[Any]] = {
        "link": list(range(net.num_links)),
        "length": length_m.tolist(),
        "speed_kph": speed_kph.tolist(),
        "travel_time": time_s.tolist(),
        "lanes": net.lanes.tolist(),
        "capacity": np.asarray(capacity).tolist(),
        "bpr_alpha": net.bpr_alpha.tolist(),
        "bpr_beta": net.bpr_beta.tolist(),
        "toll": net.toll.tolist(),
        "link_type": net.link_type.tolist(),
        "highway": names,
    }
    written = []
    for key, values in net.link_extra.items():
        if key in cols or key in ("geometry", "maxspeed"):
            continue  # a standard attribute (for OSM networks "highway" equals the type name)
        cols[key] = _pylist(values)
        written.append(key)
    G.graph["smartcore_link_extra"] = [k for k in written if k not in _OSMNX_STANDARD]
    if "maxspeed_tag" in net.link_extra:
        cols["maxspeed"] = [v if v else None for v in cols["maxspeed_tag"]]
    if net.link_geometry is not None:
        cols["geometry"] = list(net.link_geometry)
    keys = _edge_keys(net) or _auto_keys(net)
    G.add_edges_from(_edge_rows(net, cols, keys, drop_none=("geometry", "maxspeed")))
    return G


# Edge attributes that from_osmnx reads by their osmnx meaning (not listed as extras).
_OSMNX_STANDARD = ("name", "highway", "osmid", "oneway", "reversed", "maxspeed_tag", "lanes_tag",
                   "speed_imputed", "lanes_imputed")


def to_geodataframes(net: Network) -> tuple[gpd.GeoDataFrame, gpd.GeoDataFrame]:
    """(nodes, links) GeoDataFrames in the network's CRS.

    ``nodes`` is :func:`node_table` with Point geometries; ``links`` is :func:`link_table` with the
    stored link geometry, or a straight line between the end nodes where none is stored.

    Raises
    ------
    InputError
        When the network has no node coordinates.
    """
    import geopandas as gpd
    import shapely

    if net.node_x is None or net.node_y is None:
        raise InputError(f"network {net.name or '<unnamed>'} has no node coordinates",
                         field="node_x")
    points = shapely.points(net.node_x, net.node_y)
    nodes = gpd.GeoDataFrame(node_table(net), geometry=points, crs=net.crs)
    tail, head = net.link_tail, net.link_head
    straight = shapely.linestrings(
        np.stack([np.column_stack([net.node_x[tail], net.node_y[tail]]),
                  np.column_stack([net.node_x[head], net.node_y[head]])], axis=1))
    if net.link_geometry is not None:
        stored = np.asarray(net.link_geometry, dtype=object)
        geom = np.where(np.array([g is not None for g in stored], dtype=bool), stored, straight)
    else:
        geom = straight
    links = gpd.GeoDataFrame(link_table(net), geometry=np.asarray(geom, dtype=object), crs=net.crs)
    return nodes, links
