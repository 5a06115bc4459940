#!/bin/sh
# The virtual environment of `make install` (and so of `make demo` and `make test`).
# Usage: scripts/make-venv.sh PYTHON VENV
#
# - PYTHON must be on PATH ("python3.12 not found" otherwise) and be Python 3.11 or newer.
# - VENV records the interpreter that made it (its version and real executable, in
#   VENV/.bngraph-python) and is rebuilt when PYTHON is another one. An environment made
#   before the record existed is kept if its Python has the same version.
# - bngraph is (re)installed, editable with its test extras, when pyproject.toml is newer
#   than the last install.
set -eu
python=$1
venv=$2
record="$venv/.bngraph-python"
stamp="$venv/.bngraph-installed"

if ! path=$(command -v "$python" 2>/dev/null); then
    echo "$python not found: install it, or run make with PYTHON=python3.11 (or any Python 3.11 or newer)" >&2
    exit 1
fi
# "VERSION EXECUTABLE": the interpreter's version and the real file it runs from (through
# symlinks and version-manager shims), which together name it
query='import os, sys; print("%d.%d.%d" % sys.version_info[:3], os.path.realpath(sys.executable))'
if ! identity=$("$path" -c "$query" 2>/dev/null); then
    echo "$python ($path) does not run; run make with PYTHON=python3.11 (or newer)" >&2
    exit 1
fi
version=${identity%% *}
major=${version%%.*}
minor=${version#*.}
minor=${minor%%.*}
if [ "$major" -lt 3 ] || { [ "$major" -eq 3 ] && [ "$minor" -lt 11 ]; }; then
    echo "bngraph needs Python 3.11 or newer; $python is $version: run make with PYTHON=python3.11 (or newer)" >&2
    exit 1
fi

if [ -x "$venv/bin/python" ] && [ ! -f "$record" ]; then
    # made before the record existed: keep it if its Python is the same version
    made=$("$venv/bin/python" -c "$query" 2>/dev/null || true)
    [ "${made%% *}" = "$version" ] && printf '%s\n' "$identity" > "$record"
fi
if [ -e "$venv" ] && [ "$(cat "$record" 2>/dev/null || true)" != "$identity" ]; then
    if [ ! -f "$venv/pyvenv.cfg" ]; then
        echo "$venv exists but is not a virtual environment; move it away and run make again" >&2
        exit 1
    fi
    echo "Rebuilding $venv for $python ($version): it was made by $(cat "$record" 2>/dev/null || echo 'another interpreter')"
    rm -rf "$venv"
fi
if [ ! -x "$venv/bin/python" ]; then
    echo "Creating $venv with $python ($version)"
    "$path" -m venv "$venv"
    printf '%s\n' "$identity" > "$record"
fi
if [ ! -f "$stamp" ] || [ pyproject.toml -nt "$stamp" ]; then
    echo "Installing bngraph (editable) with its test extras into $venv"
    "$venv/bin/python" -m pip install --quiet --upgrade pip
    "$venv/bin/python" -m pip install --quiet -e '.[test]'
    touch "$stamp"
fi
