"""The incident report as one self-contained HTML file: inline CSS and SVG,
no script, no font or image from anywhere (a Content-Security-Policy says
so, and a browser would block and log any request).  Beside each figure,
the ``hublog`` command that shows the same from the log."""

from __future__ import annotations

import shlex
from datetime import datetime
from html import escape
from typing import Any

from . import svg
from .lines import timestamp
from .report import ReportData, StatusChange
from .timeline import duration

CSP = "default-src 'none'; style-src 'unsafe-inline'; img-src data:"

CSS = """
body{font:14px/1.45 system-ui,-apple-system,"Segoe UI",sans-serif;color:#1d2430;margin:0;
  background:#f6f7f9}
main{max-width:1280px;margin:0 auto;padding:20px 28px}
h1{font-size:22px;margin:0 0 4px}h2{font-size:17px;margin:28px 0 8px;border-bottom:1px solid #d5d9e0}
.sub{color:#5a6472;margin:0 0 16px}
.partial{color:#8a4b00;margin:0 0 16px}
.grid{display:grid;grid-template-columns:minmax(0,3fr) minmax(220px,1fr);gap:16px;align-items:start}
.card{background:#fff;border:1px solid #dde1e7;border-radius:6px;padding:12px 14px;
  break-inside:avoid}
aside.cmd{font-size:12px;color:#3b4452}
aside.cmd pre{white-space:pre-wrap;word-break:break-all;background:#eef1f5;padding:6px 8px;
  border-radius:4px;margin:4px 0 10px;font:12px/1.4 ui-monospace,Menlo,Consolas,monospace}
table{border-collapse:collapse;width:100%;font-size:13px}
th,td{text-align:left;padding:4px 8px;border-bottom:1px solid #e6e9ee;vertical-align:top}
th{background:#f0f2f5;font-weight:600}td.num{text-align:right;font-variant-numeric:tabular-nums}
.kpis{display:flex;flex-wrap:wrap;gap:10px;margin:0;padding:0;list-style:none}
.kpis li{background:#fff;border:1px solid #dde1e7;border-radius:6px;padding:8px 12px;min-width:120px}
.kpis b{display:block;font-size:20px}
.legend span{display:inline-block;margin-right:12px;font-size:12px}
.legend i{display:inline-block;width:14px;height:3px;vertical-align:middle;margin-right:4px}
svg.chart{display:block;max-width:100%;height:auto}
svg .frame{fill:none;stroke:#c3c9d2;stroke-width:1}svg .grid{stroke:#eceff3;stroke-width:1}
svg .series{fill:none;stroke-width:1.6}
svg text{font:11px system-ui,sans-serif;fill:#4a5361}svg .panel-title{font-weight:600;fill:#1d2430}
svg .empty{fill:#8a93a0;font-style:italic}
svg .mark{stroke-width:1.4}svg .mark-label{font-size:10px}
.health-healthy{stroke:#2e9d4f;fill:#2e9d4f;background:#2e9d4f}
.health-degraded{stroke:#d98a00;fill:#d98a00;background:#d98a00}
.health-unhealthy{stroke:#d0312d;fill:#d0312d;background:#d0312d}
.health-unknown,.health-stopped,.registered,.deregistered{stroke:#7a8594;fill:#7a8594;background:#7a8594}
.recovered{stroke:#1f78b4;fill:#1f78b4;background:#1f78b4;stroke-dasharray:4 3}
.recovery-failed{stroke:#8e44ad;fill:#8e44ad;background:#8e44ad;stroke-dasharray:2 2}
.lease-granted{stroke:#3b6fd6;background:#3b6fd6}.lease-released{stroke:#a9b4c4;background:#a9b4c4}
.lease-expired{stroke:#c2185b;background:#c2185b;stroke-width:2.5}
.status{font-weight:600}.status.healthy{color:#2e7d32}.status.degraded{color:#b26a00}
.status.unhealthy{color:#c62828}
@media (max-width:1000px){.grid{grid-template-columns:1fr}}
@media print{body{background:#fff;font-size:11px}main{padding:0;max-width:none}
  .grid{grid-template-columns:1fr}.card{border:none;padding:0}aside.cmd pre{background:none;
  border:1px solid #ccc}h2{break-after:avoid}}
"""


def render(data: ReportData) -> str:
    body = [_header(data), _summary(data)]
    body += [_instance(data, iid) for iid in data.instances]
    body += [_changes(data), _anomalies(data)]
    return (
        '<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8">\n'
        f'<meta http-equiv="Content-Security-Policy" content="{CSP}">\n'
        '<meta name="viewport" content="width=device-width, initial-scale=1">\n'
        f"<title>hublog incident report: {escape(data.hub_id)}</title>\n"
        f"<style>{CSS}</style></head>\n<body><main>\n"
        + "\n".join(body)
        + "\n</main></body></html>\n"
    )


def command(data: ReportData, *args: str) -> str:
    """The shell command that shows the same, on the same log and window."""
    words = ["hublog", "--url", data.url, *args]
    return escape(" ".join(shlex.quote(w) for w in words))


def _window(data: ReportData) -> list[str]:
    """The window as positions: exact whatever the clocks say."""
    return ["--from-position", str(data.after + 1), "--to-position", str(data.last)]


def _hub_times(data: ReportData) -> list[str]:
    """The window by the hub's own clock, which metrics are filtered by."""
    return ["--since", _iso(data.start), "--until", _iso(data.end)]


def _iso(when: datetime) -> str:
    return when.isoformat().replace("+00:00", "Z")


