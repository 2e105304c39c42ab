"""Export and import as JSON Lines: every event kept byte for byte (also
those this hublog cannot read), a damaged file named by file and line before
anything is written, and an import that is idempotent and hub by hub."""

from __future__ import annotations

import base64
import io
import json
import shutil
from collections.abc import AsyncIterator
from pathlib import Path

import msgspec
import pytest

from adapters import open_store
from adapters.memory import MemoryEventStore, MemoryReadModelStore
from adapters.replay.coverage import ExportHeader, coverage, kept
from adapters.replay.errors import ImportFileError
from adapters.replay.filters import EventFilter
from adapters.replay.jsonl import (
    RAW_CODEC,
    check_file,
    encode_line,
    export,
    import_file,
    read_lines,
    stored,
)
from eventstore import DuplicateEventError, EventStore
from projections import ReadModelStore
from tests.adapters.replay.logs import DAMAGED, UNKNOWN
from tests.adapters.replay.logs import stored as record
from tests.eventstore.contract.factories import granted, registered
from tests.projections.script import HUB, Script

pytestmark = pytest.mark.anyio

OTHER = "other-pool"
LINE_KEYS = {
    "hub_id",
    "stream",
    "version",
    "position",
    "event_id",
    "type",
    "schema_version",
    "recorded_at",
    "correlation_id",
    "causation_id",
    "data",
    "readable",
    "event",
    "envelope_error",
}


@pytest.fixture(scope="module")
async def source_url(tmp_path_factory: pytest.TempPathFactory, migrated_sqlite: Path) -> str:
    """A SQLite log, written once for the module and only read by its tests.

    Hub ``HUB``, 8 events: 1 HubStarted, 2-4 ollama-1 registered, checked,
    healthy, 5 LockGranted (correlation wf-1, causation c-1), 6 a sample,
    7 a type this hublog does not know (hub stream), 8 a HealthChecked whose
    bytes are damaged.  Hub ``other-pool``: HubStarted, InstanceRegistered.
    """
    path = tmp_path_factory.mktemp("source") / "hublog.db"
    shutil.copyfile(migrated_sqlite, path)
    async with open_store(f"sqlite:///{path}") as store:
        script = Script(store)
        await script.started()
        await script.healthy("ollama-1")
        await store.append(
            HUB, "lock/ollama-1", [granted()], correlation_id="wf-1", causation_id="c-1"
        )
        await script.sample("ollama-1", await store.now(), requests=3)
        now = await store.now()
        unreadable = [
            record(7, "hub", 2, UNKNOWN, at=now),
            record(8, "instance/ollama-1", 4, DAMAGED, at=now),
        ]
        assert await store.import_events(HUB, unreadable) == 2
        await Script(store, OTHER).started()
        await store.append(OTHER, "instance/ollama-9", [registered("ollama-9")])
    return f"sqlite:///{path}"


@pytest.fixture
async def source(source_url: str) -> AsyncIterator[EventStore]:
    """The source log read raw, as export reads it."""
    async with open_store(source_url, codec=RAW_CODEC) as raw:
        yield raw


async def exported(
    store: EventStore,
    *hubs: str,
    selection: EventFilter | None = None,
    storage: ReadModelStore | None = None,
) -> bytes:
    out = io.BytesIO()
    written = await export(store, hubs or [HUB], selection or EventFilter(), out, storage=storage)
    headers = out.getvalue().count(b'"readable":"header"')
    assert written == out.getvalue().count(b"\n") - headers
    return out.getvalue()


def raw_memory() -> MemoryEventStore:
    """A memory log to import into, read raw as export reads."""
    return MemoryEventStore(codec=RAW_CODEC)


async def test_export_writes_one_line_per_event_with_the_stored_bytes(source: EventStore) -> None:
    lines = [json.loads(line) for line in (await exported(source)).splitlines()]

    assert [line["position"] for line in lines] == [1, 2, 3, 4, 5, 6, 7, 8]
    assert all(set(line) == LINE_KEYS for line in lines)
    assert [line["readable"] for line in lines] == ["ok"] * 6 + ["unknown", "corrupt"]
    stored_bytes = [stored(e).data async for e in source.read_log(HUB)]
    assert [base64.b64decode(line["data"]) for line in lines] == stored_bytes
    assert (lines[4]["correlation_id"], lines[4]["causation_id"]) == ("wf-1", "c-1")
    assert lines[4]["event"]["owner"] == "node-a"  # a decoded view for people and jq
    assert lines[6]["event"] == {"quota": 5}  # what is known of an unknown type
    assert lines[7]["event"]["error"]  # and why a damaged one does not decode
    assert base64.b64decode(lines[7]["data"]) == b"\xc1\xc1"


