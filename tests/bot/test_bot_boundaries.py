"""The SDK stays behind bot/adapter.py, and the outgoing token comes from a credential."""

import ast
import threading
from pathlib import Path

from azure.core.credentials import AccessToken

import bot
from bot.credentials import token_provider
from tests.botkit.servers import run_async

SDK_ROOTS = {"botbuilder", "botframework", "msrest"}


def _imported_roots(path: Path) -> set[str]:
    roots = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            roots |= {alias.name.split(".")[0] for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            roots.add(node.module.split(".")[0])
    return roots


def test_only_the_adapter_module_imports_the_bot_sdk():
    package = Path(bot.__file__).parent
    users = {p.name for p in package.rglob("*.py") if _imported_roots(p) & SDK_ROOTS}
    assert users == {"adapter.py"}


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
