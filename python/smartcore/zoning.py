"""Zones for networks that have none (OpenStreetMap): clusters of nodes with centroid connectors.

A traffic assignment needs zones: origins and destinations of demand, attached to the road network
by *centroid connectors*. OpenStreetMap has no zones, so :func:`cluster_zones` derives them:

1. keep the nodes of the largest strongly connected component (every zone can then reach every
   other one: no demand is unassignable because of a clipped extract or a one-way dead end);
2. group them into ``num_zones`` compact clusters by k-means on planar coordinates (Lloyd's
   algorithm with k-means++ seeding, Arthur & Vassilvitskii 2007; seeded, so deterministic);
3. add one centroid node per cluster at the mean position of its nodes, joined in both directions
   to the ``connectors`` cluster nodes nearest to it. Connectors are straight lines with a constant
   travel time (``length / connector_speed``; BPR alpha = 0, so congestion never changes them) and
   an unconstrained capacity, as is common practice (Ortúzar & Willumsen, *Modelling Transport*,
   4th ed., 2011, sec. 5.1).

Centroids are zones that paths never pass through (TNTP's ``<FIRST THRU NODE>`` rule), so
connectors cannot be used as shortcuts. Each zone's *mass* is the lane-kilometres of the road
links leaving its cluster's nodes, a simple proxy for activity used by :mod:`smartcore.gravity`.
"""

from __future__ import annotations

import dataclasses
from typing import Any

import numpy as np

from smartcore.errors import InputError
from smartcore.network import LINK_ATTRIBUTES, Network

__all__ = ["Zoning", "cluster_zones", "planar_coordinates", "kmeans"]

#: Capacity given to centroid connectors (veh/h): large enough never to bind.
CONNECTOR_CAPACITY_VPH = 100_000.0
EARTH_RADIUS_M = 6_371_008.8  # mean Earth radius (IUGG)


@dataclasses.dataclass(frozen=True)
class Zoning:
    """A network with zones added, and how its zones were made.

    Attributes
    ----------
    network : Network
        The input network plus one centroid node per zone (dense nodes ``0..Z-1``, external ids
        ``-1 .. -Z``) and the connectors (appended after the original links, whose indices are
        unchanged).
    members : list of int64 arrays
        External ids of the original nodes grouped into each zone.
    mass : float64[Z]
        Lane-km of road links leaving each zone's nodes (length unit converted to km).
    connector_links : int32 array
        Dense indices of the connector links in ``network``.
    """

    network: Network
    members: list[np.ndarray]
    mass: np.ndarray
    connector_links: np.ndarray

    @property
    def num_zones(self) -> int:
        return self.network.num_zones


def planar_coordinates(network: Network) -> tuple[np.ndarray, np.ndarray]:
    """Node coordinates in metres on a plane.

    Longitude/latitude (``crs`` EPSG:4326) are projected with an equirectangular projection about
    the mean latitude (error well under 0.1 % across a city); other CRSs are taken as planar
    metres. Raises InputError when the network has no coordinates.
    """
    if network.node_x is None or network.node_y is None:
        raise InputError(f"network {network.name or '<unnamed>'} has no node coordinates",
                         field="node_x")
    x, y = network.node_x, network.node_y
    if network.crs and network.crs.upper() in ("EPSG:4326", "WGS84", "OGC:CRS84"):
        lat0 = np.deg2rad(np.mean(y))
        return (np.deg2rad(x - np.mean(x)) * np.cos(lat0) * EARTH_RADIUS_M,
                np.deg2rad(y - np.mean(y)) * EARTH_RADIUS_M)
    return np.asarray(x, dtype=np.float64), np.asarray(y, dtype=np.float64)


