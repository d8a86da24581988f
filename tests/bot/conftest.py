"""The bot's protocol tests run on every SDK that BOT_SDK can choose."""

from __future__ import annotations

import pytest

from bot.settings import SDKS


@pytest.fixture(params=SDKS)
def sdk(request: pytest.FixtureRequest) -> str:
    return request.param
