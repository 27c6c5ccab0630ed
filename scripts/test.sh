#!/usr/bin/env bash
# Install smartcore with its test dependencies, type-check and lint the Python sources, run the C++
# kernel tests (plain Release build and under AddressSanitizer + UndefinedBehaviorSanitizer), then
# the whole Python test suite.
# Needs only CPython 3.10+ with pip and a C++17 compiler; cmake and ninja come from PyPI.
# Fails when any test fails or when no test ran.
set -euo pipefail
cd "$(dirname "$0")/.."
PY=${PYTHON:-python3}

"$PY" -m pip install --upgrade "cmake>=3.20" ninja
"$PY" -m pip install ".[test]"

# Static checks of the Python sources: types (config in pyproject.toml), the kernel's stub, lint.
"$PY" -m mypy
# The compiled kernel's names against its stub (python/smartcore/_core.pyi).
"$PY" -m mypy.stubtest smartcore._core --allowlist scripts/stubtest_allowlist.txt
"$PY" -m ruff check python tests bench

# cmake/ctest from the PyPI package just installed (whatever is or is not on PATH).
bin=$("$PY" -c "import cmake; print(cmake.CMAKE_BIN_DIR)")
jobs=$(nproc 2>/dev/null || echo 2)
for variant in release sanitize; do
  flags=(-DSMARTCORE_BUILD_TESTS=ON -DCMAKE_BUILD_TYPE=Release)
  [ "$variant" = sanitize ] && flags=(-DSMARTCORE_BUILD_TESTS=ON -DSMARTCORE_SANITIZE=ON -DCMAKE_BUILD_TYPE=RelWithDebInfo)
  "$bin/cmake" -S . -B "build/ctest-$variant" -G Ninja -DCMAKE_MAKE_PROGRAM="$("$PY" -c "import ninja, os; print(os.path.join(ninja.BIN_DIR, 'ninja'))")" "${flags[@]}" > /dev/null
  "$bin/cmake" --build "build/ctest-$variant" -j "$jobs"
  "$bin/ctest" --test-dir "build/ctest-$variant" --output-on-failure -j "$jobs" --no-tests=error
done

# The installed package is tested (python/ is not on sys.path from the repository root).
"$PY" -m pytest tests "$@"
