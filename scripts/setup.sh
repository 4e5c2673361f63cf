#!/bin/sh
# Prepare this checkout on a fresh Debian machine: Graphviz's dot, a virtual
# environment in .venv, and the project with its test and lint extras.
# With --test, also what only the test suite needs: Chromium, which loads the
# review report headless.  Safe to run again; `make run` calls it, and
# `make test` calls it with --test, when pyproject.toml or this file changes.
set -eu
cd "$(dirname "$0")/.."

TEST=0
for arg in "$@"; do
    case "$arg" in
        --test) TEST=1 ;;
        *) echo "setup: unknown option $arg (expected --test)" >&2; exit 2 ;;
    esac
done

as_root() {
    if [ "$(id -u)" = 0 ]; then "$@"; elif command -v sudo >/dev/null 2>&1; then sudo "$@"; else return 1; fi
}

apt_install() {
    command -v apt-get >/dev/null 2>&1 || return 1
    as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "$@" >/dev/null 2>&1 && return 0
    as_root apt-get update -qq >/dev/null 2>&1 || return 1
    as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "$@" >/dev/null 2>&1
}

if ! command -v dot >/dev/null 2>&1; then
    echo "setup: installing Graphviz (dot) with apt-get" >&2
    apt_install graphviz || echo "setup: could not install graphviz; diagrams will not render" >&2
fi

if [ "$TEST" = 1 ] && ! command -v chromium >/dev/null 2>&1; then
    echo "setup: installing Chromium (the report's browser test) with apt-get" >&2
    apt_install chromium || echo "setup: could not install chromium; the report's browser test will fail" >&2
fi

PYTHON=${PYTHON:-python3}
if [ ! -x .venv/bin/python ]; then
    if ! "$PYTHON" -m venv .venv >/dev/null 2>&1; then
        echo "setup: installing python3-venv with apt-get" >&2
        rm -rf .venv
        apt_install python3-venv
        "$PYTHON" -m venv .venv
    fi
fi
.venv/bin/python -m pip install --quiet --disable-pip-version-check --upgrade pip
.venv/bin/python -m pip install --quiet --disable-pip-version-check -e '.[test,dev]'
