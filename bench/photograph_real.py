#!/usr/bin/env python3
"""Real timetables as a phone photo and a scan: the development set's one-page PDFs (never the held-out
third, ``bench/split.py``), rendered at 200 dpi and put through the generator's photo and scan recipes
(``tests/corpusgen/degrade.py``), each beside its ground truth. Real layouts read from pixels are what
the generated images do not cover (legends under the grid, notched table outlines, record listings).

    .venv/bin/python bench/photograph_real.py --out /tmp/real-photos [--seed 1]
    .venv/bin/python bench/accuracy.py --folder /tmp/real-photos --per-file real-photos --generated 0 --no-readme
"""

from __future__ import annotations

import argparse
import random
import shutil
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

DPI = 200


def main(argv: list[str] | None = None) -> int:
    import pypdfium2 as pdfium
    from split import REAL_DIR, split

    from tests.corpusgen.degrade import degrade_photo, degrade_scan

    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", type=Path, required=True, help="folder to write NAME_photo.jpg / NAME_scan.jpg + truth")
    parser.add_argument("--seed", type=int, default=1, help="seed of the photo and scan recipes")
    args = parser.parse_args(argv)

    development, _ = split()
    sources = [REAL_DIR / f"{stem}.pdf" for stem in development] + sorted(REAL_DIR.glob("ly_*.pdf"))
    args.out.mkdir(parents=True, exist_ok=True)
    written = 0
    for source in sources:
        if not source.is_file():
            continue
        pdf = pdfium.PdfDocument(str(source))
        try:
            if len(pdf) != 1:
                continue  # one page: the truth is the whole document's
            image = pdf[0].render(scale=DPI / 72).to_pil().convert("RGB")
        finally:
            pdf.close()
        for offset, (kind, recipe) in enumerate((("photo", degrade_photo), ("scan", degrade_scan))):
            target = args.out / f"{source.stem}_{kind}.jpg"
            target.write_bytes(recipe(image, random.Random(args.seed * 2 - 1 + offset)))
            shutil.copy(source.with_suffix(".json"), target.with_suffix(".json"))
            written += 1
    print(f"wrote {written} images with truth to {args.out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
