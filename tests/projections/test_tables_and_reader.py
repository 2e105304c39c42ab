"""Rows and their reads: folding into rows (``fold``, :class:`Folder`, the
batch fold's own deletes of rows it moved out earlier), the row helpers of
``projections.tables`` (``row_writes``, ``derived_writes``, ``trim``,
``from_rows``, :class:`Tables`), the typed reads of :class:`ReadModels`, and
what a refused commit says."""

# msgspec copies empty-collection defaults per instance; ruff cannot see that
# through a ReadModel subclass.
# ruff: noqa: RUF012

from __future__ import annotations

import msgspec
import pytest
from msgspec.structs import replace

from eventstore import Event, EventStore, HealthChecked, InstanceDeregistered, streams
from eventstore.envelope import RecordedEvent
from projections import (
    CheckpointConflict,
    Commit,
    Folder,
    HealthProjection,
    Meta,
    Projection,
    ReadModel,
    ReadModels,
    ReadModelStore,
    fold,
    keys,
    rows,
)
from projections.tables import Tables, derived_writes, from_rows, row_writes, trim
from tests.projections.handmade import Log, at
from tests.projections.script import HUB, S, Script, folded_rows, run, stored_rows

HEALTH = HealthProjection()


class Note(msgspec.Struct, frozen=True, kw_only=True):
    position: int
    ok: bool


class Cut(msgspec.Struct, frozen=True, kw_only=True):
    start: str
    stop: str


class DiaryModel(ReadModel, frozen=True, kw_only=True):
    HEAD = ("cuts",)

    cuts: dict[str, Cut] = {}
    notes: dict[str, Note] = {}


class Forgot(Event, frozen=True, kw_only=True):
    """An instance's notes of one kind forgotten: from position ``since``
    (its first note on) or up to ``before`` (not included)."""

    category = "instance"
    kind: str
    since: int | None = None
    before: int | None = None


class Diary(Projection[DiaryModel]):
    """A history table of notes, one per health check, keyed
    ``<instance>{ok|failed{<position>``, and the ranges of them that
    ``Forgot`` or a deregistration deletes (kept in a head table, so that
    :meth:`prunes` can name them to the batch fold)."""

    name = "diary"
    state_type = DiaryModel
    categories = frozenset({"instance"})
    clock_resolution = None

    def evolve(self, state: DiaryModel, event: RecordedEvent) -> DiaryModel:
        iid, e = streams.entity_of(event.stream) or "", event.event
        if isinstance(e, HealthChecked):
            key = keys.join(iid, "ok" if e.ok else "failed", keys.seq(event.position))
            return replace(state, notes={**state.notes, key: Note(position=event.position, ok=e.ok)})
        if isinstance(e, InstanceDeregistered):
            start, stop = keys.entity_span(iid)
        elif isinstance(e, Forgot):
            kind = keys.join(iid, e.kind)
            start = kind + keys.SEP if e.since is None else keys.join(kind, keys.seq(e.since))
            stop = keys.entity_span(kind)[1] if e.before is None else keys.join(kind, keys.seq(e.before))
        else:
            return state
        notes = {k: n for k, n in state.notes.items() if not start <= k < stop}
        cuts = {**state.cuts, keys.seq(event.position): Cut(start=start, stop=stop)}
        return replace(state, notes=notes, cuts=cuts)

    def prunes(self, before: DiaryModel, after: DiaryModel) -> list[tuple[str, str, str]]:
        return [("notes", c.start, c.stop) for k, c in after.cuts.items() if k not in before.cuts]


def checks(log: Log, count: int, iid: str = "a") -> None:
    """``count`` health checks of ``iid``, one a second; those at odd positions fail."""
    for _ in range(count):
        ok = (len(log.events) + 1) % 2 == 0
        log.add(HealthChecked(ok=ok, checked_at=at(len(log.events))), len(log.events), f"instance/{iid}")


