"""Each bot SDK stays behind its one module, and the outgoing token comes from a credential."""

import ast
import subprocess
import sys
import threading
from pathlib import Path

import pytest
from azure.core.credentials import AccessToken

import bot
from bot.credentials import token_provider
from tests.botkit.servers import run_async

SDK_ROOTS = {
    "adapter.py": {"botbuilder", "botframework", "msrest"},
    "agents_adapter.py": {"microsoft_agents", "pydantic"},
}
ROOT = Path(__file__).resolve().parents[2]


def _parsed(source: str) -> ast.Module:
    """ast.parse, once more if CPython 3.11's AST builder counted another thread's parse as its
    own (python/cpython#106905: a thread printing a traceback parses source too)."""
    try:
        return ast.parse(source)
    except SystemError:
        return ast.parse(source)


def _imported_roots(path: Path) -> set[str]:
    roots = set()
    for node in ast.walk(_parsed(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            roots |= {alias.name.split(".")[0] for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            roots.add(node.module.split(".")[0])
    return roots


@pytest.mark.parametrize("module", SDK_ROOTS)
def test_each_sdk_is_imported_by_its_one_module(module):
    package = Path(bot.__file__).parent
    users = {p.name for p in package.rglob("*.py") if _imported_roots(p) & SDK_ROOTS[module]}
    assert users == {module}


@pytest.mark.parametrize(("sdk", "other"), [("botbuilder", "microsoft_agents"),
                                            ("agents", "botbuilder")])  # fmt: skip
def test_an_endpoint_imports_only_the_sdk_that_bot_sdk_names(sdk, other):
    probe = (
        "import sys; from bot.endpoint import BotEndpoint; from bot.settings import BotSettings\n"
        f"settings = BotSettings('app', 'SingleTenant', 'tenant', sdk={sdk!r})\n"
        "async def token(): return 't'\n"
        "endpoint = BotEndpoint(settings, token)\n"
        f"print(endpoint.sdk.name, any(m.startswith({other!r}) for m in sys.modules))"
    )
    run = subprocess.run([sys.executable, "-c", probe], cwd=ROOT, capture_output=True, text=True)
    assert run.stdout.split() == [sdk, "False"], run.stderr


class RecordingCredential:
    def __init__(self) -> None:
        self.calls: list[tuple[tuple[str, ...], str]] = []

    def get_token(self, *scopes: str) -> AccessToken:
        self.calls.append((scopes, threading.current_thread().name))
        return AccessToken("bf-token", 0)


@run_async
async def test_credential_is_asked_for_the_bot_framework_scope_off_the_event_loop():
    credential = RecordingCredential()
    assert await token_provider(credential)() == "bf-token"
    [(scopes, thread)] = credential.calls
    assert scopes == ("https://api.botframework.com/.default",)
    assert thread != threading.main_thread().name
