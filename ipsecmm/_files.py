"""Writing generated files: one mechanism for every command that writes a directory.

``ipsecmm vectors``, ``diagrams``, ``report`` and ``check --runs`` write into
a directory the user names, which may hold anything.  The rule they share:
a command replaces only what ipsecmm wrote there.

* Each directory ipsecmm writes keeps a manifest, ``.ipsecmm-manifest`` (JSON,
  but not named ``*.json`` so that no reader of the directory's ``*.json``
  takes it for a vector or a run).  It lists the files written there, grouped
  by *owner*: the kind of request that wrote them, such as ``vectors --profile
  mm`` or ``check --profile ikev2``, with the command line that last did.
* A command owns one or more of those groups.  When it is done it renames its
  new files into place, then removes the files its groups listed before that
  it did not write this time (a vector that disappears must not linger), and
  nothing else.  Groups it does not own stay as they are, so vectors of two
  profiles, or ``check`` runs of two profiles, share a directory.  A file
  written under another owner's name passes to the writer (the lists stay
  disjoint).
* Before any work starts, the directory is created and checked: a path that
  cannot be a writable directory, and a directory that holds files no manifest
  lists, stop the command with one line and exit 2.  ``--force`` writes into
  such a directory anyway; the files ipsecmm did not write are never removed,
  only replaced when they have the name of a file being written.  A
  directory written by a version of ipsecmm that kept no manifest is such a
  directory too: nothing says which of its files are ipsecmm's.
* Every file is first written to a temporary file beside its place, with the
  usual mode (``0666`` less the umask, as ``open`` gives); only when all of
  them are written are they renamed into place, so a failed write leaves the
  previous output as it was.  If the command fails before that, the temporary
  files and the directories it created are removed again.

File names made from names users give (scenario names, run files) go through
:func:`name_in_file`, the one rule for those.
"""

from __future__ import annotations

import contextlib
import errno
import json
import os
import re
import secrets
import shlex
import stat
from collections.abc import Sequence
from pathlib import Path
from types import TracebackType
from typing import Any

MANIFEST = ".ipsecmm-manifest"
MANIFEST_FORMAT = "ipsecmm-manifest-1"

#: Longest user-given name that may become part of a file name.  File names
#: built around it add a prefix and a suffix (``mobike-NAME-responder.json``,
#: ``run-NAME-1-sequence.svg``) and must stay within the 255 bytes most file
#: systems allow; names are ASCII once :func:`name_in_file` has mapped them.
MAX_NAME = 100

_UNSAFE = re.compile(r"[^A-Za-z0-9._-]")


class OutputError(Exception):
    """An output directory that cannot be written as asked.  ``str()`` is the
    one-line user message; ``ipsecmm.cli.main`` prints it with exit code 2."""


class FileNameError(ValueError):
    """A user-given name that cannot become part of a file name."""


def name_in_file(name: str) -> str:
    """The form ``name`` takes inside a file name.

    Letters, digits, ``.``, ``_`` and ``-`` stay; every other character
    (``/``, a NUL byte, a space, anything non-ASCII) becomes ``_``, so a name
    can neither leave the output directory nor fail to be a file name.
    Different names may map to one form: callers refuse that where it matters.
    """
    if not name:
        raise FileNameError("an empty name cannot be part of a file name")
    if len(name) > MAX_NAME:
        raise FileNameError(f"{len(name)} characters, too long to be part of a file name (at most {MAX_NAME})")
    return _UNSAFE.sub("_", name)


def scenario_in_file(sc: Any) -> str:
    """:func:`name_in_file` of a scenario's name, or the scenario error that
    names its file and the key ``scenario.name``."""
    from ipsecmm.model import ScenarioError

    try:
        return name_in_file(sc.name)
    except FileNameError as exc:
        raise ScenarioError(sc.source, "scenario.name", str(exc)) from None


def command_line(args: Any) -> str:
    """The command line that is running, as recorded in manifests (``main``
    keeps its arguments in ``args.argv``)."""
    argv = getattr(args, "argv", None)
    return "ipsecmm " + shlex.join(argv if argv is not None else [getattr(args, "command", "")])


def _mode() -> int:
    # What a plain open() would give: 0666 less the umask.  Reading the umask
    # means setting it; it is put back at once.
    mask = os.umask(0o022)
    os.umask(mask)
    return 0o666 & ~mask


def _temporary(directory: Path) -> tuple[int, Path]:
    """A new file in ``directory``, open for writing, with the usual mode
    (``tempfile.mkstemp`` would make it 0600).  Its name is short whatever
    the final name is, so it never hits the file system's name limit first."""
    while True:
        path = directory / f".ipsecmm-{secrets.token_hex(6)}.tmp"
        try:
            return os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666), path
        except FileExistsError:  # pragma: no cover - 48 random bits
            continue


