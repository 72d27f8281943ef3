"""Claude through the anthropic SDK against the local Messages API fake."""

from __future__ import annotations

import base64
import io
import json
from pathlib import Path

import pytest

from tests.cloud.conftest import Generated, claude_overrides
from timetable_platform.domain.model import Entry, Timetable
from timetable_platform.extraction.base import Document, Limits, StageResult
from timetable_platform.extraction.claude import (
    IMAGE_MAX_EDGE,
    IMAGE_MAX_PIXELS,
    TOOL_NAME,
    ClaudeInterpreter,
)
from timetable_platform.extraction.errors import BackendError
from timetable_platform.extraction.pricing import claude_cost
from timetable_platform.fakes.anthropic_server import FakeAnthropic
from timetable_platform.settings import Settings

PDF = "application/pdf"


def _interpreter(fake: FakeAnthropic, **more: str) -> ClaudeInterpreter:
    return ClaudeInterpreter.from_settings(Settings(_env_file=None, **claude_overrides(fake, **more)))  # type: ignore[call-arg, arg-type]


def _pdf(doc: Generated) -> Document:
    return Document(content=doc.path.read_bytes(), media_type=PDF, filename=doc.path.name)


def _keys(entries: list[Entry]) -> list[tuple]:
    return sorted((e.day, e.start or "", e.end or "", e.week or "", e.subject, e.room or "") for e in entries)


def _usage_cost(fake: FakeAnthropic) -> float:
    usages = [r["usage"] for r in fake.responses]
    return claude_cost(
        "claude-sonnet-4-5",
        input_tokens=sum(u["input_tokens"] for u in usages),
        output_tokens=sum(u["output_tokens"] for u in usages),
        cache_creation_input_tokens=sum(u["cache_creation_input_tokens"] for u in usages),
        cache_read_input_tokens=sum(u["cache_read_input_tokens"] for u in usages),
    )


def test_pdf_is_sent_as_a_document_with_a_forced_tool_and_cached_prompt(
    fake_anthropic: FakeAnthropic, grid_pdf: Generated
) -> None:
    fake_anthropic.truth = grid_pdf.truth
    stage = _interpreter(fake_anthropic).extract(_pdf(grid_pdf), Limits())

    (request,) = fake_anthropic.requests
    assert request["model"] == "claude-sonnet-4-5"
    assert request["tool_choice"] == {"type": "tool", "name": TOOL_NAME}
    (tool,) = request["tools"]
    item = tool["input_schema"]["properties"]["entries"]["items"]
    assert item["required"] == ["day", "subject"] and "confidence" not in item["properties"]
    assert request["system"][-1]["cache_control"] == {"type": "ephemeral"}
    assert "one entry PER DAY" in request["system"][0]["text"]
    document = request["messages"][0]["content"][0]
    assert (
        document["type"] == "document"
        and base64.b64decode(document["source"]["data"]) == grid_pdf.path.read_bytes()
    )

    assert _keys(stage.timetable.entries) == _keys(grid_pdf.truth.entries)
    assert stage.timetable.title == grid_pdf.truth.title
    assert stage.backend == "claude:claude-sonnet-4-5" and stage.pages == 1
    usage = fake_anthropic.responses[0]["usage"]
    assert usage["cache_creation_input_tokens"] > 0  # the fixed prompt is long enough to be cached
    assert stage.input_tokens == usage["input_tokens"] + usage["cache_creation_input_tokens"]
    assert stage.output_tokens == usage["output_tokens"]
    assert stage.cost_usd == _usage_cost(fake_anthropic) > 0


def test_second_document_reads_the_prompt_from_the_cache(
    fake_anthropic: FakeAnthropic, grid_pdf: Generated
) -> None:
    fake_anthropic.truth = grid_pdf.truth
    interpreter = _interpreter(fake_anthropic)
    first = interpreter.extract(_pdf(grid_pdf), Limits())
    second = interpreter.extract(_pdf(grid_pdf), Limits())
    assert fake_anthropic.responses[1]["usage"]["cache_read_input_tokens"] > 0
    assert second.cost_usd < first.cost_usd  # cache reads cost a tenth of writes' input price


