#!/usr/bin/env python3
"""OCR engine comparison on the corpora: Tesseract page-segmentation modes vs RapidOCR.

    .venv/bin/python bench/ocr_engines.py                 # ../shared/corpus png + scan, and real/ images
    .venv/bin/python bench/ocr_engines.py --engines tesseract-psm6,rapidocr --no-readme

Every engine reads the same crops (cells and text blocks after pre-processing and grid finding), so
only the recognition differs. Accuracy is measured against the truth files: each distinct printed
value (subject, teacher, room, group) must appear in some OCR line, word for word, with a
similarity of 0.9 or more ("values found"); "mean similarity" is the average best similarity.
Seconds are per page for the recognition step alone. RapidOCR needs the optional extra
``ocr-alt``; without it that row is skipped. Replaces the "## OCR engine comparison" section of
``bench/README.md``.
"""

from __future__ import annotations

import argparse
import json
import platform
import resource
import statistics
import sys
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime
from difflib import SequenceMatcher
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from timetable_platform.extraction.base import Limits  # noqa: E402
from timetable_platform.extraction.ocr.engine import OcrEngine, RapidOcrEngine, TesseractEngine  # noqa: E402
from timetable_platform.extraction.ocr.gridlines import find_rulings, find_tables  # noqa: E402
from timetable_platform.extraction.ocr.preprocess import decode_image, prepare_page  # noqa: E402
from timetable_platform.extraction.readers import image as ocr_reader  # noqa: E402

CORPUS = ROOT.parent / "shared" / "corpus"
README = ROOT / "bench" / "README.md"
SECTION = "## OCR engine comparison"
ENGINES = ("tesseract-psm6", "tesseract-psm11", "tesseract-psm4", "rapidocr")
DECISION = """
Choice: Tesseract 5 LSTM with page segmentation mode 6 over one stacked sheet of crops per page (one
process start, ~0.6 s, per page and language). psm 11 finds a few more values on scans and photos for
about 15% more CPU; psm 6 is kept because the end-to-end figures below were measured with it. RapidOCR
found fewer values on the scan it read and, called once per crop, cost one to two orders of magnitude
more CPU here, so it stays an optional extra (`ocr-alt`) for this comparison only. End-to-end entry F1 with the
reader and the interpreter: `bench/accuracy.py` (section above) or `../shared/eval/score.py`.
"""


@dataclass
class Score:
    found: int = 0
    total: int = 0
    similarity: list[float] = field(default_factory=list)
    seconds: list[float] = field(default_factory=list)
    cpu: list[float] = field(default_factory=list)


def make_engine(name: str, languages: str) -> OcrEngine | None:
    if name.startswith("tesseract-psm"):
        return TesseractEngine(languages=languages, psm=int(name.removeprefix("tesseract-psm")))
    if name == "rapidocr":
        try:
            return RapidOcrEngine()
        except Exception as exc:  # optional extra not installed
            print(f"rapidocr skipped: {exc}", file=sys.stderr)
            return None
    raise SystemExit(f"unknown engine {name}")


def _group(path: Path) -> str:
    return "real" if path.parent.name == "real" else ("scan" if "_scan_" in path.name else "png")


def cpu_seconds() -> float:
    """CPU time of this process and its finished children (Tesseract runs as a child): unlike wall
    time it does not grow when other work shares the machine."""
    own = resource.getrusage(resource.RUSAGE_SELF)
    children = resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime + children.ru_utime + children.ru_stime


def truth_values(truth_path: Path) -> set[str]:
    data = json.loads(truth_path.read_text())
    values: set[str] = set()
    for entry in data["entries"]:
        for key in ("subject", "teacher", "room", "group"):
            if entry.get(key):
                values.add(str(entry[key]))
    return values


def best_similarity(value: str, lines: list[list[str]]) -> float:
    target = value.lower().split()
    best = 0.0
    for words in lines:
        lowered = [w.lower() for w in words]
        n = len(target)
        for start in range(max(1, len(lowered) - n + 1)):
            window = " ".join(lowered[start : start + n])
            best = max(best, SequenceMatcher(None, " ".join(target), window).ratio())
            if best == 1.0:
                return best
    return best


