"""``python -m tests.corpusgen --out DIR --count N --seed S [--formats pdf,docx,xlsx,csv,png,scan,photo]``."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from . import ALL_FORMATS, FORMATS, generate


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tests.corpusgen", description=__doc__)
    parser.add_argument("--out", type=Path, required=True, help="folder to write documents and truth into")
    parser.add_argument("--count", type=int, default=20)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument(
        "--formats",
        default=",".join(FORMATS),
        help=f"comma-separated, of {', '.join(ALL_FORMATS)} (default: {','.join(FORMATS)}; scan and photo need degrade.py)",
    )
    args = parser.parse_args(argv)
    formats = [f.strip() for f in args.formats.split(",") if f.strip()]
    if args.count < 1:
        parser.error("--count must be at least 1")
    try:
        written = generate(args.out, count=args.count, seed=args.seed, formats=formats)
    except ValueError as exc:
        parser.error(str(exc))
    print(f"wrote {len(written)} documents with truth to {args.out}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
