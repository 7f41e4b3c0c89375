"""`python -m bench [--smoke] [--only a,b]`: run the benchmarks, print tables, write JSON.

Each benchmark writes bench/results/<name>.json (machine, versions, load average, notes,
every figure); ``summary`` comes last and lists issue 8's targets as met or not met.
"""

from __future__ import annotations

import argparse
import time

from bench import (
    e2e,
    fetch,
    groups,
    latency,
    log_engine,
    memory,
    produce,
    recovery,
    registry,
    summary,
)

BENCHMARKS = {
    "registry": registry,
    "log_engine": log_engine,
    "produce": produce,
    "fetch": fetch,
    "latency": latency,
    "e2e": e2e,
    "groups": groups,
    "recovery": recovery,
    "memory": memory,
    "summary": summary,
}

if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--smoke", action="store_true", help="tiny sizes, seconds in all (CI)")
    parser.add_argument("--only", help=f"comma-separated subset of: {', '.join(BENCHMARKS)}")
    args = parser.parse_args()
    names = args.only.split(",") if args.only else list(BENCHMARKS)
    unknown = [n for n in names if n not in BENCHMARKS]
    if unknown:
        parser.error(
            f"unknown benchmark(s) {', '.join(unknown)}; choose from {', '.join(BENCHMARKS)}"
        )
    for name in names:
        start = time.perf_counter()
        BENCHMARKS[name].main(["--smoke"] if args.smoke else [])
        print(f"  ({name} took {time.perf_counter() - start:.1f} s)", flush=True)