async def test_export_then_import_then_export_is_byte_exact(
    source: EventStore, tmp_path: Path
) -> None:
    path = tmp_path / "pool.jsonl"
    path.write_bytes(first := await exported(source, HUB, OTHER))
    target = raw_memory()

    report = await import_file(target, path)

    assert (report.lines, report.unreadable) == (10, 0)
    assert (report.written, report.skipped) == ({HUB: 8, OTHER: 2}, {HUB: 0, OTHER: 0})
    assert await exported(target, HUB, OTHER) == first


async def test_importing_a_file_again_writes_nothing(source: EventStore, tmp_path: Path) -> None:
    path = tmp_path / "pool.jsonl"
    path.write_bytes(await exported(source))
    target = raw_memory()
    await import_file(target, path)

    again = await import_file(target, path)

    assert (again.lines, again.written, again.skipped) == (8, {HUB: 0}, {HUB: 8})
    assert await target.head(HUB) == 8


async def test_import_continues_a_log_holding_the_first_part(
    source: EventStore, tmp_path: Path
) -> None:
    (tmp_path / "part.jsonl").write_bytes(await exported(source, selection=EventFilter(last=3)))
    (tmp_path / "all.jsonl").write_bytes(whole := await exported(source))
    target = raw_memory()
    await import_file(target, tmp_path / "part.jsonl")

    rest = await import_file(target, tmp_path / "all.jsonl")

    assert (rest.written, rest.skipped) == ({HUB: 5}, {HUB: 3})
    assert await exported(target) == whole


async def test_export_writes_the_selected_events_only(source: EventStore) -> None:
    selection = EventFilter(instance="ollama-1", types=frozenset({"HealthChecked"}))

    lines = [
        json.loads(line) for line in (await exported(source, selection=selection)).splitlines()
    ]

    assert [(line["position"], line["readable"]) for line in lines] == [
        (1, "header"),
        (3, "ok"),
        (8, "corrupt"),
    ]
    assert lines[0]["event"]["filters"] == ["--instance ollama-1", "--type HealthChecked"]


async def test_a_partial_export_imported_keeps_its_header_and_exports_the_same_bytes(
    source: EventStore, tmp_path: Path
) -> None:
    path = tmp_path / "part.jsonl"
    path.write_bytes(first := await exported(source, selection=EventFilter(after=4)))
    target, storage = raw_memory(), MemoryReadModelStore()

    report = await import_file(target, path, storage=storage)

    assert report.headers[HUB] == ExportHeader(hub_id=HUB, first_position=5, last_position=8)
    assert await kept(storage, HUB) == [report.headers[HUB]]
    assert (await coverage(target, storage, HUB)).line() == (
        "log starts at @5: earlier state unknown"
    )
    assert await exported(target, storage=storage) == first


async def test_import_goes_hub_by_hub_in_batches_and_reports_progress(
    source: EventStore, tmp_path: Path
) -> None:
    path = tmp_path / "pool.jsonl"
    path.write_bytes(await exported(source, HUB, OTHER))
    progress: list[int] = []

    report = await import_file(raw_memory(), path, batch=3, progress=progress.append)

    # HUB's 8 lines in batches of 3, 3, 2; a batch never spans two hubs
    assert progress == [3, 6, 8, 10]
    assert report.written == {HUB: 8, OTHER: 2}


async def test_a_damaged_line_is_named_by_file_and_line_and_nothing_is_imported(
    source: EventStore, tmp_path: Path
) -> None:
    lines = (await exported(source)).splitlines(keepends=True)
    lines[4] = lines[4][:50] + b"\n"
    path = tmp_path / "damaged.jsonl"
    path.write_bytes(b"".join(lines))
    target = raw_memory()
    read: list[int] = []

    with pytest.raises(ImportFileError) as raised:
        read.extend(number for number, _ in read_lines(path))
    with pytest.raises(ImportFileError) as refused:
        await import_file(target, path)

    message = str(raised.value)
    assert message.startswith(f"{path}, line 5: not JSON (")
    assert message.endswith("; is it a hublog export?")
    assert read == [1, 2, 3, 4]  # the lines before it were read
    assert str(refused.value) == message
    assert await target.hubs() == []


