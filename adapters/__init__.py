"""Everything of hublog that touches the outside: backends, ``open_store``,
the hub-facing persistence API, configuration and the ``hublog`` CLI."""

from .stores import open_store

__all__ = ["open_store"]
