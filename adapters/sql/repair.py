"""Counters lowered behind hublog's back: a hub head or a stream version
below what the log holds (a restore of one table, a hand-made UPDATE).

Positions and versions are taken from the counters, so a lowered one makes
every later append collide with rows that exist and fail.  The append calls
:func:`raise_counters` when its insert collides and the batch is not a retry:
each counter goes up to what the log proves, never down (retention removes
samples, so the log may hold less than a counter), and the append is tried
again once.
"""

from __future__ import annotations

import sqlalchemy as sa

from .schema import events, hubs, streams


def raise_counters(conn: sa.Connection, hub_id: str, stream: str) -> bool:
    """Raise the hub's head and ``stream``'s version to the log's own
    maxima, in one transaction; True when one was behind."""
    with conn.begin():
        last_position = sa.select(sa.func.max(events.c.position)).where(events.c.hub_id == hub_id)
        last_version = sa.select(sa.func.max(events.c.version)).where(
            events.c.hub_id == hub_id, events.c.stream == stream
        )
        head = conn.execute(
            hubs.update()
            .where(hubs.c.hub_id == hub_id, hubs.c.head < last_position.scalar_subquery())
            .values(head=last_position.scalar_subquery())
        ).rowcount
        version = conn.execute(
            streams.update()
            .where(
                streams.c.hub_id == hub_id,
                streams.c.stream == stream,
                streams.c.version < last_version.scalar_subquery(),
            )
            .values(version=last_version.scalar_subquery())
        ).rowcount
    return bool(head or version)
