"""The registered Functions of function_app.py on a fresh store, for handler tests."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any


@contextmanager
def registered_functions(tmp_path, monkeypatch) -> Iterator[tuple[dict[str, Any], Any]]:
    """({function name: Function}, the composition module) with services built afresh."""
    monkeypatch.setenv("STORE_KIND", "sqlite")
    monkeypatch.setenv("STORE_SQLITE_PATH", str(tmp_path / "store.db"))
    monkeypatch.setenv("POLICY_FILE", str(tmp_path / "absent.yaml"))
    from remediation import app as composition

    composition.services.cache_clear()
    import function_app

    function_app.app.functions_bindings = None  # the library allows one listing per app
    try:
        yield {f.get_function_name(): f for f in function_app.app.get_functions()}, composition
    finally:
        composition.services.cache_clear()
