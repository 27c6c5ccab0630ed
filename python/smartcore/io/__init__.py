"""Readers and writers for the formats smartcore speaks.

* :mod:`smartcore.io.tntp`  -- TNTP research benchmark files (``_net``, ``_trips``, ``_flow``, ``_node``)
* :mod:`smartcore.io.gmns`  -- GMNS ``node.csv`` / ``link.csv`` (+ ``config.csv`` units)
* :mod:`smartcore.io.osm`   -- OpenStreetMap: osmnx graphs, ``.osm`` XML, ``.pbf``, download
* :mod:`smartcore.io.osm_restrictions` -- OSM turn restriction relations -> routing turn tables
* :mod:`smartcore.io.omx`   -- OMX matrices (HDF5)

Every reader validates as it reads and raises :class:`smartcore.errors.FormatError` naming the file,
line and field at fault; every writer writes to a temporary file and renames it into place, so a
failed write never leaves a partial output.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import TYPE_CHECKING

from smartcore.errors import InputError

if TYPE_CHECKING:  # pragma: no cover
    from smartcore.network import Network

__all__ = ["write_network"]


def write_network(network: Network, path: str | os.PathLike[str], *, format: str | None = None) -> None:
    """Write ``network`` as TNTP (``*_net.tntp``) or GMNS (a folder), chosen by ``format`` or name."""
    p = Path(path)
    fmt = format or ("tntp" if p.name.lower().endswith(".tntp") else "gmns" if not p.suffix else None)
    if fmt == "tntp":
        from smartcore.io import tntp

        tntp.write_net(network, p)
    elif fmt == "gmns":
        from smartcore.io import gmns

        gmns.write_gmns(network, p)
    else:
        raise InputError(f"{p}: cannot tell the output format; use a *_net.tntp name, a folder "
                         "name without extension (GMNS), or --to", field="output")
