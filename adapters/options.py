"""Reading one backend option: from a URL's query (a string) or a keyword
argument (a typed value), checked, with errors that name the option and the
(redacted) URL.  The backends' settings objects are built from these."""

from __future__ import annotations

import difflib
import math
from collections.abc import Iterable, Mapping
from typing import Any, TypeVar, cast

from eventstore.errors import StoreConfigurationError

N = TypeVar("N", int, float)

_TRUE = ("1", "true", "yes", "on")
_FALSE = ("0", "false", "no", "off")


def refuse(name: str, value: object, where: str, must: str) -> StoreConfigurationError:
    """The error for option ``name``: what it got, where, and what it must be."""
    place = f" (in {where!r})" if where else ""
    return StoreConfigurationError(f"option {name}={value!r} {must}{place}")


def to_bool(name: str, value: object, where: str = "") -> bool:
    if isinstance(value, bool):
        return value
    lowered = str(value).strip().lower()
    if lowered in _TRUE:
        return True
    if lowered in _FALSE:
        return False
    raise refuse(name, value, where, "is not a boolean (true or false)")


def to_number(name: str, value: object, *, minimum: N, where: str = "", kind: type[N]) -> N:
    # int(2.5) would be 2 and int(inf) an OverflowError: a whole-number
    # option takes a float only when it is whole.
    not_a = "is not a whole number" if kind is int else "is not a number"
    if isinstance(value, bool) or (
        kind is int and isinstance(value, float) and not value.is_integer()
    ):
        raise refuse(name, value, where, not_a)
    try:
        number = cast(Any, kind)(value)
    except (TypeError, ValueError):
        raise refuse(name, value, where, not_a) from None
    # inf would pass the minimum and fail later, raw (socket timeouts, XREAD BLOCK).
    if not math.isfinite(number):
        raise refuse(name, value, where, "is not a finite number")
    if number < minimum:
        raise refuse(name, value, where, f"must be at least {minimum}")
    return number


def to_choice(name: str, value: object, choices: tuple[str, ...], where: str = "") -> str:
    lowered = str(value).strip().lower()
    if lowered not in choices:
        raise refuse(name, value, where, f"must be one of {', '.join(choices)}")
    return lowered


def merge(
    url_options: Mapping[str, str], given: Mapping[str, Any], known: frozenset[str], where: str
) -> dict[str, Any]:
    """The URL's hublog options overlaid with the keyword arguments given
    (None means "not given"); a keyword hublog does not know is refused."""
    unknown = sorted(set(given) - known)
    if unknown:
        raise StoreConfigurationError(
            f"unknown option(s) {', '.join(unknown)} for {where!r}; known: {', '.join(sorted(known))}"
        )
    merged: dict[str, Any] = {k: v for k, v in url_options.items() if k in known}
    merged.update({k: v for k, v in given.items() if v is not None})
    return merged


def check_url_options(
    names: Iterable[str],
    hublog: frozenset[str],
    driver: frozenset[str],
    driver_name: str,
    where: str,
    keyword_only: frozenset[str] = frozenset(),
) -> None:
    """Refuse an option in a URL's query that neither hublog nor the driver
    reads (a typo would otherwise be ignored, or fail later and raw), naming
    the closest known one and listing them all.

    Raises: StoreConfigurationError.
    """
    unknown = sorted(set(names) - hublog - driver)
    if not unknown:
        return
    known = hublog | driver
    keywords = [name for name in unknown if name in keyword_only]
    guesses = [
        g
        for name in unknown
        if name not in keyword_only
        for g in difflib.get_close_matches(name, known, n=1)
    ]
    hint = f" (did you mean {', '.join(guesses)}?)" if guesses else ""
    if keywords:
        hint += f" ({', '.join(keywords)}: keyword arguments of open_store, not URL options)"
    listed = f"hublog's {', '.join(sorted(hublog))}"
    if driver - hublog:
        listed += f"; {driver_name}'s {', '.join(sorted(driver - hublog))}"
    raise StoreConfigurationError(
        f"unknown option(s) {', '.join(unknown)} in {where!r}{hint}; known: {listed}"
    )
