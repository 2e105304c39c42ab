"""The replay tool's errors, under hublog's one root (:class:`EventStoreError`),
so the CLI turns every one of them into a one-line message."""

from __future__ import annotations

from eventstore.errors import EventStoreError


class ReplayError(EventStoreError):
    """Root of the errors of ``adapters.replay``."""


class UnknownHub(ReplayError, LookupError):
    """A hub the log does not have; the message lists the hubs there are."""

    def __init__(self, hub_id: str, known: list[str], where: str) -> None:
        self.hub_id, self.known = hub_id, known
        there = ", ".join(known) if known else "none"
        super().__init__(f"no hub {hub_id!r} in {where} (hubs there: {there})")


class UnknownInstance(ReplayError, LookupError):
    """An instance none of the hubs looked in has; the message lists theirs."""

    def __init__(self, instance_id: str, hubs: list[str], known: list[str], where: str) -> None:
        self.instance_id, self.known = instance_id, known
        super().__init__(
            f"no instance {instance_id!r} in {', '.join(hubs) or where} "
            f"(instances there: {', '.join(known) or 'none'})"
        )


class InvalidInput(ReplayError, ValueError):
    """A malformed time, a bad filter, an argument that makes no sense."""


class OutsideLog(ReplayError, ValueError):
    """A point (``--at``, ``diff A B``) the log does not cover: a time before
    its first event or in the future, a position beyond its head."""


class EmptyRange(ReplayError, ValueError):
    """A window or range that holds no events at all."""


class ImportFileError(ReplayError, ValueError):
    """A file that is not hublog JSON Lines; the message names the line."""
