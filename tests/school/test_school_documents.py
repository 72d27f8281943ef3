"""School-wide documents end to end: a generated school printed as a PDF with a page per class, a
workbook with a sheet per teacher and FET-style HTML pages, read back and scored per owner with
../shared/eval/score.py; the cross-timetable checks find exactly the planted conflicts."""

from __future__ import annotations

import importlib.util
import time
from pathlib import Path
from types import ModuleType

import pytest

from tests.corpusgen.school import (
    Conflict,
    School,
    html_truth,
    make_school,
    render_class_docx,
    render_class_pdf,
    render_fet_html,
    render_teacher_xlsx,
)
from timetable_platform.domain.conflicts import find_conflicts
from timetable_platform.domain.model import Timetable
from timetable_platform.domain.school import schema_errors_v2
from timetable_platform.extraction.base import ExtractionResult, Limits
from timetable_platform.extraction.pipeline import extract, load_document

SCORER = Path(__file__).resolve().parents[3] / "shared" / "eval" / "score.py"
LIMITS = Limits(max_pages=60)


def _scorer() -> ModuleType:
    if not SCORER.is_file():
        pytest.skip(f"{SCORER} is not present")
    spec = importlib.util.spec_from_file_location("timetable_score", SCORER)
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _extract(content: bytes, name: str) -> ExtractionResult:
    return extract(load_document(content, filename=name, limits=LIMITS), limits=LIMITS)


def _f1_by_owner(result: ExtractionResult, truth: list[Timetable]) -> dict[str, float]:
    scorer = _scorer()
    by_owner = {(t.owner.kind, t.owner.name): t for t in result.timetables if t.owner}
    scores = {}
    for expected in truth:
        assert expected.owner is not None
        got = by_owner.get((expected.owner.kind, expected.owner.name))
        found = scorer.score_doc(expected.to_json_dict(), got.to_json_dict() if got else None)
        scores[expected.owner.name] = scorer.f1(found["tp"], found["pred"], found["truth"])[2]
    return scores


@pytest.fixture(scope="module")
def school() -> School:
    return make_school(seed=15, n_classes=30)


@pytest.mark.slow
def test_a_30_class_pdf_gives_30_timetables_with_their_owners(school: School) -> None:
    content = render_class_pdf(school)
    started = time.perf_counter()
    result = _extract(content, "classes.pdf")
    seconds = time.perf_counter() - started
    truth = school.class_truth()
    assert [(t.owner.kind, t.owner.name) for t in result.timetables if t.owner] == [
        ("class", name) for name in school.classes
    ]
    scores = _f1_by_owner(result, truth)
    assert min(scores.values()) >= 0.95, {k: round(v, 3) for k, v in scores.items() if v < 0.95}
    data = result.to_json_dict()
    assert data["schema_version"] == "2" and schema_errors_v2(data) == []
    # The one-file view holds every class's lessons, each naming its class.
    assert len(result.timetable.entries) == sum(len(t.entries) for t in result.timetables)
    assert {e.group for e in result.timetable.entries if e.kind == "lesson"} == set(school.classes)
    assert seconds < 120  # 9 s here (hybrid mode, both readers per page), 24 s under load


def test_a_workbook_with_a_sheet_per_teacher_gives_one_timetable_per_teacher() -> None:
    school = make_school(seed=7, n_classes=8)
    truth = school.teacher_truth()
    result = _extract(render_teacher_xlsx(school), "teachers.xlsx")
    assert sorted(t.owner.name for t in result.timetables if t.owner) == sorted(
        t.owner.name for t in truth if t.owner
    )
    assert {t.owner.kind for t in result.timetables if t.owner} == {"teacher"}
    scores = _f1_by_owner(result, truth)
    assert min(scores.values()) >= 0.95, scores


def test_a_word_document_with_a_section_per_class_gives_one_timetable_per_class() -> None:
    school = make_school(seed=9, n_classes=5)
    result = _extract(render_class_docx(school), "classes.docx")
    assert [t.owner.name for t in result.timetables if t.owner] == school.classes
    scores = _f1_by_owner(result, school.class_truth())
    assert min(scores.values()) >= 0.95, scores


@pytest.fixture(scope="module")
def html_school() -> tuple[School, ExtractionResult, ExtractionResult]:
    school = make_school(seed=3, n_classes=8)
    classes = _extract(render_fet_html(school, teachers=False), "classes.html")
    teachers = _extract(render_fet_html(school, teachers=True), "teachers.html")
    return school, classes, teachers


def test_fet_html_pages_of_a_school_score_at_least_098_per_owner(
    html_school: tuple[School, ExtractionResult, ExtractionResult],
) -> None:
    school, classes, teachers = html_school
    class_scores = _f1_by_owner(classes, html_truth(school.class_truth()))
    teacher_scores = _f1_by_owner(teachers, html_truth(school.teacher_truth()))
    assert len(classes.timetables) == len(school.classes)
    assert len(teachers.timetables) == len(school.teacher_truth())
    assert {t.owner.kind for t in classes.timetables if t.owner} == {"class"}
    assert {t.owner.kind for t in teachers.timetables if t.owner} == {"teacher"}
    assert min(class_scores.values()) >= 0.98, class_scores
    assert min(teacher_scores.values()) >= 0.98, teacher_scores


def test_checks_across_the_extracted_timetables_find_exactly_the_planted_conflicts(
    html_school: tuple[School, ExtractionResult, ExtractionResult],
) -> None:
    school, classes, teachers = html_school
    found = find_conflicts([*classes.timetables, *teachers.timetables])
    assert {Conflict(c.kind, c.name, c.day, c.start or "") for c in found} == school.conflicts
    teacher_clash = next(c for c in found if c.kind == "teacher")
    assert len(teacher_clash.entries) >= 2 and teacher_clash.name in teacher_clash.message


def test_the_truth_itself_holds_exactly_the_planted_conflicts(school: School) -> None:
    found = find_conflicts([*school.class_truth(), *school.teacher_truth()])
    assert {Conflict(c.kind, c.name, c.day, c.start or "") for c in found} == school.conflicts
