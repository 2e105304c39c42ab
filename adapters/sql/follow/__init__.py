"""How an SQL subscriber learns, within milliseconds, that another process appended.

``subscribe`` (``eventstore/store.py``) reads a page, then waits in the
backend's ``_wait_for_events(hub_id, after, woken)``.  Appends in this
process set ``woken``; for appends by other processes each store has one
*follower*, made by :func:`follower_for`:

- **PostgreSQL** (:class:`.postgres.PostgresListener`): every append sends
  ``pg_notify(<the hub's channel>, <new head>)`` from its head upsert
  (inside the server-side ``hublog_advance`` of migration 0003, or
  :func:`.postgres.notify` on the step-by-step path; no extra round trip, delivered
  at commit, never for a rollback).  One dedicated connection per store listens on the channels
  of the hubs its subscribers wait on, in one thread blocked in ``select``.
- **SQLite** (:class:`.sqlite.SQLiteChangeCheck`): one dedicated connection per store
  reads ``PRAGMA data_version`` every ``change_check_interval`` (5 ms; 20 ms
  after a quiet second) while a subscriber waits; the number changes
  whenever another connection commits, and only then are the heads of the
  watched hubs read.

Both feed :class:`KnownHeads`: the newest head known per watched hub.  A
subscriber returns as soon as the known head passes its position, so an
append that lands between its read and its wait is not missed (the heads of
a hub are read once it is watched, and again after a lost connection).  The
poll stays as a safety net: a subscriber reads at least every
``poll_interval`` whatever the follower says.  Nothing here raises into the
API: a follower that fails reconnects with backoff, and meanwhile
subscribers fall back on the safety net.

Assumption: the event at a hub's head is never deleted (retention removes
only samples that a later rollup covers); otherwise a subscriber behind a
deleted tail re-reads until the next append.
"""

from __future__ import annotations

from .base import LOST, WAITERS, Follower, Signalled
from .choice import follower_for
from .heads import KnownHeads
from .postgres import PostgresListener, channel, notify
from .sqlite import SQLiteChangeCheck

__all__ = [
    "LOST",
    "WAITERS",
    "Follower",
    "KnownHeads",
    "PostgresListener",
    "SQLiteChangeCheck",
    "Signalled",
    "channel",
    "follower_for",
    "notify",
]
