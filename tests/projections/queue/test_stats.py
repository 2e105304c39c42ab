"""The queue read model's fold, field by field: what each queue event
counts, the waits it keeps (the latest ``HISTORY``), the nearest-rank
percentiles at exact quantiles, and the summary the hub API reports."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from eventstore import streams
from eventstore.envelope import RecordedEvent
from eventstore.events import (
    QueuedRequest,
    QueueStateSaved,
    RequestAbandoned,
    RequestExpired,
    RequestGranted,
    RequestQueued,
    RequestRenewed,
)
from projections.queue.stats import HISTORY, QueueStats, Wait, apply, ended, fold

HUB = "ollama-pool"
BASE = datetime(2026, 1, 1, tzinfo=UTC)


def t(seconds: float) -> datetime:
    return BASE + timedelta(seconds=seconds)


def waiter(request_id: str, queued: float) -> QueuedRequest:
    return QueuedRequest(
        request_id=request_id,
        owner="o",
        ttl_s=30.0,
        heartbeat_s=5.0,
        queued_at=t(queued),
        expires_at=t(queued + 5),
    )


def record(event: Any, position: int = 1, at: float = 50.0) -> RecordedEvent:
    return RecordedEvent(
        HUB, streams.queue(), position, position, event.event_id, type(event).__name__, 1, t(at),
        event=event,
    )  # fmt: skip


def granted(queued: float, decided: float, *waiting: QueuedRequest) -> RequestGranted:
    return RequestGranted(
        request_id="g",
        owner="o",
        instance_id="a",
        token=1,
        free=1,
        queued_at=t(queued),
        decided_at=t(decided),
        waiting=waiting,
    )


def abandoned(queued: float, decided: float, reason: str = "timeout") -> RequestAbandoned:
    return RequestAbandoned(
        request_id="r", owner="o", reason=reason, queued_at=t(queued), decided_at=t(decided)
    )


def expired(queued: float, decided: float) -> RequestExpired:
    return RequestExpired(
        request_id="r",
        owner="o",
        expires_at=t(queued + 5),
        queued_at=t(queued),
        decided_at=t(decided),
    )


def folded(events: Iterable[Any], stats: QueueStats | None = None) -> QueueStats:
    return fold((record(e, i) for i, e in enumerate(events, 1)), stats)


A, B = waiter("a", 1.0), waiter("b", 2.0)


# --- apply --------------------------------------------------------------------


def test_a_queued_request_counts_one_and_sets_the_depth_and_the_oldest() -> None:
    event = RequestQueued(request=B, decided_at=t(2), waiting=(A, B))
    assert apply(QueueStats(), record(event, position=5, at=4)) == QueueStats(
        position=5, depth=2, oldest_queued_at=t(1), as_of=t(4), queued=1
    )
    assert apply(QueueStats(queued=3), record(event, position=5, at=4)).queued == 4


def test_a_renewal_moves_the_position_and_counts_nothing() -> None:
    event = RequestRenewed(
        request_id="b", owner="o", expires_at=t(9), decided_at=t(3), waiting=(B,)
    )
    before = QueueStats(queued=2, granted=1, waits=(Wait(ended_at=t(1), waited_s=1, outcome="x"),))
    assert apply(before, record(event, position=6, at=3.5)) == QueueStats(
        position=6, depth=1, oldest_queued_at=t(2), as_of=t(3.5), queued=2, granted=1,
        waits=before.waits,
    )  # fmt: skip


def test_a_grant_after_a_wait_counts_one_grant_and_keeps_its_wait() -> None:
    before = QueueStats(
        granted=2, granted_at_once=1, waits=(Wait(ended_at=t(0), waited_s=9, outcome="expired"),)
    )
    after = apply(before, record(granted(1, 3.5, B), position=8, at=3.75))
    assert after == QueueStats(
        position=8, depth=1, oldest_queued_at=t(2), as_of=t(3.75), granted=3, granted_at_once=1,
        waits=(*before.waits, Wait(ended_at=t(3.5), waited_s=2.5, outcome="granted")),
    )  # fmt: skip


def test_a_grant_that_never_waited_is_counted_as_granted_at_once() -> None:
    after = apply(QueueStats(granted=2, granted_at_once=1), record(granted(3, 3), position=2))
    assert after == QueueStats(
        position=2, as_of=t(50), granted=3, granted_at_once=2,
        waits=(Wait(ended_at=t(3), waited_s=0.0, outcome="granted"),),
    )  # fmt: skip


def test_an_abandonment_counts_one_and_keeps_its_wait_with_the_reason() -> None:
    after = apply(QueueStats(abandoned=4), record(abandoned(1, 1.25, "cancelled"), position=3))
    assert after == QueueStats(
        position=3, as_of=t(50), abandoned=5,
        waits=(Wait(ended_at=t(1.25), waited_s=0.25, outcome="cancelled"),),
    )  # fmt: skip


def test_an_expiry_counts_one_and_keeps_its_wait() -> None:
    event = RequestExpired(
        request_id="r", owner="o", expires_at=t(6), queued_at=t(1), decided_at=t(6.5),
        waiting=(A, B),
    )  # fmt: skip
    after = apply(QueueStats(expired=1), record(event, position=4, at=7))
    assert after == QueueStats(
        position=4, depth=2, oldest_queued_at=t(1), as_of=t(7), expired=2,
        waits=(Wait(ended_at=t(6.5), waited_s=5.5, outcome="expired"),),
    )  # fmt: skip


def test_an_event_that_is_not_a_reservation_event_changes_nothing() -> None:
    before = QueueStats(position=3, depth=1, queued=1)
    assert apply(before, record(QueueStateSaved(state={}), position=9)) is before


def test_the_waits_kept_are_the_latest_two_hundred() -> None:
    assert HISTORY == 200
    grants = [granted(0, 1 + i / 1000) for i in range(HISTORY + 1)]
    waits = [Wait(ended_at=g.decided_at, waited_s=(g.decided_at - t(0)).total_seconds(),
                  outcome="granted") for g in grants]  # fmt: skip
    assert folded(grants[:HISTORY]).waits == tuple(waits[:HISTORY])
    assert folded(grants).waits == tuple(waits[1:])
    assert folded(grants).granted == HISTORY + 1


# --- ended --------------------------------------------------------------------


def test_the_wait_a_request_ended_names_how_it_ended() -> None:
    assert ended(granted(1, 1.5)) == Wait(ended_at=t(1.5), waited_s=0.5, outcome="granted")
    assert ended(abandoned(1, 1.75)) == Wait(ended_at=t(1.75), waited_s=0.75, outcome="timeout")
    assert ended(abandoned(1, 2, "failed")) == Wait(ended_at=t(2), waited_s=1.0, outcome="failed")
    assert ended(expired(1, 1.5)) == Wait(ended_at=t(1.5), waited_s=0.5, outcome="expired")


def test_a_decision_stamped_before_its_request_joined_waited_nothing() -> None:
    assert ended(granted(2, 1.5)) == Wait(ended_at=t(1.5), waited_s=0.0, outcome="granted")


def test_events_that_end_no_wait_have_none() -> None:
    assert ended(RequestQueued(request=A, decided_at=t(1))) is None
    assert (
        ended(RequestRenewed(request_id="a", owner="o", expires_at=t(9), decided_at=t(1))) is None
    )
    assert ended(QueueStateSaved(state={})) is None


# --- fold ---------------------------------------------------------------------


def test_a_fold_goes_on_from_the_stats_it_is_given() -> None:
    events = [RequestQueued(request=A, decided_at=t(1), waiting=(A,)), granted(1, 2)]
    start = QueueStats(queued=5, granted=1)
    assert folded(events, start) == QueueStats(
        position=2, as_of=t(50), queued=6, granted=2,
        waits=(Wait(ended_at=t(2), waited_s=1.0, outcome="granted"),),
    )  # fmt: skip
    assert folded(events) == QueueStats(
        position=2, as_of=t(50), queued=1, granted=1,
        waits=(Wait(ended_at=t(2), waited_s=1.0, outcome="granted"),),
    )  # fmt: skip
    assert folded([]) == QueueStats()
    assert folded([], start) is start


# --- oldest_wait_s ------------------------------------------------------------


def test_the_oldest_wait_is_measured_to_the_last_event_by_default() -> None:
    stats = QueueStats(oldest_queued_at=t(1), as_of=t(3.5))
    assert stats.oldest_wait_s() == 2.5
    assert stats.oldest_wait_s(t(1.25)) == 0.25
    assert stats.oldest_wait_s(t(0.5)) == 0.0  # a clock behind the queue's
    assert QueueStats(oldest_queued_at=t(1)).oldest_wait_s() == 0.0


def test_an_empty_queue_has_no_oldest_wait() -> None:
    assert QueueStats(as_of=t(3)).oldest_wait_s() == 0.0
    assert QueueStats(as_of=t(3)).oldest_wait_s(t(9)) == 0.0


# --- percentiles --------------------------------------------------------------


def granted_waits(*waited: float) -> QueueStats:
    waits = [Wait(ended_at=t(0), waited_s=w, outcome="granted") for w in waited]
    others = [Wait(ended_at=t(0), waited_s=100, outcome="timeout"),
              Wait(ended_at=t(0), waited_s=0.5, outcome="expired")]  # fmt: skip
    return QueueStats(waits=(others[0], *waits, others[1]))


@pytest.mark.parametrize(
    ("q", "expected"),
    [(0.0, 1.0), (0.25, 1.0), (0.26, 2.0), (0.5, 2.0), (0.51, 3.0), (0.75, 3.0), (1.0, 4.0)],
)
def test_a_percentile_is_the_nearest_rank_of_the_granted_waits(q: float, expected: float) -> None:
    assert granted_waits(4, 1, 3, 2).wait_percentile_s(q) == expected


def test_the_named_percentiles_at_exact_quantiles() -> None:
    ten = granted_waits(*range(10, 0, -1))
    assert (ten.wait_p50_s, ten.wait_p90_s, ten.wait_p99_s, ten.wait_max_s) == (5, 9, 10, 10)
    hundred = granted_waits(*range(1, 101))
    assert (hundred.wait_p50_s, hundred.wait_p90_s, hundred.wait_p99_s) == (50, 90, 99)
    assert hundred.wait_max_s == 100
    two = granted_waits(7, 3)
    assert (two.wait_p50_s, two.wait_p90_s, two.wait_max_s) == (3, 7, 7)


def test_no_granted_waits_have_every_percentile_zero() -> None:
    stats = QueueStats(waits=(Wait(ended_at=t(0), waited_s=3, outcome="timeout"),))
    assert (stats.wait_p50_s, stats.wait_max_s, QueueStats().wait_p99_s) == (0.0, 0.0, 0.0)


@given(
    waits=st.lists(st.floats(min_value=0, max_value=1e6), min_size=1, max_size=30),
    q=st.floats(min_value=0, max_value=1, exclude_min=True),
)
def test_a_percentile_is_the_least_wait_that_at_least_q_of_the_waits_do_not_exceed(
    waits: list[float], q: float
) -> None:
    got = granted_waits(*waits).wait_percentile_s(q)
    assert got in waits
    assert sum(w <= got for w in waits) >= q * len(waits)
    assert sum(w < got for w in waits) < q * len(waits)


# --- summary ------------------------------------------------------------------


def test_the_summary_rounds_every_time_to_the_millisecond() -> None:
    stats = QueueStats(
        depth=3, oldest_queued_at=t(1), as_of=t(3.1234567), granted=4, granted_at_once=1,
        abandoned=2, expired=1, queued=9,
        waits=tuple(Wait(ended_at=t(0), waited_s=w, outcome="granted")
                    for w in (0.1111111, 0.2226666, 0.3334444, 1.2345678)),
    )  # fmt: skip
    assert stats.summary() == {
        "depth": 3,
        "oldest_wait_s": 2.123,
        "oldest_queued_at": "2026-01-01T00:00:01+00:00",
        "granted": 4,
        "abandoned": 2,
        "expired": 1,
        "wait_p50_s": 0.223,
        "wait_p90_s": 1.235,
        "wait_p99_s": 1.235,
        "wait_max_s": 1.235,
    }
    assert stats.summary(t(1.0006666))["oldest_wait_s"] == 0.001


def test_the_summary_of_an_empty_queue() -> None:
    assert QueueStats(as_of=t(3)).summary(t(4)) == {
        "depth": 0,
        "oldest_wait_s": 0.0,
        "oldest_queued_at": None,
        "granted": 0,
        "abandoned": 0,
        "expired": 0,
        "wait_p50_s": 0.0,
        "wait_p90_s": 0.0,
        "wait_p99_s": 0.0,
        "wait_max_s": 0.0,
    }
