"""Child processes that report in JSON lines, for the multi-process tests."""

from __future__ import annotations

import json
import subprocess
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import anyio
from anyio.streams.text import TextReceiveStream

ROOT = Path(__file__).resolve().parents[1]


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
