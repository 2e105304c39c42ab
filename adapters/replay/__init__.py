"""The library behind the ``hublog`` command: event filters, the text and
JSON Lines forms of an event, and the demo simulation.  It never imports
click (an import-linter contract checks it), so everything the CLI shows is
usable and testable as plain functions."""