def in_one_batch(projection: Projection, log: Log) -> dict[str, dict]:
    folder = Folder(projection, every=len(log.events))
    for event in log.events:
        folder.add(event)
    folder.flush()
    return folder.tables.as_dict()


def note_key(iid: str, position: int) -> str:
    return keys.join(iid, "ok" if position % 2 == 0 else "failed", keys.seq(position))


# -- folding ---------------------------------------------------------------


def test_fold_continues_from_the_state_it_is_given() -> None:
    log = Log()
    checks(log, 6)
    diary = Diary()
    halfway = fold(diary, log.events[:3])
    assert fold(diary, log.events[3:], halfway) == fold(diary, log.events)
    assert list(fold(diary, log.events[3:], halfway).notes) == [note_key("a", p) for p in range(1, 7)]


def test_a_folder_stores_every_500_events_by_default() -> None:
    log = Log()
    checks(log, 500)
    folder = Folder(Diary())
    for event in log.events[:499]:
        folder.add(event)
    assert folder.tables.as_dict() == {}
    folder.add(log.events[499])
    assert folder.tables.as_dict() == rows(Diary(), fold(Diary(), log.events))


def test_a_folders_state_after_a_batch_holds_no_history_rows() -> None:
    log = Log()
    checks(log, 70)  # more than one drain of the batch fold
    log.add(Forgot(kind="ok", before=10), 70, "instance/a")
    folder = Folder(Diary(), every=len(log.events))
    for event in log.events:
        folder.add(event)
    folder.flush()
    assert folder.state == trim(fold(Diary(), log.events))
    assert folder.state.notes == {}


@pytest.mark.parametrize(
    "forgot",
    [
        Forgot(kind="failed", before=40),  # a range within an instance's kind of note
        Forgot(kind="ok", since=10),  # a range starting at a stored key
        Forgot(kind="ok", since=10, before=11),  # that key alone
    ],
    ids=["failed-before-40", "ok-since-10", "ok-10-only"],
)
def test_notes_moved_out_earlier_in_a_batch_are_deleted_by_a_later_range(forgot: Forgot) -> None:
    log = Log()
    checks(log, 70)  # positions 1..64 leave the state before the range is folded
    log.add(forgot, 70, "instance/a")
    checks(log, 2)
    log.add(forgot, 73, "instance/b")  # another instance's range deletes none of a's
    stored = in_one_batch(Diary(), log)
    assert stored == rows(Diary(), fold(Diary(), log.events))
    kind = forgot.kind
    low = 0 if forgot.since is None else forgot.since
    high = 71 if forgot.before is None else forgot.before
    gone = [note_key("a", p) for p in range(1, 71) if low <= p < high and note_key("a", p).split("{")[1] == kind]
    assert gone and not set(gone) & set(stored["notes"])
    assert len(stored["notes"]) == 72 - len(gone)


# -- tables ----------------------------------------------------------------

C1, C2, C3 = Cut(start="a", stop="b"), Cut(start="c", stop="d"), Cut(start="e", stop="f")


def test_row_writes_are_the_head_rows_replaced_and_every_history_row() -> None:
    before = DiaryModel(cuts={"1": C1, "2": C2})
    changed = Cut(start="c", stop="e")
    note = Note(position=3, ok=True)
    after = DiaryModel(cuts={"1": C1, "2": changed, "3": C3}, notes={"a{ok{3": note})
    assert row_writes(before, after) == {
        ("cuts", "2"): changed,
        ("cuts", "3"): C3,
        ("notes", "a{ok{3"): note,
    }


def test_row_writes_delete_head_rows_gone_and_writes_a_meta_that_moved() -> None:
    before = DiaryModel(cuts={"1": C1, "2": C2})
    after = DiaryModel(meta=Meta(position=4), cuts={"2": C2})
    assert row_writes(before, after) == {("meta", ""): Meta(position=4), ("cuts", "1"): None}


