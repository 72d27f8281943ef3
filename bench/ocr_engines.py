#!/usr/bin/env python3
"""OCR engine comparison on the corpora: Tesseract page-segmentation modes vs RapidOCR.

    .venv/bin/python bench/ocr_engines.py --whole-page    # end to end, each engine on whole pages
    .venv/bin/python bench/ocr_engines.py                 # same crops for every engine (recognition only)
    .venv/bin/python bench/ocr_engines.py --engines tesseract-psm6,rapidocr --no-readme

Images: the png and scan images of ``../shared/corpus`` and the real development images of
``../shared/corpus/real`` (the held-out third of ``bench/split.py`` is never read).

``--whole-page`` (the comparison that chooses the engine): the production row ("production": crops of
the grid cells and text blocks, Tesseract psm 6, ``extract`` in mode ``document_ai``) against each
engine reading the whole pre-processed page (deskewed, illumination-normalised, ruling lines erased)
with its own text detector in one call per page. The whole-page words become a ``Layout`` page with
words, lines and the page's ruling segments but no tables, and go through the same ``extract``
(reading.interpret finds the table from rulings or word positions). Scored with
``../shared/eval/score.py`` (entry F1); CPU seconds are process + children for the whole document
(decode, pre-processing, OCR, interpretation).

Without ``--whole-page`` every engine reads the same crops (cells and text blocks after pre-processing
and grid finding), so only the recognition differs.

Both modes also give "values found": each distinct printed value (subject, teacher, room, group) must
appear in some OCR line, word for word, with a similarity of 0.9 or more; "mean similarity" is the
average best similarity. RapidOCR needs the optional extra ``ocr-alt``; without it that row is
skipped. Replaces the "## OCR engine comparison" section of ``bench/README.md``.
"""

from __future__ import annotations

import argparse
import hashlib
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
from typing import ClassVar

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.accuracy import load_scorer, machine  # noqa: E402
from bench.split import split  # noqa: E402
from timetable_platform.domain.layout import Line, Page, Table, Word  # noqa: E402
from timetable_platform.extraction.base import Document, Limits, StageResult  # noqa: E402
from timetable_platform.extraction.embedded import interpreted_stage  # noqa: E402
from timetable_platform.extraction.errors import ExtractionError  # noqa: E402
from timetable_platform.extraction.ocr.engine import (  # noqa: E402
    OcrEngine,
    OcrWord,
    PageOcrEngine,
    RapidOcrEngine,
    TesseractEngine,
    page_scale,
)
from timetable_platform.extraction.ocr.gridlines import GridTable, find_rulings, find_tables  # noqa: E402
from timetable_platform.extraction.ocr.preprocess import PreparedPage, decode_image, prepare_page, text_height  # noqa: E402
from timetable_platform.extraction.pipeline import extract, load_document  # noqa: E402
from timetable_platform.extraction.readers import image as ocr_reader  # noqa: E402

CORPUS = ROOT.parent / "shared" / "corpus"
README = ROOT / "bench" / "README.md"
SECTION = "## OCR engine comparison"
ENGINES = ("tesseract-psm6", "tesseract-psm11", "tesseract-psm4", "rapidocr")
WHOLE_PAGE_ENGINES = (
    "production",
    "tesseract-psm6",
    "tesseract-psm6+grids",
    "tesseract-psm11",
    "tesseract-psm11+grids",
    "rapidocr",
    "rapidocr+grids",
)
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
    """Images with a truth file; never the held-out real documents (bench/split.py)."""
    _, held_out = split(CORPUS / "real")
    out = []
    for folder in folders:
        for path in sorted(folder.iterdir()):
            if path.stem in held_out:
                continue
            if path.suffix.lower() in {".png", ".jpg", ".jpeg"} and path.with_suffix(".json").exists():
                out.append((path, path.with_suffix(".json")))
    return out


