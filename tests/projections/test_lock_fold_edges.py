"""The hub projection's lock table at its edges, folded from hand-made
events: the time a renewal or release is judged at (its ``decided_at``, if
the log can vouch for it), expiry at exactly the lease's end, what a change
by a non-holder or a late expiry records, word for word, and the lock's
``changed_at`` after every kind of event."""

from __future__ import annotations

from typing import Any

from eventstore import LockExpired, LockGranted, LockReleased, LockRenewed
from eventstore.envelope import RecordedEvent
from eventstore.events import Event
from projections import Anomaly, Holder, HubState, LeaseState
from projections import anomalies as kinds
from tests.projections import handmade
from tests.projections.handmade import at

TTL = 10.0
GPU = "lock/gpu"


class Log(handmade.Log):
    def add(self, event: Event, seconds: float, stream: str = GPU) -> RecordedEvent:
        return super().add(event, seconds, stream)

    def grant(self, seconds: float, owner: str = "a", token: int = 1, **kw: Any) -> RecordedEvent:
        expires = at(seconds + TTL)
        return self.add(
            LockGranted(owner=owner, token=token, ttl_s=TTL, expires_at=expires, **kw), seconds
        )


def the_lock(state: HubState) -> LeaseState:
    return state.locks["gpu"]


def anomalies(state: HubState) -> list[tuple[str, str]]:
    return [(a.kind, a.detail) for a in state.anomalies.values()]


def a_holder(owner: str, token: int, granted: float, expires: float, ttl: float = TTL) -> Holder:
    return Holder(
        owner=owner, token=token, granted_at=at(granted), expires_at=at(expires), ttl_s=ttl
    )


# -- the time a renewal is judged at ------------------------------------------


def test_a_renewal_decided_before_the_lease_ended_renews_though_recorded_after() -> None:
    log = Log()
    log.grant(0)
    renewed_until = at(40)
    log.add(
        LockRenewed(owner="a", token=1, ttl_s=30.0, expires_at=renewed_until, decided_at=at(9)), 15
    )
    lock = the_lock(log.state())
    assert lock.holders == (a_holder("a", 1, 0, 40, ttl=30.0),)
    assert lock.renewals == 1
    assert lock.changed_at == at(15)
    assert anomalies(log.state()) == []


def test_a_renewal_decided_at_exactly_the_lock_s_last_event_is_judged_then() -> None:
    # decided_at equal to the previous event's recorded_at is vouched for:
    # nothing can have come in between.
    log = Log()
    log.grant(0)
    log.add(LockRenewed(owner="a", token=1, ttl_s=TTL, expires_at=at(50), decided_at=at(0)), 20)
    assert the_lock(log.state()).holders == (a_holder("a", 1, 0, 50),)
    assert anomalies(log.state()) == []


def test_a_decided_at_before_the_lock_s_last_event_is_not_vouched_for() -> None:
    log = Log()
    log.grant(0)
    # claims a decision before the grant it renews: judged at recorded_at, too late
    log.add(LockRenewed(owner="a", token=1, ttl_s=TTL, expires_at=at(50), decided_at=at(-1)), 20)
    state = log.state()
    assert the_lock(state).holders == ()
    assert anomalies(state) == [(kinds.NOT_HOLDER, "renewed by 'a' after its lease expired")]


def test_a_decided_at_after_its_own_recorded_at_is_not_vouched_for() -> None:
    log = Log()
    log.grant(0)
    # recorded while the lease ran, claiming a decision after it ended
    log.add(LockRenewed(owner="a", token=1, ttl_s=TTL, expires_at=at(50), decided_at=at(11)), 9)
    state = log.state()
    assert the_lock(state).holders == (a_holder("a", 1, 0, 50),)
    assert anomalies(state) == []


def test_a_decided_at_on_a_lock_never_granted_is_folded_not_quarantined() -> None:
    log = Log()
    log.add(LockRenewed(owner="a", token=4, ttl_s=TTL, expires_at=at(50), decided_at=at(1)), 2)
    state = log.state()
    assert state.meta.quarantined == 0
    assert "gpu" not in state.locks  # a change to nothing creates no lock
    assert anomalies(state) == [
        (kinds.NOT_HOLDER, "renewed by 'a' with token 4, which holds no lease on 'gpu'")
    ]


# -- expiry at exactly the lease's end -----------------------------------------


def test_a_release_at_exactly_the_lease_s_end_comes_too_late() -> None:
    log = Log()
    log.grant(0)
    log.add(LockReleased(owner="a", token=1), TTL)
    state = log.state()
    assert the_lock(state).holders == ()
    assert the_lock(state).releases == 0
    assert the_lock(state).changed_at == at(TTL)
    assert anomalies(state) == [(kinds.NOT_HOLDER, "released by 'a' after its lease expired")]


def test_a_release_a_microsecond_before_the_end_releases() -> None:
    log = Log()
    log.grant(0)
    log.add(LockReleased(owner="a", token=1), TTL - 1e-6)
    state = log.state()
    assert the_lock(state).releases == 1
    assert anomalies(state) == []


