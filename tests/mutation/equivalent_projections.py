"""The projections' surviving mutants judged equivalent (2026-12-05 run)."""

from __future__ import annotations

_CLOCK = "projections.leases.clock.xǁBackendClockǁ"

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
}
