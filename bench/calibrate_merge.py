"""Calibrate and measure the hybrid merge on the corpora.

For every corpus document: read the layout once, run the grid reader (``reading.interpret``) and the
text-stream reader (``reading.textstream``), merge them, and score all three with
``../shared/eval/score.py``. Prints entry F1 per reader and the calibration tables: observed share
of right entries per agreement class and per confidence bucket (an entry is right when score.py
would count it as a true positive).

    .venv/bin/python bench/calibrate_merge.py [--cache DIR] [--out DIR] [--only SUBSTR]

``--cache`` keeps each document's layout (pickled) so that OCR runs once across invocations.
"""

from __future__ import annotations

import argparse
import importlib.util
import itertools
import json
import pickle
import sys
import time
from collections import defaultdict
from datetime import UTC, datetime
from pathlib import Path
from types import ModuleType

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from timetable_platform.domain.layout import Layout  # noqa: E402
from timetable_platform.domain.merge import OWN_HIGH, OWN_MID, merge_with_agreements  # noqa: E402
from timetable_platform.domain.model import Timetable  # noqa: E402
from timetable_platform.extraction.base import Limits  # noqa: E402
from timetable_platform.extraction.pipeline import load_document  # noqa: E402
from timetable_platform.reading.interpret import interpret  # noqa: E402
from timetable_platform.reading.textstream import read_text_stream  # noqa: E402

SHARED = ROOT.parent / "shared"
CORPORA = [SHARED / "corpus", SHARED / "corpus" / "real"]
BUCKETS = [0.0, 0.3, 0.5, 0.7, 0.8, 0.9, 0.95, 1.01]
SECTION = "## Hybrid merge calibration"


def replace_section(readme: Path, body: str) -> None:
    """Replace this script's section of the benchmarks README (heading to the next '## '), nothing else."""
    text = readme.read_text() if readme.is_file() else "# Benchmarks\n"
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


