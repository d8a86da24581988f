"""`python -m remediation`: the command line (see remediation.cli)."""

from remediation.cli import main

raise SystemExit(main())