def documents(folders: list[Path]) -> list[tuple[Path, Path]]:
    out = []
    for folder in folders:
        for path in sorted(folder.iterdir()):
            if path.suffix.lower() in {".png", ".jpg", ".jpeg"} and path.with_suffix(".json").exists():
                out.append((path, path.with_suffix(".json")))
    return out


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--engines", default=",".join(ENGINES))
    parser.add_argument("--languages", default="eng+deu", help="Tesseract languages for every page")
    parser.add_argument("--no-readme", action="store_true")
    parser.add_argument(
        "--rapidocr-docs", type=int, default=2, help="RapidOCR reads crop by crop and is slow: documents per corpus"
    )
    args = parser.parse_args()
    names = [n for n in args.engines.split(",") if n]
    engines = {name: make_engine(name, args.languages) for name in names}
    groups: dict[str, dict[str, Score]] = {}
    docs = documents([CORPUS, CORPUS / "real"])
    if not docs:
        print(f"no corpus images under {CORPUS}", file=sys.stderr)
        return 1
    for path, truth_path in docs:
        group = _group(path)
        frames = decode_image(path.read_bytes(), Limits())
        prepared = prepare_page(frames[0])
        rulings = find_rulings(prepared.gray, prepared.color)
        grids = find_tables(prepared.gray, prepared.color, rulings)
        clean = ocr_reader._without_rulings(prepared.gray, rulings, grids)
        crops = [c for g in grids for cell in g.cells if (c := ocr_reader._cell_crop(clean, cell.box)) is not None]
        crops += ocr_reader._outside_text_crops(clean, grids)
        values = truth_values(truth_path)
        seen = sum(1 for other, _ in docs[: docs.index((path, truth_path))] if _group(other) == group)
        for name, engine in engines.items():
            if engine is None or (name == "rapidocr" and seen >= args.rapidocr_docs):
                continue
            start, cpu_start = time.perf_counter(), cpu_seconds()
            results = engine.read_crops([c.image for c in crops], [c.scale for c in crops])
            seconds = time.perf_counter() - start
            cpu = cpu_seconds() - cpu_start
            lines: list[list[str]] = []
            for crop, words in zip(crops, results, strict=True):
                crop.words = words
                crop_lines = [[w.text for w in line.words] for line in ocr_reader._crop_lines(crop)]
                lines.extend(crop_lines)
                lines.append([w for line in crop_lines for w in line])  # the cell as one line
            score = groups.setdefault(group, {}).setdefault(name, Score())
            score.seconds.append(seconds)
            score.cpu.append(cpu)
            for value in values:
                similarity = best_similarity(value, lines)
                score.similarity.append(similarity)
                score.total += 1
                score.found += similarity >= 0.9
            print(f"{path.name:24} {name:16} {seconds:6.2f}s  found {score.found}/{score.total}", flush=True)

    rows = [
        "| corpus | engine | documents | values found | mean similarity | median s/page (wall) | median CPU s/page |",
        "|---|---|---|---|---|---|---|",
    ]
    for group in ("png", "scan", "real"):
        for name in names:
            score = groups.get(group, {}).get(name)
            if score is None or not score.total:
                continue
            rows.append(
                f"| {group} | {name} | {len(score.seconds)} | {score.found / score.total:.3f} ({score.found}/{score.total}) "
                f"| {statistics.mean(score.similarity):.3f} | {statistics.median(score.seconds):.2f} "
                f"| {statistics.median(score.cpu):.2f} |"
            )
    table = "\n".join(rows)
    print(table)
    if not args.no_readme:
        write_section(table, args.languages)
    return 0


def write_section(table: str, languages: str) -> None:
    stamp = datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC")
    body = (
        f"{SECTION}\n\n"
        f"`.venv/bin/python bench/ocr_engines.py` ({stamp}, {platform.machine()}, Tesseract languages "
        f"`{languages}`). Same crops for every engine (cells and text blocks after deskew, grid finding and "
        "ruling removal); a value is found when some OCR line holds it with similarity >= 0.9. "
        "Seconds are for recognition only; wall time was taken on a 2-core machine shared with other "
        "jobs, so CPU seconds (process + Tesseract child) are the steadier figure.\n\n"
        f"{table}\n{DECISION}"
    )
    text = README.read_text() if README.exists() else "# Benchmarks\n"
    if SECTION in text:
        start = text.index(SECTION)
        following = text.find("\n## ", start + len(SECTION))
        text = text[:start] + body + ("\n" + text[following + 1 :] if following != -1 else "")
    else:
        text = text.rstrip("\n") + "\n\n" + body
    README.write_text(text)


if __name__ == "__main__":
    raise SystemExit(main())
