"""Reads per document through the Dagster steps, and the CPU seconds those steps take.

    PYTHONPATH=. .venv/bin/python bench/stage_reads.py [FILE ...] [--runs 3] [--mode hybrid] [--write]

Runs the per-upload steps of the asset graph (``verify_raw_upload``, ``run_layout_stage``,
``run_interpreter_stage``, ``merge_upload``) in this process on an embedded store (SQLite, local
blobs, in a temporary directory), counting calls of the readers' entry (``read_layout``) and of the
OCR reader (``readers.image.read_image_layout`` / ``read_scanned_pdf_layout``). CPU time is this
process's plus its children's (Tesseract runs as a subprocess), median of the runs.
``--write`` replaces the table of the "One read per document" section of bench/README.md.
"""

from __future__ import annotations

import argparse
import hashlib
import os
import statistics
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from timetable_platform.assets import steps  # noqa: E402
from timetable_platform.extraction import readers  # noqa: E402
from timetable_platform.extraction.base import Limits  # noqa: E402
from timetable_platform.extraction.embedded import EmbeddedLayoutExtractor  # noqa: E402
from timetable_platform.extraction.sniff import sniff_media_type  # noqa: E402
from timetable_platform.extraction.textstream import TextStreamInterpreter  # noqa: E402
from timetable_platform.resources import StoreResource, forget_cached_stores  # noqa: E402
from timetable_platform.store import db, repository  # noqa: E402
from timetable_platform.store.blobs import upload_key  # noqa: E402

DEFAULT_FILE = ROOT.parent / "shared" / "corpus" / "l1_png_001.png"
SECTION = "## One read per document"
BEGIN, END = "<!-- stage_reads: begin -->", "<!-- stage_reads: end -->"


def _spy(calls: Counter[str]) -> None:
    """Count the readers' entry and the OCR reader's entries (patched on their modules)."""
    from timetable_platform.extraction.readers import image

    def counted(module: object, name: str) -> None:
        original = getattr(module, name)

        def wrapper(*args: object, **kwargs: object) -> object:
            calls[name] += 1
            return original(*args, **kwargs)

        setattr(module, name, wrapper)

    counted(readers, "read_layout")
    counted(image, "read_image_layout")
    counted(image, "read_scanned_pdf_layout")


def _store(directory: Path) -> StoreResource:
    url = f"sqlite:///{directory / 'timetable.db'}"
    db.migrate(url)
    return StoreResource(
        overrides={
            "data_dir": str(directory),
            "database_url": url,
            "blob_backend": "local",
            "blob_dir": str(directory / "blobs"),
            "queue_backend": "database",
        }
    )


def _cpu() -> float:
    """CPU seconds of this process and its finished children (the Tesseract subprocesses)."""
    t = os.times()
    return t.user + t.system + t.children_user + t.children_system


def run_steps(path: Path, mode: str, limits: Limits) -> float:
    """CPU seconds of the four steps on one upload of ``path``."""
    content = path.read_bytes()
    with tempfile.TemporaryDirectory(prefix="stage-reads-") as tmp:
        store = _store(Path(tmp))
        with store.session() as session:
            upload = repository.create_upload(
                session,
                tenant="bench",
                filename=path.name,
                media_type=sniff_media_type(content, path.name),
                size_bytes=len(content),
                sha256=hashlib.sha256(content).hexdigest(),
                mode=mode,
            )
            upload_id = upload.id
        store.blobs.put(upload_key("bench", upload_id), content)
        started = _cpu()
        steps.verify_raw_upload(store, upload_id, limits)
        steps.run_layout_stage(store, upload_id, EmbeddedLayoutExtractor(), limits)
        steps.run_interpreter_stage(store, upload_id, TextStreamInterpreter, limits, fallback_threshold=0.85)
        steps.merge_upload(store, upload_id)
        cpu = _cpu() - started
        forget_cached_stores()
    return cpu


def _write_table(text: str) -> None:
    """Replace the table between the markers of the "One read per document" section (the prose around
    it, before/after comparisons included, is kept)."""
    readme = ROOT / "bench" / "README.md"
    body = readme.read_text()
    start, end = body.find(BEGIN), body.find(END)
    if start < 0 or end < start:
        body = body.rstrip("\n") + f"\n\n{SECTION}\n\n{BEGIN}\n{text}\n{END}\n"
    else:
        body = body[: start + len(BEGIN)] + "\n" + text + "\n" + body[end:]
    readme.write_text(body)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("files", nargs="*", type=Path, default=[DEFAULT_FILE])
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--mode", default="hybrid", choices=["hybrid", "document_ai", "fallback"])
    parser.add_argument("--write", action="store_true", help="write the table into bench/README.md")
    args = parser.parse_args()

    calls: Counter[str] = Counter()
    _spy(calls)
    limits = Limits()
    rows = []
    for path in args.files:
        cpu = []
        for _ in range(args.runs):
            calls.clear()
            cpu.append(run_steps(path, args.mode, limits))
            per_run = dict(calls)
        ocr = per_run.get("read_image_layout", 0) + per_run.get("read_scanned_pdf_layout", 0)
        rows.append((path.name, per_run.get("read_layout", 0), ocr, statistics.median(cpu), cpu))
        print(f"{path.name}: read_layout {rows[-1][1]}, OCR {ocr}, CPU s {[round(c, 2) for c in cpu]}", flush=True)

    lines = [
        f"| document | reads (read_layout) | OCR passes | CPU s, median of {args.runs} |",
        "|---|---|---|---|",
        *(f"| {name} | {reads} | {ocr} | {median:.2f} |" for name, reads, ocr, median, _ in rows),
    ]
    table = "\n".join(lines)
    print(table)
    if args.write:
        stamp = time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime())
        _write_table(f"Measured {stamp}, `--runs {args.runs} --mode {args.mode}`:\n\n{table}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