def kmeans(points: np.ndarray, k: int, *, seed: int = 0, max_iterations: int = 100
           ) -> tuple[np.ndarray, np.ndarray]:
    """Lloyd's k-means with k-means++ seeding: (centres[k, d], label[n]).

    Deterministic for a given ``seed``. An empty cluster is re-seeded with the point farthest
    from its centre. Stops when labels no longer change.
    """
    pts = np.asarray(points, dtype=np.float64)
    n = len(pts)
    if not 1 <= k <= n:
        raise InputError(f"cannot make {k} clusters from {n} points", field="num_zones")
    rng = np.random.default_rng(seed)
    centres = np.empty((k, pts.shape[1]))
    centres[0] = pts[rng.integers(n)]
    d2 = ((pts - centres[0]) ** 2).sum(axis=1)
    for c in range(1, k):
        total = d2.sum()
        idx = int(rng.choice(n, p=d2 / total)) if total > 0 else int(rng.integers(n))
        centres[c] = pts[idx]
        d2 = np.minimum(d2, ((pts - centres[c]) ** 2).sum(axis=1))
    label = np.full(n, -1)
    for _ in range(max_iterations):
        dist = ((pts[:, None, :] - centres[None, :, :]) ** 2).sum(axis=2)
        new = dist.argmin(axis=1)
        if np.array_equal(new, label):
            break
        label = new
        for c in range(k):
            sel = label == c
            if sel.any():
                centres[c] = pts[sel].mean(axis=0)
            else:
                far = int(dist[np.arange(n), label].argmax())
                centres[c] = pts[far]
                label[far] = c
    return centres, label


def _fill_like(values: np.ndarray, count: int) -> np.ndarray:
    """``count`` neutral entries for an extra attribute: False, 0 or an empty string."""
    if values.dtype == bool:
        return np.zeros(count, dtype=bool)
    if values.dtype.kind in "iuf":
        return np.zeros(count, dtype=values.dtype)
    return np.full(count, "", dtype=object)


def _append(values: np.ndarray, count: int, *, front: bool = False) -> np.ndarray:
    fill = _fill_like(values, count)
    base = values.astype(object) if fill.dtype == object else values
    return np.concatenate([fill, base] if front else [base, fill])


