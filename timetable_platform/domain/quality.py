"""How well the extractor reads real users' documents: summaries of ``score.py`` results by extractor
version, input format and mode; the regression rule; a Markdown table and an SVG plot of F1 over time.

Pure. The scoring itself is ``../shared/eval/score.py`` (passed in as ``scorer``: its ``summarise``
adds the per-document results up), never re-implemented here.
"""

from __future__ import annotations

import html
from collections import defaultdict
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

# Input formats as the benchmarks name them (bench/accuracy.py's doc_format), from the media type.
FORMAT_OF_MEDIA_TYPE = {
    "application/pdf": "pdf",
    "application/vnd.openxmlformats-officedocument.wordprocessingml.document": "docx",
    "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet": "xlsx",
    "text/csv": "csv",
    "text/tab-separated-values": "csv",
    "text/plain": "txt",
    "image/png": "png",
    "image/jpeg": "jpg",
    "image/tiff": "tiff",
    "image/webp": "webp",
    "image/heic": "heic",
}


def input_format(media_type: str) -> str:
    return FORMAT_OF_MEDIA_TYPE.get(media_type.split(";")[0].strip().lower(), "other")


@dataclass(frozen=True)
class ScoredCase:
    """One extraction of one reviewed upload, scored: ``score`` is ``score_doc``'s result."""

    upload_id: str
    review_revision: int
    extractor_version: str
    input_format: str
    mode: str
    scored_at: datetime
    score: dict[str, Any]


Summarise = Callable[[dict[str, dict[str, Any]]], dict[str, Any]]


def latest_per_case(scored: Iterable[ScoredCase]) -> list[ScoredCase]:
    """The newest score of each (upload, reviewed revision, extractor version)."""
    newest: dict[tuple[str, int, str], ScoredCase] = {}
    for case in scored:
        key = (case.upload_id, case.review_revision, case.extractor_version)
        if key not in newest or case.scored_at >= newest[key].scored_at:
            newest[key] = case
    return list(newest.values())


def summarise_by(
    scored: Sequence[ScoredCase], summarise: Summarise, key: Callable[[ScoredCase], tuple[str, ...]]
) -> dict[tuple[str, ...], dict[str, Any]]:
    groups: dict[tuple[str, ...], dict[str, dict[str, Any]]] = defaultdict(dict)
    for case in scored:
        groups[key(case)][f"{case.upload_id}:{case.review_revision}"] = case.score
    return {k: summarise(v) for k, v in sorted(groups.items())}


def version_order(scored: Iterable[ScoredCase]) -> list[str]:
    """Extractor versions in the order they were first scored (the newest last)."""
    first: dict[str, datetime] = {}
    for case in scored:
        if case.extractor_version not in first or case.scored_at < first[case.extractor_version]:
            first[case.extractor_version] = case.scored_at
    return sorted(first, key=lambda v: (first[v], v))


@dataclass(frozen=True)
class Regression:
    newest: str
    previous: str | None
    cases: int  # reviewed cases both versions were scored on
    newest_f1: float | None
    previous_f1: float | None

    @property
    def worse(self) -> bool:
        return self.newest_f1 is not None and self.previous_f1 is not None and self.newest_f1 < self.previous_f1


def compare_newest(scored: Sequence[ScoredCase], summarise: Summarise) -> Regression | None:
    """The newest extractor version against the previous one, on the cases both were scored on."""
    latest = latest_per_case(scored)
    order = version_order(latest)
    if not order:
        return None
    newest = order[-1]
    if len(order) < 2:
        return Regression(newest, None, 0, None, None)
    previous = order[-2]
    by_version: dict[str, dict[tuple[str, int], ScoredCase]] = defaultdict(dict)
    for case in latest:
        by_version[case.extractor_version][(case.upload_id, case.review_revision)] = case
    shared = sorted(set(by_version[newest]) & set(by_version[previous]))
    if not shared:
        return Regression(newest, previous, 0, None, None)

    def f1(version: str) -> float:
        return float(summarise({f"{u}:{r}": by_version[version][(u, r)].score for u, r in shared})["entry_f1"])

    return Regression(newest, previous, len(shared), f1(newest), f1(previous))


def markdown_table(title: str, rows: dict[tuple[str, ...], dict[str, Any]], columns: Sequence[str]) -> str:
    head = [*columns, "cases", "entry F1", "precision", "recall", "teacher", "room", "group"]
    lines = [f"**{title}**", "", "| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    for key, summary in rows.items():
        fields = summary["field_accuracy"]
        cells = [
            *key, str(summary["documents"]), f"{summary['entry_f1']:.3f}", f"{summary['precision']:.3f}",
            f"{summary['recall']:.3f}", f"{fields['teacher']:.3f}", f"{fields['room']:.3f}", f"{fields['group']:.3f}",
        ]  # fmt: skip
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines)


