"""The incident report in a real browser (headless Chromium): the charts
render with their data points, no console error, no network request."""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

import pytest

from tests.adapters.cli.conftest import hublog

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--enable-logging=stderr",
    "--v=0",
]
pytestmark = pytest.mark.skipif(
    CHROMIUM is None, reason="needs chromium (apt-get install -y chromium; .ci/run does)"
)


def chromium(tmp_path: Path, *args: str) -> subprocess.CompletedProcess[str]:
    profile = tmp_path / f"profile-{len(list(tmp_path.iterdir()))}"
    return subprocess.run(
        [str(CHROMIUM), *FLAGS, f"--user-data-dir={profile}", *args],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def test_the_report_renders_offline_in_chromium(sqlite_demo: str, tmp_path: Path) -> None:
    report = tmp_path / "incident.html"
    assert hublog("report", "-u", sqlite_demo, "-o", str(report)).code == 0

    dom = chromium(tmp_path, "--dump-dom", report.as_uri())
    shot = chromium(
        tmp_path,
        "--window-size=1366,2400",
        "--hide-scrollbars",
        f"--screenshot={tmp_path / 'report.png'}",
        report.as_uri(),
    )

    assert dom.returncode == 0, dom.stderr
    charts = re.findall(r'<svg class="chart".*?</svg>', dom.stdout, flags=re.DOTALL)
    assert len(charts) == 4  # the demo's three servers and the one the advisor added
    for chart in charts:
        points = [int(n) for n in re.findall(r'class="series" data-points="(\d+)"', chart)]
        assert len(points) == 3 and min(points) > 10
        assert chart.count('<circle class="point"') == sum(points)
        assert 'class="mark health-' in chart
    for log in (dom.stderr, shot.stderr):
        assert "CONSOLE" not in log and "Refused to" not in log  # CSP blocks and logs requests
        assert "net::ERR" not in log
    assert (tmp_path / "report.png").stat().st_size > 10_000
