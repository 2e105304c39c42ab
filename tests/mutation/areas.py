"""Which modules each area of the mutation run covers, as mutmut name globs.

A mutant is named ``<module>.<function>__mutmut_<n>`` (methods as
``<module>.xǁ<Class>ǁ<method>__mutmut_<n>``), so a module's glob is its
dotted name followed by ``.*``.  The four areas issue 14 measures come first;
the recorder and the queue/lease services are measured too but reported on
their own lines.
"""

from __future__ import annotations

import fnmatch


def _modules(*names: str) -> tuple[str, ...]:
    return tuple(f"{name}.*" for name in names)


_EVENTSTORE_CORE = _modules(
    "eventstore.store",
    "eventstore.backend",
    "eventstore.retry",
    "eventstore.streams",
    "eventstore.importing",
    "eventstore.envelope",
    "eventstore.errors",
    "adapters.memory",
)
_SQL = _modules(
    *(
        f"adapters.sql.{name}"
        for name in (
            "append",
            "engine",
            "follow.*",
            "importing",
            "migrations",
            "readmodels",
            "repair",
            "rows",
            "schema",
            "statements",
            "store",
        )
    )
)
_REDIS = _modules(
    *(
        f"adapters.redis.{name}"
        for name in (
            "calls",
            "connection",
            "entries",
            "importing",
            "keys",
            "readmodels",
            "scripts",
            "store",
        )
    )
)
_URLS = _modules(
    "adapters.urls",
    "adapters.stores",
    "adapters.options",
    "adapters.sql.settings",
    "adapters.redis.settings",
)
_CODEC = _modules("eventstore.codec", "projections.codec")

# Parts small enough for one run each (< 30 minutes here); an area is the
# union of its parts.
PARTS: dict[str, tuple[str, ...]] = {
    "store-core": _EVENTSTORE_CORE,
    "store-sql": _SQL,
    "store-redis": _REDIS,
    "codec": _CODEC,
    "urls": _URLS,
    "projections-hub": _modules("projections.hub.*", "projections.health", "projections.advisor"),
    "projections-metrics": _modules(
        "projections.metrics",
        "projections.rollup",
        "projections.deciders.retention",
        "projections.policy",
        "projections.keys",
        "projections.anomalies",
    ),
    "projections-runner": _modules(
        "projections.runner",
        "projections.folding",
        "projections.readmodel",
        "projections.reader",
        "projections.pointintime",
        "projections.tables",
        "projections.readmodel_store",
        "projections.errors",
    ),
    "projections-leases": _modules(
        "projections.deciders.leases.*", "projections.deciders.clock", "projections.deciders.loop"
    ),
    "projections-queue": _modules("projections.queue.*", "projections.deciders.queue.*"),
    "recorder": _modules("eventstore.recorder.*"),
}

_CONTRACT = (
    "tests/eventstore/contract/",
    "tests/adapters/test_boundary.py",
    "tests/eventstore/test_outages.py::test_a_crashed_server",
    "tests/eventstore/test_subscribe_outages.py",
)
# The read side's own suites: the modules directly in tests/projections/,
# the read-model storage contract, and retention (a decider, but of which
# raw samples the metrics read model keeps).  The queue's read model
# (tests/projections/queue/) is the queue part's, the advisor's tests the
# hub part's, and the rest of the write side (tests/projections/deciders/)
# the leases' and the queue's parts'.
_READ_SIDE = (
    "tests/projections/test_",
    "tests/projections/readmodels/",
    "tests/projections/deciders/test_retention",
)
_ADVISOR = "tests/projections/test_advisor"
_PROJECTIONS = (*_READ_SIDE, f"!{_ADVISOR}")
# The hub API's suites, but for the queue's figures in its summary (the queue part's).
_HUB_API = ("tests/adapters/hub/", "!tests/adapters/hub/test_queue_summary.py")


def _leave_out(*kinds: str) -> tuple[str, ...]:
    """Scope terms that drop the cases of these backends (ids such as
    ``[redis-trio]``, ``[asyncio-postgresql-…]``, ``::test_redis``)."""
    return tuple(f"!{mark}{kind}" for kind in kinds for mark in ("[", "-", "::test_"))


# The async library changes no line of the code under test (anyio's thread
# hop is anyio's): the parts run the asyncio cases.
_ASYNCIO_ONLY = ("!-trio", "![trio")

