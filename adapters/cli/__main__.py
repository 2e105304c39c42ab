"""``python -m adapters.cli``: the ``hublog`` command without its console script."""

from . import main

main(prog_name="hublog")
