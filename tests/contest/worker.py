"""A contest's worker, in its own process: its orders from the command
line, its reports as JSON lines on stdout.

    python -m <worker module> URL HUB OWNER SEED SECONDS FIRST [ARGS...]

A worker module ends with ``run(step)``: ``step`` is the contest's own, an
async function of the ``Orders`` that works until ``orders.seconds`` are up
and ``say``s what it does; ``run`` says ``done`` after it.  A worker that
wants to be killed says ``kill_me`` and waits (the harness SIGKILLs it).
"""

from __future__ import annotations

import json
import sys
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

import anyio


@dataclass(frozen=True)
class Orders:
    url: str  # the store
    hub: str
    owner: str  # this process's owner id
    seed: int  # for its random choices
    seconds: float  # how long to work
    first: str  # what its first move must be ("": any)
    args: list[str]  # the contest's own

    @classmethod
    def parse(cls, argv: list[str]) -> Orders:
        url, hub, owner, seed, seconds, first, *args = argv
        return cls(url, hub, owner, int(seed), float(seconds), first, args)


def say(**fields: object) -> None:
    print(json.dumps(fields), flush=True)


def run(step: Callable[[Orders], Awaitable[None]]) -> None:
    anyio.run(_work, step, Orders.parse(sys.argv[1:]))


async def _work(step: Callable[[Orders], Awaitable[None]], orders: Orders) -> None:
    await step(orders)
    say(op="done")
