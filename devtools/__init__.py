"""Dev tooling: the ARM simulator, the local host with its dev chat page, and replay.

Never deployed (`.funcignore`) and never imported by what Azure runs: the Function App, the
core (`remediation/`), the bot (`bot/`) and the composition root (`wiring/`) work without it.
"""
