"""The projections' surviving mutants judged equivalent (2026-12-05 and 2026-12-06 runs)."""

from __future__ import annotations

_CLOCK = "projections.leases.clock.xǁBackendClockǁ"

_NO_EMPTY_ENTITY = (
    "the fallback for a stream without an entity id is never taken: the log "
    "refuses 'instance', 'metrics' and 'lock' without '/<id>' and an empty id "
    "(eventstore.streams.check_stream), so entity_of never returns None or ''"
)

EQUIVALENT_PROJECTIONS: dict[str, str] = {
    _CLOCK + "__init____mutmut_8": (  # _checked = None
        "_checked is read only once _low is set, and the calibration that sets "
        "_low sets _checked first"
    ),
    _CLOCK + "__init____mutmut_9": (  # _checked = 1.0
        "_checked is read only once _low is set, and the calibration that sets "
        "_low sets _checked first"
    ),
    _CLOCK + "calibrate__mutmut_16": (  # the new low extrapolated with +drift
        "the new bound is extrapolated to its own instant (received): zero "
        "seconds, so the drift's sign multiplies nothing"
    ),
    _CLOCK + "calibrate__mutmut_17": (  # >= -> > for the lower bound
        "on a tie old and new lower bounds are the same line (same value now, "
        "same slope), so keeping either gives every later bound alike"
    ),
    _CLOCK + "calibrate__mutmut_34": (  # <= -> < for the upper bound
        "on a tie old and new upper bounds are the same line (same value now, "
        "same slope), so keeping either gives every later bound alike"
    ),
    "projections.leases.service.xǁLeaseServiceǁ_append__mutmut_3": (  # always view.version
        "a new lock's version is 0, and the store reads expected_version 0 as "
        "NO_STREAM (eventstore.backend.expected_version_matches)"
    ),
    "projections.hub.locks.x_fold_lock_event__mutmut_4": _NO_EMPTY_ENTITY,
    "projections.hub.instances.x_fold_instance_event__mutmut_4": _NO_EMPTY_ENTITY,
    "projections.hub.instances.x_fold_sample__mutmut_4": _NO_EMPTY_ENTITY,
    "projections.health.xǁHealthProjectionǁevolve__mutmut_4": _NO_EMPTY_ENTITY,
    "projections.hub.locks.x__judged_at__mutmut_4": (  # > -> >= for decided_at
        "a decided_at equal to recorded_at is judged at recorded_at instead: the same instant"
    ),
    "projections.keys.x_entity_of__mutmut_4": (
        "a different maxsplit changes only the parts after the first, and [0] is all that is read"
    ),
    "projections.keys.x_entity_of__mutmut_6": (
        "a different maxsplit changes only the parts after the first, and [0] is all that is read"
    ),
    "projections.keys.x_ts__mutmut_6": (
        "a change to the one-minute memo costs a re-format, never a different string"
    ),
    "projections.keys.x_ts__mutmut_18": (
        "a change to the one-minute memo costs a re-format, never a different string"
    ),
}
