"""Error text a person pastes in chat or pipes to the CLI."""

from __future__ import annotations

from remediation.signals.build import make_signal
from remediation.signals.model import Signal, SignalError, SourceKind
from remediation.signals.text import MAX_MESSAGE_CHARS, clean_text, find_codes, find_vm


class RawText:
    """Free text: the codes and VM are whatever the text itself names."""

    def __init__(self, text: str) -> None:
        if not isinstance(text, str):
            raise SignalError(f"raw text must be a string, got {type(text).__name__}")
        self.text, _ = clean_text(text, 8 * MAX_MESSAGE_CHARS)
        if not self.text:
            raise SignalError("raw text is empty")

    @property
    def codes(self) -> list[str]:
        return find_codes(self.text)

    @property
    def vm(self) -> str | None:
        return find_vm(self.text)

    def to_signal(self) -> Signal:
        return make_signal(SourceKind.RAW_TEXT, self.text, self.codes, vm=self.vm)
