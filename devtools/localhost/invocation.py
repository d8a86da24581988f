"""How the Python worker calls a function: coroutines on the loop, sync code in its pool."""

from __future__ import annotations

import asyncio
import functools
import inspect
from typing import Any


async def invoke(function: Any, **kwargs: Any) -> Any:
    """Run the user function behind `function` (a FunctionBuilder's function) with `kwargs`."""
    user = function.get_user_function()
    if inspect.iscoroutinefunction(user):
        return await user(**kwargs)
    loop = asyncio.get_running_loop()
    return await loop.run_in_executor(None, functools.partial(user, **kwargs))
