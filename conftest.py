"""Doctest collection: modules that must not be imported as plain modules."""

collect_ignore = ["src/firstmile/__main__.py", "src/firstmile/storage/migrations"]
