"""Waiting, bounded, for what a test cannot be told about otherwise."""

from __future__ import annotations

from collections.abc import Callable

import anyio
import pytest


async def until(condition: Callable[[], bool], what: str, *, seconds: float = 10) -> None:
    with anyio.move_on_after(seconds):
        while not condition():
            await anyio.sleep(0.01)
        return
    pytest.fail(f"gave up waiting until {what}")
