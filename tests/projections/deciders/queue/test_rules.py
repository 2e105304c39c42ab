"""The queue's pure rules, state and matching, event by event and field by
field: who has expired at a decision time (a heartbeat that ran out exactly
then has), what each change writes, the FIFO rule at its boundary, and which
instances can serve which requirements.

Events carry a fresh ``event_id`` each; comparisons set it to one value on
both sides (:func:`plain`) and compare everything else.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, datetime, timedelta
from typing import Any
from uuid import UUID

import pytest
from hypothesis import given
from hypothesis import strategies as st
from msgspec.structs import replace

from eventstore import streams
from eventstore.envelope import RecordedEvent
from eventstore.events import (
    QueuedRequest,
    QueueEvent,
    QueueStateSaved,
    RequestAbandoned,
    RequestExpired,
    RequestGranted,
    RequestQueued,
    RequestRenewed,
    Requirements,
)
from eventstore.values import DockerConfig, OllamaConfig, ResourceStatus, ResourceType
from projections.deciders.queue import InvalidReservation, rules
from projections.deciders.queue.match import matches, models_of, requirements_of
from projections.deciders.queue.state import QueueView
from projections.hub.state import InstanceState

HUB = "ollama-pool"
BASE = datetime(2026, 1, 1, tzinfo=UTC)
ZERO = UUID(int=0)
ANYTHING = Requirements()
GPU = Requirements(tags=("gpu",))
DOCKER = Requirements(resource_type=ResourceType.DOCKER)


def t(seconds: float) -> datetime:
    return BASE + timedelta(seconds=seconds)


def waiter(
    request_id: str,
    *,
    queued: float = 0.0,
    expires: float = 100.0,
    heartbeat: float = 5.0,
    requirements: Requirements = ANYTHING,
) -> QueuedRequest:
    return QueuedRequest(
        request_id=request_id,
        owner=f"owner-{request_id}",
        requirements=requirements,
        ttl_s=30.0,
        heartbeat_s=heartbeat,
        queued_at=t(queued),
        expires_at=t(expires),
    )


def instance(
    instance_id: str = "a",
    *,
    resource_type: ResourceType = ResourceType.OLLAMA,
    tags: Iterable[str] = (),
    capabilities: Iterable[str] = (),
    models: list[str] | None = None,
) -> InstanceState:
    return InstanceState(
        id=instance_id,
        name=instance_id,
        resource_type=resource_type,
        endpoint="http://x",
        status=ResourceStatus.HEALTHY,
        tags=frozenset(tags),
        capabilities=frozenset(capabilities),
        config=None if models is None else OllamaConfig(models=models),
        created_at=BASE,
        updated_at=BASE,
        registered_at=BASE,
    )


def queue(*waiting: QueuedRequest) -> QueueView:
    return QueueView(hub_id=HUB, version=7, waiting=waiting, changed_at=t(0))


def plain(events: Iterable[QueueEvent]) -> list[QueueEvent]:
    return [replace(e, event_id=ZERO) for e in events]


def expired(w: QueuedRequest, at: datetime, waiting: tuple[QueuedRequest, ...]) -> RequestExpired:
    return RequestExpired(
        request_id=w.request_id,
        owner=w.owner,
        expires_at=w.expires_at,
        queued_at=w.queued_at,
        decided_at=at,
        waiting=waiting,
    )


# --- QueueView ----------------------------------------------------------------


def test_a_waiter_whose_heartbeat_ran_out_exactly_at_the_decision_time_is_not_live() -> None:
    a, b, c = waiter("a", expires=5), waiter("b", expires=4), waiter("c", expires=6)
    assert queue(a, b, c).live(t(5)) == (c,)
    assert queue(a, b, c).live(t(4.5)) == (a, c)


def test_find_returns_the_waiter_with_that_id_or_none() -> None:
    a, b = waiter("a"), waiter("b")
    assert queue(a, b).find("b") is b
    assert queue(a, b).find("a") is a
    assert queue(a, b).find("gone") is None
    assert queue().find("a") is None


def test_ahead_of_a_waiter_are_the_live_older_ones() -> None:
    a, b, c, d = waiter("a"), waiter("b", expires=5), waiter("c"), waiter("d")
    view = queue(a, b, c, d)
    assert view.ahead_of("c", t(5)) == (a,)  # b ran out exactly at 5
    assert view.ahead_of("c", t(4)) == (a, b)
    assert view.ahead_of("a", t(5)) == ()
    assert view.ahead_of("d", t(5)) == (a, c)


def test_ahead_of_a_request_not_in_the_queue_is_every_live_waiter() -> None:
    a, b, c = waiter("a"), waiter("b", expires=5), waiter("c")
    assert queue(a, b, c).ahead_of(None, t(5)) == (a, c)
    assert queue(a, b, c).ahead_of("newcomer", t(1)) == (a, b, c)


# --- expire, reap -------------------------------------------------------------


def test_a_waiter_whose_heartbeat_ran_out_exactly_at_the_decision_time_is_expired() -> None:
    a, b = waiter("a", queued=1, expires=5), waiter("b", queued=2, expires=6)
    events, left = rules.expire(queue(a, b), t(5))
    assert plain(events) == plain([expired(a, t(5), (b,))])
    assert left == (b,)


def test_each_expiry_lists_the_waiters_left_after_it() -> None:
    a = waiter("a", queued=1, expires=3)
    b = waiter("b", queued=2, expires=9)
    c = waiter("c", queued=3, expires=4)
    d = waiter("d", queued=4, expires=9)
    events, left = rules.expire(queue(a, b, c, d), t(4))
    assert plain(events) == plain([expired(a, t(4), (b, c, d)), expired(c, t(4), (b, d))])
    assert left == (b, d)


def test_nothing_expires_while_every_heartbeat_is_later_than_the_decision_time() -> None:
    a, b = waiter("a", expires=5), waiter("b", expires=6)
    assert rules.expire(queue(a, b), t(4.999)) == ([], (a, b))
    assert rules.reap(queue(a, b), t(4.999)) is None
    assert rules.reap(queue(), t(4.999)) is None


def test_reap_records_every_waiter_whose_heartbeat_stopped() -> None:
    a = waiter("a", queued=1, expires=3)
    b = waiter("b", queued=2, expires=9)
    c = waiter("c", queued=3, expires=4)
    change = rules.reap(queue(a, b, c), t(4))
    assert change is not None
    assert isinstance(change.events, tuple)
    assert plain(change.events) == plain([expired(a, t(4), (b, c)), expired(c, t(4), (b,))])


seconds = st.integers(min_value=0, max_value=4)


@given(expiries=st.lists(seconds, max_size=6), at=seconds)
def test_expire_drops_exactly_the_waiters_not_live_in_order(expiries: list[int], at: int) -> None:
    waiting = tuple(waiter(f"w{i}", queued=i, expires=e) for i, e in enumerate(expiries))
    events, left = rules.expire(queue(*waiting), t(at))
    gone = [w for w in waiting if w.expires_at <= t(at)]
    assert left == queue(*waiting).live(t(at))
    assert plain(events) == plain(
        expired(w, t(at), tuple(x for x in waiting if x not in gone[: i + 1]))
        for i, w in enumerate(gone)
    )


# --- join, renew, abandon -----------------------------------------------------


def test_a_newcomer_joins_at_the_tail_after_the_expiries() -> None:
    a = waiter("a", queued=1, expires=2)
    b = waiter("b", queued=1.5)
    n = waiter("n", queued=3)
    change = rules.join(queue(a, b), n, t(3))
    assert plain(change.events) == plain(
        [expired(a, t(3), (b,)), RequestQueued(request=n, decided_at=t(3), waiting=(b, n))]
    )


def test_a_newcomer_joins_an_empty_queue() -> None:
    n = waiter("n", queued=3)
    change = rules.join(queue(), n, t(3))
    assert plain(change.events) == plain([RequestQueued(request=n, decided_at=t(3), waiting=(n,))])


def test_a_heartbeat_moves_the_waiters_deadline_to_the_decision_time_plus_its_beat() -> None:
    a = waiter("a", queued=1, expires=2)
    b = waiter("b", queued=1.5, expires=10, heartbeat=5)
    c = waiter("c", queued=1.7, expires=10)
    change = rules.renew(queue(a, b, c), "b", t(3))
    assert change is not None
    renewed = replace(b, expires_at=t(8))
    assert plain(change.events) == plain(
        [
            expired(a, t(3), (b, c)),
            RequestRenewed(
                request_id="b",
                owner="owner-b",
                expires_at=t(8),
                decided_at=t(3),
                waiting=(renewed, c),
            ),
        ]
    )


def test_a_heartbeat_of_the_first_waiter_keeps_the_others_as_they_were() -> None:
    a = waiter("a", queued=1, expires=10, heartbeat=2.5)
    b = waiter("b", queued=2, expires=10)
    change = rules.renew(queue(a, b), "a", t(3))
    assert change is not None
    assert plain(change.events) == plain(
        [
            RequestRenewed(
                request_id="a",
                owner="owner-a",
                expires_at=t(5.5),
                decided_at=t(3),
                waiting=(replace(a, expires_at=t(5.5)), b),
            )
        ]
    )


def test_a_waiter_that_leaves_is_recorded_with_its_reason() -> None:
    a = waiter("a", queued=1, expires=2)
    b = waiter("b", queued=1.5)
    c = waiter("c", queued=1.7)
    change = rules.abandon(queue(a, b, c), "b", "cancelled", t(3))
    assert change is not None
    assert plain(change.events) == plain(
        [
            expired(a, t(3), (b, c)),
            RequestAbandoned(
                request_id="b",
                owner="owner-b",
                reason="cancelled",
                queued_at=t(1.5),
                decided_at=t(3),
                waiting=(c,),
            ),
        ]
    )


@pytest.mark.parametrize("decide", ["renew", "abandon"])
def test_a_waiter_whose_heartbeat_ran_out_exactly_at_the_decision_time_cannot_renew_or_leave(
    decide: str,
) -> None:
    a, b = waiter("a", expires=5), waiter("b", expires=9)
    view = queue(a, b)
    if decide == "renew":
        assert rules.renew(view, "a", t(5)) is None
        assert rules.renew(view, "missing", t(5)) is None
        assert rules.renew(view, "a", t(4.9)) is not None
    else:
        assert rules.abandon(view, "a", "timeout", t(5)) is None
        assert rules.abandon(view, "missing", "timeout", t(5)) is None
        assert rules.abandon(view, "a", "timeout", t(4.9)) is not None


# --- the FIFO rule ------------------------------------------------------------


def fifo_queue() -> tuple[QueueView, dict[str, QueuedRequest]]:
    """a (anything), x (expired), b (a gpu), c (docker only), d (anything)."""
    w = {
        "a": waiter("a", queued=1),
        "x": waiter("x", queued=2, expires=5),
        "b": waiter("b", queued=3, requirements=GPU),
        "c": waiter("c", queued=4, requirements=DOCKER),
        "d": waiter("d", queued=5),
    }
    return queue(*w.values()), w


def test_the_claimants_are_the_live_older_waiters_that_could_use_the_instance() -> None:
    view, w = fifo_queue()
    gpu = instance("g", tags=["gpu"])
    assert rules.claimants(view, "d", gpu, t(5)) == (w["a"], w["b"])
    assert rules.claimants(view, "d", instance("cpu"), t(5)) == (w["a"],)
    assert rules.claimants(view, "b", gpu, t(5)) == (w["a"],)
    assert rules.claimants(view, "a", gpu, t(5)) == ()
    assert rules.claimants(view, None, gpu, t(5)) == (w["a"], w["b"], w["d"])
    assert rules.claimants(view, None, gpu, t(4)) == (w["a"], w["x"], w["b"], w["d"])


@pytest.mark.parametrize(
    ("request_id", "claimants"), [("a", 0), ("b", 1), ("d", 2), (None, 3)], ids=str
)
def test_a_request_is_entitled_only_while_fewer_claimants_than_free_slots(
    request_id: str | None, claimants: int
) -> None:
    view, _ = fifo_queue()
    gpu = instance("g", tags=["gpu"])
    assert not rules.entitled(view, request_id, gpu, claimants, t(5))
    assert rules.entitled(view, request_id, gpu, claimants + 1, t(5))


def test_with_one_free_slot_only_the_oldest_live_waiter_that_can_use_it_is_entitled() -> None:
    view, _ = fifo_queue()
    docker = instance("k", resource_type=ResourceType.DOCKER)
    # a and d could use it, c too; x has expired
    assert [r for r in "axbcd" if rules.entitled(view, r, docker, 1, t(5))] == ["a"]
    assert [r for r in "axbcd" if rules.entitled(view, r, docker, 1, t(4))] == ["a"]
    assert [r for r in "bcd" if rules.entitled(view, r, instance("g", tags=["gpu"]), 2, t(5))] == [
        "b"
    ]


def grant(
    view: QueueView,
    request: QueuedRequest,
    *,
    joined: bool = True,
    on: InstanceState | None = None,
    free: int = 1,
    at: float = 6,
) -> rules.Change | None:
    return rules.grant(
        view,
        request,
        joined=joined,
        instance=on or instance("g", tags=["gpu"]),
        token=7,
        free=free,
        at=t(at),
    )


def test_a_joined_waiter_entitled_to_a_slot_is_granted_and_leaves_the_queue() -> None:
    a = waiter("a", queued=1, expires=2)
    b = waiter("b", queued=2, requirements=GPU)
    c = waiter("c", queued=3)
    d = waiter("d", queued=4)
    change = grant(queue(a, b, c, d), c, free=2)
    assert change is not None
    assert plain(change.events) == plain(
        [
            expired(a, t(6), (b, c, d)),
            RequestGranted(
                request_id="c",
                owner="owner-c",
                instance_id="g",
                token=7,
                free=2,
                queued_at=t(3),
                decided_at=t(6),
                waiting=(b, d),
            ),
        ]
    )


def test_the_first_waiter_is_granted_the_one_free_slot_with_others_behind_it() -> None:
    b = waiter("b", queued=2)
    c = waiter("c", queued=3)
    change = grant(queue(b, c), b, free=1, on=instance("cpu"))
    assert change is not None
    assert plain(change.events) == plain(
        [
            RequestGranted(
                request_id="b",
                owner="owner-b",
                instance_id="cpu",
                token=7,
                free=1,
                queued_at=t(2),
                decided_at=t(6),
                waiting=(c,),
            )
        ]
    )


def test_a_newcomer_finding_a_free_slot_joins_and_is_granted_in_one_batch() -> None:
    a = waiter("a", queued=1, expires=2)
    b = waiter("b", queued=2, requirements=GPU)  # cannot use the cpu instance
    n = waiter("n", queued=6)
    change = grant(queue(a, b), n, joined=False, on=instance("cpu"), free=1)
    assert change is not None
    assert plain(change.events) == plain(
        [
            expired(a, t(6), (b,)),
            RequestQueued(request=n, decided_at=t(6), waiting=(b, n)),
            RequestGranted(
                request_id="n",
                owner="owner-n",
                instance_id="cpu",
                token=7,
                free=1,
                queued_at=t(6),
                decided_at=t(6),
                waiting=(b,),
            ),
        ]
    )


def test_a_newcomer_on_an_empty_queue_joins_and_is_granted() -> None:
    n = waiter("n", queued=6)
    change = grant(queue(), n, joined=False)
    assert change is not None
    assert [type(e) for e in change.events] == [RequestQueued, RequestGranted]
    assert plain(change.events) == plain(
        [
            RequestQueued(request=n, decided_at=t(6), waiting=(n,)),
            RequestGranted(
                request_id="n",
                owner="owner-n",
                instance_id="g",
                token=7,
                free=1,
                queued_at=t(6),
                decided_at=t(6),
                waiting=(),
            ),
        ]
    )


def test_a_newcomer_is_behind_every_live_waiter_that_could_use_the_instance() -> None:
    b = waiter("b", queued=2)
    n = waiter("n", queued=6)
    assert grant(queue(b), n, joined=False, free=1) is None
    assert grant(queue(b), n, joined=False, free=2) is not None


def test_a_grant_the_fifo_rule_forbids_writes_nothing() -> None:
    b, c = waiter("b", queued=2), waiter("c", queued=3)
    assert grant(queue(b, c), c, free=1) is None
    assert grant(queue(b, c), c, free=2) is not None


def test_a_joined_request_no_longer_live_is_not_granted() -> None:
    b, c = waiter("b", queued=2, expires=6), waiter("c", queued=3)
    assert grant(queue(b, c), b, free=5) is None  # ran out exactly at 6
    assert grant(queue(b, c), b, free=5, at=5.9) is not None
    assert grant(queue(c), b, free=5) is None  # not in the queue
    assert grant(queue(c), b, joined=False, free=5) is not None


# --- view_after ---------------------------------------------------------------


def record(event: Any, *, version: int = 4) -> RecordedEvent:
    return RecordedEvent(
        HUB, streams.queue(), version, 11, event.event_id, type(event).__name__, 1, t(9), event=event
    )


W1, W2 = waiter("w1", queued=1), waiter("w2", queued=2)
QUEUE_EVENTS = [
    RequestQueued(request=W2, decided_at=t(2), waiting=(W1, W2)),
    RequestRenewed(request_id="w1", owner="o", expires_at=t(9), decided_at=t(2), waiting=(W1, W2)),
    RequestGranted(
        request_id="g",
        owner="o",
        instance_id="i",
        token=1,
        free=1,
        queued_at=t(1),
        decided_at=t(2),
        waiting=(W1, W2),
    ),
    RequestAbandoned(
        request_id="g",
        owner="o",
        reason="timeout",
        queued_at=t(1),
        decided_at=t(2),
        waiting=(W1, W2),
    ),
    RequestExpired(
        request_id="g",
        owner="o",
        expires_at=t(1),
        queued_at=t(1),
        decided_at=t(2),
        waiting=(W1, W2),
    ),
]


@pytest.mark.parametrize("event", QUEUE_EVENTS, ids=lambda e: type(e).__name__)
def test_a_queue_event_says_the_state_it_leaves(event: QueueEvent) -> None:
    assert rules.view_after(HUB, record(event, version=4)) == QueueView(
        hub_id=HUB, version=4, waiting=(W1, W2), changed_at=t(9)
    )


def test_a_gleitzeit_queue_state_is_not_a_reservation_event() -> None:
    assert rules.view_after(HUB, record(QueueStateSaved(state={"waiting": []}))) is None


# --- matches, models_of -------------------------------------------------------


OLLAMA = instance("a", tags=["gpu", "fast"], capabilities=["vision"], models=["llama3", "phi"])
MATCHES = [
    (Requirements(), instance("bare"), True),
    (Requirements(instances=("a", "b")), OLLAMA, True),
    (Requirements(instances=("b",)), OLLAMA, False),
    (Requirements(resource_type=ResourceType.OLLAMA), OLLAMA, True),
    (Requirements(resource_type=ResourceType.DOCKER), OLLAMA, False),
    (Requirements(tags=("gpu",)), OLLAMA, True),
    (Requirements(tags=("fast", "gpu")), OLLAMA, True),  # all of its tags
    (Requirements(tags=("gpu", "big")), OLLAMA, False),
    (Requirements(capabilities=("vision",)), OLLAMA, True),  # all of its capabilities
    (Requirements(capabilities=("audio",)), OLLAMA, False),
    (Requirements(tags=("gpu",), capabilities=("audio",)), OLLAMA, False),
    (Requirements(tags=("big",), capabilities=("vision",)), OLLAMA, False),
    (Requirements(models=("llama3",)), OLLAMA, True),
    (Requirements(models=("llama3", "phi", "vision")), OLLAMA, True),  # all it serves
    (Requirements(models=("mistral",)), OLLAMA, False),
    (Requirements(models=("vision",)), instance("g", capabilities=["vision"]), True),
    (Requirements(models=("llama3",)), instance("g", capabilities=["vision"]), False),
    (
        Requirements(
            resource_type=ResourceType.OLLAMA,
            tags=("gpu",),
            capabilities=("vision",),
            models=("phi",),
            instances=("a",),
        ),
        OLLAMA,
        True,
    ),
]


@pytest.mark.parametrize(("requirements", "on", "expected"), MATCHES, ids=repr)
def test_an_instance_serves_a_request_only_when_it_meets_every_requirement(
    requirements: Requirements, on: InstanceState, expected: bool
) -> None:
    assert matches(requirements, on) is expected


def test_an_ollama_server_serves_its_configured_models_and_its_capabilities() -> None:
    assert models_of(OLLAMA) == {"llama3", "phi", "vision"}
    assert models_of(instance("g", capabilities=["m1"])) == {"m1"}
    assert models_of(instance("g", models=["m2"])) == {"m2"}
    docker = replace(instance("d", capabilities=["m1"]), config=DockerConfig(image="x"))
    assert models_of(docker) == {"m1"}


names = st.sets(st.sampled_from(["x", "y", "z"]), max_size=3)


@given(
    need=st.builds(
        Requirements,
        resource_type=st.none() | st.sampled_from([ResourceType.OLLAMA, ResourceType.DOCKER]),
        tags=names.map(tuple),
        capabilities=names.map(tuple),
        models=names.map(tuple),
        instances=st.sets(st.sampled_from(["a", "b"]), max_size=2).map(tuple),
    ),
    instance_id=st.sampled_from(["a", "b"]),
    kind=st.sampled_from([ResourceType.OLLAMA, ResourceType.DOCKER]),
    tags=names,
    capabilities=names,
    models=st.none() | names.map(sorted),
)
def test_matching_is_every_requirement_met(
    need: Requirements,
    instance_id: str,
    kind: ResourceType,
    tags: set[str],
    capabilities: set[str],
    models: list[str] | None,
) -> None:
    on = instance(
        instance_id, resource_type=kind, tags=tags, capabilities=capabilities, models=models
    )
    served = capabilities | set(models or ())
    assert matches(need, on) == (
        (not need.instances or instance_id in need.instances)
        and need.resource_type in (None, kind)
        and all(tag in tags for tag in need.tags)
        and all(c in capabilities for c in need.capabilities)
        and all(m in served for m in need.models)
    )


# --- requirements_of ----------------------------------------------------------


def test_no_requirements_mean_anything() -> None:
    assert requirements_of(None) == Requirements()
    assert requirements_of({}) == Requirements()
    assert requirements_of({"resource_type": None}) == Requirements()


def test_requirements_are_taken_as_they_are() -> None:
    given_ = Requirements(tags=("b", "a"))
    assert requirements_of(given_) is given_


def test_a_single_string_means_that_one() -> None:
    assert requirements_of({"models": "llama3", "resource_type": "ollama"}) == Requirements(
        models=("llama3",), resource_type=ResourceType.OLLAMA
    )
    assert requirements_of({"tags": "gpu", "instances": "a"}) == Requirements(
        tags=("gpu",), instances=("a",)
    )


def test_sets_lists_and_tuples_are_listed_in_sorted_order() -> None:
    got = requirements_of(
        {"tags": {"b", "a", "c"}, "capabilities": ["z", "y"], "instances": ("i2", "i1")}
    )
    assert got == Requirements(
        tags=("a", "b", "c"), capabilities=("y", "z"), instances=("i1", "i2")
    )


@pytest.mark.parametrize(
    ("value", "message"),
    [
        (["llama3"], "requirements must be a Requirements or a dict, got ['llama3']"),
        ("llama3", "requirements must be a Requirements or a dict, got 'llama3'"),
        (
            {"resource_type": "gpu"},
            "requirements {'resource_type': 'gpu'}: Invalid enum value 'gpu' - at `$.resource_type`",
        ),
        (
            {"resource_type": ["ollama"]},
            (
                "requirements {'resource_type': ['ollama']}: Expected `str | null`, got `array`"
                " - at `$.resource_type`"
            ),
        ),
        ({"tags": 5}, "requirements {'tags': 5}: Expected `array`, got `int` - at `$.tags`"),
        ({"tags": None}, "requirements {'tags': None}: Expected `array`, got `null` - at `$.tags`"),
        (
            {"models": {"llama3": True}},
            (
                "requirements {'models': {'llama3': True}}: Expected `array`, got `object`"
                " - at `$.models`"
            ),
        ),
        (
            {"capabilities": [1, 2]},
            (
                "requirements {'capabilities': [1, 2]}: Expected `str`, got `int`"
                " - at `$.capabilities[0]`"
            ),
        ),
    ],
    ids=["list", "str", "enum", "type-listed", "int", "none", "mapping", "ints"],
)
def test_requirements_of_the_wrong_shape_are_refused_naming_what_is_wrong(
    value: Any, message: str
) -> None:
    with pytest.raises(InvalidReservation) as refused:
        requirements_of(value)
    assert str(refused.value) == message
