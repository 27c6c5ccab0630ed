"""Origin-destination demand.

A :class:`Demand` is a dense zones x zones matrix of trips for one user class and one period,
with the external ids of its zones. Dense storage is deliberate: the largest benchmark networks
have a few thousand zones (Philadelphia 1,525: 18 MB), and every kernel walks the matrix by origin.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping, Sequence
from types import MappingProxyType
from typing import TYPE_CHECKING, Any

import numpy as np

from smartcore.errors import InputError

if TYPE_CHECKING:  # pragma: no cover
    import pandas as pd

    from smartcore.network import Network

__all__ = ["Demand"]


@dataclasses.dataclass(frozen=True, eq=False, repr=False)
class Demand:
    """Trips between zones: ``matrix[i, j]`` trips from zone ``zone_ids[i]`` to ``zone_ids[j]``.

    Attributes
    ----------
    zone_ids : int64[Z]
        External zone ids (for TNTP, the zone node numbers 1..Z).
    matrix : float64[Z, Z]
        Trips per period; finite and non-negative. The diagonal (intrazonal trips) is kept but is
        never assigned to the network.
    unit : str
        What one unit of ``matrix`` counts, e.g. ``"veh/h"`` (TNTP files rarely state it:
        default ``"trips"``).
    name : str
        User class / matrix name (e.g. ``"car"``).
    """

    zone_ids: np.ndarray
    matrix: np.ndarray
    unit: str = "trips"
    name: str = ""
    source: str = ""
    metadata: Mapping[str, Any] = dataclasses.field(default_factory=dict)

    def __post_init__(self) -> None:
        put = object.__setattr__
        ids = np.asarray(self.zone_ids, dtype=np.int64).ravel().copy()
        mat = np.array(self.matrix, dtype=np.float64, copy=True, order="C")
        z = len(ids)
        if mat.shape != (z, z):
            raise InputError(f"matrix must have shape ({z}, {z}) to match zone_ids, got {mat.shape}",
                             field="matrix")
        if len(np.unique(ids)) != z:
            uniq, counts = np.unique(ids, return_counts=True)
            raise InputError(f"duplicate zone id {int(uniq[counts > 1][0])}", field="zone_ids")
        bad = np.argwhere(~np.isfinite(mat))
        if len(bad):
            i, j = bad[0]
            raise InputError(f"demand {ids[i]}->{ids[j]} is {mat[i, j]} (not a finite number)",
                             field="matrix")
        bad = np.argwhere(mat < 0)
        if len(bad):
            i, j = bad[0]
            raise InputError(f"demand {ids[i]}->{ids[j]} is negative ({mat[i, j]:g})", field="matrix")
        ids.flags.writeable = False
        mat.flags.writeable = False
        put(self, "zone_ids", ids)
        put(self, "matrix", mat)
        put(self, "metadata", MappingProxyType(dict(self.metadata)))

    @classmethod
    def from_array(
        cls,
        matrix: Any,
        zone_ids: Sequence[int] | np.ndarray | None = None,
        *,
        network: Network | None = None,
        **kwargs: Any,
    ) -> Demand:
        """Demand from a dense array. ``zone_ids`` default to the network's zones, else 1..Z."""
        mat = np.asarray(matrix, dtype=np.float64)
        if mat.ndim != 2 or mat.shape[0] != mat.shape[1]:
            raise InputError(f"matrix must be square, got shape {mat.shape}", field="matrix")
        if zone_ids is None:
            if network is not None and network.num_zones:
                zone_ids = network.zone_ids
            else:
                zone_ids = np.arange(1, mat.shape[0] + 1)
        demand = cls(zone_ids=np.asarray(zone_ids), matrix=mat, **kwargs)
        if network is not None:
            demand.zone_nodes(network)  # validates
        return demand

    @property
    def num_zones(self) -> int:
        return int(len(self.zone_ids))

    @property
    def total(self) -> float:
        """Sum of all trips, intrazonal included."""
        return float(self.matrix.sum())

    @property
    def intrazonal(self) -> float:
        """Sum of the diagonal (trips that never enter the network)."""
        return float(np.trace(self.matrix))

    def zone_nodes(self, network: Network) -> np.ndarray:
        """Dense network node index of every zone; InputError naming the first unknown zone."""
        if network.num_zones:
            known = network.zone_ids
            missing = self.zone_ids[~np.isin(self.zone_ids, known)]
            if len(missing):
                raise InputError(
                    f"zone {int(missing[0])} of the demand is not a zone of network "
                    f"{network.name or '<unnamed>'} (zones: {network.num_zones})",
                    field="zone_ids",
                )
        return network.node_index(self.zone_ids)

    def to_frame(self, *, nonzero: bool = True) -> pd.DataFrame:
        """Long table with columns ``origin``, ``destination``, ``trips``."""
        import pandas as pd

        i, j = np.nonzero(self.matrix) if nonzero else np.indices(self.matrix.shape).reshape(2, -1)
        return pd.DataFrame({"origin": self.zone_ids[i], "destination": self.zone_ids[j],
                             "trips": self.matrix[i, j]})

    def __repr__(self) -> str:
        return (f"<Demand {self.name or '<unnamed>'}: {self.num_zones} zones, "
                f"{self.total:,.1f} {self.unit}>")
