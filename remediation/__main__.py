"""`python -m remediation`: the command line (see remediation.cli)."""

from remediation.cli import main

# Guarded: a process started with multiprocessing's spawn re-imports the parent's main module
# (the local host's queue worker does), and that import must not run the command line again.
if __name__ == "__main__":
    raise SystemExit(main())
