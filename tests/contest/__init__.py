"""The multi-process contests' harness: worker processes contending through
one log, some of them SIGKILLed, then a checker that reads only the log.

``harness.py`` runs the processes and keeps what they said; ``worker.py`` is
their side (orders in, JSON lines out); ``checker.py`` the rules every
log-only checker applies.  A contest (``tests/projections/deciders/leases/``,
``…/queue/``) brings its own worker step, its own settling of the log and
its own checks, nothing else.
"""
