"""The smartcore error hierarchy, defined once.

Every error smartcore raises on purpose derives from :class:`SmartcoreError`. Bad input raises
:class:`InputError` (a :class:`ValueError`), and errors found while reading a file raise
:class:`FormatError`, which names the file, the line (1-based) and the field at fault. Errors
raised by the compiled kernel are translated into these classes by the bindings.

Not converging is *not* an error by default: results report their gap and iteration count, and
:class:`ConvergenceError` is raised only when a caller asks for it.
"""

from __future__ import annotations

import os

__all__ = ["SmartcoreError", "InputError", "FormatError", "ConvergenceError", "DataNotFoundError"]


class SmartcoreError(Exception):
    """Base class of every error smartcore raises on purpose."""


class InputError(SmartcoreError, ValueError):
    """Invalid input: an argument, an array or a value that smartcore cannot use.

    Attributes
    ----------
    field : str or None
        The argument, array or attribute at fault (e.g. ``"capacity"``).
    """

    def __init__(self, message: str, *, field: str | None = None) -> None:
        super().__init__(message)
        self.field = field


class FormatError(InputError):
    """A file that cannot be read as the format it claims to be.

    The message reads ``"<file>:<line>: field '<field>': <what is wrong>"`` so that editors and
    terminals can jump to the spot.

    Attributes
    ----------
    path : str or None
        The file at fault.
    line : int or None
        1-based line number, or None when the fault is not tied to one line.
    field : str or None
        The column or metadata tag at fault.
    """

    def __init__(
        self,
        message: str,
        *,
        path: str | os.PathLike[str] | None = None,
        line: int | None = None,
        field: str | None = None,
    ) -> None:
        self.path = os.fspath(path) if path is not None else None
        self.line = line
        self.reason = message
        where = ""
        if self.path is not None:
            where = self.path + (f":{line}" if line is not None else "") + ": "
        what = f"field '{field}': " if field else ""
        super().__init__(where + what + message, field=field)


class ConvergenceError(SmartcoreError):
    """An iterative method did not reach the requested tolerance (raised only on request)."""


class DataNotFoundError(SmartcoreError, FileNotFoundError):
    """A data set could not be found locally and could not be downloaded."""
