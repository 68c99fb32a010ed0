"""`python -m firstmile` runs the CLI."""

from firstmile.cli import main

main()