def load_scorer() -> ModuleType:
    spec = importlib.util.spec_from_file_location("score", SHARED / "eval" / "score.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def documents(only: str | None, extra: list[Path] | None = None) -> list[tuple[Path, Path]]:
    out = []
    for corpus in [*CORPORA, *(extra or [])]:
        for truth in sorted(corpus.glob("*.json")):
            docs = [p for p in corpus.glob(truth.stem + ".*") if p.suffix not in (".json", ".md")]
            if docs and (only is None or only in truth.stem):
                out.append((docs[0], truth))
    return out


def layout_of(path: Path, cache: Path | None) -> Layout:
    if cache is not None:
        cached = cache / (path.name + ".layout.pkl")
        if cached.exists():
            return pickle.loads(cached.read_bytes())
    from timetable_platform.extraction.readers import read_layout

    limits = Limits()
    layout = read_layout(load_document(path, limits=limits), limits)
    if cache is not None:
        cache.mkdir(parents=True, exist_ok=True)
        (cache / (path.name + ".layout.pkl")).write_bytes(pickle.dumps(layout))
    return layout


def right_flags(scorer: ModuleType, truth: dict, pred: Timetable) -> list[bool]:
    """Per predicted entry: would score.py count it (slot and subject match a truth entry)?"""
    t_entries = truth.get("entries", [])
    use_period = bool(t_entries) and all(e.get("start") in (None, "") for e in t_entries)
    by_slot: dict[tuple, list[dict]] = defaultdict(list)
    for e in t_entries:
        by_slot[scorer.slot(e, use_period)].append(e)
    flags = []
    for e in pred.to_json_dict()["entries"]:
        hits = by_slot.get(scorer.slot(e, use_period), [])
        flags.append(any(scorer.text_match(e.get("subject"), t.get("subject")) for t in hits))
    return flags


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--cache", type=Path, default=None, help="directory for pickled layouts")
    parser.add_argument("--out", type=Path, default=Path("/tmp/timetable-merge-bench"))
    parser.add_argument("--only", default=None, help="only documents whose name contains this")
    parser.add_argument("--generated", type=int, default=0, help="also N documents from tests.corpusgen")
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--readme", action="store_true", help=f"replace the '{SECTION}' section of bench/README.md")
    args = parser.parse_args()
    extra: list[Path] = []
    if args.generated:
        from tests.corpusgen import generate

        gen_dir = args.out / f"generated-{args.seed}"
        generate(gen_dir, count=args.generated, seed=args.seed)
        extra.append(gen_dir)
    scorer = load_scorer()
    readers = ("grid", "textstream", "hybrid")
    totals = {r: [0, 0, 0] for r in readers}  # tp, pred, truth
    by_agreement: dict[str, list[int]] = defaultdict(lambda: [0, 0])
    by_bucket: dict[tuple[float, float], list[int]] = defaultdict(lambda: [0, 0])
    started = time.perf_counter()
    documents_seen = 0
    for path, truth_path in documents(args.only, extra):
        documents_seen += 1
        truth = json.loads(truth_path.read_text())
        layout = layout_of(path, args.cache)
        grid = interpret(layout)
        stream = read_text_stream(layout)
        hybrid, agreements = merge_with_agreements(grid, stream)
        # The first reading's own confidence per merged entry (merged entries keep the primary's order).
        own: list[float | None] = [e.confidence for e in grid.entries] if grid.entries else []
        own += [None] * (len(hybrid.entries) - len(own))
        line = [f"{path.name:24}"]
        for name, tt in zip(readers, (grid, stream, hybrid), strict=True):
            result = scorer.score_doc(truth, tt.to_json_dict())
            totals[name][0] += result["tp"]
            totals[name][1] += result["pred"]
            totals[name][2] += result["truth"]
            line.append(f"{name}={scorer.f1(result['tp'], result['pred'], result['truth'])[2]:.3f}")
            out_dir = args.out / name
            out_dir.mkdir(parents=True, exist_ok=True)
            (out_dir / truth_path.name).write_text(json.dumps(tt.to_json_dict(), indent=1))
        print("  ".join(line), flush=True)
        flags = right_flags(scorer, truth, hybrid)
        for entry, agreement, right, own_conf in zip(hybrid.entries, agreements, flags, own, strict=True):
            band = "-" if own_conf is None else ("high" if own_conf >= OWN_HIGH else "mid" if own_conf >= OWN_MID else "low")
            for key in (agreement.value, f"{agreement.value} / {band}"):
                by_agreement[key][0] += int(right)
                by_agreement[key][1] += 1
            conf = entry.confidence if entry.confidence is not None else 0.0
            for lo, hi in itertools.pairwise(BUCKETS):
                if lo <= conf < hi:
                    by_bucket[(lo, hi)][0] += int(right)
                    by_bucket[(lo, hi)][1] += 1
    print()
    md = [
        f"Measured {datetime.now(UTC):%Y-%m-%d %H:%M} UTC over {documents_seen} documents "
        f"(../shared/corpus, real/{', generated: ' + str(args.generated) + f' (seed {args.seed})' if args.generated else ''}); "
        "each document's layout is read once and given to both readers.",
        "",
        "| reader | precision | recall | entry F1 |",
        "|---|---|---|---|",
    ]
    for name in readers:
        tp, pred, truth_n = totals[name]
        precision = tp / pred if pred else 0.0
        recall = tp / truth_n if truth_n else 0.0
        f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
        print(f"{name:10} precision={precision:.4f} recall={recall:.4f} entry_f1={f1:.4f}")
        md.append(f"| {name} | {precision:.4f} | {recall:.4f} | **{f1:.4f}** |")
    print("\nagreement / first reader's own confidence   right/total  share")
    md += ["", "| agreement / first reader's own confidence | right / total | share |", "|---|---|---|"]
    for key, (right, total) in sorted(by_agreement.items()):
        print(f"{key:42} {right:5}/{total:<5}  {right / total:.3f}")
        md.append(f"| {key} | {right} / {total} | {right / total:.3f} |")
    print("\nconfidence bucket  right/total  share")
    md += ["", "| hybrid confidence | right / total | share right |", "|---|---|---|"]
    for (lo, hi), (right, total) in sorted(by_bucket.items()):
        print(f"[{lo:.2f}, {min(hi, 1.0):.2f})       {right:5}/{total:<5}  {right / total:.3f}")
        md.append(f"| {lo:.2f}-{min(hi, 1.0):.2f} | {right} / {total} | {right / total:.3f} |")
    print(f"\n{time.perf_counter() - started:.1f}s")
    md += ["", f"Reproduce: `.venv/bin/python bench/calibrate_merge.py --generated {args.generated} --readme`."]
    if args.readme:
        replace_section(ROOT / "bench" / "README.md", "\n".join(md))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
