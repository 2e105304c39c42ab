"""The mutation run, by area (see docs/testing.md).

``python -m tests.mutation run AREA`` runs mutmut over one area's mutants;
``python -m tests.mutation report`` prints each area's kill rate from the
results mutmut keeps in ``mutants/``.  The areas split the run so each part
finishes in under 30 minutes on a 2-core machine.
"""
