"""Surviving mutants judged equivalent: no test can tell them apart from the
original, because the program's behaviour does not change.

Each entry names the mutant (as mutmut does) and says why.  Reviewed by
hand; a mutant's name stays stable while its function's text does not
change (mutmut numbers the mutants of one function in order).
"""

from __future__ import annotations

EQUIVALENT: dict[str, str] = {}