def cluster_zones(
    network: Network,
    num_zones: int,
    *,
    connectors: int = 3,
    connector_speed_kph: float = 30.0,
    seed: int = 0,
) -> Zoning:
    """Add ``num_zones`` zones to a network without zones (see the module docs for the method).

    Parameters
    ----------
    network : Network
        A network with node coordinates, no zones, and ``length`` in a stated unit (m for OSM).
    num_zones : int
        Number of zones (clusters).
    connectors : int
        Connector pairs (in + out) per zone, to the cluster nodes nearest the centroid.
    connector_speed_kph : float
        Speed on connectors, km/h (default 30: a typical urban access speed).
    seed : int
        Seed of the k-means++ initialisation (results are deterministic for a seed).

    Returns
    -------
    Zoning
    """
    if network.num_zones:
        raise InputError(f"network {network.name} already has {network.num_zones} zones",
                         field="num_zones")
    if connectors < 1:
        raise InputError("connectors must be >= 1", field="connectors")
    if not connector_speed_kph > 0:
        raise InputError("connector_speed_kph must be > 0", field="connector_speed_kph")
    length_unit = network.units.get("length")
    if not length_unit:
        raise InputError("the network's length unit is not stated", field="length")
    x, y = planar_coordinates(network)
    core = np.flatnonzero(network.largest_strong_component())
    if len(core) < num_zones:
        raise InputError(f"the largest strongly connected part has {len(core)} nodes, fewer than "
                         f"{num_zones} zones", field="num_zones")
    pts = np.column_stack([x[core], y[core]])
    centres, label = kmeans(pts, num_zones, seed=seed)

    lane_km = network.attribute("length", "km") * network.lanes
    mass_per_node = np.bincount(network.link_tail, weights=lane_km, minlength=network.num_nodes)

    tails, heads, lengths, members, mass = [], [], [], [], []
    for z in range(num_zones):
        nodes = core[label == z]
        members.append(network.node_ids[nodes].copy())
        mass.append(float(mass_per_node[nodes].sum()))
        d = np.hypot(x[nodes] - centres[z, 0], y[nodes] - centres[z, 1])
        nearest = nodes[np.argsort(d, kind="stable")[:connectors]]
        for v, dist in zip(nearest, np.sort(d, kind="stable")[:connectors]):
            tails += [-(z + 1), int(network.node_ids[v])]
            heads += [int(network.node_ids[v]), -(z + 1)]
            lengths += [float(dist), float(dist)]
    c = len(tails)
    conn_len_m = np.asarray(lengths)
    from smartcore.network import convert_units

    conn_len = convert_units(conn_len_m, "m", length_unit)
    fft_unit = network.units.get("free_flow_time", "s")
    conn_time = convert_units(conn_len_m / (connector_speed_kph / 3.6), "s", fft_unit)
    speed_unit = network.units.get("speed")
    conn_speed = (convert_units(np.full(c, connector_speed_kph), "km/h", speed_unit)
                  if speed_unit else np.full(c, connector_speed_kph))
    new_attr = {
        "length": conn_len, "free_flow_time": conn_time,
        "capacity": np.full(c, CONNECTOR_CAPACITY_VPH), "bpr_alpha": np.zeros(c),
        "bpr_beta": np.full(c, 4.0), "speed": conn_speed, "lanes": np.ones(c), "toll": np.zeros(c),
    }
    type_names = dict(network.link_type_names)
    connector_code = max(list(type_names) + [int(network.link_type.max(initial=-1))]) + 1
    type_names[connector_code] = "connector"
    zone_ids = -np.arange(1, num_zones + 1, dtype=np.int64)
    # Both are set (planar_coordinates() checked); the tests below narrow their Optional type.
    node_x, node_y = network.node_x, network.node_y
    cx, cy = centres[:, 0], centres[:, 1]
    if (node_x is not None and node_y is not None and network.crs
            and network.crs.upper() in ("EPSG:4326", "WGS84", "OGC:CRS84")):
        lat0 = np.deg2rad(np.mean(node_y))
        cx = np.mean(node_x) + np.rad2deg(cx / (EARTH_RADIUS_M * np.cos(lat0)))
        cy = np.mean(node_y) + np.rad2deg(cy / EARTH_RADIUS_M)
    all_node_ids = np.concatenate([zone_ids, network.node_ids])
    sig = np.concatenate([np.zeros(num_zones, bool), network.signalized])
    node_extra = {k: _append(v, num_zones, front=True) for k, v in network.node_extra.items()}
    link_extra = {k: _append(v, c) for k, v in network.link_extra.items()}
    geometry = None
    if network.link_geometry is not None:
        geometry = np.concatenate([network.link_geometry, np.full(c, None, dtype=object)])
    keys = None if network.link_keys is None else _append(network.link_keys, c)
    attrs: dict[str, Any] = {a: np.concatenate([getattr(network, a), new_attr[a]])
                             for a in LINK_ATTRIBUTES}
    zoned = Network.from_links(
        np.concatenate([network.link_ids[:, 0], tails]),
        np.concatenate([network.link_ids[:, 1], heads]),
        node_ids=all_node_ids,
        zones=zone_ids,
        zones_passable=False,
        **attrs,
        link_type=np.concatenate([network.link_type, np.full(c, connector_code, np.int32)]),
        units=dict(network.units),
        duplicates="keep",
        name=network.name,
        source=network.source,
        link_type_names=type_names,
        node_x=None if node_x is None else np.concatenate([cx, node_x]),
        node_y=None if node_y is None else np.concatenate([cy, node_y]),
        crs=network.crs,
        signalized=sig,
        link_keys=keys,
        link_geometry=geometry,
        link_extra=link_extra,
        node_extra=node_extra,
        metadata={**network.metadata, "zoning": {"method": "k-means clusters", "zones": num_zones,
                                                  "connectors": connectors, "seed": seed,
                                                  "connector_speed_kph": connector_speed_kph}},
    )
    conn = np.arange(network.num_links, network.num_links + c, dtype=np.int32)
    return Zoning(zoned, members, np.asarray(mass), conn)
