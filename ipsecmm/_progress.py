"""A live view of a check on a terminal: one row per running task (what it
does now and for how long), and a line that stays when a task ends.

It receives the checker's progress events (``ipsecmm.properties._check.Progress``);
tasks run in worker processes send theirs through the parent, so this object
is the only writer to the terminal while it is live.  Nothing is shown unless
stderr is a terminal, and never in ``--json`` mode: output that a program reads
must not be interleaved with it.
"""

from __future__ import annotations

import contextlib
import sys
import time
from collections.abc import Iterator
from typing import Any, TextIO


class LiveProgress:
    def __init__(self, stream: TextIO) -> None:
        from rich.console import Console
        from rich.progress import Progress, SpinnerColumn, TextColumn, TimeElapsedColumn

        self.console = Console(file=stream, highlight=False)
        self.rows = Progress(SpinnerColumn(), TimeElapsedColumn(), TextColumn("{task.description}"),
                             console=self.console, transient=True)
        self.ids: dict[str, Any] = {}
        self.started: dict[str, float] = {}
        self.live = False

    def event(self, task: str, kind: str, text: str) -> None:
        # Start only when the first event arrives: by then the checker has
        # forked its workers, and no thread of ours was running at the fork.
        if not self.live:
            self.rows.start()
            self.live = True
        now = time.perf_counter()
        if kind != "end" and task not in self.ids:
            self.ids[task] = self.rows.add_task(f"{task}: {text or 'starting'}", total=None)
            self.started[task] = now
        if kind == "note":
            self.rows.update(self.ids[task], description=f"{task}: {text}")
        elif kind == "end":
            if task in self.ids:
                self.rows.remove_task(self.ids.pop(task))
            took = f" ({now - self.started.pop(task):.1f}s)" if task in self.started else ""
            self.console.print(f"{task}: {text}{took}")

    def close(self) -> None:
        if self.live:
            self.rows.stop()
            self.live = False


@contextlib.contextmanager
def terminal_progress(quiet: bool = False) -> Iterator[LiveProgress | None]:
    """A live view on stderr if it is a terminal and ``quiet`` is false,
    else None (the checker then reports nothing)."""
    stream = sys.stderr
    if quiet or not stream.isatty():
        yield None
        return
    view = LiveProgress(stream)
    try:
        yield view
    finally:
        view.close()
