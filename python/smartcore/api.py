"""Format-dispatching entry points: :func:`read_network` and :func:`read_demand`."""

from __future__ import annotations

import os
from pathlib import Path
from typing import TYPE_CHECKING, Any

from smartcore.errors import InputError

if TYPE_CHECKING:  # pragma: no cover
    from smartcore.demand import Demand
    from smartcore.network import Network

__all__ = ["read_network", "read_demand", "network_format"]


def network_format(source: Any) -> str:
    """Name the format of a network source: ``tntp``, ``gmns``, ``osm``, ``pbf`` or ``osmnx``."""
    if hasattr(source, "graph") and hasattr(source, "edges") and hasattr(source, "nodes"):
        return "osmnx"
    if not isinstance(source, (str, os.PathLike)):
        raise InputError(
            f"cannot read a network from a {type(source).__name__}; pass a file path, a GMNS "
            "folder or an osmnx MultiDiGraph", field="source")
    p = Path(source)
    name = p.name.lower()
    if p.is_dir():
        if (p / "link.csv").exists() and (p / "node.csv").exists():
            return "gmns"
        nets = list(p.glob("*_net.tntp"))
        if len(nets) == 1:
            return "tntp"
        raise InputError(f"{p}: folder holds neither GMNS node.csv + link.csv nor one *_net.tntp",
                         field="source")
    if name.endswith(".tntp"):
        return "tntp"
    if name.endswith(".osm.pbf") or name.endswith(".pbf"):
        return "pbf"
    if name.endswith((".osm", ".osm.xml", ".osm.bz2", ".osm.gz")):
        return "osm"
    if name == "link.csv" or name == "node.csv":
        return "gmns"
    raise InputError(
        f"{p}: unknown network format (expected *_net.tntp, a GMNS folder, .osm, .osm.pbf)",
        field="source")


def read_network(source: Any, **kwargs: Any) -> Network:
    """Read a network from any supported source.

    Parameters
    ----------
    source : path or networkx.MultiDiGraph
        ``*_net.tntp`` (or a folder holding exactly one), a GMNS folder (``node.csv`` +
        ``link.csv``), an OpenStreetMap ``.osm`` XML or ``.osm.pbf`` file, or an osmnx graph.
    **kwargs
        Passed to the format's reader (:func:`smartcore.io.tntp.read_net`,
        :func:`smartcore.io.gmns.read_gmns`, :func:`smartcore.io.osm.read_osm`,
        :func:`smartcore.io.osm.from_osmnx`).
    """
    fmt = network_format(source)
    if fmt == "tntp":
        from smartcore.io import tntp

        p = Path(source)
        if p.is_dir():
            p = next(iter(p.glob("*_net.tntp")))
        return tntp.read_net(p, **kwargs)
    if fmt == "gmns":
        from smartcore.io import gmns

        p = Path(source)
        return gmns.read_gmns(p if p.is_dir() else p.parent, **kwargs)
    if fmt in ("osm", "pbf"):
        from smartcore.io import osm

        return osm.read_osm(source, **kwargs)
    from smartcore.io import osm

    return osm.from_osmnx(source, **kwargs)


def read_demand(source: Any, network: Network | None = None, **kwargs: Any) -> Demand:
    """Read OD demand: a TNTP ``_trips.tntp`` file, an ``.omx`` file, or a square numpy array.

    With a ``network``, every zone of the demand must be a zone (or, for networks without zones, a
    node) of that network. For OMX files, ``matrix=`` names the matrix to read (default: the only
    one, or an error listing them).
    """
    import numpy as np

    from smartcore.demand import Demand

    if isinstance(source, np.ndarray):
        return Demand.from_array(source, network=network, **kwargs)
    if not isinstance(source, (str, os.PathLike)):
        raise InputError(f"cannot read demand from a {type(source).__name__}", field="source")
    name = Path(source).name.lower()
    if name.endswith(".tntp"):
        from smartcore.io import tntp

        return tntp.read_trips(source, network, **kwargs)
    if name.endswith(".omx"):
        from smartcore.io import omx

        return omx.read_omx(source, network, **kwargs)
    raise InputError(f"{source}: unknown demand format (expected *_trips.tntp or .omx)",
                     field="source")
