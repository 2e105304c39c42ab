"""The ``hublog`` command: thin click commands over ``adapters.replay`` and
``adapters.hub``; each opens the library, calls one function, and turns
hublog's errors into a one-line message and a non-zero exit."""

from .commands import main

__all__ = ["main"]
