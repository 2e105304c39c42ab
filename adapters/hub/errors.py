"""The hub API's own errors, under hublog's one root (:class:`EventStoreError`)."""

from __future__ import annotations

from eventstore.errors import EventStoreError, StoreConfigurationError


class UnknownInstance(EventStoreError, LookupError):
    """No hub's log has a live registration of this instance id."""

    def __init__(self, instance_id: str) -> None:
        self.instance_id = instance_id
        super().__init__(f"Unknown instance: {instance_id!r} is not registered in any hub")


class HubConfigError(StoreConfigurationError):
    """The hub persistence configuration (env or YAML) is wrong; the message
    names the key, and the file and line where there is one."""