def test_a_late_renewal_is_recorded_with_its_position_and_drops_the_holder() -> None:
    log = Log()
    log.grant(0, owner="a", token=1)
    log.grant(1, owner="b", token=2, capacity=2)
    late = log.add(LockRenewed(owner="a", token=1, ttl_s=TTL, expires_at=at(60)), 30)
    state = log.state()
    assert the_lock(state).holders == (a_holder("b", 2, 1, 11),)  # b's expiry is not seen yet
    assert list(state.anomalies.values()) == [
        Anomaly(
            position=late.position,
            stream=GPU,
            event_type="LockRenewed",
            kind=kinds.NOT_HOLDER,
            detail="renewed by 'a' after its lease expired",
            recorded_at=at(30),
        )
    ]
    assert state.meta.anomaly_counts == {kinds.NOT_HOLDER: 1}


# -- changes by a non-holder ------------------------------------------------------


def test_a_release_by_a_non_holder_of_a_known_lock_is_recorded_and_touches_the_lock() -> None:
    log = Log()
    log.grant(0)
    log.add(LockReleased(owner="b", token=1), 2)
    state = log.state()
    lock = the_lock(state)
    assert lock.holders == (a_holder("a", 1, 0, TTL),)
    assert (lock.releases, lock.changed_at) == (0, at(2))
    assert anomalies(state) == [
        (kinds.NOT_HOLDER, "released by 'b' with token 1, which holds no lease on 'gpu'")
    ]


def test_a_change_by_a_non_holder_of_an_unknown_lock_adds_no_lock() -> None:
    log = Log()
    log.grant(0)
    log.add(LockReleased(owner="a", token=1), 1, stream="lock/tpu")
    state = log.state()
    assert set(state.locks) == {"gpu"}
    assert anomalies(state) == [
        (kinds.NOT_HOLDER, "released by 'a' with token 1, which holds no lease on 'tpu'")
    ]


# -- expiries ------------------------------------------------------------------------


def test_an_expiry_of_a_token_never_granted_is_recorded() -> None:
    log = Log()
    log.grant(0, token=3)
    log.add(LockExpired(owner="a", token=4), 20)
    state = log.state()
    assert anomalies(state) == [(kinds.NOT_HOLDER, "expiry of token 4, never granted")]
    assert the_lock(state).changed_at == at(20)


def test_an_expiry_of_the_last_token_after_its_release_is_no_anomaly() -> None:
    log = Log()
    log.grant(0, owner="a", token=1)
    log.add(LockReleased(owner="a", token=1), 5)
    log.add(LockExpired(owner="a", token=1), 12)
    state = log.state()
    lock = the_lock(state)
    assert anomalies(state) == []
    assert (lock.holders, lock.releases, lock.expiries, lock.changed_at) == ((), 1, 0, at(12))


def test_an_expiry_already_dropped_by_a_grant_still_moves_changed_at() -> None:
    log = Log()
    log.grant(0, owner="a", token=1)
    log.grant(20, owner="b", token=2)
    log.add(LockExpired(owner="a", token=1), 25)
    lock = the_lock(log.state())
    assert lock.changed_at == at(25)
    assert lock.holders == (a_holder("b", 2, 20, 30),)


def test_an_early_expiry_names_both_times() -> None:
    log = Log()
    log.grant(0)
    log.add(LockExpired(owner="a", token=1), 4)
    state = log.state()
    assert anomalies(state) == [
        (kinds.EXPIRED_EARLY, f"expired at {at(4)}, lease ran to {at(TTL)}")
    ]
    lock = the_lock(state)
    assert (lock.holders, lock.expiries, lock.changed_at) == ((), 1, at(4))


def test_the_lock_s_changed_at_follows_each_renewal_and_release() -> None:
    log = Log()
    log.grant(0)
    log.add(LockRenewed(owner="a", token=1, ttl_s=TTL, expires_at=at(15)), 5)
    assert the_lock(log.state()).changed_at == at(5)
    log.add(LockReleased(owner="a", token=1), 7)
    lock = the_lock(log.state())
    assert (lock.changed_at, lock.renewals, lock.releases, lock.holders) == (at(7), 1, 1, ())


# -- grants ------------------------------------------------------------------------


def test_a_grant_past_capacity_and_with_an_old_token_records_both_in_words() -> None:
    log = Log()
    log.grant(0, owner="a", token=5)
    log.grant(1, owner="b", token=5)  # a is live: two holders of a mutex
    state = log.state()
    assert anomalies(state) == [
        (kinds.TOKEN_NOT_INCREASING, "token 5 after token 5"),
        (kinds.OVER_CAPACITY, "2 live holders, capacity 1"),
    ]
    lock = the_lock(state)
    assert [h.owner for h in lock.holders] == ["a", "b"]
    assert lock.last_token == 5