class WholePageReader:
    """Reads each page with one whole-page OCR call and interprets the words like the embedded layout
    stage does (a ``LayoutExtractor`` for ``pipeline.extract``). Pre-processing, ruling removal, word
    clean-up and the language re-read are the production reader's; only the text detection differs."""

    # Whole-page words per (engine, language, page pixels) with the CPU and wall seconds they cost: the
    # "+grids" row reuses the words of the plain row and is charged their cost, so OCR runs once.
    _cache: ClassVar[dict[tuple[str, str, str], tuple[list[OcrWord], float, float]]] = {}

    def __init__(self, engine_name: str, languages: str) -> None:
        self.name = engine_name
        self.engine_name = engine_name.removesuffix("+grids")
        # "+grids": the words go into the table grids the production reader finds from rulings and
        # shading (as its crops do), instead of leaving the table to reading.interpret.
        self.use_grids = engine_name.endswith("+grids")
        self.allowed = [code for code in languages.split("+") if code]
        self.first = self.allowed[0] if self.allowed else "eng"
        self.ocr_seconds = 0.0
        self.ocr_cpu = 0.0
        # CPU and wall seconds of cached OCR results this reader did not spend itself
        self.charged_cpu = 0.0
        self.charged_seconds = 0.0
        self._rapid: RapidOcrEngine | None = RapidOcrEngine() if self.engine_name == "rapidocr" else None

    def _engine(self, language: str) -> PageOcrEngine:
        if self._rapid is not None:
            return self._rapid
        return TesseractEngine(languages=language, psm=int(self.engine_name.removeprefix("tesseract-psm")))

    def extract(self, document: Document, limits: Limits) -> StageResult:
        started = time.perf_counter()
        pages: list[Page] = []
        warnings: list[str] = []
        for number, frame in enumerate(decode_image(document.content, limits), start=1):
            prepared = prepare_page(frame)
            pages.append(self.read_page(prepared, number))
            warnings.extend(f"page {number}: {note}" for note in prepared.notes)
        layout = ocr_reader._finish(pages, document.media_type, warnings)
        layout.reader = self.name
        return interpreted_stage(layout, backend="whole-page", started=started)

    def read_page(self, prepared: PreparedPage, number: int) -> Page:
        rulings = find_rulings(prepared.gray, prepared.color)
        grids = find_tables(prepared.gray, prepared.color, rulings)
        clean = ocr_reader._without_rulings(prepared.gray, rulings, grids)
        # RapidOCR scales for its own detector and recogniser; Tesseract gets the crops' letter size.
        scale = 1.0 if self._rapid is not None else page_scale(text_height(clean), clean.shape)
        lines = self._lines(clean, scale, self.first)
        if self._rapid is None:
            words = [w.text for line in lines for w in line.words]
            detected = [ocr_reader._TESSERACT_CODES.get(c) for c in ocr_reader.detect_languages(words)]
            other = next((c for c in detected if c and c != self.first and c in self.allowed), None)
            if other is not None:
                lines = self._lines(clean, scale, other)
        page = Page(number=number, width=float(prepared.width), height=float(prepared.height))
        page.rulings = ocr_reader._ruling_segments(rulings)
        if self.use_grids and grids:
            page.tables, lines = _into_grids(grids, lines)
        page.lines = sorted(lines, key=lambda line: (round(line.bbox.top / 8), line.bbox.x0))
        page.words = sorted(
            (w for line in lines for w in line.words), key=lambda w: (round(w.bbox.top / 8), w.bbox.x0)
        )
        return page

    def _lines(self, clean: np.ndarray, scale: float, language: str) -> list[Line]:
        key = (self.engine_name, language, hashlib.sha1(clean.tobytes()).hexdigest())
        if key in self._cache:
            words, cpu, seconds = self._cache[key]
            self.charged_cpu += cpu
            self.charged_seconds += seconds
        else:
            start, cpu_start = time.perf_counter(), cpu_seconds()
            words = self._engine(language).read_page(clean, scale)
            seconds, cpu = time.perf_counter() - start, cpu_seconds() - cpu_start
            self._cache[key] = (words, cpu, seconds)
        self.ocr_seconds += seconds
        self.ocr_cpu += cpu
        # The page as one crop outside any table: the production noise filter, dash clean-up and
        # splitting of lines at column gaps apply unchanged.
        height, width = clean.shape[:2]
        crop = ocr_reader._Crop(image=clean, origin=(0, 0), size=(width, height), rotation=0, scale=1.0, words=words)
        return ocr_reader._crop_lines(crop)


