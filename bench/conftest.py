"""Benchmark collection: files are named bench_*.py (so that `pytest tests` never runs them), and
TNTP data is read from $SMARTCORE_DATA (default ../shared/data/tntp), as in tests/conftest.py."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent
if not os.environ.get("SMARTCORE_DATA"):
    os.environ["SMARTCORE_DATA"] = str(REPO.parent / "shared" / "data" / "tntp")
TNTP_DIR = Path(os.environ["SMARTCORE_DATA"].split(os.pathsep)[0])


def pytest_collect_file(file_path: Path, parent: pytest.Collector) -> pytest.Module | None:
    # Files named on the command line are collected by pytest itself.
    if (file_path.suffix == ".py" and file_path.name.startswith("bench_")
            and not parent.session.isinitpath(file_path)):
        return pytest.Module.from_parent(parent, path=file_path)
    return None


@pytest.fixture(scope="session")
def tntp_dir() -> Path:
    if not TNTP_DIR.is_dir():
        pytest.fail(f"TNTP data not found at {TNTP_DIR}: set SMARTCORE_DATA")
    return TNTP_DIR
