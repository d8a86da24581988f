"""Read-only typed access to raw payload dicts, in the style of aws-powertools' event classes.

Every accessor either returns the value with the promised type, None when the key is absent or
null, or raises SignalError naming the JSON path: malformed input never escapes as KeyError or
TypeError.

Parsing runs for every delivered event, so the common case (a plain dict, a key spelled as
documented, a value of the right type) takes a short path; anything else takes the careful one.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Mapping
from datetime import UTC, datetime
from types import UnionType
from typing import Any, Generic, TypeVar, overload

from remediation.signals.model import SignalError
from remediation.textnorm import memo

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


def to_datetime(value: object, path: str) -> datetime | None:
    """ISO 8601 text (or a datetime from azure-monitor-query) as an aware UTC datetime."""
    if value is None or value == "":
        return None
    if isinstance(value, datetime):
        parsed = value
    elif isinstance(value, str):
        found = _parse_time(value)
        if found is None:
            raise SignalError(f"{path}: not an ISO 8601 time: {value[:40]!r}")
        return found
    else:
        raise SignalError(f"{path}: expected a time string, got {type_name(value)}")
    return parsed.replace(tzinfo=UTC) if parsed.tzinfo is None else parsed.astimezone(UTC)


@memo
def _parse_time(value: str) -> datetime | None:
    """Aware UTC datetime of ISO 8601 text, None when it is not one (datetimes are immutable)."""
    try:
        parsed = datetime.fromisoformat(value.strip())
    except ValueError:
        return None
    return parsed.replace(tzinfo=UTC) if parsed.tzinfo is None else parsed.astimezone(UTC)


W = TypeVar("W", bound="DictWrapper")
ChildPath = tuple["DictWrapper", tuple[str, ...], int | None]
Kinds = type | UnionType | tuple[type, ...]  # what isinstance accepts, e.g. int | float
"""(parent, keys, list index): a path kept in parts until an error needs it spelled out."""
T = TypeVar("T")


class lazy(Generic[T]):
    """A property computed on first access and then kept on the instance.

    Parsers read the same nested wrappers and derived texts several times per payload; payloads
    are not changed while they are parsed. Unlike functools.cached_property (Python 3.11) this
    takes no lock. A property that raises is not kept, so it raises again on the next access.
    """

    def __init__(self, func: Callable[[Any], T]) -> None:
        self.func = func
        self.name = func.__name__
        self.__doc__ = func.__doc__

    def __set_name__(self, owner: type, name: str) -> None:
        self.name = name

    @overload
    def __get__(self, instance: None, owner: type | None = None) -> lazy[T]: ...

    @overload
    def __get__(self, instance: object, owner: type | None = None) -> T: ...

    def __get__(self, instance: object | None, owner: type | None = None) -> T | lazy[T]:
        if instance is None:
            return self
        value = instance.__dict__[self.name] = self.func(instance)
        return value


class DictWrapper:
    """A thin wrapper over one JSON object; subclasses add typed properties."""

    case_insensitive = False

    def __init__(self, data: object, path: str | ChildPath = "$") -> None:
        self._path = path
        if type(data) is not dict and not isinstance(data, Mapping):
            raise SignalError(f"{self.path}: expected an object, got {type_name(data)}")
        self._data: Mapping[str, Any] = data

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

    def _folded(self, key: str) -> Any:
        """This object's value for a key spelled in another case. The object's key index is
        built on the first such read, then kept: most fields an alert lacks are read this way."""
        index = self.__dict__.get("_key_index")
        if index is None:
            index = self.__dict__["_key_index"] = key_index(self._data)
        name = index.get(key.lower())
        return None if name is None else self._data[name]

    def _get(self, keys: tuple[str, ...]) -> Any:
        """`_value(*keys)`, with the one-key case (nearly every read) inline."""
        if len(keys) == 1:
            key = keys[0]
            data = self._data
            if key in data:
                return data[key]
            return self._folded(key) if self.case_insensitive else None
        return self._value(*keys)

    def _value(self, *keys: str) -> Any:
        if not keys:
            return self._data
        node: Any = self._get(keys[:1])
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
        return self._checked(keys, self._get(keys), kinds, label)

    def _checked(self, keys: tuple[str, ...], value: Any, kinds: Kinds, label: str) -> Any:
        if value is None or (isinstance(value, kinds) and not isinstance(value, bool)):
            return value
        if isinstance(value, bool) and kinds is bool:
            return value
        raise SignalError(f"{self._where(keys)}: expected {label}, got {type_name(value)}")

    def _str(self, *keys: str) -> str | None:
        value = self._get(keys)
        if value is None or type(value) is str:
            return value
        return self._checked(keys, value, str, "a string")

    def _text(self, *keys: str) -> str | None:
        """A string field that some producers send as a number (codes, counts)."""
        value = self._get(keys)
        if value is None or type(value) is str:
            return value
        value = self._checked(keys, value, (str, int, float), "a string")
        return str(value)

    def _int(self, *keys: str) -> int | None:
        return self._typed(keys, int, "an integer")

    def _dict(self, *keys: str) -> Mapping[str, Any] | None:
        value = self._get(keys)
        if value is None or type(value) is dict:
            return value
        return self._checked(keys, value, Mapping, "an object")

    def _list(self, *keys: str) -> list[Any]:
        """Arrays default to empty: absent and null lists mean "none"."""
        value = self._get(keys)
        if type(value) is list:
            return value
        return [] if value is None else self._checked(keys, value, list, "an array") or []

    def _str_list(self, *keys: str) -> list[str]:
        items = self._list(*keys)
        for index, item in enumerate(items):
            if not isinstance(item, str):
                where = f"{self._where(keys)}[{index}]"
                raise SignalError(f"{where}: expected a string, got {type_name(item)}")
        return items

    def _time(self, *keys: str) -> datetime | None:
        value = self._get(keys)
        if value is None:
            return None
        if type(value) is str and value:
            parsed = _parse_time(value)
            if parsed is not None:
                return parsed
        return to_datetime(value, self._where(keys))

    def _wrap(self, cls: type[W], *keys: str) -> W | None:
        value = self._get(keys)
        return None if value is None else cls(value, self._child(keys))

    def _object(self, cls: type[W], *keys: str) -> W:
        """The nested object as `cls`, an empty one when absent or null."""
        return cls(self._dict(*keys) or {}, self._child(keys))

    def _wrap_list(self, cls: type[W], *keys: str) -> list[W]:
        items = self._list(*keys)
        if not items:
            return []
        return [cls(item, self._child(keys, i)) for i, item in enumerate(items)]


class field(lazy[T]):
    """A JSON field of the wrapped object, read and type-checked once, then kept on the instance.

    `read` is the DictWrapper accessor that checks the type (and raises SignalError naming the
    path); a string field found as a string, the common case, skips it.
    """

    def __init__(self, key: str, read: Callable[..., T], doc: str | None = None) -> None:
        super().__init__(lambda instance: read(instance, key))
        self.key = key
        self.plain_str = read in (DictWrapper._str, DictWrapper._text)
        self.__doc__ = doc

    def __get__(self, instance: Any, owner: type | None = None) -> Any:
        if instance is not None and self.plain_str:
            data, key = instance._data, self.key
            if key in data:
                value = data[key]
            else:
                value = instance._folded(key) if instance.case_insensitive else None
            if value is None or type(value) is str:
                instance.__dict__[self.name] = value
                return value
        return super().__get__(instance, owner)


def str_field(key: str, doc: str | None = None) -> field[str | None]:
    return field(key, DictWrapper._str, doc)


def text_field(key: str, doc: str | None = None) -> field[str | None]:
    """A string that some producers send as a number (codes, counts)."""
    return field(key, DictWrapper._text, doc)


def int_field(key: str, doc: str | None = None) -> field[int | None]:
    return field(key, DictWrapper._int, doc)


def str_list_field(key: str, doc: str | None = None) -> field[list[str]]:
    return field(key, DictWrapper._str_list, doc)


def time_field(key: str, doc: str | None = None) -> field[datetime | None]:
    return field(key, DictWrapper._time, doc)


class ArmResource(DictWrapper):
    """An ARM resource as GET returns it: id, name, type and a `properties` object."""

    id = str_field("id")
    name = str_field("name")
    type = str_field("type")


def is_arm_resource(
    data: Mapping[str, Any], type_suffix: str, property_keys: tuple[str, ...]
) -> bool:
    """An ARM resource of this kind: its `type` ends with `type_suffix` (lower case), or, for
    a resource sent without its type (some list responses), its `properties` hold one of the
    keys only this kind has. A resource typed as another kind is not this one, whatever its
    properties share (a replication event has health errors, like a migration item)."""
    props = data.get("properties")
    if not isinstance(props, Mapping):
        return False
    kind = data.get("type")
    if isinstance(kind, str) and kind:
        return kind.lower().endswith(type_suffix)
    return any(key in props for key in property_keys)
