"""The corpus figures (recall per entry and language, false positives), kept while the corpus
tests run and printed at the end of the run, like the reliability summary."""

from __future__ import annotations

from typing import Any

_SECTIONS: dict[str, str] = {}


def keep(title: str, text: str) -> None:
    _SECTIONS[title] = text


def report(terminal: Any) -> None:
    for title, text in _SECTIONS.items():
        terminal.write_sep("=", title)
        terminal.write(text)
