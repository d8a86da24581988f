"""Cold start: `import function_app` in fresh processes, median of 5 (target < 0.7 s).

Measured inside each process with perf_counter around the import, so interpreter start-up
is left out, as the Functions worker's own start-up is not ours to count.
"""

from __future__ import annotations

import json
import statistics
import sys

from bench._fresh import fresh_runs

PROBE = (
    "import time, sys; t = time.perf_counter(); import function_app; "
    "print(time.perf_counter() - t); "
    "print(sum(m.startswith(('azure.mgmt', 'botbuilder')) for m in sys.modules))"
)
RUNS, TARGET = 5, 0.7


def main(argv: list[str]) -> int:
    outputs = fresh_runs(PROBE, RUNS)
    times = [float(out[0]) for out in outputs]
    heavy = [int(out[1]) for out in outputs]
    median = statistics.median(times)
    print(f"{'run':<6}{'seconds':>10}")
    for number, seconds in enumerate(times, 1):
        print(f"{number:<6}{seconds:>10.3f}")
    print(f"{'median':<6}{median:>10.3f}   target < {TARGET}")
    result = {"bench": "cold_import", "median_s": round(median, 3), "target_s": TARGET,
              "sdk_modules_loaded": max(heavy)}  # fmt: skip
    print(json.dumps(result))
    return 0 if median < TARGET and not any(heavy) else 1


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