def f1_over_time(scored: Sequence[ScoredCase], summarise: Summarise) -> list[dict[str, Any]]:
    """One point per scoring run (its ``scored_at``) and extractor version: the entry F1 of that run."""
    runs: dict[tuple[datetime, str], dict[str, dict[str, Any]]] = defaultdict(dict)
    for case in scored:
        runs[(case.scored_at, case.extractor_version)][f"{case.upload_id}:{case.review_revision}"] = case.score
    return [
        {"scored_at": at.isoformat(), "extractor_version": version, "entry_f1": summarise(scores)["entry_f1"],
         "cases": len(scores)}
        for (at, version), scores in sorted(runs.items())
    ]


def points_table(points: Sequence[dict[str, Any]], *, last: int = 30) -> str:
    """The plot's numbers as Markdown (the newest ``last`` points), for readers that show no images."""
    lines = ["| scored at | extractor version | cases | entry F1 |", "|---|---|---|---|"]
    lines += [
        f"| {p['scored_at'][:16].replace('T', ' ')} | {p['extractor_version']} | {p['cases']} | {p['entry_f1']:.3f} |"
        for p in points[-last:]
    ]
    return "\n".join(lines)


_COLOURS = ("#1a73e8", "#d93025", "#188038", "#f29900", "#9334e6", "#12b5cb")


def svg_plot(points: Sequence[dict[str, Any]], *, width: int = 640, height: int = 260) -> str:
    """A line per extractor version: entry F1 (0-1) against scoring time. Self-contained SVG."""
    left, right, top, bottom = 48, 160, 16, 32
    plot_w, plot_h = width - left - right, height - top - bottom
    times = sorted({p["scored_at"] for p in points})
    index = {t: i for i, t in enumerate(times)}

    def x(t: str) -> float:
        return left + (plot_w * index[t] / (len(times) - 1) if len(times) > 1 else plot_w / 2)

    def y(f1: float) -> float:
        return top + plot_h * (1 - f1)

    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" font-family="sans-serif" font-size="11">',
        f'<rect width="{width}" height="{height}" fill="#fff"/>',
    ]
    for tick in (0.0, 0.25, 0.5, 0.75, 1.0):
        parts.append(f'<line x1="{left}" x2="{left + plot_w}" y1="{y(tick):.1f}" y2="{y(tick):.1f}" stroke="#e0e0e0"/>')
        parts.append(f'<text x="{left - 6}" y="{y(tick) + 4:.1f}" text-anchor="end">{tick:.2f}</text>')
    if times:
        parts.append(f'<text x="{left}" y="{height - 8}">{html.escape(times[0][:16])}</text>')
        parts.append(f'<text x="{left + plot_w}" y="{height - 8}" text-anchor="end">{html.escape(times[-1][:16])}</text>')
    by_version: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for p in points:
        by_version[p["extractor_version"]].append(p)
    for n, (version, series) in enumerate(by_version.items()):
        colour = _COLOURS[n % len(_COLOURS)]
        coords = " ".join(f"{x(p['scored_at']):.1f},{y(p['entry_f1']):.1f}" for p in series)
        parts.append(f'<polyline points="{coords}" fill="none" stroke="{colour}" stroke-width="2"/>')
        parts.extend(
            f'<circle cx="{x(p["scored_at"]):.1f}" cy="{y(p["entry_f1"]):.1f}" r="3" fill="{colour}"/>' for p in series
        )
        parts.append(
            f'<text x="{left + plot_w + 10}" y="{top + 14 * (n + 1)}" fill="{colour}">{html.escape(version)}</text>'
        )
    parts.append("</svg>")
    return "".join(parts)


def vega_lite_spec(points: Sequence[dict[str, Any]]) -> dict[str, Any]:
    """The same plot as a Vega-Lite spec (for tools that render one)."""
    return {
        "$schema": "https://vega.github.io/schema/vega-lite/v5.json",
        "data": {"values": list(points)},
        "mark": {"type": "line", "point": True},
        "encoding": {
            "x": {"field": "scored_at", "type": "temporal", "title": "scored at"},
            "y": {"field": "entry_f1", "type": "quantitative", "scale": {"domain": [0, 1]}, "title": "entry F1"},
            "color": {"field": "extractor_version", "type": "nominal"},
        },
    }