def test_rate_limit_and_overload_are_retried_by_the_sdk(
    fake_anthropic: FakeAnthropic, grid_pdf: Generated
) -> None:
    fake_anthropic.truth = grid_pdf.truth
    fake_anthropic.script = ["rate_limit", "overloaded"]
    stage = _interpreter(fake_anthropic).extract(_pdf(grid_pdf), Limits())
    assert len(fake_anthropic.requests) == 3
    assert _keys(stage.timetable.entries) == _keys(grid_pdf.truth.entries)


def test_persistent_server_errors_are_a_transient_backend_error(
    fake_anthropic: FakeAnthropic, grid_pdf: Generated
) -> None:
    fake_anthropic.truth = grid_pdf.truth
    fake_anthropic.script = ["server_error"] * 10
    with pytest.raises(BackendError, match="Claude is unavailable after 3 attempts") as failed:
        _interpreter(fake_anthropic).extract(_pdf(grid_pdf), Limits())
    assert failed.value.transient and len(fake_anthropic.requests) == 3


def test_refused_key_fails_at_once(fake_anthropic: FakeAnthropic, grid_pdf: Generated) -> None:
    fake_anthropic.script = ["bad_key"]
    with pytest.raises(BackendError, match="TIMETABLE_ANTHROPIC_API_KEY") as failed:
        _interpreter(fake_anthropic).extract(_pdf(grid_pdf), Limits())
    assert not failed.value.transient and len(fake_anthropic.requests) == 1


def test_malformed_output_is_repaired_once_with_the_errors(
    fake_anthropic: FakeAnthropic, grid_pdf: Generated
) -> None:
    fake_anthropic.truth = grid_pdf.truth
    fake_anthropic.script = ["malformed"]
    stage = _interpreter(fake_anthropic).extract(_pdf(grid_pdf), Limits())

    assert len(fake_anthropic.requests) == 2
    repair = fake_anthropic.requests[1]["messages"]
    assert [m["role"] for m in repair] == ["user", "assistant", "user"]
    (result,) = repair[2]["content"]
    assert result["type"] == "tool_result" and result["is_error"] is True
    assert result["tool_use_id"] == fake_anthropic.responses[0]["content"][0]["id"]
    assert (
        "'9:00 am' is not 24-hour HH:MM" in result["content"]
        and "subject: Field required" in result["content"]
    )
    assert _keys(stage.timetable.entries) == _keys(grid_pdf.truth.entries)
    assert any("asked once for a corrected answer" in w for w in stage.warnings)
    assert stage.cost_usd == _usage_cost(fake_anthropic)  # both calls are paid for


def test_output_still_malformed_after_the_repair_is_a_clear_failure(
    fake_anthropic: FakeAnthropic, grid_pdf: Generated
) -> None:
    fake_anthropic.truth = grid_pdf.truth
    fake_anthropic.script = ["malformed", "malformed"]
    with pytest.raises(BackendError, match="invalid timetable entries twice") as failed:
        _interpreter(fake_anthropic).extract(_pdf(grid_pdf), Limits())
    assert not failed.value.transient and len(fake_anthropic.requests) == 2


def test_answer_cut_off_at_max_tokens_is_continued(
    fake_anthropic: FakeAnthropic, grid_pdf: Generated
) -> None:
    fake_anthropic.truth = grid_pdf.truth
    fake_anthropic.script = ["truncate"]
    stage = _interpreter(fake_anthropic, claude_max_tokens="4000").extract(_pdf(grid_pdf), Limits())

    assert [r["stop_reason"] for r in fake_anthropic.responses] == ["max_tokens", "tool_use"]
    continuation = fake_anthropic.requests[1]["messages"][0]["content"][-1]["text"]
    first_half = fake_anthropic.responses[0]["content"][0]["input"]["entries"]
    assert f"These {len(first_half)} entries are already recorded" in continuation
    # Every entry once: the first half from the cut-off answer, the rest from the continuation.
    assert _keys(stage.timetable.entries) == _keys(grid_pdf.truth.entries)
    assert stage.output_tokens == sum(r["usage"]["output_tokens"] for r in fake_anthropic.responses)


def test_answer_cut_off_every_time_gives_up(fake_anthropic: FakeAnthropic, grid_pdf: Generated) -> None:
    fake_anthropic.truth = grid_pdf.truth
    fake_anthropic.script = ["truncate"] * 10
    with pytest.raises(BackendError, match="TIMETABLE_CLAUDE_MAX_TOKENS"):
        _interpreter(fake_anthropic).extract(_pdf(grid_pdf), Limits())
    assert len(fake_anthropic.requests) == 5  # the first request and four continuations


