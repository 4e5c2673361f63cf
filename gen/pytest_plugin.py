"""pytest plugin: conformance vectors as tests.

Load it with ``-p ipsecmm.gen.pytest_plugin`` and name the implementation::

    pytest -p ipsecmm.gen.pytest_plugin --ipsecmm-sut mypkg.adapter:make vectors/

Every vector file under the given paths becomes a test file, every vector a
test named by its id.  ``ipsecmm conformance`` runs exactly this.  Without
``--ipsecmm-sut`` the plugin collects nothing, so loading it is harmless.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from ._conformance import Case, Mismatch, VectorFileError, is_vector_file, load_factory, load_file, run_case


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("ipsecmm", "ipsecmm conformance vectors")
    group.addoption("--ipsecmm-sut", metavar="MODULE:FACTORY",
                    help="adapter factory of the implementation under test (see docs/conformance.md)")


def pytest_configure(config: pytest.Config) -> None:
    spec = config.getoption("ipsecmm_sut")
    if spec:
        try:
            config.stash[_FACTORY] = load_factory(spec)
        except ValueError as exc:
            raise pytest.UsageError(str(exc)) from None


_FACTORY = pytest.StashKey[Any]()


def pytest_collect_file(file_path: Path, parent: pytest.Collector) -> pytest.Collector | None:
    if _FACTORY not in parent.config.stash:
        return None
    if file_path.suffix == ".json" and is_vector_file(file_path):
        return VectorFile.from_parent(parent, path=file_path)
    return None


class VectorFile(pytest.File):
    def collect(self) -> Iterator[pytest.Item]:
        try:
            cases = load_file(self.path)
        except VectorFileError as exc:
            raise self.CollectError(str(exc)) from None
        for case in cases:
            yield VectorItem.from_parent(self, name=case.id, case=case)


class VectorFailed(Exception):
    def __init__(self, mismatch: Mismatch) -> None:
        super().__init__(mismatch.render())
        self.mismatch = mismatch


class VectorItem(pytest.Item):
    def __init__(self, *, case: Case, **kw: Any) -> None:
        super().__init__(**kw)
        self.case = case

    def runtest(self) -> None:
        # A fresh adapter per vector: state left by one vector must not help
        # or hurt the next.
        adapter = self.config.stash[_FACTORY]()
        mismatch = run_case(adapter, self.case)
        if mismatch is not None:
            raise VectorFailed(mismatch)

    def repr_failure(self, excinfo: pytest.ExceptionInfo[BaseException], style: Any = None) -> str:
        if isinstance(excinfo.value, VectorFailed):
            return excinfo.value.mismatch.render()
        return str(super().repr_failure(excinfo))

    def reportinfo(self) -> tuple[Path, int | None, str]:
        return self.path, None, f"{self.case.id}: {self.case.title}"
