"""The projections' surviving mutants judged equivalent (2026-12-05 and 2026-12-06 runs)."""

from __future__ import annotations

_CLOCK = "projections.deciders.clock.xǁBackendClockǁ"
_FOLLOW = "projections.deciders.queue.waiting."
_METRICS = "projections.metrics.xǁMetricsProjectionǁ"
_METRICS_FN = "projections.metrics.x_"
_SERVICE = "projections.deciders.queue.service.xǁQueueServiceǁ"
_FIRST_POOL_READ = "the first pass reads the pool whatever pool_changed says: no candidates yet"

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
    "projections.deciders.leases.service.xǁLeaseServiceǁ_append__mutmut_3": (  # always view.version
        "a new lock's version is 0, and the store reads expected_version 0 as "
        "NO_STREAM (eventstore.backend.expected_version_matches)"
    ),
    "projections.hub.leases.x_fold_lock_event__mutmut_4": _NO_EMPTY_ENTITY,
    "projections.hub.instances.x_fold_instance_event__mutmut_4": _NO_EMPTY_ENTITY,
    "projections.hub.instances.x_fold_sample__mutmut_4": _NO_EMPTY_ENTITY,
    "projections.health.xǁHealthProjectionǁevolve__mutmut_4": _NO_EMPTY_ENTITY,
    "projections.hub.leases.x__judged_at__mutmut_4": (  # > -> >= for decided_at
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
    # The queue (2026-12-06 re-run on 1ba66ff).
    **dict.fromkeys(
        [
            _FOLLOW + "x__follow__mutmut_1",
            _FOLLOW + "x__follow__mutmut_2",
            _FOLLOW + "x__follow__mutmut_13",
            _FOLLOW + "x__follow__mutmut_14",
            _FOLLOW + "xǁWakerǁ__init____mutmut_4",
            _FOLLOW + "xǁWakerǁ__init____mutmut_5",
        ],
        "Waker.following is written and never read (dead state, to be removed "
        "with the queue part's next whole run)",
    ),
    _FOLLOW + "xǁWakerǁ__init____mutmut_2": _FIRST_POOL_READ,
    _FOLLOW + "xǁWakerǁ__init____mutmut_3": _FIRST_POOL_READ,
    _SERVICE + "_until_granted__mutmut_1": _FIRST_POOL_READ,
    _SERVICE + "_until_granted__mutmut_5": "pool_changed None or False: both falsy",
    _FOLLOW + "xǁWakerǁ__init____mutmut_6": (
        "request_id '' or None before the loop sets it: neither matches a queued "
        "request, so concerns() answers the same"
    ),
    _FOLLOW + "x_waiting__mutmut_3": (
        "result's initial value is never returned: body either returns (and "
        "result is set) or raises (and failure is raised)"
    ),
    "projections.deciders.queue.match.x_requirements_of__mutmut_7": ("_listed ignores its key argument"),
    **dict.fromkeys(
        [
            "projections.deciders.queue.match.x_requirements_of__mutmut_16",
            "projections.deciders.queue.match.x_requirements_of__mutmut_19",
            "projections.deciders.queue.match.x_requirements_of__mutmut_20",
        ],
        "strict or lax makes no difference to Requirements: its fields are str "
        "tuples and a str enum, which lax mode converts nothing into",
    ),
    "projections.queue.readmodel.xǁQueueProjectionǁevolve__mutmut_8": (
        "ended() is None exactly when the event is not an Ended: or and and agree"
    ),
    "projections.deciders.queue.rules.x_grant__mutmut_19": (
        "a newcomer's fresh request id is not in the queue, and ahead_of answers "
        "for an id not in the queue as for None: everyone"
    ),
    _SERVICE + "_attempt__mutmut_8": (
        "view.find(None) is None (no queued request has no id), and mine is read only when joined"
    ),
    _SERVICE + "_leave__mutmut_1": "ask.waiting None or False: both falsy",
    _SERVICE + "_record__mutmut_34": "ask.waiting None or False: both falsy",
    _SERVICE + "_record__mutmut_35": (
        "ask.waiting left True after the grant: the task group (and the heartbeat "
        "that reads it) is cancelled as the grant returns; a first attempt has no heartbeat"
    ),
    _SERVICE + "_until_granted__mutmut_24": (
        "now == deadline exactly (a monotonic float) costs one more attempt, "
        "then now > deadline: the same timeout"
    ),
    **dict.fromkeys(
        [
            _SERVICE + "reserve__mutmut_21",
            _SERVICE + "reserve__mutmut_23",
            _SERVICE + "reserve__mutmut_25",
        ],
        "the head is read (or set to 1) for wait == 0, where it is never used: "
        "a request that may not wait never follows the log",
    ),
    # The metrics projection (2026-12-06 re-run on 1ba66ff).
    **dict.fromkeys(
        [_METRICS_FN + "_younger__mutmut_8", _METRICS_FN + "_younger__mutmut_10"],
        "item [1] of a split is the same for any maxsplit of at least 1",
    ),
    _METRICS_FN + "_younger__mutmut_9": (
        "keys have at most three parts and ids never hold '{': rsplit's [1] is split's"
    ),
    _METRICS_FN + "_younger__mutmut_13": (
        "the filtered dict equals the table when nothing was dropped; tables are "
        "never compared by identity (a copy, in time only)"
    ),
    **dict.fromkeys(
        [_METRICS + "_minute_of__mutmut_" + n for n in ("1", "5", "6", "16")]
        + [_METRICS + "_rolled__mutmut_" + n for n in ("3", "6", "7")],
        "the one-minute memo missed more often: the same floored minute, in more time",
    ),
    _METRICS + "_rolled__mutmut_5": (
        "_sampled calls cuts() just before, which always sets the span: the "
        "shortcut's condition is the same"
    ),
    _METRICS + "_rolled_up__mutmut_41": "an equal until replaced by an equal one",
    _METRICS + "tick__mutmut_7": (
        "a second expiry pass in the same minute, with the same cuts, expires nothing more"
    ),
    _METRICS + "fingerprint__mutmut_7": "Projection.fingerprint ignores hub_id",
}
