"""`make bench`: run every benchmark in bench/ in turn and print its figures (not a test: nothing asserts timing)."""

from __future__ import annotations

import importlib
import pkgutil
import sys
from pathlib import Path


def main() -> int:
    names = sorted(m.name for m in pkgutil.iter_modules([str(Path(__file__).parent)]) if m.name.startswith("bench_"))
    only = set(sys.argv[1:])
    for name in names:
        if only and name not in only:
            continue
        print(f"== {name}", flush=True)
        module = importlib.import_module(f"bench.{name}")
        sys.argv = [name]
        module.main()
    return 0


if __name__ == "__main__":
    sys.exit(main())
