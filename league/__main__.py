"""`python -m league ...` runs the `league` command."""

from league.cli import cli

cli()
