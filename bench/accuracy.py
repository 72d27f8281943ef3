#!/usr/bin/env python3
"""Extraction accuracy benchmark: run the extractor over folders of documents with ``NAME.json`` truth beside them.

    .venv/bin/python bench/accuracy.py                       # ../shared/corpus, ../shared/corpus/real, 40 generated
    .venv/bin/python bench/accuracy.py --mode document_ai --generated 0
    .venv/bin/python bench/accuracy.py --folder some/dir --per-file dir --no-readme

The real folder is reported in three parts (``bench/split.py``): the five LY documents, the public
real documents used in development, and the held-out third that nobody looked at while changing the
engine: the gap between the last two is the honest estimate of what a user will see. ``--mode`` takes
several modes (``hybrid,document_ai``); every table then has one block per mode.

Scores with ``../shared/eval/score.py`` (imported, not re-implemented): per folder and format the
documents, entry F1, precision, recall, teacher/room/group field accuracy over matched entries and the
median seconds per page; per-file F1 for ``real/``; and a calibration table (confidence bucket ->
share of predicted entries that match the truth). Prints the tables and replaces the
"## Extraction accuracy" section of ``bench/README.md``.
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import os
import platform
import re
import resource
import shlex
import statistics
import subprocess
import sys
import tempfile
import time
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import UTC, datetime
from itertools import pairwise
from pathlib import Path
from types import ModuleType
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
SHARED = ROOT.parent / "shared"
SCORER = SHARED / "eval" / "score.py"
REAL = SHARED / "corpus" / "real"
README = ROOT / "bench" / "README.md"
SECTION = "## Extraction accuracy"
README_INTRO = """# Benchmarks

