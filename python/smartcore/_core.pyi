"""Type stub for the compiled kernel ``smartcore._core`` (built from cpp/bindings/).

Partial: every attribute is ``Any`` until the bindings' signatures are written out here. With this
file mypy knows that ``smartcore._core`` is a module of the package (not a name that
``smartcore/__init__.py`` fails to re-export). Check a fuller stub against the built extension with
``python -m mypy.stubtest smartcore._core``.
"""

from typing import Any

def __getattr__(name: str) -> Any: ...
