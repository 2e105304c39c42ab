"""Hypothesis strategies derived from msgspec's type information.

Built from ``msgspec.inspect`` rather than by hand, so every event type —
including ones added later — is generated with every field it has.
"""

from __future__ import annotations

from datetime import UTC
from typing import Any

import msgspec.inspect as mi
from hypothesis import strategies as st

INT64 = st.integers(min_value=-(2**63), max_value=2**63 - 1)
TEXT = st.text(max_size=20)


def floats(finite: bool) -> st.SearchStrategy[float]:
    # NaN != NaN would make equality meaningless; JSON has no infinities.
    return st.floats(allow_nan=False, allow_infinity=not finite)


def json_like(finite: bool) -> st.SearchStrategy[Any]:
    return st.recursive(
        st.none() | st.booleans() | INT64 | floats(finite) | TEXT,
        lambda inner: st.lists(inner, max_size=3) | st.dictionaries(TEXT, inner, max_size=3),
        max_leaves=8,
    )


def for_type(t: mi.Type, finite: bool = False) -> st.SearchStrategy[Any]:
    """Values of a msgspec type; ``finite`` leaves out infinities (for JSON)."""
    simple: dict[type, st.SearchStrategy[Any]] = {
        mi.AnyType: json_like(finite),
        mi.NoneType: st.none(),
        mi.BoolType: st.booleans(),
        mi.IntType: INT64,
        mi.FloatType: floats(finite),
        mi.StrType: TEXT,
        mi.BytesType: st.binary(max_size=20),
        mi.UUIDType: st.uuids(),
    }
    if isinstance(t, mi.FloatType) and (t.ge is not None or t.le is not None):
        # a constrained float (eventstore.values.Finite): within its bounds
        return st.floats(min_value=t.ge, max_value=t.le, allow_nan=False)
    if type(t) in simple:
        return simple[type(t)]
    if isinstance(t, mi.DateTimeType):
        return st.datetimes(timezones=st.just(UTC)) if t.tz else st.datetimes()
    if isinstance(t, mi.EnumType):
        return st.sampled_from(t.cls)
    if isinstance(t, mi.LiteralType):
        return st.sampled_from(t.values)
    if isinstance(t, mi.UnionType):
        return st.one_of([for_type(u, finite) for u in t.types])
    if isinstance(t, mi.DictType):
        return st.dictionaries(
            for_type(t.key_type, finite), for_type(t.value_type, finite), max_size=3
        )
    if isinstance(t, mi.ListType):
        return st.lists(for_type(t.item_type, finite), max_size=3)
    if isinstance(t, mi.VarTupleType):
        return st.lists(for_type(t.item_type, finite), max_size=3).map(tuple)
    if isinstance(t, mi.FrozenSetType):
        return st.frozensets(for_type(t.item_type, finite), max_size=3)
    if isinstance(t, mi.TupleType):
        return st.tuples(*(for_type(u, finite) for u in t.item_types))
    if isinstance(t, mi.StructType):
        return for_struct(t.cls, finite)
    raise NotImplementedError(f"no strategy for {t!r}")


def for_struct(cls: type, finite: bool = False) -> st.SearchStrategy[Any]:
    """Instances of a Struct: required fields always, optional ones sometimes."""
    info = mi.type_info(cls)
    assert isinstance(info, mi.StructType)
    required = {f.name: for_type(f.type, finite) for f in info.fields if f.required}
    optional = {f.name: for_type(f.type, finite) for f in info.fields if not f.required}
    return st.fixed_dictionaries(required, optional=optional).map(lambda kwargs: cls(**kwargs))
