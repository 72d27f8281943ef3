#!/usr/bin/env python3
"""Printed timetables photographed where they hang: web-styled pages (``tests/corpusgen/web.py``, aSc-style by
default) rendered large, then curled (the sheet bows and leans), greyed (a room's light) and put through the
generator's photo recipe (perspective, shadow band, blur, JPEG), each beside its ground truth. The generated photos
of the test corpus are flat, evenly lit screenshots; a sheet pinned to a notice board is neither.

    .venv/bin/python bench/photograph_pinned.py --out /tmp/pinned [--seed 556] [--count 40] [--curl 1.0]
    .venv/bin/python bench/accuracy.py --folder /tmp/pinned --per-file pinned --generated 0 --no-readme

``--curl 0`` gives flat sheets with the same light and perspective.
"""

from __future__ import annotations

import argparse
import io
import json
import random
import sys
import tempfile
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from PIL import Image

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

# Pages narrower than this (pixels) print their small text too small to read once photographed.
MIN_WIDTH = 1900
MAX_WIDTH = 3000


def curl_and_light(image: Image.Image, rng: random.Random, curl: float) -> Image.Image:
    """The page with a white margin, bowed (rows sag or rise, columns lean apart) and greyed."""
    import cv2
    import numpy as np
    from PIL import Image as PilImage

    page = np.asarray(image.convert("RGB")).astype(np.float32)
    pad = int(0.04 * page.shape[0])
    page = cv2.copyMakeBorder(page, pad, pad, pad, pad, cv2.BORDER_CONSTANT, value=(255, 255, 255))
    height, width = page.shape[:2]
    ys, xs = np.mgrid[0:height, 0:width].astype(np.float32)
    across, down = 2 * xs / width - 1, 2 * ys / height - 1
    sag = curl * rng.uniform(0.008, 0.025) * height * rng.choice((-1, 1))
    spread = curl * rng.uniform(0.004, 0.015) * width * rng.choice((-1, 1))
    map_y = ys + sag * (1 - across**2)
    map_x = xs + spread * (1 - down**2) * across
    page = cv2.remap(page, map_x, map_y, cv2.INTER_LINEAR, borderMode=cv2.BORDER_CONSTANT, borderValue=(255, 255, 255))
    page *= rng.uniform(0.72, 0.9)
    return PilImage.fromarray(np.clip(page, 0, 255).astype(np.uint8))


def main(argv: list[str] | None = None) -> int:
    from PIL import Image as PilImage

    from tests.corpusgen.degrade import degrade, photo_recipe
    from tests.corpusgen.web import EXTRA_FAMILIES, FAMILIES, generate

    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", type=Path, required=True, help="folder to write NAME_pinned.jpg + truth into")
    parser.add_argument("--seed", type=int, default=556, help="web generator seed (the recipes follow from it)")
    parser.add_argument("--count", type=int, default=40, help="pages to render (the narrow ones are skipped)")
    parser.add_argument("--families", default="asc", help=f"comma-separated, of {', '.join((*FAMILIES, *EXTRA_FAMILIES))}")
    parser.add_argument("--curl", type=float, default=1.0, help="how far the sheet bows (0: flat)")
    args = parser.parse_args(argv)

    args.out.mkdir(parents=True, exist_ok=True)
    written = 0
    with tempfile.TemporaryDirectory(prefix="pinned-") as scratch:
        pages = generate(Path(scratch), count=args.count, seed=args.seed, formats=["png"],
                         families=[f.strip() for f in args.families.split(",") if f.strip()])  # fmt: skip
        for index, (path, truth_path) in enumerate(pages):
            image = PilImage.open(path)
            if image.width < MIN_WIDTH:
                continue
            rng = random.Random(args.seed * 1000 + index)
            photo = degrade(curl_and_light(image, rng, args.curl), photo_recipe(rng)).image
            if photo.width > MAX_WIDTH:
                photo = photo.resize((MAX_WIDTH, round(photo.height * MAX_WIDTH / photo.width)), PilImage.Resampling.LANCZOS)
            buffer = io.BytesIO()
            photo.save(buffer, format="JPEG", quality=rng.randint(70, 88))
            target = args.out / f"{path.stem.removesuffix('_png')}_pinned.jpg"
            target.write_bytes(buffer.getvalue())
            truth = json.loads(truth_path.read_text())
            target.with_suffix(".json").write_text(json.dumps(truth, indent=2, ensure_ascii=False) + "\n")
            written += 1
    print(f"wrote {written} photos with truth to {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
