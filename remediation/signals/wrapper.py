"""Read-only typed access to raw payload dicts, in the style of aws-powertools' event classes.

Every accessor either returns the value with the promised type, None when the key is absent or
null, or raises SignalError naming the JSON path: malformed input never escapes as KeyError or
TypeError.

Parsing runs for every delivered event, most of them distinct, so a read costs what a dict
lookup costs: a field is a property that checks the common case (the key spelled as documented,
a value of the right type) inline and hands anything else to the careful accessor; nothing is
cached, so parsers read each field once into a local; a wrapper spells its JSON path out only
when an error needs it.
"""

from __future__ import annotations

import builtins
import functools
from collections.abc import Callable, Mapping
from datetime import UTC, datetime
from types import UnionType
from typing import Any, TypeAlias, TypeVar

from remediation.signals.model import SignalError

_TYPE_NAMES = {dict: "object", list: "array", str: "string", bool: "boolean", type(None): "null"}


def type_name(value: object) -> str:
    """JSON-ish name of a value's type for error reasons."""
    for kind, name in _TYPE_NAMES.items():
        if isinstance(value, kind):
            return name
    return "number" if isinstance(value, int | float) else type(value).__name__


MAX_INDEXED_KEYS = 64
"""Objects with more keys are searched key by key (no real payload object has that many)."""


@functools.lru_cache(maxsize=512)
def _key_index(names: tuple[Any, ...]) -> dict[str, str]:
    """lower-cased key -> the first key spelled that way.

    Keyed by the object's key names: payloads of one kind share a few shapes, so the index
    is built once per shape, not once per payload.
    """
    index: dict[str, str] = {}
    for name in names:
        if isinstance(name, str):
            index.setdefault(name.lower(), name)
    return index


def key_index(data: Mapping[str, Any]) -> dict[str, str]:
    """lower-cased key -> the first key spelled that way, for one object."""
    if type(data) is dict and len(data) <= MAX_INDEXED_KEYS:
        return _key_index(tuple(data))
    return _key_index.__wrapped__(tuple(data))


def folded_lookup(data: Mapping[str, Any], key: str) -> Any:
    """data's value for `key` spelled in any case (the first such key), None when absent.

    Callers look the key up as spelled first; this is the fallback for other spellings."""
    folded = key.lower()
    if type(data) is dict and len(data) <= MAX_INDEXED_KEYS:
        name = _key_index(tuple(data)).get(folded)
        return None if name is None else data[name]
    for name, value in data.items():
        if isinstance(name, str) and name.lower() == folded:
            return value
    return None


def parse_time(value: str) -> datetime | None:
    """Aware UTC datetime of ISO 8601 text, None when it is not one."""
    try:
        parsed = datetime.fromisoformat(value.strip())
    except ValueError:
        return None
    tz = parsed.tzinfo
    if tz is UTC:
        return parsed
    return parsed.replace(tzinfo=UTC) if tz is None else parsed.astimezone(UTC)


def to_datetime(value: object, path: str) -> datetime | None:
    """ISO 8601 text (or a datetime from azure-monitor-query) as an aware UTC datetime."""
    if value is None or value == "":
        return None
    if isinstance(value, datetime):
        parsed = value
    elif isinstance(value, str):
        found = parse_time(value)
        if found is None:
            raise SignalError(f"{path}: not an ISO 8601 time: {value[:40]!r}")
        return found
    else:
        raise SignalError(f"{path}: expected a time string, got {type_name(value)}")
    return parsed.replace(tzinfo=UTC) if parsed.tzinfo is None else parsed.astimezone(UTC)


W = TypeVar("W", bound="DictWrapper")
ChildPath = tuple["DictWrapper", tuple[str, ...], int | None]
Kinds: TypeAlias = type | UnionType | tuple[type, ...]  # what isinstance takes: int | float
"""(parent, keys, list index): a path kept in parts until an error needs it spelled out."""