def _into_grids(grids: list[GridTable], lines: list[Line]) -> tuple[list[Table], list[Line]]:
    """Tables of the found grids with each word in the cell holding its centre, and the lines left
    outside the grids; as the production reader builds them from its crops."""
    cell_words: dict[tuple[int, int], list[Word]] = {}
    outside: list[Line] = []
    for line in lines:
        kept: list[Word] = []
        for word in line.words:
            x, y = word.bbox.center
            slot = next(
                (
                    (t, c)
                    for t, grid in enumerate(grids)
                    for c, cell in enumerate(grid.cells)
                    if cell.box[0] <= x < cell.box[2] and cell.box[1] <= y < cell.box[3]
                ),
                None,
            )
            if slot is None:
                kept.append(word)
            else:
                cell_words.setdefault(slot, []).append(word)
        if kept:
            outside.append(ocr_reader._line(kept))
    cell_lines = {slot: ocr_reader._regroup_lines(words) for slot, words in cell_words.items()}
    tables = [ocr_reader._table(grid, index, cell_lines) for index, grid in enumerate(grids)]
    ocr_reader._attach_captions(tables, outside)
    return tables, outside + [line for table in tables for cell in table.cells for line in cell.lines]


@dataclass
class EndToEnd:
    tp: int = 0
    pred: int = 0
    truth: int = 0
    found: int = 0
    values: int = 0
    cpu: list[float] = field(default_factory=list)
    seconds: list[float] = field(default_factory=list)
    ocr_cpu: list[float] = field(default_factory=list)
    f1: dict[str, float] = field(default_factory=dict)


def run_whole_page(
    names: list[str], languages: str, pred_root: Path | None, match: str = ""
) -> dict[str, dict[str, EndToEnd]]:
    scorer = load_scorer()
    docs = [(path, truth) for path, truth in documents([CORPUS, CORPUS / "real"]) if match in path.name]
    groups: dict[str, dict[str, EndToEnd]] = {}
    readers: dict[str, WholePageReader | None] = {}
    for name in names:
        if name == "production":
            readers[name] = None
            continue
        try:
            readers[name] = WholePageReader(name, languages)
        except ExtractionError as exc:  # optional extra not installed
            print(f"{name} skipped: {exc.message}", file=sys.stderr)
    for path, truth_path in docs:
        truth = json.loads(truth_path.read_text())
        values = truth_values(truth_path)
        for name, reader in readers.items():
            limits = Limits()
            start, cpu_start = time.perf_counter(), cpu_seconds()
            ocr_cpu_before = reader.ocr_cpu if reader is not None else 0.0
            charged_before = (reader.charged_cpu, reader.charged_seconds) if reader is not None else (0.0, 0.0)
            pred, lines, error = None, [], ""
            try:
                document = load_document(path, filename=path.name, limits=limits)
                result = extract(document, mode="document_ai", limits=limits, layout_extractor=reader)
                pred = result.timetable.to_json_dict()
                layout = result.layout_stage.layout
                if layout is not None:
                    lines = [[w.text for w in line.words] for page in layout.pages for line in page.lines]
            except ExtractionError as exc:  # no timetable found: scored as an empty prediction
                error = exc.message
            cpu, seconds = cpu_seconds() - cpu_start, time.perf_counter() - start
            if reader is not None:
                cpu += reader.charged_cpu - charged_before[0]
                seconds += reader.charged_seconds - charged_before[1]
            if pred is not None and pred_root is not None:
                out = pred_root / name
                out.mkdir(parents=True, exist_ok=True)
                (out / f"{path.stem}.json").write_text(json.dumps(pred, indent=2, ensure_ascii=False))
            scored = scorer.score_doc(truth, pred)
            score = groups.setdefault(_group(path), {}).setdefault(name, EndToEnd())
            score.tp += scored["tp"]
            score.pred += scored["pred"]
            score.truth += scored["truth"]
            score.cpu.append(cpu)
            score.seconds.append(seconds)
            if reader is not None:
                score.ocr_cpu.append(reader.ocr_cpu - ocr_cpu_before)
            found = sum(1 for value in values if best_similarity(value, lines) >= 0.9)
            score.found += found
            score.values += len(values)
            doc_f1 = scorer.f1(scored["tp"], scored["pred"], scored["truth"])[2]
            score.f1[path.stem] = doc_f1
            print(
                f"{path.name:24} {name:16} F1 {doc_f1:.3f}  values {found}/{len(values)}  "
                f"CPU {cpu:6.2f}s  wall {seconds:6.2f}s {error}",
                flush=True,
            )
    return groups