Measurements of the platform on this machine. Each benchmark script owns one section below and
replaces only that section when it runs; run them with `.venv/bin/python bench/NAME.py`.
"""
DOCUMENT_SUFFIXES = {
    ".pdf",
    ".png",
    ".jpg",
    ".jpeg",
    ".tif",
    ".tiff",
    ".webp",
    ".heic",
    ".docx",
    ".xlsx",
    ".csv",
    ".tsv",
}
FORMAT_TOKEN = re.compile(r"_(pdf|docx|xlsx|csv|png|scan|jpg|photo)_", re.IGNORECASE)
BUCKETS = (0.0, 0.5, 0.6, 0.7, 0.8, 0.9, 0.95, 1.0001)

sys.path.insert(0, str(ROOT))


def load_scorer(path: Path = SCORER) -> ModuleType:
    if not path.is_file():
        raise SystemExit(f"scorer not found: {path}")
    spec = importlib.util.spec_from_file_location("timetable_score", path)
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def doc_format(path: Path) -> str:
    """The corpus names its format (``l1_scan_001.jpg`` is a scan); otherwise the extension says."""
    match = FORMAT_TOKEN.search(f"_{path.stem}_")
    if match:
        return match.group(1).lower()
    suffix = path.suffix.lower().lstrip(".")
    return {"jpeg": "jpg", "tif": "tiff"}.get(suffix, suffix)


def documents_in(folder: Path) -> list[Path]:
    return sorted(
        p
        for p in folder.iterdir()
        if p.suffix.lower() in DOCUMENT_SUFFIXES and p.with_suffix(".json").is_file()
    )


@dataclass
class DocResult:
    path: Path
    fmt: str
    score: dict[str, Any]
    seconds: float
    pages: int
    error: str | None = None
    cpu_seconds: float = 0.0  # this process and its children (Tesseract)
    confidences: list[tuple[float | None, bool, bool]] = field(
        default_factory=list
    )  # (conf, matched, fields ok)


def run_document(path: Path, mode: str, scorer: ModuleType, pred_dir: Path | None) -> DocResult:
    from timetable_platform.extraction.base import Limits
    from timetable_platform.extraction.errors import ExtractionError
    from timetable_platform.extraction.pipeline import extract, load_document

    truth = json.loads(path.with_suffix(".json").read_text())
    limits = Limits()
    started = time.perf_counter()
    cpu_started = _cpu()
    error = None
    pred: dict[str, Any] | None = None
    pages = 1
    try:
        document = load_document(path, filename=path.name, limits=limits)
        result = extract(document, mode=mode, limits=limits)  # type: ignore[arg-type]
        pred = result.timetable.to_json_dict()
        pages = (
            result.timetable.source.pages if result.timetable.source and result.timetable.source.pages else 1
        )
    except ExtractionError as exc:
        error = exc.message
    except Exception as exc:  # a crash is a result too: scored as an empty prediction
        error = f"unexpected {type(exc).__name__}: {exc}"
    seconds = time.perf_counter() - started
    cpu_seconds = _cpu() - cpu_started
    if pred is not None and pred_dir is not None:
        (pred_dir / f"{path.stem}.json").write_text(json.dumps(pred, indent=2, ensure_ascii=False))
    score = scorer.score_doc(truth, pred)
    confidences = []
    for entry in (pred or {}).get("entries", []):
        # One predicted entry scored alone against the whole truth: did it match, and were its fields right?
        single = scorer.score_doc(truth, {"entries": [entry]})
        matched = single["tp"] == 1
        fields_ok = matched and all(v == 1 for v in single["field_right"].values())
        confidences.append((entry.get("confidence"), matched, fields_ok))
    return DocResult(path, doc_format(path), score, seconds, max(pages, 1), error, cpu_seconds, confidences)


def _cpu() -> float:
    own = resource.getrusage(resource.RUSAGE_SELF)
    children = resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime + children.ru_utime + children.ru_stime


# ----------------------------------------------------------------------------------------- tables


def _row(cells: list[str]) -> str:
    return "| " + " | ".join(cells) + " |"


def summary_rows(label: str, results: list[DocResult], scorer: ModuleType) -> list[list[str]]:
    by_format: dict[str, list[DocResult]] = defaultdict(list)
    for r in results:
        by_format[r.fmt].append(r)
    rows = []
    for fmt in sorted(by_format):
        rows.append(_summary_cells(label, fmt, by_format[fmt], scorer))
    if len(by_format) > 1:
        rows.append(_summary_cells(label, "**all**", results, scorer))
    return rows


def _summary_cells(label: str, fmt: str, results: list[DocResult], scorer: ModuleType) -> list[str]:
    summary = scorer.summarise({r.path.stem: r.score for r in results})
    fields = {
        k: (f"{v:.3f}" if summary["true_positives"] else "–") for k, v in summary["field_accuracy"].items()
    }
    per_page = statistics.median(r.seconds / r.pages for r in results)
    cpu_page = statistics.median(r.cpu_seconds / r.pages for r in results)
    failed = sum(1 for r in results if r.error)
    return [
        label,
        fmt,
        str(summary["documents"]) + (f" ({failed} failed)" if failed else ""),
        f"{summary['entry_f1']:.3f}",
        f"{summary['precision']:.3f}",
        f"{summary['recall']:.3f}",
        fields["teacher"],
        fields["room"],
        fields["group"],
        f"{summary['median_edits']:g}",
        f"{per_page:.2f}",
        f"{cpu_page:.2f}",
    ]


SUMMARY_HEAD = ["folder", "format", "documents", "entry F1", "precision", "recall", "teacher", "room", "group",
                "median edits", "median s/page", "median CPU s/page"]  # fmt: skip


def per_file_rows(results: list[DocResult], scorer: ModuleType) -> list[list[str]]:
    rows = []
    for r in results:
        _, _, f1 = scorer.f1(r.score["tp"], r.score["pred"], r.score["truth"])
        rows.append(
            [r.path.name, f"{f1:.3f}", str(r.score["truth"]), str(r.score["pred"]), str(r.score["tp"]),
             str(r.score["edits"]), f"{r.seconds:.2f}", r.error or ""]
        )  # fmt: skip
    return rows


def calibration_rows(results: list[DocResult]) -> list[list[str]]:
    buckets: dict[str, list[tuple[bool, bool]]] = defaultdict(list)
    bounds = list(pairwise(BUCKETS))
    labels = [f"{lo:.2f}-{min(hi, 1.0):.2f}" for lo, hi in bounds]
    for r in results:
        for conf, matched, fields_ok in r.confidences:
            if conf is None:
                buckets["none"].append((matched, fields_ok))
                continue
            for label, (lo, hi) in zip(labels, bounds, strict=True):
                if lo <= conf < hi:
                    buckets[label].append((matched, fields_ok))
                    break
    rows = []
    for label in [*labels, "none"]:
        items = buckets.get(label)
        if not items:
            continue
        matched = sum(1 for m, _ in items if m) / len(items)
        exact = sum(1 for _, f in items if f) / len(items)
        rows.append([label, str(len(items)), f"{matched:.3f}", f"{exact:.3f}"])
    return rows


def markdown_table(head: list[str], rows: list[list[str]]) -> str:
    return "\n".join([_row(head), _row(["---"] * len(head)), *(_row(r) for r in rows)])


def machine() -> str:
    cpu = platform.processor() or platform.machine()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return f"{cpu}, {os.cpu_count()} cores, Python {platform.python_version()}, {platform.system()}"


def commit() -> str:
    try:
        out = subprocess.run(
            ["git", "-C", str(ROOT), "rev-parse", "--short", "HEAD"],
            capture_output=True,
            text=True,
            timeout=10,
            check=False,
        )
        return out.stdout.strip() or "unknown"
    except (OSError, subprocess.SubprocessError):
        return "unknown"


def replace_section(readme: Path, body: str) -> None:
    """Replace this script's section (heading to the next ``## ``), leaving the other sections alone."""
    text = readme.read_text() if readme.is_file() else README_INTRO
    section = f"{SECTION}\n\n{body.strip()}\n"
    lines = text.splitlines(keepends=True)
    start = next((i for i, line in enumerate(lines) if line.rstrip("\n") == SECTION), None)
    if start is None:
        new = text.rstrip("\n") + "\n\n" + section
    else:
        end = next((j for j in range(start + 1, len(lines)) if lines[j].startswith("## ")), len(lines))
        after = "".join(lines[end:])
        new = "".join(lines[:start]) + section + ("\n" + after if after else "")
    readme.write_text(new)