def _header(data: ReportData) -> str:
    span = duration((data.end - data.start).total_seconds())
    return (
        f"<h1>Incident report: hub {escape(data.hub_id)}</h1>\n"
        f'<p class="sub">{timestamp(data.start)} to {timestamp(data.end)} UTC ({span}), log '
        f"positions {data.after + 1}–{data.last} of {escape(data.url)}. Times are the hub's own "
        "(check and sample times; other events placed by the log's clock).</p>"
        + (f'<p class="partial"><b>{escape(data.partial)}</b></p>' if data.partial else "")
    )


def _summary(data: ReportData) -> str:
    end, before = data.at_end.summary, data.before.summary
    recoveries = data.counts.get("InstanceRecovered", 0)
    kpis = [
        ("events", sum(data.counts.values())),
        ("status changes", len(data.changes)),
        ("recoveries", f"{recoveries} (+{data.counts.get('RecoveryFailed', 0)} failed)"),
        ("available at end", _available(data, end)),
        ("available at start", _available(data, before)),
        ("lease grants", data.counts.get("LockGranted", 0)),
        ("lease expiries", data.counts.get("LockExpired", 0)),
        ("anomalies", len(data.anomalies)),
    ]
    items = "".join(f"<li>{escape(k)}<b>{escape(str(v))}</b></li>" for k, v in kpis)
    by_type = ", ".join(f"{escape(t)} {n}" for t, n in sorted(data.counts.items()))
    cmd = command(data, "state", "--hub", data.hub_id, "--at", f"@{data.last}")
    diff = command(data, "diff", "--hub", data.hub_id, f"@{data.after}", f"@{data.last}")
    return (
        '<h2>Summary</h2><div class="grid"><div class="card">'
        f'<ul class="kpis">{items}</ul><p>Events by type: {by_type}.</p></div>'
        f'<aside class="cmd">State at the end:<pre>{cmd}</pre>What changed:<pre>{diff}</pre>'
        "</aside></div>"
    )


def _available(data: ReportData, summary: Any) -> str:
    if data.partial:  # instances registered before the log starts are not counted
        return "unknown (partial log)"
    return f"{summary.available}/{summary.registered}"


LEGEND = (
    ("health-healthy", "→ healthy"),
    ("health-degraded", "→ degraded"),
    ("health-unhealthy", "→ unhealthy"),
    ("recovered", "recovered"),
    ("recovery-failed", "recovery failed"),
    ("lease-granted", "lease granted"),
    ("lease-released", "lease released"),
    ("lease-expired", "lease expired"),
)


def _instance(data: ReportData, iid: str) -> str:
    series = data.instances[iid]
    axis = svg.Axis(data.start, data.end)
    panels = [
        svg.Series("response time", "ms, mean", series.response_ms, "#1f77b4"),
        svg.Series("error rate", "% of requests", series.error_rate, "#d62728"),
        svg.Series("load", "cpu %", series.cpu, "#2ca02c"),
    ]
    chart = svg.chart(axis, panels, series.marks, f"metrics of {iid}")
    legend = "".join(f'<span><i class="{k}"></i>{escape(t)}</span>' for k, t in LEGEND)
    metrics = command(data, "metrics", "--hub", data.hub_id, "--instance", iid, *_hub_times(data))
    timeline = command(data, "timeline", "--hub", data.hub_id, "--instance", iid)
    events = command(data, "events", "--hub", data.hub_id, "--instance", iid, *_window(data))
    return (
        f"<h2>Instance {escape(iid)}</h2>"
        f'<div class="grid"><figure class="card" style="margin:0">{chart}'
        f'<figcaption class="legend">{legend}</figcaption></figure>'
        f'<aside class="cmd">These metrics:<pre>{metrics}</pre>Health, recoveries, leases:'
        f"<pre>{timeline}</pre>Every event:<pre>{events}</pre></aside></div>"
    )


def _changes(data: ReportData) -> str:
    rows = "".join(_change_row(c) for c in data.changes) or (
        '<tr><td colspan="7">no status changes in this window</td></tr>'
    )
    cmd = command(data, "events", "--hub", data.hub_id, "--type", "HealthChanged", *_window(data))
    return (
        '<h2>Status changes</h2><div class="grid"><div class="card"><table><thead><tr>'
        "<th>time (UTC)</th><th>instance</th><th>from</th><th>to</th><th>lasted</th>"
        f"<th>reason</th><th>position</th></tr></thead><tbody>{rows}</tbody></table></div>"
        f'<aside class="cmd">The same:<pre>{cmd}</pre></aside></div>'
    )


def _change_row(c: StatusChange) -> str:
    lasted = "-" if c.seconds is None else duration(c.seconds)
    return (
        f"<tr><td>{timestamp(c.at)}</td><td>{escape(c.instance_id)}</td>"
        f'<td class="status {c.from_status}">{c.from_status}</td>'
        f'<td class="status {c.to_status}">{c.to_status}</td><td class="num">{lasted}</td>'
        f'<td>{escape(c.reason)}</td><td class="num">{c.position}</td></tr>'
    )


def _anomalies(data: ReportData) -> str:
    rows = (
        "".join(
            f'<tr><td class="num">{a.position}</td><td>{escape(a.stream)}</td>'
            f"<td>{escape(a.event_type)}</td><td>{escape(a.kind)}</td><td>{escape(a.detail)}</td></tr>"
            for a in data.anomalies
        )
        or '<tr><td colspan="5">the projections found no anomaly in this window</td></tr>'
    )
    cmd = command(data, "verify", "--hub", data.hub_id, "--projections")
    return (
        '<h2>Anomalies</h2><div class="grid"><div class="card"><table><thead><tr>'
        "<th>position</th><th>stream</th><th>event</th><th>kind</th><th>detail</th></tr></thead>"
        f'<tbody>{rows}</tbody></table></div><aside class="cmd">Check the log and read models:'
        f"<pre>{cmd}</pre></aside></div>"
    )