def test_large_image_is_scaled_to_the_api_limits(fake_anthropic: FakeAnthropic, grid_pdf: Generated) -> None:
    from PIL import Image

    fake_anthropic.truth = grid_pdf.truth
    buffer = io.BytesIO()
    Image.new("RGB", (3508, 2480), "white").save(buffer, format="PNG")  # A4 landscape at 300 dpi
    document = Document(content=buffer.getvalue(), media_type="image/png", filename="photo.png")
    stage = _interpreter(fake_anthropic).extract(document, Limits())

    block = fake_anthropic.requests[0]["messages"][0]["content"][0]
    assert block["type"] == "image"
    with Image.open(io.BytesIO(base64.b64decode(block["source"]["data"]))) as sent:
        assert max(sent.size) <= IMAGE_MAX_EDGE and sent.width * sent.height <= IMAGE_MAX_PIXELS
        assert sent.width / sent.height == pytest.approx(3508 / 2480, rel=0.01)
    assert stage.pages == 1


def test_office_document_is_sent_as_its_table_rendering(
    fake_anthropic: FakeAnthropic, tmp_path: Path
) -> None:
    from tests.corpusgen import generate

    ((xlsx, truth),) = generate(tmp_path, count=1, seed=11, formats=["xlsx"])
    fake_anthropic.truth = Timetable.model_validate(json.loads(truth.read_text()))
    document = Document(
        content=xlsx.read_bytes(),
        media_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        filename=xlsx.name,
    )
    stage = _interpreter(fake_anthropic).extract(document, Limits())

    text = fake_anthropic.requests[0]["messages"][0]["content"][0]
    assert text["type"] == "text" and xlsx.name in text["text"] and "| " in text["text"]
    some = fake_anthropic.truth.entries[0].subject
    assert some in text["text"]
    assert stage.pages is None and len(stage.timetable.entries) == len(fake_anthropic.truth.entries)


def test_hybrid_gives_the_layout_candidate_as_context(
    fake_anthropic: FakeAnthropic, grid_pdf: Generated
) -> None:
    fake_anthropic.truth = grid_pdf.truth
    candidate = Timetable(entries=[Entry(day="TUE", start="08:00", end="09:00", subject="Zoology-candidate")])
    context = StageResult(timetable=candidate, backend="documentai", seconds=0.1)
    _interpreter(fake_anthropic).extract(_pdf(grid_pdf), Limits(), context)
    prompt = fake_anthropic.requests[0]["messages"][0]["content"][-1]["text"]
    assert "candidate reading" in prompt and "Zoology-candidate" in prompt


def test_missing_api_key_is_a_clear_error(grid_pdf: Generated) -> None:
    with pytest.raises(BackendError, match="TIMETABLE_ANTHROPIC_API_KEY") as failed:
        ClaudeInterpreter(api_key=None).extract(_pdf(grid_pdf), Limits())
    assert not failed.value.transient


def test_hybrid_sends_an_office_document_as_the_layout_stage_read_it_without_reading_it_again(
    fake_anthropic: FakeAnthropic, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from tests.corpusgen import generate
    from timetable_platform.extraction import readers
    from timetable_platform.extraction.pipeline import extract

    ((xlsx, truth),) = generate(tmp_path, count=1, seed=11, formats=["xlsx"])
    fake_anthropic.truth = Timetable.model_validate(json.loads(truth.read_text()))
    reads: list[str] = []
    read_layout = readers.read_layout
    monkeypatch.setattr(readers, "read_layout", lambda *a, **k: reads.append("read") or read_layout(*a, **k))
    document = Document(
        content=xlsx.read_bytes(),
        media_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        filename=xlsx.name,
    )

    result = extract(document, mode="hybrid", interpreter=_interpreter(fake_anthropic))

    assert reads == ["read"]
    assert result.interpreter_stage is not None and result.interpreter_stage.backend.startswith("claude")
    text = fake_anthropic.requests[0]["messages"][0]["content"][0]["text"]
    assert fake_anthropic.truth.entries[0].subject in text
