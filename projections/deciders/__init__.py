"""The write side: everything that decides what to append to the log.

Each command reads the current state of one stream (its last event, or a
fold of it), calls a pure decision — ``decide(state) -> events | refusal`` —
and appends the events expecting the version it read; :mod:`.loop` is that
one read-decide-append loop, with its backoff, its retries and its
cancellation safety.  What is decided here:

    leases/     counting, fenced leases (the seed's distributed locking)
    queue/      reservations that wait their turn in a FIFO queue
    instances   an instance stream's changes (the hub API's saves)
    retention   rollups appended, raw samples past the window deleted

Imports ``eventstore`` and the read side (:mod:`projections`'s folds); no
fold or read model imports this package.
"""