def _write_temporary(directory: Path, data: bytes) -> Path:
    fd, tmp = _temporary(directory)
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    return tmp


def write_atomic(path: Path, text: str | bytes) -> None:
    """Write ``text`` (or bytes) to ``path`` through a temporary file and a
    rename, so a reader never sees half a file.  For one file outside any
    output directory; a command writing a directory uses :class:`Output`."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = _write_temporary(path.parent, text.encode("utf-8") if isinstance(text, str) else text)
    try:
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise


def check_output_file(path: Path, option: str = "--out") -> None:
    """Refuse, before any work, an output file that cannot be written: a
    directory, a parent that is a file, a place that takes no new file, a
    name longer than the file system takes.  Raises ``OutputError`` naming
    the option and the path, worded as :class:`Output` words its own."""
    where = f"{option} {_shown(path)}"
    try:
        if path.is_dir():
            raise OutputError(f"{where}: is a directory")
        for up in path.parents:
            if up.exists():
                if not up.is_dir():
                    raise OutputError(f"{where}: {_shown(up)} is not a directory")
                break
        if len(path.name.encode("utf-8", "surrogateescape")) > 255:
            raise OSError(errno.ENAMETOOLONG, os.strerror(errno.ENAMETOOLONG))
        if path.parent.is_dir():
            fd, tmp = _temporary(path.parent)  # the only sure test that the place takes a new file
            os.close(fd)
            tmp.unlink()
    except OSError as exc:
        if exc.errno == errno.ENAMETOOLONG:
            raise OutputError(f"{where}: cannot use it ({exc.strerror})") from None
        raise OutputError(f"{where}: cannot create {_shown(path)} ({exc.strerror or exc})") from None


def _check_relative(rel: str) -> tuple[str, ...]:
    parts = tuple(rel.split("/"))
    for part in parts:
        if part in ("", ".", "..") or "\x00" in part or len(part.encode("utf-8")) > 255:
            raise ValueError(rel)
    return parts


def _shown(path: Path | str) -> str:
    from ipsecmm.model._scenario import shown

    return shown(str(path))


class Output:
    """The files one command writes into one directory.

    Use it as a context manager around the work::

        with Output(path, ["vectors --profile mm"], command, force=False) as out:
            ...                                 # the work
            out.write("coverage/mm.json", text)

    Entering checks the directory (and creates it); leaving without an
    exception puts the files in place and updates the manifest; leaving with
    one removes what was written.  ``option`` is how the command line names
    the directory, for messages (``--out``, ``--runs``).
    """

    def __init__(self, directory: Path, owners: Sequence[str], command: str, *, force: bool = False,
                 option: str = "--out") -> None:
        if not owners:
            raise ValueError("an output needs an owner")
        self.directory = directory
        self.owners = tuple(owners)
        self.command = command
        self.force = force
        self.option = option
        self.written: dict[str, str] = {}  # relative path -> owner, in the order written
        self._pending: dict[str, Path] = {}  # relative path -> temporary file
        self._created: list[Path] = []  # directories this command created, outermost first
        self._manifest: dict[str, dict[str, Any]] = {}
        self._entered = False

    # ----------------------------------------------------------------- messages

    def _where(self) -> str:
        return f"{self.option} {_shown(self.directory)}"

    def _fail(self, problem: str) -> OutputError:
        return OutputError(f"{self._where()}: {problem}")

    # ----------------------------------------------------------------- before the work

    def __enter__(self) -> Output:
        try:
            self._make_directory()
            self._probe()
            self._manifest = self._read_manifest()
            if not self.force:
                foreign = self._first_foreign()
                if foreign is not None:
                    raise self._fail(
                        f"holds files ipsecmm did not write, such as {_shown(self.directory / foreign)}; "
                        "choose another directory, or pass --force to write there anyway "
                        "(files ipsecmm did not write are never removed)")
        except BaseException:
            self._discard()
            raise
        self._entered = True
        return self

    def _make_directory(self) -> None:
        missing: list[Path] = []
        p = self.directory
        while True:
            try:
                st = p.stat()
            except (FileNotFoundError, NotADirectoryError):  # the latter: a file further up, found below
                missing.append(p)
                if p.parent == p:  # pragma: no cover - the root always exists
                    break
                p = p.parent
                continue
            except OSError as exc:
                raise self._fail(f"cannot use it ({exc.strerror})") from None
            if not stat.S_ISDIR(st.st_mode):
                if p == self.directory:
                    raise self._fail("not a directory")
                raise self._fail(f"{_shown(p)} is not a directory")
            break
        for d in reversed(missing):
            try:
                d.mkdir()
            except FileExistsError:
                if d.is_symlink() and not d.exists():
                    raise self._fail(f"{_shown(d)} is a symbolic link to nothing") from None
                continue  # made meanwhile by someone else: not ours to remove
            except OSError as exc:
                raise self._fail(f"cannot create {_shown(d)} ({exc.strerror})") from None
            self._created.append(d)

    def _probe(self) -> None:
        # access() says yes to root on a read-only file system; writing says the truth.
        try:
            _write_temporary(self.directory, b"").unlink()
        except OSError as exc:
            raise self._fail(f"cannot write there ({exc.strerror})") from None

    def _read_manifest(self) -> dict[str, dict[str, Any]]:
        path = self.directory / MANIFEST
        try:
            text = path.read_text(encoding="utf-8")
        except FileNotFoundError:
            return {}
        except (OSError, UnicodeDecodeError) as exc:
            if self.force:
                return {}
            raise self._fail(f"cannot read {_shown(path)} ({exc}); pass --force to replace it") from None
        try:
            owners = _parse_manifest(text)
        except ValueError as exc:
            if self.force:
                return {}
            raise self._fail(f"{_shown(path)} is not an ipsecmm manifest ({exc}); "
                             "pass --force to replace it") from None
        return owners

    def _owned(self) -> set[str]:
        return {f for entry in self._manifest.values() for f in entry["files"]}

    def _first_foreign(self) -> str | None:
        """The first file (in sorted order) that no manifest entry lists."""
        owned = self._owned()
        problems: list[OSError] = []
        for root, dirs, files in os.walk(self.directory, onerror=problems.append):
            if problems:
                break
            base = Path(root).relative_to(self.directory)
            dirs.sort()
            links = [d for d in dirs if os.path.islink(os.path.join(root, d))]
            dirs[:] = [d for d in dirs if d not in links]
            for name in sorted([*files, *links]):
                rel = (base / name).as_posix()
                if rel == MANIFEST or rel in owned:
                    continue
                return rel
        if problems:
            exc = problems[0]
            raise self._fail(f"cannot read {_shown(exc.filename)} ({exc.strerror})")
        return None

    # ----------------------------------------------------------------- the files

    def path(self, rel: str) -> Path:
        return self.directory / rel

    def write(self, rel: str, text: str | bytes, owner: str | None = None) -> Path:
        """Write the file ``rel`` (a ``/``-separated path inside the
        directory) for ``owner`` (the first owner by default).  It is put in
        place when the command ends without an error."""
        if not self._entered:
            raise RuntimeError("Output.write outside its with block")
        owner = owner or self.owners[0]
        if owner not in self.owners:
            raise ValueError(f"{owner!r} is not an owner of this output")
        try:
            parts = _check_relative(rel)
        except ValueError:
            raise self._fail(f"cannot write a file named {_shown(rel)}") from None
        data = text.encode("utf-8") if isinstance(text, str) else text
        parent = self.directory.joinpath(*parts[:-1])
        try:
            self._make_parents(parent)
            tmp = _write_temporary(parent, data)
        except OSError as exc:
            raise self._fail(f"cannot write {_shown(self.directory / rel)} ({exc.strerror})") from None
        old = self._pending.pop(rel, None)
        if old is not None:
            old.unlink(missing_ok=True)
        self._pending[rel] = tmp
        self.written.pop(rel, None)
        self.written[rel] = owner
        return self.directory / rel

    def _make_parents(self, parent: Path) -> None:
        todo = []
        p = parent
        while p != self.directory and not p.is_dir():
            todo.append(p)
            p = p.parent
        for d in reversed(todo):
            d.mkdir()
            self._created.append(d)

    # ----------------------------------------------------------------- after the work

    def __exit__(self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None) -> None:
        if kind is not None:
            self._discard()
            return
        try:
            self._commit()
        except BaseException:
            self._discard()
            raise

    def _commit(self) -> None:
        files: dict[str, list[str]] = {}
        for rel, owner in self.written.items():
            files.setdefault(owner, []).append(rel)
        new = {owner: {"command": self.command, "files": sorted(rels)} for owner, rels in files.items()}
        stale: list[str] = []
        after: dict[str, dict[str, Any]] = {}
        for owner, entry in self._manifest.items():
            left = [f for f in entry["files"] if f not in self.written]
            if owner in self.owners:
                stale += left
            elif left:
                after[owner] = {"command": entry["command"], "files": left}
        after.update(new)
        # First a manifest that lists the old files and the new ones: if the
        # command dies while renaming or removing, every file is still owned.
        if after or self._manifest:
            union = {k: dict(v) for k, v in after.items()}
            for owner in self.owners:
                if owner in self._manifest:
                    listed = set(self._manifest[owner]["files"]) | set(union.get(owner, {}).get("files", []))
                    union[owner] = {"command": self.command, "files": sorted(listed)}
            self._put_manifest(union)
        try:
            for rel, tmp in list(self._pending.items()):
                os.replace(tmp, self.directory / rel)
                del self._pending[rel]
        except OSError as exc:
            raise self._fail(f"cannot write {_shown(self.directory / rel)} ({exc.strerror})") from None
        kept = [rel for rel in sorted(set(stale)) if not self._remove(rel)]
        for rel in kept:  # could not be removed: still ours, tried again next time
            owner = next(o for o in self.owners if rel in self._manifest.get(o, {}).get("files", ()))
            entry = after.setdefault(owner, {"command": self.command, "files": []})
            entry["files"] = sorted({*entry["files"], rel})
        if after:
            self._put_manifest(after)
        elif self._manifest:
            (self.directory / MANIFEST).unlink(missing_ok=True)
        if not after:
            self._remove_created()

    def _put_manifest(self, owners: dict[str, dict[str, Any]]) -> None:
        doc = {"format": MANIFEST_FORMAT,
               "about": "the files ipsecmm wrote into this directory, by the request that wrote them; "
                        "ipsecmm replaces or removes these files only",
               "owners": owners}
        text = json.dumps(doc, indent=1, sort_keys=True, ensure_ascii=False) + "\n"
        try:
            tmp = _write_temporary(self.directory, text.encode("utf-8"))
            os.replace(tmp, self.directory / MANIFEST)
        except OSError as exc:
            raise self._fail(f"cannot write {_shown(self.directory / MANIFEST)} ({exc.strerror})") from None

    def _remove(self, rel: str) -> bool:
        """Remove a stale file of ours; False when it stays.  A path through a
        symbolic link is left alone: the link leads out of the directory."""
        parts = _check_relative(rel)
        p = self.directory
        for part in parts[:-1]:
            p = p / part
            if p.is_symlink() or not p.is_dir():
                return True  # the file is not where we put it: nothing of ours to remove
        target = p / parts[-1]
        try:
            if target.is_dir() and not target.is_symlink():
                return True
            target.unlink(missing_ok=True)
        except OSError:
            return False
        d = target.parent
        while d != self.directory:  # directories emptied by the removal go too
            try:
                d.rmdir()
            except OSError:
                break
            d = d.parent
        return True

    def _discard(self) -> None:
        for tmp in self._pending.values():
            tmp.unlink(missing_ok=True)
        self._pending.clear()
        self.written.clear()
        self._remove_created()

    def _remove_created(self) -> None:
        for d in reversed(self._created):
            with contextlib.suppress(OSError):  # something else is in it now: keep it
                d.rmdir()
        self._created.clear()


def _parse_manifest(text: str) -> dict[str, dict[str, Any]]:
    """The owner entries of a manifest, or ValueError saying what is wrong.
    Every listed path must stay inside the directory: a manifest lists what
    may be removed, so a crafted one must not reach anything else."""
    try:
        doc = json.loads(text)
    except (json.JSONDecodeError, RecursionError) as exc:
        raise ValueError("not JSON") from exc
    if not isinstance(doc, dict) or doc.get("format") != MANIFEST_FORMAT or not isinstance(doc.get("owners"), dict):
        raise ValueError(f"expected an object with format {MANIFEST_FORMAT!r} and owners")
    owners: dict[str, dict[str, Any]] = {}
    for owner, entry in doc["owners"].items():
        if not isinstance(entry, dict) or not isinstance(entry.get("command"), str) \
                or not isinstance(entry.get("files"), list):
            raise ValueError(f"owners.{json.dumps(owner)}: expected command and files")
        files = entry["files"]
        for f in files:
            try:
                if not isinstance(f, str):
                    raise ValueError
                _check_relative(f)
            except ValueError:
                raise ValueError(f"owners.{json.dumps(owner)}.files: {json.dumps(f)} is not a path inside "
                                 "the directory") from None
        owners[owner] = {"command": entry["command"], "files": list(files)}
    return owners


def owned_files(directory: Path) -> dict[str, list[str]]:
    """What the manifest of ``directory`` lists, by owner (empty without one)."""
    path = directory / MANIFEST
    if not path.is_file():
        return {}
    return {owner: entry["files"] for owner, entry in _parse_manifest(path.read_text(encoding="utf-8")).items()}


__all__ = ["MANIFEST", "MAX_NAME", "FileNameError", "Output", "OutputError", "command_line", "name_in_file",
           "owned_files", "scenario_in_file", "write_atomic"]
