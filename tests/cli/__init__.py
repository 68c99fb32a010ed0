"""CLI tests: CliRunner on real workspace files."""
