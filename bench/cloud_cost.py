"""Cost per document of the cloud backends on the corpus, through the real SDKs and the local fakes.

    .venv/bin/python bench/cloud_cost.py [--corpus DIR] [--model claude-sonnet-4-5]

Each corpus document goes to ``ClaudeInterpreter`` (the Anthropic fake answers with the document's
truth) and, for PDFs and images, is priced for Document AI per page. Token counts are the FAKE's
estimate of Anthropic's accounting (about 4 characters a token, 1,600 tokens a PDF page, width x
height / 750 an image, the system prompt cached after the first call), so the costs are estimates;
the prices are ``timetable_platform/extraction/pricing.py``'s.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
from collections import defaultdict
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from timetable_platform.domain.model import Timetable  # noqa: E402
from timetable_platform.extraction.base import Limits  # noqa: E402
from timetable_platform.extraction.claude import ClaudeInterpreter  # noqa: E402
from timetable_platform.extraction.pipeline import load_document  # noqa: E402
from timetable_platform.extraction.pricing import documentai_cost  # noqa: E402
from timetable_platform.fakes.anthropic_server import serve_anthropic  # noqa: E402

FORMATS = {".pdf": "pdf", ".docx": "docx", ".xlsx": "xlsx", ".png": "png", ".jpg": "scan", ".csv": "csv"}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--corpus", type=Path, default=ROOT.parent / "shared" / "corpus")
    parser.add_argument("--model", default="claude-sonnet-4-5")
    args = parser.parse_args(argv)
    documents = sorted(p for p in args.corpus.iterdir() if p.suffix in FORMATS and p.with_suffix(".json").is_file())
    if not documents:
        parser.error(f"no documents with truth in {args.corpus}")
    rows: dict[str, list[tuple[int, int, float, float]]] = defaultdict(list)
    limits = Limits()
    with serve_anthropic() as fake:
        claude = ClaudeInterpreter(api_key="bench", base_url=fake.base_url, model=args.model)
        for path in documents:
            fake.truth = Timetable.model_validate(json.loads(path.with_suffix(".json").read_text()))
            document = load_document(path, limits=limits)
            stage = claude.extract(document, limits)
            pages = stage.pages or 0
            rows[FORMATS[path.suffix]].append(
                (stage.input_tokens, stage.output_tokens, stage.cost_usd, documentai_cost(pages))
            )
    print("| format | documents | input tokens | output tokens | Claude USD/doc | Document AI USD/doc | hybrid USD/doc |")
    print("|---|---|---|---|---|---|---|")
    everything = [r for values in rows.values() for r in values]
    for name, values in [*sorted(rows.items()), ("all", everything)]:
        inp = statistics.mean(r[0] for r in values)
        out = statistics.mean(r[1] for r in values)
        claude_usd = statistics.mean(r[2] for r in values)
        dai_usd = statistics.mean(r[3] for r in values)
        print(
            f"| {name} | {len(values)} | {inp:.0f} | {out:.0f} | {claude_usd:.4f} | {dai_usd:.4f} | "
            f"{claude_usd + dai_usd:.4f} |"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
