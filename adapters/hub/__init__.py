"""The Gleitzeit-facing persistence API: ``HubPersistenceAdapter`` and its
Redis/SQL/memory faces, the leases glue, ``attach``, ``restore`` and
configuration.

It reaches a backend only through :func:`adapters.open_store` (and the
read-model store beside it), never by importing a backend package, and never
imports click: an import-linter contract checks both.
"""
