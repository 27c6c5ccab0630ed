"""Load-time benchmarks: smartcore's TNTP reader side by side with a plain pandas parse of the
same file, in one pytest-benchmark run (compare within a group; machines here are shared, so read
ratios, not absolute times).

    python -m pytest bench/bench_io.py --benchmark-only --benchmark-group-by=group

The pandas peer only tokenises the link table (no metadata, validation, id mapping or CSR); ours
does all of that, so a ratio near 1 means validation is nearly free.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

import smartcore
from smartcore.io import tntp

DEFAULT_DATA = Path(__file__).resolve().parents[2] / "shared" / "data" / "tntp"
DATA = Path(os.environ.get("SMARTCORE_DATA", DEFAULT_DATA))

NETS = {
    "ChicagoSketch": DATA / "Chicago-Sketch" / "ChicagoSketch_net.tntp",
    "Philadelphia": DATA / "Philadelphia" / "Philadelphia_net.tntp",
}


def _pandas_parse_c(path: Path):
    """The fastest plain pandas parse: C engine, tab-separated, comment lines skipped."""
    import pandas as pd

    text = path.read_text()
    skip = text[: text.index("<END OF METADATA>")].count("\n") + 1
    df = pd.read_csv(path, skiprows=skip, sep="\t", comment="~", header=None, skip_blank_lines=True)
    return df.iloc[:, 1:11].astype(float)


@pytest.mark.parametrize("name", list(NETS))
def test_load_smartcore(benchmark, name):
    benchmark.group = f"load {name}_net.tntp"
    net = benchmark(tntp.read_net, NETS[name], nodes=False)
    assert net.num_links in (2950, 40003)


@pytest.mark.parametrize("name", list(NETS))
def test_load_pandas(benchmark, name):
    benchmark.group = f"load {name}_net.tntp"
    df = benchmark(_pandas_parse_c, NETS[name])
    assert len(df) in (2950, 40003)


def test_trips_smartcore(benchmark):
    benchmark.group = "load ChicagoSketch_trips.tntp"
    net = smartcore.read_network(NETS["ChicagoSketch"])
    d = benchmark(tntp.read_trips, DATA / "Chicago-Sketch" / "ChicagoSketch_trips.tntp", net)
    assert d.num_zones == 387


def test_trips_pandas(benchmark):
    """Peer: pandas tokenising 'd : v;' pairs (no Origin handling, no validation)."""
    import pandas as pd

    benchmark.group = "load ChicagoSketch_trips.tntp"
    path = DATA / "Chicago-Sketch" / "ChicagoSketch_trips.tntp"

    def parse():
        return pd.read_csv(path, skiprows=9, sep=r"\s*[:;]\s*|\s+", engine="python", header=None,
                           comment="O")

    benchmark(parse)


def _fresh_import(module: str) -> None:
    subprocess.run([sys.executable, "-c", f"import {module}"], check=True)


def test_import_smartcore(benchmark):
    benchmark.group = "import (fresh interpreter)"
    benchmark.pedantic(_fresh_import, args=("smartcore",), rounds=10, iterations=1)


def test_import_numpy(benchmark):
    benchmark.group = "import (fresh interpreter)"
    benchmark.pedantic(_fresh_import, args=("numpy",), rounds=10, iterations=1)


def test_import_pandas(benchmark):
    benchmark.group = "import (fresh interpreter)"
    benchmark.pedantic(_fresh_import, args=("pandas",), rounds=10, iterations=1)
