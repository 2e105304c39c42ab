"""Worker processes contending through one log, and what they said.

A contest runs ``processes`` slots for ``seconds``.  Each slot runs worker
processes one after the other, each under an owner id of its own, until the
time is up (``tests/contest/worker.py`` reads the command line)::

    python -m <worker> URL HUB OWNER SEED SECONDS FIRST [ARGS...]

Every JSON line a worker prints is kept, with the owner of the process that
printed it as ``process``; a process that says ``kill_me`` is SIGKILLed
(once).  When every slot is done, the contest settles the log (what killed
workers left runs out) and checks it with a checker that reads only the
log.  Everything started here is stopped here.

A contest (a subclass) says only what is its own: ``worker``, the module
each process runs, and ``arguments()``, its ARGS; ``first_moves``, what the
first worker of a slot is made to do (so that even a short run has a kill);
``prepare()``, what the log needs before any worker starts; and
``settle_and_check()``, the log's report once every worker is gone.  Its
``problems`` of an outcome add its own findings to ``problems()`` here.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, ClassVar, Generic, TypeVar

import anyio
from anyio.streams.text import TextReceiveStream

from tests.contest.checker import LogReport

ROOT = Path(__file__).resolve().parents[2]

ReportT = TypeVar("ReportT", bound=LogReport)


@dataclass
class Outcome(Generic[ReportT]):
    """What the workers said and how they exited; then the log's report."""

    lines: list[dict[str, Any]] = field(default_factory=list)
    killed: list[dict[str, Any]] = field(default_factory=list)  # each killed process's kill_me
    exits: list[int] = field(default_factory=list)
    seconds: float = 0.0
    report: ReportT = field(init=False)

    def of(self, op: str) -> list[dict[str, Any]]:
        return [line for line in self.lines if line["op"] == op]

    @property
    def killed_processes(self) -> set[str]:
        return {line["process"] for line in self.killed}


@dataclass
class Contest(Generic[ReportT]):
    url: str
    hub: str
    seconds: float
    processes: int = 6
    outcome: Outcome[ReportT] = field(init=False, default_factory=Outcome)

    worker: ClassVar[str]
    first_moves: ClassVar[dict[int, str]] = {}
    too_late: ClassVar[float] = 0.2  # seconds left: a slot starts no new worker

    def arguments(self) -> list[str]:
        return []

    async def prepare(self) -> None:
        pass

    async def settle_and_check(self) -> ReportT:
        raise NotImplementedError

    async def run(self) -> Outcome[ReportT]:
        started = time.monotonic()
        await self.prepare()
        deadline = anyio.current_time() + self.seconds
        async with anyio.create_task_group() as tg:
            for slot in range(self.processes):
                tg.start_soon(self._slot, slot, deadline)
        self.outcome.report = await self.settle_and_check()
        self.outcome.seconds = time.monotonic() - started
        return self.outcome

    async def _slot(self, slot: int, deadline: float) -> None:
        first, incarnation = self.first_moves.get(slot, ""), 0
        while (left := deadline - anyio.current_time()) > self.too_late or incarnation == 0:
            owner = f"p{slot}-{incarnation}"
            await self._worker(owner, slot * 1000 + incarnation, max(left, 0.5), first)
            incarnation, first = incarnation + 1, ""

    async def _worker(self, owner: str, seed: int, seconds: float, first: str) -> None:
        command = [
            sys.executable, "-m", self.worker, self.url, self.hub, owner, str(seed),
            f"{seconds:.2f}", first, *self.arguments(),
        ]  # fmt: skip
        exit_status = await run_reporting(command, lambda pid, line: self._heard(pid, owner, line))
        self.outcome.exits.append(exit_status)

    def _heard(self, pid: int, owner: str, line: dict[str, Any]) -> None:
        line["process"] = owner
        self.outcome.lines.append(line)
        if line["op"] == "kill_me" and owner not in self.outcome.killed_processes:
            self.outcome.killed.append(line)
            os.kill(pid, signal.SIGKILL)


def problems(outcome: Outcome[Any], found: list[str]) -> list[str]:
    """Everything the log, the contest's own checks (``found``) and the
    workers' exits disprove; [] is a pass."""
    found = [*outcome.report.problems, *found]
    exits = [code for code in outcome.exits if code != -signal.SIGKILL]
    if any(exits) or len(outcome.of("done")) != len(exits):
        found.append(f"workers exited {outcome.exits}, {len(outcome.of('done'))} said done")
    return found


async def run_reporting(
    command: Sequence[str], heard: Callable[[int, dict[str, Any]], None]
) -> int:
    """Run ``command`` from the repository root, hand each JSON line it
    prints to ``heard(pid, line)``, and return its exit status (a child
    still running when the caller is cancelled is killed)."""
    process = await anyio.open_process(list(command), cwd=ROOT, stdout=subprocess.PIPE)
    try:
        assert process.stdout is not None
        buffer = ""
        async for chunk in TextReceiveStream(process.stdout):
            buffer += chunk
            *complete, buffer = buffer.split("\n")
            for text in complete:
                heard(process.pid, json.loads(text))
        return await process.wait()
    finally:
        if process.returncode is None:
            process.kill()
            await process.wait()
