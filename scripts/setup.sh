#!/bin/sh
# Prepare this checkout on a fresh Debian machine: Graphviz's dot, a virtual
# environment in .venv, and the project with its test and lint extras.
# With --test, also what only the test suite needs: Chromium, which loads the
# review report headless, and tshark, which dissects the generated captures.
# Safe to run again; `make run` calls it, and `make test` calls it with
# --test, when pyproject.toml or this file changes.
set -eu
cd "$(dirname "$0")/.."

TEST=0
for arg in "$@"; do
    case "$arg" in
        --test) TEST=1 ;;
        *) echo "setup: unknown option $arg (expected --test)" >&2; exit 2 ;;
    esac
done

. scripts/apt.sh

# A missing required package stops the setup (and so `make`, which then
# writes no stamp and tries again next time): Graphviz for every command that
# draws, Chromium and tshark for the test suite's browser and capture tests.
if ! command -v dot >/dev/null 2>&1; then
    echo "setup: installing Graphviz (dot) with apt-get" >&2
    apt_install graphviz || { echo "setup: Graphviz is required (diagrams, report); stopping" >&2; exit 1; }
fi

if [ "$TEST" = 1 ] && ! command -v chromium >/dev/null 2>&1; then
    echo "setup: installing Chromium (the report's browser test) with apt-get" >&2
    apt_install chromium || { echo "setup: Chromium is required by make test; stopping" >&2; exit 1; }
fi

if [ "$TEST" = 1 ] && ! command -v tshark >/dev/null 2>&1; then
    echo "setup: installing tshark (the capture test dissects and decrypts with it) with apt-get" >&2
    # wireshark-common asks whether users outside root may capture: answer no
    # beforehand, so the install never waits for a terminal.
    echo "wireshark-common wireshark-common/install-setuid boolean false" | as_root debconf-set-selections 2>/dev/null || true
    apt_install tshark || { echo "setup: tshark is required by make test; stopping" >&2; exit 1; }
fi

PYTHON=${PYTHON:-python3}
if [ ! -x .venv/bin/python ]; then
    if ! "$PYTHON" -m venv .venv >/dev/null 2>&1; then
        echo "setup: installing python3-venv with apt-get" >&2
        rm -rf .venv
        apt_install python3-venv || { echo "setup: python3-venv is required; stopping" >&2; exit 1; }
        "$PYTHON" -m venv .venv
    fi
fi
.venv/bin/python -m pip install --quiet --disable-pip-version-check --upgrade pip
.venv/bin/python -m pip install --quiet --disable-pip-version-check -e '.[test,dev]'