def whole_page_table(names: list[str], groups: dict[str, dict[str, EndToEnd]]) -> str:
    rows = [
        "| images | engine | documents | entry F1 | values found | median CPU s/page | median OCR CPU s/page "
        "| max CPU s/page | median wall s/page |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    for group in ("png", "scan", "real"):
        for name in names:
            score = groups.get(group, {}).get(name)
            if score is None or not score.cpu:
                continue
            precision = score.tp / score.pred if score.pred else 0.0
            recall = score.tp / score.truth if score.truth else 0.0
            f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
            ocr = f"{statistics.median(score.ocr_cpu):.2f}" if score.ocr_cpu else "-"
            rows.append(
                f"| {group} | {name} | {len(score.cpu)} | {f1:.3f} | {score.found / max(score.values, 1):.3f} "
                f"({score.found}/{score.values}) | {statistics.median(score.cpu):.2f} | {ocr} "
                f"| {max(score.cpu):.2f} | {statistics.median(score.seconds):.2f} |"
            )
    per_doc = ["", "Entry F1 per real development image:", "", "| image | " + " | ".join(names) + " |",
               "|---|" + "---|" * len(names)]
    real = groups.get("real", {})
    stems = sorted({stem for score in real.values() for stem in score.f1})
    for stem in stems:
        cells = [f"{real[n].f1[stem]:.3f}" if n in real and stem in real[n].f1 else "-" for n in names]
        per_doc.append(f"| {stem} | " + " | ".join(cells) + " |")
    return "\n".join(rows + per_doc)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--engines", help=f"default {','.join(ENGINES)}; with --whole-page {','.join(WHOLE_PAGE_ENGINES)}")
    parser.add_argument(
        "--whole-page", action="store_true", help="each engine on whole pages with its own text detector, end to end"
    )
    parser.add_argument(
        "--languages", help="Tesseract languages (crops: every page, default eng+deu; whole pages: the "
        "production rule, first language then the page's own, default the settings' ocr_languages)"
    )
    parser.add_argument("--match", default="", help="--whole-page: only images whose name contains this")
    parser.add_argument("--pred-dir", type=Path, help="--whole-page: write each engine's timetables here")
    parser.add_argument("--no-readme", action="store_true")
    parser.add_argument(
        "--rapidocr-docs", type=int, default=2, help="RapidOCR reads crop by crop and is slow: documents per corpus"
    )
    args = parser.parse_args()
    if args.whole_page:
        names = [n for n in (args.engines or ",".join(WHOLE_PAGE_ENGINES)).split(",") if n]
        unknown = [
            n for n in names if n not in WHOLE_PAGE_ENGINES and not n.removesuffix("+grids").startswith("tesseract-psm")
        ]
        if unknown:
            parser.error(f"unknown engine(s) {', '.join(unknown)}")
        from timetable_platform.settings import get_settings

        languages = args.languages or get_settings().ocr_languages
        started = time.perf_counter()
        groups = run_whole_page(names, languages, args.pred_dir, args.match)
        table = whole_page_table(names, groups)
        print(table)
        print(f"total wall {time.perf_counter() - started:.0f} s")
        if not args.no_readme:
            write_section(WHOLE_SUBSECTION, whole_page_body(table, languages))
        return 0
    args.languages = args.languages or "eng+deu"
    names = [n for n in (args.engines or ",".join(ENGINES)).split(",") if n]
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
        write_section(CROPS_SUBSECTION, crops_body(table, args.languages))
    return 0


WHOLE_SUBSECTION = "### Whole pages, end to end (the comparison that chooses)"
CROPS_SUBSECTION = "### Same crops for every engine (recognition only)"
WHOLE_PAGE_CHOICE = """
Choice (measured 2026-12-02 on the run above): **keep the production path** (grid cells and text blocks
cropped, each crop oriented, contrast-stretched and scaled, read by Tesseract psm 6 in one stacked sheet).
It has the best entry F1 in every group (png 0.994, scan 0.994, real development images 0.666) at
1.7 / 2.6 / 2.1 CPU s per page (median). No engine reading the whole page with its own text detector comes
close. Given to `reading.interpret` as words alone, all of them fall apart (entry F1 0.07 to 0.46): the
table found from word positions or from ruling segments is not the table the image grid finder finds
(side-by-side panels become one table, cells merge). With the production grids ("+grids"), Tesseract psm 11
is the best whole-page reader (png 0.933, scan 0.814, real 0.441, 1.6 / 2.5 / 2.2 CPU s) and psm 6 is worse
(it joins words across neighbouring cells into one line: real 0.159). RapidOCR with its own detector reads
as well as psm 11 once in the grids (real 0.438, scan 0.807) but costs 8.6 / 11.9 / 11.2 CPU s per page
(max 20), four to five times the production path and over the 3 s budget; its bundled recogniser (the
Chinese/English PP-OCRv4 model, the only one the wheel ships) also drops spaces in Latin text ("OKAICT1"
for "OKA ICT 1"), and its 180-degree line classifier turned a ruled "09:00" into "00:60", so whole-page
reading runs it without that classifier (pages are already upright). Where the whole page loses is clear
from the real images: text written at 90 degrees (period headers, day-long bands, narrow lesson cells) is
read by the crop path (each such cell turned, and turned back when it reads badly) and missed by every
whole-page detector (ly_1_1, whose breaks, assemblies and short lessons are all written upwards:
production 0.940, best whole-page 0.340). Whole-page reading wins on a
few pages (ly_3 0.829 -> 0.905 and real_orario_3cinf 0.000 -> 0.145 with psm 11 + grids; real_senai_prof
0.865 -> 1.000 with RapidOCR + grids), too few and too mixed to change the engine. So nothing changes in the
reader. A change worth measuring later, not made here: keep the crops for rotated and dark-filled cells
and read the rest of the page with one psm 11 call whose words are placed into the grid cells (what the
"+grids" rows do in `bench/ocr_engines.py`), in `extraction/readers/image.py`'s `read_page`.
"""


def whole_page_body(table: str, languages: str) -> str:
    stamp = datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC")
    return (
        f"`.venv/bin/python bench/ocr_engines.py --whole-page` ({stamp}; {machine()}; Tesseract "
        f"{_tesseract_version()}, languages `{languages}` read the production way: the first, then the "
        "page's own language alone when its day words show another; RapidOCR "
        f"{_rapidocr_version()} with its default PP-OCRv4 models and settings). Images: the png and scan "
        "images of `../shared/corpus` and the real development images (`bench/split.py`'s held-out third "
        "is never read). \"production\" is today's path (grid cells and text blocks cropped, Tesseract "
        "psm 6 over one stacked sheet, `extract(mode=\"document_ai\")`). The other rows give the whole "
        "pre-processed page (upright, deskewed, illumination-normalised, ruling lines erased) to one engine "
        "call with the engine's own text detector; its words (production noise filter, lines split at "
        "column gaps) and the page's ruling segments make a `Layout` page without tables, which goes "
        "through the same `extract`, so `reading.interpret` finds the table from the rulings or the word "
        "positions. \"+grids\" rows reuse the same words (their OCR cost is charged to them) but place "
        "them into the table grids the production reader finds from rulings and shading, each word in the "
        "cell holding its centre, as the production crops are; the ruling segments and the word-position "
        "table finder are then not needed. Tesseract pages are enlarged like the crops (typical letter to "
        "26 px, x1 to x3). Entry "
        "F1 by `../shared/eval/score.py` over all entries of the group; values found as above, over the "
        "layout's text lines only (no cell joining, for every row). CPU seconds are process + children "
        "(`resource.getrusage`) for the whole document: decode, pre-processing, OCR, interpretation; \"OCR "
        "CPU\" is the whole-page OCR calls alone. The machine has 2 cores shared by four engineers' jobs, "
        "so wall time is inflated and noisy; CPU is the figure to compare.\n\n"
        f"{table}\n{WHOLE_PAGE_CHOICE}"
    )


def crops_body(table: str, languages: str) -> str:
    stamp = datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC")
    return (
        f"`.venv/bin/python bench/ocr_engines.py` ({stamp}, {platform.machine()}, Tesseract languages "
        f"`{languages}`). Same crops for every engine (cells and text blocks after deskew, grid finding and "
        "ruling removal); a value is found when some OCR line holds it with similarity >= 0.9. "
        "Seconds are for recognition only; wall time was taken on a 2-core machine shared with other "
        "jobs, so CPU seconds (process + Tesseract child) are the steadier figure. RapidOCR here reads "
        "crop by crop, which is not how it is meant to run: the whole-page comparison above is the fair one.\n\n"
        f"{table}\n{DECISION}"
    )


def _tesseract_version() -> str:
    import subprocess

    try:
        out = subprocess.run(["tesseract", "--version"], capture_output=True, text=True, timeout=10, check=False)
    except OSError:
        return "?"
    first = (out.stdout or out.stderr).splitlines()
    return first[0].removeprefix("tesseract ").strip() if first else "?"


def _rapidocr_version() -> str:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("rapidocr_onnxruntime")
    except PackageNotFoundError:
        return "(not installed)"


def write_section(subsection: str, body: str) -> None:
    """Replace ``subsection`` inside the section, keeping the other mode's subsection as it was."""
    text = README.read_text() if README.exists() else "# Benchmarks\n"
    parts: dict[str, str] = {}
    if SECTION in text:
        start = text.index(SECTION)
        following = text.find("\n## ", start + len(SECTION))
        old = text[start + len(SECTION) : following if following != -1 else len(text)]
        after = text[following + 1 :] if following != -1 else ""
        before = text[:start]
        for name in (WHOLE_SUBSECTION, CROPS_SUBSECTION):
            if name in old:
                begin = old.index(name) + len(name)
                end = old.find("\n### ", begin)
                parts[name] = old[begin : end if end != -1 else len(old)].strip("\n")
        if not parts and old.strip():
            parts[CROPS_SUBSECTION] = old.strip("\n")  # the section from before the subsections
    else:
        before, after = text.rstrip("\n") + "\n\n", ""
    parts[subsection] = body.strip("\n")
    section = SECTION + "\n\n" + "\n\n".join(
        f"{name}\n\n{parts[name]}" for name in (WHOLE_SUBSECTION, CROPS_SUBSECTION) if name in parts
    )
    README.write_text(before + section + "\n" + ("\n" + after if after else ""))


if __name__ == "__main__":
    raise SystemExit(main())
