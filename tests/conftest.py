"""Shared fixtures. TNTP data is read from $SMARTCORE_DATA, default ../shared/data/tntp."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from smartcore import datasets
from smartcore.assignment import AssignmentResult, assign

REPO = Path(__file__).resolve().parent.parent
DEFAULT_DATA = REPO.parent / "shared" / "data" / "tntp"

if not os.environ.get("SMARTCORE_DATA"):
    os.environ["SMARTCORE_DATA"] = str(DEFAULT_DATA)

TNTP_DIR = Path(os.environ["SMARTCORE_DATA"].split(os.pathsep)[0])


@pytest.fixture(scope="session")
def tntp_dir() -> Path:
    if not TNTP_DIR.is_dir():
        pytest.fail(f"TNTP data not found at {TNTP_DIR}: set SMARTCORE_DATA (tests need ../shared)")
    return TNTP_DIR


@pytest.fixture(scope="module")
def sioux_falls(tntp_dir):
    """(network, demand) of the TNTP SiouxFalls instance."""
    return datasets.tntp("SiouxFalls")


@pytest.fixture(scope="module")
def sioux_falls_eq(sioux_falls) -> AssignmentResult:
    """SiouxFalls at equilibrium (bush-based, relative gap 1e-12, one thread)."""
    net, trips = sioux_falls
    return assign(net, trips, gap=1e-12, threads=1)
