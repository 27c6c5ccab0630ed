"""smartcore: a high-performance core for smart-city traffic and Mobility-as-a-Service optimisation.

Networks (:class:`Network`), demand (:class:`Demand`), readers for TNTP, GMNS, OpenStreetMap and
OMX, and a C++ kernel for the heavy lifting. Heavy optional libraries (pandas, osmnx, geopandas,
ortools) are imported only by the functions that need them, so ``import smartcore`` stays fast.
"""

from __future__ import annotations

try:
    from smartcore import _core  # noqa: F401  (the compiled kernel)
except ImportError as exc:  # pragma: no cover - depends on the installation
    raise ImportError(
        "smartcore's compiled kernel (smartcore._core) could not be imported: "
        f"{exc}. Install the package with `pip install .` from the source tree (this builds the "
        "C++ extension), or rebuild an editable install (see README, 'Development')."
    ) from exc

from smartcore.api import read_demand, read_network
from smartcore.demand import Demand
from smartcore.errors import (
    ConvergenceError,
    DataNotFoundError,
    FormatError,
    InputError,
    SmartcoreError,
)
from smartcore.network import Network

__version__ = "0.1.0"

# Submodules loaded on first attribute access (``smartcore.routing.tree(...)``), so that
# ``import smartcore`` stays light.
_LAZY_SUBMODULES = ("routing", "datasets", "io", "convert", "assignment", "signals", "scenario",
                    "zoning", "gravity")


def assign(network: Network, demand: Demand | None = None, **kwargs: object) -> object:
    """User-equilibrium traffic assignment: see :func:`smartcore.assignment.assign`."""
    from smartcore.assignment import assign as _assign

    return _assign(network, demand, **kwargs)  # type: ignore[arg-type]


def __getattr__(name: str) -> object:
    if name in _LAZY_SUBMODULES:
        import importlib

        return importlib.import_module(f"smartcore.{name}")
    raise AttributeError(f"module 'smartcore' has no attribute {name!r}")

__all__ = [
    "Network",
    "Demand",
    "read_network",
    "read_demand",
    "assign",
    "SmartcoreError",
    "InputError",
    "FormatError",
    "ConvergenceError",
    "DataNotFoundError",
    "__version__",
]
