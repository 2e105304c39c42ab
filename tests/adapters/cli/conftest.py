"""The CLI suite's fixtures: a fresh log on each backend, a demo incident in it,
and ``hublog(...)``: one invocation, its exit code and output."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import pytest
from click.testing import CliRunner

from adapters.cli import main
from tests.backends import SHARED_BACKENDS, Backend, backend_fixture


@dataclass
class Result:
    code: int
    out: str  # stdout
    err: str
    exception: BaseException | None

    @property
    def lines(self) -> list[str]:
        return self.out.splitlines()


def hublog(*args: str, env: dict[str, str] | None = None) -> Result:
    result = CliRunner().invoke(main, list(args), env=env)
    exception = None if isinstance(result.exception, SystemExit) else result.exception
    return Result(result.exit_code, result.stdout, result.stderr, exception)


# Each invocation opens the log anew, as a user's would: every backend but memory://.
backend = backend_fixture(SHARED_BACKENDS)


@pytest.fixture
def url(backend: Backend, make_url: Callable[[str], str]) -> str:
    """A fresh, empty log on ``backend``."""
    return make_url(backend.kind)


@pytest.fixture
def demo_url(url: str) -> str:
    """``url`` holding the demo's incident in hub ``demo-pool``."""
    result = hublog("--url", url, "demo", "--minutes", "20")
    assert result.code == 0, result.out + result.err
    return url


@pytest.fixture
def sqlite_demo(make_url: Callable[[str], str]) -> str:
    url = make_url("sqlite")
    assert hublog("--url", url, "demo", "--minutes", "20").code == 0
    return url
