#!/usr/bin/env bash
# Create the peer-tool environments used by benchmarks/bench_cuba.py.
#
# Needs network access to PyPI (pip). Idempotent: re-running it reuses the
# existing venvs and only installs what is missing.
#
#   Brian2: Brian2 2.9 does not import with numpy >= 2.4, so it gets its own
#           venv with numpy<2.4. Runtime mode uses Cython (compiled on first
#           use into ~/.cython/brian_extensions); cpp_standalone needs a C++
#           compiler (g++) and make, from the system.
#   NEST:   the `nest-simulator` wheel from PyPI, in a second venv.
#
# Usage: bash benchmarks/setup_peers.sh [PREFIX]
#        PREFIX defaults to $NEUROSIM_PEERS or /opt/neurosim-peers.
set -euo pipefail

PREFIX="${1:-${NEUROSIM_PEERS:-/opt/neurosim-peers}}"
PY="${PYTHON:-python3}"          # must be a CPython that the wheels support (3.11 here)

for tool in g++ make; do
    command -v "$tool" >/dev/null || {
        echo "warning: $tool not found; Brian2 cpp_standalone will not build" >&2; }
done

mkvenv() {  # mkvenv DIR: create DIR as a venv unless it already is one
    if [ ! -x "$1/bin/python" ]; then
        echo "creating venv $1"
        "$PY" -m venv "$1"
    fi
    "$1/bin/python" -m pip install --quiet --upgrade pip
}

mkdir -p "$PREFIX"

# --- Brian2 --------------------------------------------------------------
mkvenv "$PREFIX/brian2"
"$PREFIX/brian2/bin/python" -m pip install --quiet \
    "numpy<2.4" "brian2>=2.9,<3" "cython>=3" setuptools
"$PREFIX/brian2/bin/python" -c "import brian2, numpy; print('brian2', brian2.__version__, 'numpy', numpy.__version__)"

# --- NEST ----------------------------------------------------------------
mkvenv "$PREFIX/nest"
"$PREFIX/nest/bin/python" -m pip install --quiet nest-simulator
"$PREFIX/nest/bin/python" -c "import nest; print('nest', nest.__version__)" 2>&1 | tail -n 1

echo "peer environments ready under $PREFIX"
