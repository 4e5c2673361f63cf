"""scripts/setup.sh and the Makefile: a package that cannot be installed stops
the setup, shows apt-get's own words, and leaves no stamp; a held package lock
is waited for.

apt-get is never run for real here: a fake one on PATH answers as told, and
the scripts run from a copy of the checkout in a temporary directory.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest

from conftest import ROOT

LOCKED = "E: Could not get lock /var/lib/dpkg/lock-frontend. It is held by process 4242 (apt-get)"
MISSING = "E: Unable to locate package chromium"


def fake_apt(bin_dir: Path, log: Path, answers: list[tuple[int, str]]) -> None:
    """An apt-get that logs its arguments and gives the answers in turn (the
    last one again once they run out)."""
    bin_dir.mkdir(parents=True, exist_ok=True)
    cases = "\n".join(f"    {k + 1}) echo '{text}' >&2; exit {code} ;;" for k, (code, text) in enumerate(answers))
    code, text = answers[-1]
    script = f"""#!/bin/sh
echo "$*" >> '{log}'
n=$(wc -l < '{log}')
case $n in
{cases}
    *) echo '{text}' >&2; exit {code} ;;
esac
"""
    (bin_dir / "apt-get").write_text(script)
    (bin_dir / "apt-get").chmod(0o755)


def run_apt_install(tmp_path: Path, answers: list[tuple[int, str]], wait: int = 0) -> tuple[subprocess.CompletedProcess[str], list[str]]:
    log = tmp_path / "apt.log"
    fake_apt(tmp_path / "bin", log, answers)
    # as_root is replaced too: a non-root test run must not reach sudo (whose
    # PATH would find the real apt-get).
    script = f". '{ROOT / 'scripts' / 'apt.sh'}'\nas_root() {{ \"$@\"; }}\napt_install chromium"
    env = {**os.environ, "PATH": f"{tmp_path / 'bin'}:{os.environ['PATH']}", "SETUP_APT_WAIT": str(wait),
           "SETUP_APT_POLL": "0"}
    res = subprocess.run(["sh", "-c", script], capture_output=True, text=True, env=env, timeout=60, check=False)
    return res, log.read_text().splitlines() if log.exists() else []


def test_a_package_that_cannot_be_installed_fails_and_shows_apt_gets_error(tmp_path):
    res, calls = run_apt_install(tmp_path, [(100, MISSING), (0, ""), (100, MISSING)])
    assert res.returncode != 0
    assert MISSING in res.stderr and "could not install chromium" in res.stderr
    assert [c.split()[-1] for c in calls] == ["chromium", "-q", "chromium"]  # install, update, install again


def test_a_held_lock_is_waited_for(tmp_path):
    res, calls = run_apt_install(tmp_path, [(100, LOCKED), (100, LOCKED), (0, "")], wait=60)
    assert res.returncode == 0, res.stderr
    assert "holds the package lock; waiting" in res.stderr and res.stderr.count("waiting") == 1
    assert len(calls) == 3 and all("install" in c for c in calls)


def test_a_lock_held_too_long_fails_with_apt_gets_message(tmp_path):
    res, calls = run_apt_install(tmp_path, [(100, LOCKED)], wait=3)
    assert res.returncode != 0 and LOCKED in res.stderr
    assert 3 <= len(calls) < 20  # waited, and gave up


@pytest.mark.skipif(shutil.which("make") is None, reason="make is not installed")
def test_make_writes_no_stamp_when_a_required_package_is_missing(tmp_path):
    """The whole chain: `make setup` on a machine without Graphviz, where apt
    fails.  The virtual environment is faked (already there, pip a no-op), so
    that only the missing package can stop the setup."""
    work = tmp_path / "checkout"
    (work / "scripts").mkdir(parents=True)
    for name in ("Makefile", "pyproject.toml", "scripts/setup.sh", "scripts/apt.sh"):
        shutil.copy(ROOT / name, work / name)
    fake_python = work / ".venv" / "bin" / "python"
    fake_python.parent.mkdir(parents=True)
    fake_python.write_text("#!/bin/sh\nexit 0\n")
    fake_python.chmod(0o755)
    bin_dir = tmp_path / "bin"
    fake_apt(bin_dir, tmp_path / "apt.log", [(100, "E: Unable to locate package graphviz")])
    fake_id = bin_dir / "id"  # root, so that the fake apt-get is run directly, never through sudo
    fake_id.write_text("#!/bin/sh\necho 0\n")
    fake_id.chmod(0o755)
    # A PATH without dot: only the tools the scripts use.
    for tool in ("sh", "dirname", "sed", "sleep", "env", "wc", "make", "touch", "rm", "cat", "printf"):
        found = shutil.which(tool)
        if found and not (bin_dir / tool).exists():
            (bin_dir / tool).symlink_to(found)
    res = subprocess.run(["make", "setup"], cwd=work, capture_output=True, text=True, timeout=120, check=False,
                         env={"PATH": str(bin_dir), "HOME": str(tmp_path)})
    assert res.returncode != 0
    assert "E: Unable to locate package graphviz" in res.stderr and "Graphviz is required" in res.stderr
    assert not (work / ".venv" / ".installed").exists()
