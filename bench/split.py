"""The fixed development / test split of the real corpus (extraction engine work).

A third of the sixteen public real timetables, drawn once with a fixed seed, is kept out of
development: nobody looks at the engine's output on them while changing it, and the accuracy
benchmark reports them separately as the honest estimate of what a user will see. The five LY
documents and the rest of the public ones are the development set.
"""

from __future__ import annotations

import random
from pathlib import Path

SEED = 20261202
REAL_DIR = Path(__file__).resolve().parent.parent.parent / "shared" / "corpus" / "real"


def split(real_dir: Path = REAL_DIR) -> tuple[list[str], list[str]]:
    """(development stems, held-out test stems) of the public `real_*` documents."""
    names = sorted(p.stem for p in real_dir.glob("real_*.json"))
    test = sorted(random.Random(SEED).sample(names, round(len(names) / 3)))
    return [n for n in names if n not in test], test


if __name__ == "__main__":
    dev, test = split()
    print("development:", " ".join(dev))
    print("held out:   ", " ".join(test))
