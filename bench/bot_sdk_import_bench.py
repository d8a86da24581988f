"""What each bot SDK costs at start-up: importing its adapter module, median of 5 fresh processes.

`bot.adapter` (botbuilder-core) or `bot.agents_adapter` (Microsoft 365 Agents SDK) is what the
first /api/messages request or proactive post imports (BOT_SDK picks one); measured in each
process with perf_counter around the import, after the SDK-free bot modules, so the figure is
the SDK's own. Also counted: the modules it loads, and whether the other SDK came along.
"""

from __future__ import annotations

import json
import statistics
import sys

from bench._fresh import fresh_runs

MODULES = {"botbuilder": "bot.adapter", "agents": "bot.agents_adapter"}
ROOTS = {"botbuilder": ("botbuilder", "botframework", "msrest"), "agents": ("microsoft_agents",)}
PROBE = """
import sys, time
import bot.endpoint
before = set(sys.modules)
t = time.perf_counter()
import {module}
print(time.perf_counter() - t)
print(len(set(sys.modules) - before))
print(sum(m.startswith({other}) for m in sys.modules))
"""
RUNS = 5


def measure(sdk: str) -> dict[str, float | int]:
    other = next(roots for name, roots in ROOTS.items() if name != sdk)
    probe = PROBE.format(module=MODULES[sdk], other=other)
    outputs = fresh_runs(probe, RUNS)
    return {
        "median_s": round(statistics.median(float(out[0]) for out in outputs), 3),
        "modules": max(int(out[1]) for out in outputs),
        "other_sdk_modules": max(int(out[2]) for out in outputs),
    }


def main(argv: list[str]) -> int:
    results = {sdk: measure(sdk) for sdk in MODULES}
    print(f"{'BOT_SDK':<12}{'import s':>10}{'modules':>10}")
    for sdk, result in results.items():
        print(f"{sdk:<12}{result['median_s']:>10.3f}{result['modules']:>10}")
    print(json.dumps({"bench": "bot_sdk_import", **results}))
    return 0 if not any(r["other_sdk_modules"] for r in results.values()) else 1


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
