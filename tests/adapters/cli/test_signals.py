"""What an on-call engineer's shell does to ``hublog``: Ctrl-C ends any
command within a second with status 130 and no traceback; a reader that
stops reading (``| head``) ends it quietly."""

from __future__ import annotations

import signal
import subprocess
import sys
import time
from pathlib import Path

HUBLOG = str(Path(sys.executable).with_name("hublog"))
INTERRUPTED = 130  # 128 + SIGINT, what a shell reports for a command Ctrl-C ended
CLOSED_PIPE = 141  # 128 + SIGPIPE, what `cat big | head -1` leaves behind


def start(*args: str) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [HUBLOG, *args],
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def interrupted_after_output(*args: str) -> tuple[int, float, str]:
    """Run, wait for its first line, Ctrl-C it: status, seconds to end, stderr."""
    with start(*args) as process:
        assert process.stdout is not None and process.stderr is not None
        try:
            assert process.stdout.readline()
            time.sleep(0.3)  # now following: idle worker threads, a poll in flight
            sent = time.monotonic()
            process.send_signal(signal.SIGINT)
            code = process.wait(timeout=30)
            took = time.monotonic() - sent
        finally:
            process.kill()
            process.wait()
        return code, took, process.stderr.read()


def test_ctrl_c_ends_events_follow_within_a_second_with_status_130(demo_url: str) -> None:
    for _ in range(3):  # the hang was intermittent
        code, took, err = interrupted_after_output(
            "events", "--hub", "demo-pool", "--follow", "--type", "HubStopped", "--url", demo_url
        )

        assert code == INTERRUPTED, err
        assert took < 1.0
        assert "Traceback" not in err and "Exception ignored" not in err and "Aborted" not in err


def test_ctrl_c_ends_a_demo_being_recorded_with_status_130(tmp_path: Path) -> None:
    code, took, err = interrupted_after_output(
        "demo", "--minutes", "600", "--url", f"sqlite:///{tmp_path / 'demo.db'}"
    )

    assert code == INTERRUPTED, err
    assert took < 1.0
    assert "Traceback" not in err and "Aborted" not in err


def test_a_closed_pipe_ends_the_listing_quietly(sqlite_demo: str) -> None:
    for command in (
        ["events", "--hub", "demo-pool"],
        ["export", "--hub", "demo-pool", "-o", "-"],
        ["timeline", "--hub", "demo-pool", "--instance", "ollama-2"],
        ["events", "--hub", "demo-pool", "--json"],
    ):
        with start(*command, "--url", sqlite_demo) as process:
            assert process.stdout is not None and process.stderr is not None
            process.stdout.close()  # `| head -0`: whatever it writes meets a closed pipe
            code = process.wait(timeout=60)
            err = process.stderr.read()

        assert "Broken pipe" not in err and "Traceback" not in err and "Error" not in err, err
        assert code == CLOSED_PIPE, (command, err)
