"""Plain data for the JSON views, every field included.

Events and values leave fields equal to their defaults out of what they
store (``omit_defaults``: eventstore/events.py), and ``msgspec.to_builtins``
honours that.  A view is read by people and scripts, so it shows every
field: ``jq .event.reason`` reads ``""``, not ``null``.  Otherwise the output
is what ``to_builtins(value, order="deterministic")`` gives: sets sorted,
dict keys sorted, datetimes, UUIDs and enums as msgspec writes them.
"""

from __future__ import annotations

from typing import Any

import msgspec


def plain(value: Any) -> Any:
    if isinstance(value, msgspec.Struct):
        config = value.__struct_config__
        out: dict[str, Any] = {}
        if config.tag_field is not None:
            out[config.tag_field] = config.tag
        for name in value.__struct_fields__:
            field = getattr(value, name)
            if field is not msgspec.UNSET:  # "not given", which to_builtins leaves out too
                out[name] = plain(field)
        return out
    if isinstance(value, dict):
        items = {msgspec.to_builtins(key): plain(item) for key, item in value.items()}
        return dict(sorted(items.items()))
    if isinstance(value, list | tuple):
        return [plain(item) for item in value]
    return msgspec.to_builtins(value, order="deterministic")
