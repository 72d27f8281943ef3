"""Reader speed over the corpus: median seconds per page for each digital format.

    .venv/bin/python bench/readers_speed.py [--corpus DIR] [--repeat N] [--end-to-end]

Times (CPU time of the process, best of N; ``--wall`` for wall clock) sniffing + reading (``read_document``); with ``--end-to-end`` also the whole extraction
(``pipeline.extract``, mode ``document_ai`` and ``hybrid``). Office formats count each layout page
(one per DOCX, one per XLSX sheet). Images and scans are the OCR benchmark's business.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from collections import defaultdict
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from timetable_platform.extraction.base import Limits  # noqa: E402
from timetable_platform.extraction.errors import ExtractionError  # noqa: E402
from timetable_platform.extraction.readers import read_document  # noqa: E402

DIGITAL = {".pdf", ".docx", ".xlsx", ".csv", ".tsv", ".txt"}


# CPU time of this process: on a shared, loaded machine wall time mostly measures the neighbours.
CLOCK = time.process_time


def _time(fn: object, repeat: int) -> float:
    best = float("inf")
    for _ in range(repeat):
        start = CLOCK()
        fn()  # type: ignore[operator]
        best = min(best, CLOCK() - start)
    return best


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--corpus", type=Path, default=ROOT.parent / "shared" / "corpus")
    parser.add_argument("--repeat", type=int, default=3, help="runs per file; the fastest counts")
    parser.add_argument("--end-to-end", action="store_true", help="also time pipeline.extract")
    parser.add_argument("--wall", action="store_true", help="wall-clock time instead of CPU time")
    args = parser.parse_args()
    global CLOCK
    if args.wall:
        CLOCK = time.perf_counter
    files = sorted(p for p in args.corpus.rglob("*") if p.suffix.lower() in DIGITAL and p.name != "README.md")
    if not files:
        print(f"no digital documents under {args.corpus}", file=sys.stderr)
        return 1
    limits = Limits()
    read_per_page: dict[str, list[float]] = defaultdict(list)
    e2e_per_page: dict[str, list[float]] = defaultdict(list)
    # Warm imports so the first file does not pay for them.
    read_document(files[0].read_bytes(), files[0].name, limits)
    for path in files:
        content = path.read_bytes()
        fmt = path.suffix.lower().lstrip(".")
        try:
            document, layout = read_document(content, path.name, limits)
        except ExtractionError as exc:
            print(f"{path.name}: {type(exc).__name__}: {exc}")
            continue
        pages = max(1, len(layout.pages))
        seconds = _time(lambda c=content, n=path.name: read_document(c, n, limits), args.repeat)
        read_per_page[fmt].append(seconds / pages)
        line = f"{path.relative_to(args.corpus)}: read {seconds / pages:.3f} s/page ({pages} page(s))"
        if args.end_to_end:
            from timetable_platform.extraction.pipeline import extract

            for mode in ("document_ai", "hybrid"):
                try:
                    e2e = _time(lambda d=document, m=mode: extract(d, mode=m, limits=limits), args.repeat)
                except ExtractionError as exc:
                    line += f"; {mode}: {type(exc).__name__}"
                    continue
                e2e_per_page[f"{fmt} {mode}"].append(e2e / pages)
                line += f"; {mode} {e2e / pages:.3f} s/page"
        print(line)
    clock = "wall" if args.wall else "CPU"
    print(f"\nmedian {clock} seconds per page (reading: sniff + reader)")
    for fmt, values in sorted(read_per_page.items()):
        print(f"  {fmt:5s} n={len(values):2d}  median {statistics.median(values):.3f}  max {max(values):.3f}")
    if e2e_per_page:
        print(f"median {clock} seconds per page (end to end: pipeline.extract)")
        for key, values in sorted(e2e_per_page.items()):
            print(f"  {key:17s} n={len(values):2d}  median {statistics.median(values):.3f}  max {max(values):.3f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