# Projection code is the same over every backend: its parts run the
# in-process ones (memory, SQLite); the server backends' own code is the
# store parts' business.
_PROJECTION_BACKENDS = (*_leave_out("postgresql", "redis"), *_ASYNCIO_ONLY)

# The tests each part runs (node-id prefixes, HUBLOG_MUTATION_SCOPE in
# tests/conftest.py): its area's own suites, not the whole suite, so a
# surviving mutant of a function every test calls (settings, the codec)
# costs a minute, not several.  A kill rate measured so is a lower bound.
SCOPES: dict[str, tuple[str, ...]] = {
    # tests/projections/readmodels/ for the memory read-model store (adapters/memory.py).
    "store-core": (
        *_CONTRACT,
        "tests/adapters/test_memory.py",
        "tests/eventstore/test_codec.py",
        "tests/projections/readmodels/",
        "tests/eventstore/test_streams.py",
        "tests/eventstore/test_retry.py",
        "tests/eventstore/test_subscribe_faults.py",
        "tests/adapters/sql/test_follow.py",  # a writer in another process: the wait must name the hub
        # The front is the same code over every backend: the in-process
        # ones run it; the server backends' cases are the other parts'.
        *_leave_out("postgresql", "redis"),
        *_ASYNCIO_ONLY,
    ),
    "store-sql": (
        *_CONTRACT,
        "tests/adapters/sql/",
        "tests/projections/readmodels/",
        *_leave_out("memory", "redis"),
        *_ASYNCIO_ONLY,
    ),
    "store-redis": (
        *_CONTRACT,
        "tests/adapters/redis/",
        "tests/projections/readmodels/",
        *_leave_out("memory", "sqlite", "postgresql"),
        *_ASYNCIO_ONLY,
    ),
    "codec": (
        "tests/eventstore/test_codec.py",
        "tests/eventstore/test_payload_compat.py",
        "tests/eventstore/contract/",
        "tests/adapters/test_boundary.py",
        *_PROJECTIONS,
        "!tests/projections/test_rebuild_model.py",
    ),
    # Not the adapters' fault suites: they restart servers (seconds a test)
    # and check no option the suites below do not.
    "urls": (
        "tests/adapters/test_urls.py",
        "tests/adapters/test_redaction.py",
        "tests/adapters/test_options.py",
        "tests/adapters/test_settings_messages.py",
        "tests/adapters/sql/test_sql_backend.py",
        "tests/adapters/redis/test_store.py",
        "tests/adapters/cli/test_errors.py",
    ),
    # The advisor's own tests: without them every advisor mutant ran no test
    # at all (2026-12-05: 330 of them).
    "projections-hub": (
        *_READ_SIDE,
        _ADVISOR,
        *_HUB_API,
        "tests/projections/deciders/leases/",
        "tests/projections/deciders/test_clock.py",
        *_PROJECTION_BACKENDS,
    ),
    "projections-metrics": (*_PROJECTIONS, *_PROJECTION_BACKENDS),
    "projections-runner": (*_PROJECTIONS, "tests/adapters/cli/", *_PROJECTION_BACKENDS),
    "projections-leases": (
        *_PROJECTIONS,
        "tests/projections/deciders/leases/",
        "tests/projections/deciders/test_clock.py",
        *_HUB_API,
        *_PROJECTION_BACKENDS,
    ),
    "projections-queue": (
        *_PROJECTIONS,
        "tests/projections/queue/",
        "tests/projections/deciders/queue/",
        "tests/adapters/hub/test_queue_summary.py",
        *_PROJECTION_BACKENDS,
    ),
    "recorder": (
        "tests/eventstore/recorder/",
        "tests/eventstore/test_outages.py::test_the_recorder",
        *_HUB_API,
    ),
}

AREAS: dict[str, tuple[str, ...]] = {
    "event-store contract and backends": ("store-core", "store-sql", "store-redis"),
    "codec": ("codec",),
    "projections": (
        "projections-hub",
        "projections-metrics",
        "projections-runner",
        "projections-leases",
        "projections-queue",
    ),
    "URL/redaction": ("urls",),
    "recorder (not one of issue 14's areas)": ("recorder",),
}


def part_of(mutant_name: str) -> str | None:
    """The part a mutant belongs to (the first whose globs match), or None."""
    for part, globs in PARTS.items():
        if any(fnmatch.fnmatchcase(mutant_name, glob) for glob in globs):
            return part
    return None