# ----------------------------------------------------------------------------------------- main


def split_real(label: str, folder: Path, docs: list[Path]) -> list[tuple[str, list[Path]]]:
    """The real folder in three parts (LY, development, held out); other folders whole."""
    if folder.resolve() != REAL.resolve():
        return [(label, docs)]
    from split import split

    _, held_out = split(folder)
    parts = [
        ("real: LY", [d for d in docs if d.stem.startswith("ly_")]),
        ("real: development", [d for d in docs if not d.stem.startswith("ly_") and d.stem not in held_out]),
        ("real: held out", [d for d in docs if d.stem in held_out]),
    ]
    return [(name, part) for name, part in parts if part]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--mode", default="hybrid", help="mode or comma-separated modes: hybrid,document_ai,fallback")
    parser.add_argument("--folder", action="append", type=Path, help="a folder of documents + truth (repeatable); "
                        "default: ../shared/corpus and ../shared/corpus/real")  # fmt: skip
    parser.add_argument("--generated", type=int, default=40, help="also generate N fresh documents (0: none)")
    parser.add_argument("--seed", type=int, default=1, help="generator seed")
    parser.add_argument(
        "--generated-formats",
        default="pdf,docx,xlsx,csv",
        help="formats to generate (png and scan run OCR: slow)",
    )
    parser.add_argument(
        "--web", type=int, default=0,
        help="also generate N web/app-styled images (tests/corpusgen/web.py: portal, aSc, Untis, calendar, "
        "dark mode, list, zebra, records pages rendered by Chromium; see --web-formats)",
    )
    parser.add_argument(
        "--web-seed", type=int, action="append", default=None,
        help="seed of the web-styled set (repeatable: one folder per seed; default 202, the set kept out of "
        "development; 101 is the development set)",
    )
    parser.add_argument(
        "--web-formats", default="png,scan,photo",
        help="formats of the web-styled set (png, scan, photo, pdf: the page printed by Chromium to a digital PDF)",
    )
    parser.add_argument(
        "--per-file", action="append", default=None, help="folder labels listed per file (default: the real parts)"
    )
    parser.add_argument(
        "--pred-dir", type=Path, help="keep predictions here (one sub-folder per mode and folder)"
    )
    parser.add_argument("--json", type=Path, help="also write the results as JSON")
    parser.add_argument("--no-readme", action="store_true", help="do not update bench/README.md")
    parser.add_argument("--readme", type=Path, default=README, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    modes = [m.strip() for m in args.mode.split(",") if m.strip()]
    if not modes or any(m not in ("hybrid", "document_ai", "fallback") for m in modes):
        parser.error(f"--mode: choose from hybrid, document_ai, fallback (got {args.mode!r})")

    import logging

    logging.basicConfig(level=logging.ERROR)
    sys.path.insert(0, str(ROOT / "bench"))
    scorer = load_scorer()
    folders: list[tuple[str, Path]] = []
    for folder in args.folder or [SHARED / "corpus", REAL]:
        if folder.is_dir():
            label = folder.name if folder.name != "corpus" else "corpus"
            folders.append((label, folder))
        else:
            print(f"skipping {folder}: not a folder", file=sys.stderr)
    with tempfile.TemporaryDirectory(prefix="bench-accuracy-") as scratch:
        if args.generated > 0:
            from tests.corpusgen import generate

            gen_dir = Path(scratch) / "generated"
            formats = [f.strip() for f in args.generated_formats.split(",") if f.strip()]
            generate(gen_dir, count=args.generated, seed=args.seed, formats=formats)
            folders.append((f"generated (seed {args.seed})", gen_dir))
        if args.web > 0:
            from tests.corpusgen.web import generate as generate_web

            for web_seed in args.web_seed or [202]:
                web_dir = Path(scratch) / f"web-{web_seed}"
                web_formats = [f.strip() for f in args.web_formats.split(",") if f.strip()]
                generate_web(web_dir, count=args.web, seed=web_seed, formats=web_formats)
                folders.append((f"web-styled (seed {web_seed})", web_dir))
        if not folders:
            print("nothing to benchmark", file=sys.stderr)
            return 2
        parts = [part for label, folder in folders for part in split_real(label, folder, documents_in(folder))]

        per_mode: dict[str, dict[str, list[DocResult]]] = {}
        started = time.perf_counter()
        for mode in modes:
            per_folder: dict[str, list[DocResult]] = {}
            for label, docs in parts:
                pred_dir = None
                if args.pred_dir:
                    pred_dir = args.pred_dir / mode / re.sub(r"[^\w.-]+", "_", label)
                    pred_dir.mkdir(parents=True, exist_ok=True)
                results = []
                for i, path in enumerate(docs, 1):
                    result = run_document(path, mode, scorer, pred_dir)
                    # The held-out documents' own scores are not printed while the run goes on.
                    shown = "" if label == "real: held out" else f": f1={scorer.f1(result.score['tp'], result.score['pred'], result.score['truth'])[2]:.3f}"
                    print(f"[{mode} {label} {i}/{len(docs)}] {path.name}{shown} {result.seconds:.2f}s", file=sys.stderr)
                    results.append(result)
                per_folder[label] = results
            per_mode[mode] = per_folder
        total_seconds = time.perf_counter() - started

    n_docs = sum(len(docs) for _, docs in parts)
    per_file_labels = set(args.per_file or ["real: LY", "real: development", "real: held out"])
    lines = [
        f"Run {datetime.now(UTC):%Y-%m-%d %H:%M} UTC, commit {commit()}, modes {', '.join(f'`{m}`' for m in modes)}, "
        f"on {machine()}; {n_docs} documents per mode in {total_seconds:.0f} s. Command: `.venv/bin/python bench/accuracy.py"
        + "".join(f" {shlex.quote(a)}" for a in (sys.argv[1:] if argv is None else argv))
        + "`.",
        "",
        "Entry F1 as `../shared/eval/score.py` computes it; teacher/room/group are field accuracy over matched entries; "
        "*edits* are what a teacher must fix by hand (missing + spurious entries + wrong fields), per document. "
        "The real folder is split by `bench/split.py` (fixed seed): *held out* is the third of the public real "
        "documents kept out of development, the honest estimate of what a user will see.",
    ]
    for mode, per_folder in per_mode.items():
        summary = [row for label, results in per_folder.items() if results for row in summary_rows(label, results, scorer)]
        real_all = [r for label, results in per_folder.items() if label.startswith("real") for r in results]
        if real_all:
            summary.append(_summary_cells("real: all", "**all**", real_all, scorer))
        lines += ["", f"### Mode `{mode}`", "", markdown_table(SUMMARY_HEAD, summary)]
        for label, results in per_folder.items():
            if label in per_file_labels and results:
                lines += ["", f"Per file, {label} (`{mode}`):", "", markdown_table(
                    ["file", "entry F1", "truth", "predicted", "matched", "edits", "seconds", "error"],
                    per_file_rows(results, scorer),
                )]  # fmt: skip
        held_out = per_folder.get("real: held out", [])
        everything = [r for folder_results in per_folder.values() for r in folder_results]
        for title, scored in (("held-out real documents", held_out), ("all folders", everything)):
            calibration = calibration_rows(scored)
            if calibration:
                lines += [
                    "",
                    f"Calibration, {title} (`{mode}`): predicted entries by confidence; *matched* = the entry is in "
                    "the truth (day, times, week, subject), *exact* = matched with teacher, room and group right too.",
                    "",
                    markdown_table(["confidence", "entries", "matched", "exact"], calibration),
                ]
        failures = [r for results in per_folder.values() for r in results if r.error]
        if failures:
            lines += ["", "Failed documents: " + "; ".join(f"`{r.path.name}`: {r.error}" for r in failures)]
    body = "\n".join(lines)
    print(body)
    if not args.no_readme:
        replace_section(args.readme, body)
        print(f"\nupdated {args.readme}", file=sys.stderr)
    if args.json:
        args.json.write_text(
            json.dumps(
                {
                    mode: {
                        label: {
                            r.path.name: {"format": r.fmt, "seconds": r.seconds, "cpu_seconds": r.cpu_seconds,
                                          "pages": r.pages, "error": r.error,
                                          **{k: v for k, v in r.score.items() if k != "misses"}}
                            for r in results
                        }
                        for label, results in per_folder.items()
                    }
                    for mode, per_folder in per_mode.items()
                },
                indent=2,
            )
        )  # fmt: skip
    return 0


if __name__ == "__main__":
    sys.exit(main())