def test_derived_writes_put_rows_changed_and_delete_rows_and_tables_gone() -> None:
    old = {"open": {"a": C1, "b": C2}, "gone": {"x": C3}}
    new = {"open": {"a": Cut(start="a", stop="b"), "b": C3, "c": C1}}
    assert derived_writes(old, new) == {
        ("open", "b"): C3,
        ("open", "c"): C1,
        ("gone", "x"): None,
    }


def test_trim_empties_every_history_table_and_keeps_the_head() -> None:
    state = DiaryModel(meta=Meta(position=2), cuts={"1": C1}, notes={"a{ok{2": Note(position=2, ok=True)})
    assert trim(state) == DiaryModel(meta=Meta(position=2), cuts={"1": C1})


def test_from_rows_gives_empty_head_tables_for_those_not_stored() -> None:
    assert from_rows(DiaryModel, None, {}) == DiaryModel()
    assert from_rows(DiaryModel, Meta(position=7), {"cuts": {"1": C1}}) == DiaryModel(
        meta=Meta(position=7), cuts={"1": C1}
    )


def test_tables_forget_a_deleted_key_that_an_earlier_read_had_ordered() -> None:
    tables = Tables()
    tables.write([], {("cuts", "b"): C2, ("cuts", "a"): C1})
    assert tables.keys("cuts") == ["a", "b"]
    tables.write([], {("cuts", "a"): None})
    assert tables.keys("cuts") == ["b"]
    assert tables.scan("cuts") == [("b", C2)]


# -- reads and refusals ------------------------------------------------------

pytestmark_async = pytest.mark.anyio


@pytestmark_async
async def test_transitions_are_those_of_the_instance_asked_for_only(
    store: EventStore, storage: ReadModelStore, reader: ReadModels
) -> None:
    script = Script(store)
    for iid in ("a", "b", "c"):
        await script.healthy(iid)
    await script.change("b", S.HEALTHY, S.DEGRADED, "slow")
    await run(store, storage, HEALTH)
    transitions = (await folded_rows(store, HEALTH))["transitions"]
    for iid in ("a", "b", "c"):
        expected = [row for key, row in sorted(transitions.items()) if keys.entity_of(key) == iid]
        assert await reader.transitions(HUB, iid) == expected
    assert [(t.from_status, t.to_status) for t in await reader.transitions(HUB, "b")] == [
        (None, S.UNKNOWN),
        (S.UNKNOWN, S.HEALTHY),
        (S.HEALTHY, S.DEGRADED),
    ]


@pytestmark_async
async def test_rows_returns_at_most_limit_rows_in_key_order(
    store: EventStore, storage: ReadModelStore, reader: ReadModels
) -> None:
    script = Script(store)
    for iid in ("a", "b"):
        await script.healthy(iid)
    await run(store, storage, HEALTH)
    every = sorted((await stored_rows(storage, HEALTH))["transitions"].items())
    assert len(every) == 4
    assert await reader.rows(HEALTH, HUB, "transitions", limit=3) == every[:3]


@pytestmark_async
async def test_a_hub_without_a_stored_summary_has_none(reader: ReadModels) -> None:
    assert await reader.summary(HUB) is None


@pytestmark_async
async def test_a_commit_from_a_moved_checkpoint_is_refused_with_the_facts(
    storage: ReadModelStore,
) -> None:
    fingerprint = HEALTH.fingerprint(HUB)
    moved = Commit(projection="health", hub_id=HUB, fingerprint=fingerprint, after=0, position=3)
    late = Commit(projection="health", hub_id=HUB, fingerprint=fingerprint, after=0, position=5)
    assert await storage.commit(moved)
    with pytest.raises(CheckpointConflict) as refused:
        await storage.commit(late)
    conflict = refused.value
    assert (conflict.projection, conflict.hub_id, conflict.expected, conflict.actual) == (
        "health",
        HUB,
        0,
        3,
    )
    assert str(conflict) == f"Checkpoint moved: 3 (Projection: health, Hub: {HUB}, Expected: 0, Actual: 3)"
