"""Dev subcommands of `python -m remediation` (`serve`, `replay`), found by remediation.cli
when this package is present; same `register(subparsers)` convention as remediation.commands."""
