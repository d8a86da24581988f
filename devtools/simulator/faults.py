"""Fault injection: throttling, server errors, hangs and dropped connections, per route.

A fault that is `carried_out` lets the request change the estate first and spoils only its
answer: a write Azure took whose answer was lost (the connection closed, or a gateway's 504).

A rule matches a route name (fnmatch pattern, e.g. `compute.rpc.*`) and optionally a method.
`times` makes it fire only for the first N matching requests ("fails the first N times").
Chaos picks a fault for any ARM request with a probability, from a seeded generator, so a
run with the same seed and the same request sequence injects the same faults.
"""

from __future__ import annotations

import fnmatch
import random
import threading
from dataclasses import asdict, dataclass, field
from typing import Any, Literal

FaultKind = Literal["status", "timeout", "drop"]
FAULT_KINDS = ("status", "timeout", "drop")

_DEFAULT_CODES = {
    429: "TooManyRequests",
    409: "Conflict",
    500: "InternalServerError",
    502: "BadGateway",
    503: "ServiceUnavailable",
    504: "GatewayTimeout",
}


class FaultConfigError(ValueError):
    """A fault rule that cannot be applied; the message says which field is wrong."""


@dataclass
class Fault:
    """What to do to one request."""

    kind: FaultKind = "status"
    status: int = 500
    code: str | None = None
    message: str | None = None
    retry_after: float | None = None
    hold_seconds: float = 0.0
    carried_out: bool = False  # the request is carried out before its answer goes wrong

    @property
    def error_code(self) -> str:
        return self.code or _DEFAULT_CODES.get(self.status, "Error")

    def error_body(self) -> dict[str, Any]:
        return {
            "error": {
                "code": self.error_code,
                "message": self.message or f"Injected fault: {self.error_code}.",
            }
        }


@dataclass
class FaultRule:
    route: str = "*"
    fault: Fault = field(default_factory=Fault)
    method: str | None = None
    times: int | None = None
    fired: int = 0
    path: str | None = None  # an fnmatch pattern of request paths, case-blind like ARM ids

    def matches(self, route: str, method: str, path: str = "") -> bool:
        if self.method and self.method.upper() != method.upper():
            return False
        if self.times is not None and self.fired >= self.times:
            return False
        if self.path and not fnmatch.fnmatchcase(path.lower(), self.path.lower()):
            return False
        return fnmatch.fnmatchcase(route, self.route)

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> FaultRule:
        if not isinstance(data, dict):
            raise FaultConfigError("a fault rule must be a JSON object")
        fault_fields = {k: data[k] for k in asdict(Fault()) if k in data}
        if fault_fields.get("kind", "status") not in FAULT_KINDS:
            raise FaultConfigError(f"kind must be one of {FAULT_KINDS}")
        unknown = set(data) - set(fault_fields) - {"route", "method", "times", "path"}
        if unknown:
            raise FaultConfigError(f"unknown fault rule fields: {sorted(unknown)}")
        try:
            return cls(
                route=str(data.get("route", "*")),
                fault=Fault(**fault_fields),
                method=data.get("method"),
                times=None if data.get("times") is None else int(data["times"]),
                path=None if data.get("path") is None else str(data["path"]),
            )
        except (TypeError, ValueError) as exc:
            raise FaultConfigError(f"invalid fault rule: {exc}") from exc

    def to_json(self) -> dict[str, Any]:
        return {
            "route": self.route,
            "method": self.method,
            "times": self.times,
            "fired": self.fired,
            "path": self.path,
            **asdict(self.fault),
        }


@dataclass
class Chaos:
    probability: float
    seed: int
    faults: list[Fault]
    rng: random.Random


class Faults:
    """The rules in force; thread-safe, shared by the server and the test that configures it."""

    def __init__(self) -> None:
        self._rules: list[FaultRule] = []
        self._chaos: Chaos | None = None
        self._lock = threading.Lock()

    def add(self, rule: FaultRule) -> FaultRule:
        with self._lock:
            self._rules.append(rule)
        return rule

    def throttle(
        self, route: str = "*", *, retry_after: float = 1, times: int | None = None, method=None
    ) -> FaultRule:
        """429 with Retry-After (seconds)."""
        return self.error(route, 429, retry_after=retry_after, times=times, method=method)

    def error(
        self,
        route: str,
        status: int,
        *,
        code: str | None = None,
        message: str | None = None,
        retry_after: float | None = None,
        times: int | None = None,
        method: str | None = None,
        path: str | None = None,
    ) -> FaultRule:
        fault = Fault("status", status, code, message, retry_after)
        return self.add(FaultRule(route, fault, method, times, path=path))

    def fail_first(
        self, route: str, n: int, status: int = 409, code: str | None = None, method=None
    ) -> FaultRule:
        """The first `n` matching requests fail; later ones go through."""
        return self.error(route, status, code=code, times=n, method=method)

    def timeout(
        self, route: str, *, hold_seconds: float, times: int | None = None, method=None
    ) -> FaultRule:
        """Hold the response longer than the client waits; the request is still processed."""
        return self.add(
            FaultRule(route, Fault("timeout", hold_seconds=hold_seconds), method, times)
        )

    def drop(self, route: str, *, times: int | None = None, method=None) -> FaultRule:
        """Close the connection without answering."""
        return self.add(FaultRule(route, Fault("drop"), method, times))

    def lose_answer(
        self, route: str, *, status: int | None = None, times: int | None = 1, method=None
    ) -> FaultRule:
        """Carry the request out, then lose its answer: close the connection, or answer
        `status` as a gateway that gave up waiting would."""
        fault = Fault("drop") if status is None else Fault("status", status)
        fault.carried_out = True
        return self.add(FaultRule(route, fault, method, times))

    def chaos(self, probability: float, *, seed: int, faults: list[Fault] | None = None) -> None:
        if not 0.0 <= probability <= 1.0:
            raise FaultConfigError("chaos probability must be between 0 and 1")
        menu = faults or [Fault(status=429, retry_after=0), Fault(status=500), Fault(status=503)]
        with self._lock:
            self._chaos = Chaos(probability, seed, menu, random.Random(seed))

    def clear(self) -> None:
        with self._lock:
            self._rules.clear()
            self._chaos = None

    def pick(self, route: str, method: str, path: str = "") -> Fault | None:
        """The fault for this request, if any; explicit rules win over chaos."""
        with self._lock:
            for rule in self._rules:
                if rule.matches(route, method, path):
                    rule.fired += 1
                    return rule.fault
            chaos = self._chaos
            if chaos and chaos.rng.random() < chaos.probability:
                return chaos.rng.choice(chaos.faults)
            return None

    def configure(self, data: dict[str, Any]) -> None:
        """Apply the admin endpoint's JSON: `{"rules": [...], "chaos": {...}, "replace": bool}`."""
        if not isinstance(data, dict):
            raise FaultConfigError("expected a JSON object")
        rules = [FaultRule.from_json(r) for r in data.get("rules", [])]
        if data.get("replace", True):
            self.clear()
        for rule in rules:
            self.add(rule)
        if chaos := data.get("chaos"):
            try:
                self.chaos(float(chaos["probability"]), seed=int(chaos["seed"]))
            except (KeyError, TypeError, ValueError) as exc:
                raise FaultConfigError("chaos needs numeric probability and seed") from exc

    def to_json(self) -> dict[str, Any]:
        with self._lock:
            chaos = self._chaos
            return {
                "rules": [r.to_json() for r in self._rules],
                "chaos": {"probability": chaos.probability, "seed": chaos.seed} if chaos else None,
            }
