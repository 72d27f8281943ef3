"""Peak memory of a run worker on the largest documents the limits let in: a 25-megapixel photo and a
20-page scanned PDF.

Generates both inputs (the photo: a corpus photo scaled to 6124 x 4082 pixels, JPEG; the PDF: 20 A4
pages of corpus scans at 200 dpi), then runs the four per-upload steps a run worker executes
(``bench/stage_reads.py``'s ``run_steps``: verify, layout stage, interpreter stage, merge) on each in a
fresh child process, and reports the child's peak RSS (``VmHWM``) and the largest Tesseract process
seen beside it. Target: under 1 GiB in the run worker. Writes the "Run worker memory"
section of bench/README.md. The RSS of the API worker, daemon, code server and run workers at rest and
under load is measured by ``bench/pipeline_latency.py`` (its section).

    .venv/bin/python bench/memory.py [--mode hybrid] [--no-readme]
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "bench"))
sys.path.insert(0, str(ROOT))
CORPUS = ROOT.parent / "shared" / "corpus"
LIMIT_MB = 1024


def make_photo(out: Path) -> Path:
    """A 25-megapixel JPEG (6124 x 4082) from a real phone photo of the corpus (or a generated scan)."""
    from PIL import Image

    source = next(p for p in (CORPUS / "real" / "ly_4.jpeg", CORPUS / "l1_scan_001.jpg") if p.is_file())
    with Image.open(source) as image:
        big = image.convert("RGB").resize((6124, 4082), Image.Resampling.LANCZOS)
    path = out / "photo_25mp.jpg"
    big.save(path, quality=90)
    return path


def make_scanned_pdf(out: Path, pages: int = 20) -> Path:
    """A ``pages``-page PDF of scanned A4 pages at 200 dpi (the corpus scans, in turn)."""
    from PIL import Image

    scans = sorted(CORPUS.glob("*scan*.jpg")) or sorted(CORPUS.glob("*.png"))
    images = []
    for i in range(pages):
        with Image.open(scans[i % len(scans)]) as image:
            images.append(image.convert("RGB").resize((1654, 2339), Image.Resampling.LANCZOS))
    path = out / f"scan_{pages}_pages.pdf"
    images[0].save(path, save_all=True, append_images=images[1:], resolution=200.0, quality=85)
    return path


def child(path: Path, mode: str) -> dict[str, Any]:
    """In the child: the run worker's four steps on ``path``, then this process's own peak RSS."""
    from stage_reads import run_steps

    from timetable_platform.extraction.base import Limits

    started = time.perf_counter()
    cpu = run_steps(path, mode, Limits())
    status = Path("/proc/self/status").read_text().splitlines()
    peak_kb = next(int(line.split()[1]) for line in status if line.startswith("VmHWM:"))
    return {
        "peak_mb": peak_kb / 1024,
        "cpu": cpu,
        "wall": time.perf_counter() - started,
    }


def _tesseract_rss_mb(parent: int) -> float:
    """The largest RSS (MB) among the Tesseract processes descending from ``parent`` right now."""
    largest = 0.0
    for status in Path("/proc").glob("[0-9]*/status"):
        try:
            if b"tesseract" not in (status.parent / "cmdline").read_bytes()[:200]:
                continue
            lines = status.read_text().splitlines()
        except OSError:
            continue
        fields = dict(line.split(":", 1) for line in lines if ":" in line)
        if int(fields.get("PPid", "0")) != parent and int(fields.get("PPid", "0")) not in _children(parent):
            continue
        largest = max(largest, int(fields.get("VmRSS", "0 kB").split()[0]) / 1024)
    return largest


def _children(pid: int) -> set[int]:
    path = Path(f"/proc/{pid}/task/{pid}/children")
    try:
        return {int(c) for c in path.read_text().split()}
    except OSError:
        return set()


def measure(path: Path, mode: str) -> dict[str, Any]:
    """The child's own figures, plus the largest Tesseract process seen while it ran (sampled every 0.1 s:
    a forked child's ``ru_maxrss`` counts the pages it shared with its parent, so it cannot be used)."""
    process = subprocess.Popen(
        [sys.executable, __file__, "--child", str(path), "--mode", mode],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, cwd=ROOT,
        env={**os.environ, "PYTHONPATH": str(ROOT), "PYTHONWARNINGS": "ignore"},
    )  # fmt: skip
    tesseract = 0.0
    while process.poll() is None:
        tesseract = max(tesseract, _tesseract_rss_mb(process.pid))
        time.sleep(0.1)
    stdout, stderr = process.communicate()
    if process.returncode != 0:
        return {"error": stderr.strip().splitlines()[-1] if stderr.strip() else f"exit {process.returncode}"}
    return {**json.loads(stdout.strip().splitlines()[-1]), "tesseract_peak_mb": tesseract}


def report(rows: list[tuple[str, str, dict[str, Any]]], mode: str, note: str) -> str:
    lines = [
        f"Measured {datetime.now(UTC):%Y-%m-%d %H:%M} UTC ({os.cpu_count()} cores, load {os.getloadavg()[0]:.1f} at the "
        f"end{', ' + note if note else ''}), mode `{mode}`, by `bench/memory.py`. Each input in a fresh process running "
        "the run worker's four steps (verify, layout, interpreter, merge) on an embedded store; peak RSS = the "
        f"process's `VmHWM`; Tesseract runs as child processes (the largest seen, sampled every 0.1 s, beside it). Target: under {LIMIT_MB} "
        "MB in the run worker.",
        "",
        "| input | size | run worker peak RSS MB | largest Tesseract process MB (sampled) | CPU s | wall s | under 1 GiB |",
        "|---|---|---|---|---|---|---|",
    ]
    for name, size, row in rows:
        if "error" in row:
            lines.append(f"| {name} | {size} | failed: {row['error']} | | | | no |")
            continue
        lines.append(
            f"| {name} | {size} | {row['peak_mb']:.0f} | {row['tesseract_peak_mb']:.0f} | {row['cpu']:.1f} | "
            f"{row['wall']:.1f} | {'yes' if row['peak_mb'] < LIMIT_MB else 'no'} |"
        )
    return "\n".join(lines)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--mode", default="hybrid", choices=["hybrid", "document_ai", "fallback"])
    parser.add_argument("--pages", type=int, default=20)
    parser.add_argument("--note", default="", help="added to the README line, e.g. 'machine shared'")
    parser.add_argument("--no-readme", action="store_true")
    parser.add_argument("--child", type=Path, default=None, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child is not None:
        print(json.dumps(child(args.child, args.mode)))
        return 0
    from pipeline_latency import replace_section

    with tempfile.TemporaryDirectory(prefix="tt-memory-") as tmp:
        out = Path(tmp)
        inputs = [(make_photo(out), "6124 x 4082 px JPEG"), (make_scanned_pdf(out, args.pages), f"{args.pages} pages")]
        rows = []
        for path, size in inputs:
            size = f"{size}, {path.stat().st_size / 1e6:.1f} MB"
            row = measure(path, args.mode)
            print(path.name, size, row, flush=True)
            rows.append((path.name, size, row))
    body = report(rows, args.mode, args.note)
    print(body)
    if not args.no_readme:
        replace_section("Run worker memory", body)
    return 0


if __name__ == "__main__":
    sys.exit(main())
