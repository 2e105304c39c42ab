"""JSON views show every field, though stored payloads leave defaults out."""

from __future__ import annotations

import msgspec

from adapters.replay.plain import plain
from eventstore import InstanceUpdated, Metrics, MetricsSampled
from tests.eventstore.contract.factories import T0, sampled


def test_a_view_shows_fields_that_hold_their_default() -> None:
    view = plain(sampled(requests=3))

    assert view["metrics"]["request_count"] == 3
    assert view["metrics"]["error_count"] == 0  # a default: not in the stored payload
    assert view["metrics"]["custom_metrics"] == {}
    assert set(view["metrics"]) == set(Metrics.__struct_fields__)
    assert "error_count" not in msgspec.to_builtins(sampled(requests=3))["metrics"]


def test_a_view_of_an_event_without_defaults_is_what_to_builtins_gives() -> None:
    event = MetricsSampled(
        metrics=Metrics(cpu_percent=1.0, custom_metrics={"b": 2.0, "a": 1.0}), sampled_at=T0
    )
    full = {name: getattr(event.metrics, name) for name in Metrics.__struct_fields__}
    expected = msgspec.to_builtins(event, order="deterministic")
    expected["metrics"] = {
        **msgspec.to_builtins(full, order="deterministic"),
        "custom_metrics": {"a": 1.0, "b": 2.0},
    }

    assert plain(event) == expected
    assert list(plain(event)["metrics"]["custom_metrics"]) == ["a", "b"]  # keys sorted


def test_a_field_left_unset_stays_out_and_sets_are_sorted() -> None:
    view = plain(InstanceUpdated(name="ollama-1", tags=frozenset({"gpu", "a100"})))

    assert view["type"] == "InstanceUpdated"
    assert view["name"] == "ollama-1" and view["tags"] == ["a100", "gpu"]
    assert "endpoint" not in view and "metadata" not in view  # UNSET: "did not change"
