"""`python -m bench [--smoke]`: run every benchmark, print tables, write bench/results/*.json."""

from __future__ import annotations

import sys

from bench import groups, log_engine, produce, registry

BENCHMARKS = (registry, log_engine, produce, groups)

if __name__ == "__main__":
    for module in BENCHMARKS:
        module.main(sys.argv[1:])
