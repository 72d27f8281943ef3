"""The project's corpus generator: timetables in many layouts, with exact ground truth.

``generate(out_dir, count=N, seed=S)`` writes ``NAME.ext`` + ``NAME.json`` pairs (and
``manifest.jsonl`` listing each document's layout features). Same seed, same timetables.
"""

from __future__ import annotations

import json
import random
from collections.abc import Sequence
from pathlib import Path

from .layouts import GeneratedDocument, make_document
from .render import ALL_FORMATS, FORMATS, write

__all__ = ["ALL_FORMATS", "FORMATS", "GeneratedDocument", "generate", "make_document"]


def generate(
    out_dir: Path, *, count: int, seed: int = 0, formats: Sequence[str] = FORMATS
) -> list[tuple[Path, Path]]:
    """Write ``count`` documents, rotating through ``formats``; returns (document, truth) paths."""
    unknown = set(formats) - set(ALL_FORMATS)
    if unknown:
        raise ValueError(f"unknown format(s): {', '.join(sorted(unknown))}")
    out_dir.mkdir(parents=True, exist_ok=True)
    written = []
    with (out_dir / "manifest.jsonl").open("w") as manifest:
        for index in range(count):
            fmt = formats[index % len(formats)]
            rng = random.Random(f"{seed}:{index}")
            doc = make_document(rng, fmt, f"gen{seed}_{index:03d}_{fmt}")
            written.append(write(doc, out_dir))
            manifest.write(json.dumps({"name": doc.name, "format": fmt, **doc.features}) + "\n")
    return written
