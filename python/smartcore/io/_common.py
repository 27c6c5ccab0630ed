"""Shared plumbing for readers and writers: text decoding with clear errors, atomic outputs."""

from __future__ import annotations

import contextlib
import os
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import TextIO

from smartcore.errors import FormatError, InputError

PathLike = str | os.PathLike[str]


def read_text(path: PathLike, *, what: str = "file") -> str:
    """Read a text file as UTF-8 (BOM tolerated), raising FormatError on anything else.

    The error names the line of the first byte that is not valid UTF-8, and recognises UTF-16/32
    files (NUL bytes) so the user learns what to convert.
    """
    p = Path(path)
    if p.is_dir():
        raise FormatError(f"expected a {what}, got a directory", path=p)
    try:
        data = p.read_bytes()
    except FileNotFoundError:
        raise FormatError(f"{what} not found", path=p) from None
    except OSError as exc:
        raise FormatError(f"cannot read {what}: {exc.strerror}", path=p) from None
    if not data.strip():
        raise FormatError(f"{what} is empty", path=p, line=1)
    if data.startswith((b"\xff\xfe", b"\xfe\xff")) or b"\x00" in data[:4096]:
        raise FormatError(
            "wrong encoding: the file looks like UTF-16/UTF-32 (NUL bytes); save it as UTF-8",
            path=p, line=1, field="encoding",
        )
    if data.startswith(b"\xef\xbb\xbf"):
        data = data[3:]
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = data.count(b"\n", 0, exc.start) + 1
        raise FormatError(
            f"wrong encoding: byte 0x{data[exc.start]:02x} at offset {exc.start} is not valid UTF-8 "
            "(expected UTF-8 or ASCII text)",
            path=p, line=line, field="encoding",
        ) from None


@contextlib.contextmanager
def atomic_write(path: PathLike) -> Iterator[TextIO]:
    """Open a UTF-8 text file beside ``path``; rename it onto ``path`` only if the block succeeds."""
    target = Path(path)
    if target.is_dir():
        raise InputError(f"{target}: is a directory, expected a file path", field="path")
    with atomic_path(target) as tmp, open(tmp, "w", encoding="utf-8", newline="\n") as fh:
        yield fh


@contextlib.contextmanager
def atomic_path(path: PathLike) -> Iterator[Path]:
    """Yield a temporary file path beside ``path`` (for libraries that open files themselves);
    it is renamed onto ``path`` only if the block succeeds."""
    target = Path(path)
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp", dir=target.parent)
    os.close(fd)
    try:
        yield Path(tmp)
        os.replace(tmp, target)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise


@contextlib.contextmanager
def atomic_directory(path: PathLike) -> Iterator[Path]:
    """Yield a temporary directory beside ``path``; it replaces ``path`` only if the block succeeds.

    An existing directory at ``path`` is replaced as a whole (its old content is removed only after
    the new one is complete).
    """
    target = Path(path)
    if target.exists() and not target.is_dir():
        raise InputError(f"{target}: exists and is not a directory", field="path")
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{target.name}.", suffix=".tmp", dir=target.parent))
    try:
        yield tmp
        if target.exists():
            old = Path(tempfile.mkdtemp(prefix=f".{target.name}.", suffix=".old", dir=target.parent))
            os.replace(target, old / "x")
            os.replace(tmp, target)
            shutil.rmtree(old, ignore_errors=True)
        else:
            os.replace(tmp, target)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
