"""A process's peak resident set size, for the figures run in fresh processes."""

from __future__ import annotations

import resource


def peak_rss_mib() -> float:
    """VmHWM, not getrusage's ru_maxrss: Linux carries a parent's peak across
    fork and exec into the child's maxrss, so every child started from the
    (bigger) suite would report the suite's figure."""
    try:
        with open("/proc/self/status") as status:
            for line in status:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) / 1024
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # KiB on Linux
