"""ARM list responses, as a poller receives them: `{"value": [...], "nextLink": ...}`, one
page of migration items, backup jobs, replication events or jobs. Each item is parsed as the
resource it is; a failure names the item's index."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from remediation.signals.model import Signal, SignalError
from remediation.signals.wrapper import DictWrapper, str_field

MAX_ITEMS = 1000
# What a list response may hold besides its page: the link to the next one and counts.
_LIST_KEYS = frozenset(("value", "nextLink", "@odata.nextLink", "count", "@odata.count"))

ItemParser = Callable[[object], list[Signal]]


class ArmList(DictWrapper):
    next_link = str_field("nextLink", "The next page's URL; absent on the last page.")

    @property
    def items(self) -> list[Any]:
        return self._list("value")

    def signals(self, parse_item: ItemParser) -> list[Signal]:
        items = self.items
        if not items:
            raise SignalError("an ARM list response with no items holds no signal")
        if len(items) > MAX_ITEMS:
            raise SignalError(f"an ARM list page of {len(items)} items exceeds {MAX_ITEMS}")
        found: list[Signal] = []
        for index, item in enumerate(items):
            try:
                found.extend(parse_item(item))
            except SignalError as exc:
                raise SignalError(f"$.value[{index}]: {exc}") from exc
        return found


def matches(data: Mapping[str, Any]) -> bool:
    return isinstance(data.get("value"), list) and data.keys() <= _LIST_KEYS
