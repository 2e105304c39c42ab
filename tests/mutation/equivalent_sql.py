"""The SQL backend's surviving mutants judged equivalent (2026-12-06 run on 1ba66ff)."""

from __future__ import annotations

_IMPORT = "adapters.sql.importing.x_"
_ROW_SQL = "adapters.sql.readmodels.x__row_sql__mutmut_"

EQUIVALENT_SQL: dict[str, str] = {
    **dict.fromkeys(
        [_ROW_SQL + n for n in ("3", "4", "13", "14", "16", "17", "19", "20")],
        "SQL keywords and unquoted identifiers are case-insensitive "
        "(and hublog's tables are created with lower-case names)",
    ),
    "adapters.sql.store.xǁSQLEventStoreǁ_read_stream_page__mutmut_13": (
        "the column name goes into the statement unquoted: VERSION is version"
    ),
    **dict.fromkeys(
        [
            "adapters.sql.statements.x_robust_page__mutmut_9",
            "adapters.sql.statements.x_robust_page__mutmut_12",
        ],
        "the statement holds ' recorded_at,' once: a replace count of 1, 2 or all is the same",
    ),
    **dict.fromkeys(
        ["adapters.sql.follow.x_channel__mutmut_13", "adapters.sql.follow.x_channel__mutmut_15"],
        "a str literal's type is inferred as a string type: the same text concatenated",
    ),
    "adapters.sql.rows.x_page__mutmut_3": (
        "the initial time is read only for a first row whose time is NULL: recorded_at is "
        "NOT NULL, and the robust page (the one statement giving NULL) is read by stored()"
    ),
    "adapters.sql.follow.xǁKnownHeadsǁpark__mutmut_4": (
        "waiting >= 0 wakes the parked thread at once and it parks again: CPU, not behaviour"
    ),
    _IMPORT
    + "_last_recorded_at__mutmut_2": "rows sorted by position descending; scalar() takes the first",
    _IMPORT
    + "_last_recorded_at__mutmut_7": "rows sorted by position descending; scalar() takes the first",
    _IMPORT + "_versions__mutmut_7": "overlapping slices still cover every name: more queries only",
    _IMPORT + "_written__mutmut_8": "overlapping slices still cover every id: more queries only",
    _IMPORT + "_versions__mutmut_13": (
        "the hub's other streams come back too and are never read: only the batch's are looked up"
    ),
    _IMPORT + "_written__mutmut_16": (
        "the hub's other ids come back too and are never read: only the batch's are looked up"
    ),
    _IMPORT + "import_events__mutmut_1": (
        "BEGIN instead of BEGIN IMMEDIATE: the transaction's first statement is a "
        "write (the hub upsert), which takes SQLite's write lock at once; "
        "PostgreSQL never reads the option"
    ),
    _IMPORT + "_insert__mutmut_3": (
        "the PostgreSQL insert construct compiles to the same ON CONFLICT ... "
        "DO UPDATE ... RETURNING text under the SQLite dialect"
    ),
}