class DictWrapper:
    """A thin wrapper over one JSON object; subclasses add typed properties."""

    __slots__ = ("_data", "_index", "_path")
    case_insensitive = False

    def __init__(self, data: object, path: str | ChildPath = "$") -> None:
        self._path = path
        if type(data) is not dict and not isinstance(data, Mapping):
            raise SignalError(f"{self.path}: expected an object, got {type_name(data)}")
        self._data: Mapping[str, Any] = data
        self._index: dict[str, str] | None = None

    @property
    def path(self) -> str:
        """This object's JSON path, for error reasons; spelled out only when one is raised."""
        path = self._path
        if not isinstance(path, str):
            parent, keys, index = path
            path = self._path = parent._where(keys) + ("" if index is None else f"[{index}]")
        return path

    def _child(self, keys: tuple[str, ...], index: int | None = None) -> ChildPath:
        return (self, keys, index)

    @property
    def raw_event(self) -> Mapping[str, Any]:
        """The untouched payload."""
        return self._data

    def _where(self, keys: tuple[str, ...]) -> str:
        return ".".join((self.path, *keys))

    def _keys(self) -> dict[str, str]:
        """lower-cased key -> the key spelled that way: built on the first key read in another
        case, then kept."""
        index = self._index
        if index is None:
            index = self._index = key_index(self._data)
        return index

    def _get(self, key: str) -> Any:
        """The value of one key; a case-insensitive object also finds it spelled in another
        case (alert keys vary in case between docs and real payloads)."""
        data = self._data
        if key in data:
            return data[key]
        if not self.case_insensitive:
            return None
        name = self._keys().get(key.lower())
        return None if name is None else data[name]

    def _at(self, keys: tuple[str, ...]) -> Any:
        """`_value(*keys)`, with the one-key case (nearly every read) inline."""
        return self._get(keys[0]) if len(keys) == 1 else self._value(*keys)

    def _value(self, *keys: str) -> Any:
        """The value at a path of keys, None when any step is absent or null."""
        if not keys:
            return self._data
        node: Any = self._get(keys[0])
        for depth in range(1, len(keys)):
            if node is None:
                return None
            if type(node) is not dict and not isinstance(node, Mapping):
                where = self._where(keys[:depth])
                raise SignalError(f"{where}: expected an object, got {type_name(node)}")
            key = keys[depth]
            if key in node:
                node = node[key]
            else:
                node = folded_lookup(node, key) if self.case_insensitive else None
        return node

    def _typed(self, keys: tuple[str, ...], kinds: Kinds, label: str) -> Any:
        return self._checked(keys, self._at(keys), kinds, label)

    def _checked(self, keys: tuple[str, ...], value: Any, kinds: Kinds, label: str) -> Any:
        if value is None or (isinstance(value, kinds) and not isinstance(value, bool)):
            return value
        if isinstance(value, bool) and kinds is bool:
            return value
        raise SignalError(f"{self._where(keys)}: expected {label}, got {type_name(value)}")

    def _str(self, *keys: str) -> str | None:
        value = self._at(keys)
        if value is None or type(value) is str:
            return value
        return self._checked(keys, value, str, "a string")

    def _text(self, *keys: str) -> str | None:
        """A string field that some producers send as a number (codes, counts)."""
        value = self._at(keys)
        if value is None or type(value) is str:
            return value
        value = self._checked(keys, value, (str, int, float), "a string")
        return str(value)

    def _int(self, *keys: str) -> int | None:
        return self._typed(keys, int, "an integer")

    def _number(self, *keys: str) -> float | None:
        return self._typed(keys, int | float, "a number")

    def _dict(self, *keys: str) -> Mapping[str, Any] | None:
        value = self._at(keys)
        if value is None or type(value) is dict:
            return value
        return self._checked(keys, value, Mapping, "an object")

    def _list(self, *keys: str) -> list[Any]:
        """Arrays default to empty: absent and null lists mean "none"."""
        first = self._data.get(keys[0])
        if first is None and (not self.case_insensitive or keys[0].lower() not in self._keys()):
            return []  # nothing at the first key in any spelling: none further down either
        if type(first) is list and len(keys) == 1:
            return first
        value = self._at(keys)
        if type(value) is list:
            return value
        return [] if value is None else self._checked(keys, value, list, "an array") or []

    def _str_list(self, *keys: str) -> list[str]:
        items = self._list(*keys)
        for index, item in enumerate(items):
            if type(item) is not str and not isinstance(item, str):
                where = f"{self._where(keys)}[{index}]"
                raise SignalError(f"{where}: expected a string, got {type_name(item)}")
        return items

    def _time(self, *keys: str) -> datetime | None:
        value = self._at(keys)
        if value is None:
            return None
        if type(value) is str and value:
            parsed = parse_time(value)
            if parsed is not None:
                return parsed
        return to_datetime(value, self._where(keys))

    def _wrap(self, cls: type[W], *keys: str) -> W | None:
        """The nested object as `cls`, None when absent or null."""
        value = self._at(keys)
        return None if value is None else cls(value, self._child(keys))

    def _wrap_list(self, cls: type[W], *keys: str) -> list[W]:
        items = self._list(*keys)
        if not items:
            return []
        return [cls(item, self._child(keys, i)) for i, item in enumerate(items)]


def _field(key: str, read: Callable[[DictWrapper, str], Any], doc: str | None, kind: type) -> Any:
    """A typed property for one key, read by `read` (which finds another spelling or raises
    SignalError naming the path); a value of `kind` under the key as spelled, null, or no key
    in any spelling (the common cases) is answered without the call."""
    folded = key.lower()

    def get(self: DictWrapper) -> Any:
        data = self._data
        value = data.get(key)
        if type(value) is kind:
            return value
        if value is None and (not self.case_insensitive or folded not in self._keys()):
            return None
        return read(self, key)

    return property(get, doc=doc)


def str_field(key: str, doc: str | None = None) -> Any:
    return _field(key, DictWrapper._str, doc, str)


def text_field(key: str, doc: str | None = None) -> Any:
    """A string that some producers send as a number (codes, counts)."""
    return _field(key, DictWrapper._text, doc, str)


def int_field(key: str, doc: str | None = None) -> Any:
    return _field(key, DictWrapper._int, doc, int)


def str_list_field(key: str, doc: str | None = None) -> Any:
    """An array of strings, empty when absent or null."""

    folded = key.lower()

    def get(self: DictWrapper) -> list[str]:
        value = self._data.get(key)
        if type(value) is list:
            for item in value:
                if type(item) is not str:
                    break
            else:
                return value
        elif value is None and (not self.case_insensitive or folded not in self._keys()):
            return []
        return self._str_list(key)

    return property(get, doc=doc)


def time_field(key: str, doc: str | None = None) -> Any:
    """ISO 8601 text as an aware UTC datetime."""

    folded = key.lower()

    def get(self: DictWrapper) -> datetime | None:
        value = self._data.get(key)
        if type(value) is str and value:
            parsed = parse_time(value)
            if parsed is not None:
                return parsed
        elif value is None and (not self.case_insensitive or folded not in self._keys()):
            return None
        return self._time(key)

    return property(get, doc=doc)


class ArmResource(DictWrapper):
    """An ARM resource as GET returns it: id, name, type and a `properties` object."""

    id = str_field("id")
    name = str_field("name")
    type = str_field("type")

    def _properties(self, cls: builtins.type[W]) -> W:
        """`properties` as `cls`, an empty one when absent or null."""
        return cls(self._dict("properties") or {}, self._child(("properties",)))