async def test_read_lines_numbers_lines_as_the_file_does(
    source: EventStore, tmp_path: Path
) -> None:
    lines = (await exported(source)).splitlines(keepends=True)
    path = tmp_path / "spaced.jsonl"
    path.write_bytes(b"".join([lines[0], b"\n", b"   \n", *lines[1:3], b"{broken\n"]))

    found: list[tuple[int, int]] = []
    with pytest.raises(ImportFileError, match=r"spaced\.jsonl, line 6: not JSON"):
        found.extend((number, event.position) for number, event in read_lines(path))

    assert found == [(1, 1), (4, 2), (5, 3)]  # blank lines skipped, still counted


async def test_read_lines_gives_back_the_records_as_stored(
    source: EventStore, tmp_path: Path
) -> None:
    path = tmp_path / "pool.jsonl"
    path.write_bytes(await exported(source))

    records = [event for _, event in read_lines(path)]

    assert records == [stored(e) async for e in source.read_log(HUB)]


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"# incident notes\nnothing here\n", "line 1: not JSON ("),
        (b'{"hello": "world"}\n', "line 1: not a hublog event ("),
        (b"\n\n[1, 2]\n", "line 3: not a hublog event ("),
    ],
    ids=["text", "json-object", "json-array"],
)
def test_a_file_that_is_not_an_export_is_named_with_its_first_bad_line(
    tmp_path: Path, content: bytes, message: str
) -> None:
    path = tmp_path / "notes.jsonl"
    path.write_bytes(content)

    with pytest.raises(ImportFileError) as raised:
        check_file(path)

    assert str(raised.value).startswith(f"{path}, {message}")
    assert str(raised.value).endswith("; is it a hublog export?")


async def test_a_line_without_a_time_zone_is_refused(source: EventStore, tmp_path: Path) -> None:
    line = json.loads((await exported(source)).splitlines()[0])
    line["recorded_at"] = line["recorded_at"].removesuffix("Z")
    path = tmp_path / "naive.jsonl"
    path.write_text(json.dumps(line) + "\n")

    with pytest.raises(ImportFileError) as raised:
        check_file(path)

    assert str(raised.value) == f"{path}, line 1: recorded_at has no time zone"


def test_a_file_without_events_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "empty.jsonl"
    path.write_text("\n  \n")

    with pytest.raises(ImportFileError) as raised:
        check_file(path)

    assert str(raised.value) == f"{path} holds no events: is it a hublog export?"


def test_a_missing_file_is_named(tmp_path: Path) -> None:
    path = tmp_path / "nope.jsonl"

    with pytest.raises(ImportFileError) as raised:
        list(read_lines(path))

    assert str(raised.value) == f"cannot read {path}: No such file or directory"


async def test_a_record_whose_envelope_was_unreadable_is_counted_not_imported(
    source: EventStore, tmp_path: Path
) -> None:
    events = [stored(e) async for e in source.read_log(HUB)]
    broken = msgspec.structs.replace(events[5], envelope_error="recorded_at is not a time")
    path = tmp_path / "pool.jsonl"
    path.write_bytes(b"".join(encode_line(e) for e in [*events[:5], broken]))
    target = raw_memory()

    report = await import_file(target, path)

    assert (report.lines, report.unreadable, report.written) == (5, 1, {HUB: 5})
    assert json.loads(encode_line(broken))["readable"] == "corrupt"
    assert await target.head(HUB) == 5


async def test_import_refuses_a_log_that_disagrees_naming_the_batch(
    source: EventStore, tmp_path: Path
) -> None:
    path = tmp_path / "pool.jsonl"
    path.write_bytes(await exported(source))
    target = raw_memory()
    [first] = [stored(e) async for e in source.read_log(HUB, limit=1)]
    await target.import_events(HUB, [record(1, first.stream, 1, registered("x"))])  # another id

    with pytest.raises(DuplicateEventError) as raised:
        await import_file(target, path, batch=4)

    assert str(raised.value).startswith(f"{path}, batch from line 1: Import conflict")
    assert await target.head(HUB) == 1
