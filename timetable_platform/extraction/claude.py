"""The interpreter stage on Anthropic's Messages API (``TIMETABLE_INTERPRETER_BACKEND=claude``).

The document goes to Claude as it is (PDF as a ``document`` block, an image scaled to the API's
limits as an ``image`` block; office formats as the text and table rendering of the embedded reader),
and the answer comes back through one forced tool whose input schema is the entries part of
``timetable.schema.json``. The tool input is validated with the domain model; invalid output is sent
back once with the errors; an answer cut off at ``max_tokens`` is continued by asking for the rest.
Token counts (cache writes and reads included) and the cost in USD go into the ``StageResult``.
"""

from __future__ import annotations

import base64
import io
import json
import re
import time
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from pydantic import ValidationError

from timetable_platform.domain.layout import Layout, Table
from timetable_platform.domain.model import DAYS, Entry, Timetable, timetable_schema
from timetable_platform.extraction import sniff
from timetable_platform.extraction.base import Document, Limits, StageResult
from timetable_platform.extraction.errors import BackendError, NoTimetableFound
from timetable_platform.extraction.pricing import claude_cost

if TYPE_CHECKING:
    from timetable_platform.settings import Settings

TOOL_NAME = "record_timetable"
# Anthropic's image guidance: no edge over 1568 px and about 1.15 megapixels, at most 5 MB per image.
IMAGE_MAX_EDGE = 1568
IMAGE_MAX_PIXELS = 1_150_000
IMAGE_MAX_BYTES = 5 * 1024 * 1024
IMAGE_TYPES = ("image/jpeg", "image/png", "image/gif", "image/webp")
MAX_CONTINUATIONS = 4  # requests asking for the rest of an answer cut off at max_tokens
# Claude reports no per-entry confidence; this prior is its weight against the layout reader in the merge.
CLAUDE_ENTRY_CONFIDENCE = 0.9
_HHMM = re.compile(r"^([01][0-9]|2[0-3]):[0-5][0-9]$")

SYSTEM_PROMPT = """\
You read school timetables: documents printed by schools and teachers (PDF, scans, phone photos, \
Word and Excel files) in any language, and you record every time block they show by calling the \
record_timetable tool exactly once with all entries. You never answer in prose.

What an entry is
- One entry per day per time block. A block that spans several periods (a double lesson, a merged \
cell over two or more period rows or columns) is ONE entry with the combined time range: the start of \
its first period and the end of its last, and the first period's label.
- A row or column merged across all days (Break, Lunch, Recess, Pause, Mittagspause, Récréation...) \
is one entry PER DAY with kind "break". Registration, assembly, tutor or form time, homeroom, \
Mentoruur and similar are kind "other". Lessons are kind "lesson".
- Empty cells and cells holding only "-" (or another dash) produce no entry.
- Two lessons printed in one cell (split groups, "Maths / Art") are two entries in the same slot.
- On alternating-week timetables (Week A / Week B, Woche A, semaine B) set week to "A" or "B" \
according to the table the entry is in; otherwise week is null.

Days and times
- day is one of MON, TUE, WED, THU, FRI, SAT, SUN, whatever the language or abbreviation printed \
(Montag/Mo, Lundi/Lun, Lunes, Lunedì, Maandag/Ma...).
- start and end are 24-hour "HH:MM" with two-digit hours ("08:30", never "8:30"). Convert 12-hour \
times ("1:15 pm" -> "13:15"; times after noon in a school day are afternoon times even when am/pm is \
not printed, so "1.15" after "11.40" is "13:15") and "8.30", "8h30", "8,30" styles.
- A time printed inside a cell overrides the header's time for that cell (a late start, a short block).
- Where only start times are printed, a block ends where the next one starts; the last block ends at \
the printed end of the day.
- Where no time is printed anywhere, start and end are null and the period label tells blocks apart.
- period is the period label as printed ("1", "P3", "Lesson 2", "1.", "Std. 4"), or null when the \
document prints none.

Fields, as printed
- subject is the block's main text exactly as printed: not expanded, not translated, not corrected \
("Maths", "Mathe", "D&T", "Design & Technology", "Physique-Chimie").
- teacher as printed ("Mr Okafor", "Fr. Schmidt", or a code such as "OKA"); room as printed ("R101", \
"Lab 2", "A-12", "Sports Hall"); group for a printed class or set ("7B", "10S").
- On a teacher's own timetable (the teacher is the owner), the class printed in a cell goes in group, \
and teacher stays null unless the cell itself prints a teacher.
- A field the cell does not print is null. Do not guess, do not fill in from other cells.
- notes holds any remaining printed remark of the cell (e.g. "(fortnightly)"), else null.
- page is the 1-based page number the entry is printed on.

Output
- title is the heading as printed ("Class 7B - Autumn Term", "Stundenplan Klasse 5b"), owner the \
class, teacher or student the timetable belongs to when the document says so.
- Record entries in reading order: by week, then day, then time.
- If the request lists entries already recorded, record only the remaining ones.
- If you are given a candidate reading made by a layout reader, use it as a hint only: the document \
is the truth; correct the candidate where the document differs and add what it missed.
"""


def entries_tool() -> dict[str, Any]:
    """The forced tool: its input schema is the entries part of ``timetable.schema.json`` (+ title, owner)."""
    schema = timetable_schema()
    item = json.loads(json.dumps(schema["properties"]["entries"]["items"]))
    item["properties"].pop("confidence", None)  # the merge scores confidence, not the model
    item["additionalProperties"] = False
    return {
        "name": TOOL_NAME,
        "description": "Record every time block of the timetable as entries (one per day per block).",
        "input_schema": {
            "type": "object",
            "properties": {
                "title": schema["properties"]["title"],
                "owner": schema["properties"]["owner"],
                "entries": {"type": "array", "items": item},
            },
            "required": ["entries"],
        },
    }


# --------------------------------------------------------------------------- the document as content


def _image_block(content: bytes, media_type: str, limits: Limits) -> dict[str, Any]:
    """An image block within the API's limits: scaled down (never up), re-encoded when needed."""
    from PIL import Image

    from timetable_platform.extraction.ocr.preprocess import decode_image

    # The OCR reader's safe decoding: pixel limit (bombs), corrupt files, EXIF rotation, RGB; first frame.
    image = decode_image(content, limits)[0]
    width, height = image.size
    scale = min(1.0, IMAGE_MAX_EDGE / max(width, height), (IMAGE_MAX_PIXELS / (width * height)) ** 0.5)
    if scale < 1.0 or media_type not in IMAGE_TYPES or len(content) > IMAGE_MAX_BYTES:
        if scale < 1.0:
            image = image.resize(
                (max(1, int(width * scale)), max(1, int(height * scale))), Image.Resampling.LANCZOS
            )
        buffer = io.BytesIO()
        image.save(buffer, format="JPEG", quality=90)
        content, media_type = buffer.getvalue(), "image/jpeg"
    return {
        "type": "image",
        "source": {"type": "base64", "media_type": media_type, "data": base64.b64encode(content).decode()},
    }


def _cell_text(text: str) -> str:
    return " / ".join(part.strip() for part in text.splitlines() if part.strip())


def render_table(table: Table) -> str:
    """A table as text rows; a merged cell shows once, its covered slots as ^ (from above) or < (from the left)."""
    grid = table.grid()
    rows = []
    for r, row in enumerate(grid):
        out = []
        for c, cell in enumerate(row):
            if cell is None:
                out.append("")
            elif cell.row == r and cell.col == c:
                span = (
                    f" [spans {cell.rowspan}x{cell.colspan}]" if cell.rowspan > 1 or cell.colspan > 1 else ""
                )
                out.append(_cell_text(cell.text) + span)
            else:
                out.append("^" if cell.row < r else "<")
        rows.append("| " + " | ".join(out) + " |")
    return "\n".join(rows)


def render_layout(layout: Layout) -> str:
    """Text and tables of an office document, for a model that cannot read the file itself."""
    parts = []
    if layout.paragraphs:
        parts.append("Text outside tables:\n" + "\n".join(layout.paragraphs))
    for page in layout.pages:
        for k, table in enumerate(page.tables, 1):
            caption = f" (captioned {table.caption!r})" if table.caption else ""
            parts.append(
                f"Table {k} on page/sheet {page.number}{caption}, {table.n_rows} rows x {table.n_cols} columns; "
                f"'^' = merged with the cell above, '<' = merged with the cell to the left:\n{render_table(table)}"
            )
        if not page.tables and page.lines and not layout.paragraphs:
            parts.append(f"Page {page.number} text:\n{page.text}")
    return "\n\n".join(parts)


def document_blocks(document: Document, limits: Limits, layout: Layout | None = None) -> list[dict[str, Any]]:
    """The content blocks that carry ``document`` to the model; an office document is sent as the text of
    ``layout`` when the layout stage already read it (one read per document), else as read here."""
    if document.media_type == sniff.PDF:
        data = base64.b64encode(document.content).decode()
        return [
            {"type": "document", "source": {"type": "base64", "media_type": "application/pdf", "data": data}}
        ]
    if document.media_type.startswith("image/"):
        return [_image_block(document.content, document.media_type, limits)]
    if layout is None:
        from timetable_platform.extraction.readers import read_layout

        layout = read_layout(document, limits)
    name = document.filename or "the document"
    return [
        {
            "type": "text",
            "text": f"The document {name} ({document.media_type}), as read from the file:\n\n{render_layout(layout)}",
        }
    ]


# --------------------------------------------------------------------------- validation


def _entry_key(entry: Entry) -> tuple[Any, ...]:
    return (
        entry.day,
        entry.start,
        entry.end,
        entry.week,
        entry.period,
        entry.subject,
        entry.group,
        entry.teacher,
        entry.room,
    )


def validate_tool_input(data: Any) -> tuple[list[Entry], list[str], dict[str, Any]]:
    """(valid entries, error messages for the model, title/owner); an entry with any error is left out."""
    errors: list[str] = []
    if not isinstance(data, dict) or not isinstance(data.get("entries"), list):
        return [], ["the input must be an object with an 'entries' array"], {}
    entries: list[Entry] = []
    for index, raw in enumerate(data["entries"]):
        try:
            entry = Entry.model_validate(raw)
        except ValidationError as exc:
            for problem in exc.errors():
                where = ".".join(str(p) for p in problem["loc"])
                errors.append(f"entries[{index}].{where}: {problem['msg']}")
            continue
        problems = [
            f"entries[{index}].{name}: {value!r} is not 24-hour HH:MM"
            for name, value in (("start", entry.start), ("end", entry.end))
            if value is not None and not _HHMM.match(value)
        ]
        if not problems and entry.start and entry.end and entry.start >= entry.end:
            problems.append(f"entries[{index}]: start {entry.start} is not before end {entry.end}")
        if not entry.subject.strip():
            problems.append(f"entries[{index}].subject: empty")
        if problems:
            errors.extend(problems)
            continue
        entries.append(entry)
    extra: dict[str, Any] = {}
    if isinstance(data.get("title"), str):
        extra["title"] = data["title"]
    if isinstance(data.get("owner"), dict):
        extra["owner"] = data["owner"]
    return entries, errors, extra


# --------------------------------------------------------------------------- the interpreter


@dataclass
class _Usage:
    input_tokens: int = 0
    output_tokens: int = 0
    cache_creation_input_tokens: int = 0
    cache_read_input_tokens: int = 0
    calls: int = 0
    notes: list[str] = field(default_factory=list)

    def add(self, usage: Any) -> None:
        self.calls += 1
        self.input_tokens += int(getattr(usage, "input_tokens", 0) or 0)
        self.output_tokens += int(getattr(usage, "output_tokens", 0) or 0)
        self.cache_creation_input_tokens += int(getattr(usage, "cache_creation_input_tokens", 0) or 0)
        self.cache_read_input_tokens += int(getattr(usage, "cache_read_input_tokens", 0) or 0)

    @property
    def all_input_tokens(self) -> int:
        return self.input_tokens + self.cache_creation_input_tokens + self.cache_read_input_tokens


class ClaudeInterpreter:
    """``Interpreter`` on Claude: an independent reading of the document itself."""

    name = "claude"

    def __init__(
        self,
        *,
        api_key: str | None,
        model: str = "claude-sonnet-4-5",
        max_tokens: int = 16000,
        max_retries: int = 3,
        timeout_seconds: float = 120.0,
        base_url: str | None = None,
    ) -> None:
        self.api_key = api_key
        self.model = model
        self.max_tokens = max_tokens
        self.max_retries = max_retries
        self.timeout_seconds = timeout_seconds
        self.base_url = base_url
        self._client: Any = None

    @classmethod
    def from_settings(cls, settings: Settings, **overrides: Any) -> ClaudeInterpreter:
        key = settings.anthropic_api_key.get_secret_value() if settings.anthropic_api_key else None
        options: dict[str, Any] = {
            "api_key": key,
            "model": settings.claude_model,
            "max_tokens": settings.claude_max_tokens,
            "max_retries": settings.claude_max_retries,
            "timeout_seconds": settings.claude_timeout_seconds,
            "base_url": settings.anthropic_base_url,
        }
        options.update(overrides)
        return cls(**options)

    def _client_or_raise(self) -> Any:
        if not self.api_key:
            raise BackendError(
                "Claude is not configured: set TIMETABLE_ANTHROPIC_API_KEY (or TIMETABLE_INTERPRETER_BACKEND=embedded).",
                transient=False,
            )
        if self._client is None:
            import anthropic

            self._client = anthropic.Anthropic(
                api_key=self.api_key,
                base_url=self.base_url or None,
                max_retries=self.max_retries,
                timeout=self.timeout_seconds,
            )
        return self._client

    def _call(self, messages: list[dict[str, Any]]) -> Any:
        client = self._client_or_raise()
        try:
            return client.messages.create(
                model=self.model,
                max_tokens=self.max_tokens,
                system=[{"type": "text", "text": SYSTEM_PROMPT, "cache_control": {"type": "ephemeral"}}],
                tools=[entries_tool()],
                tool_choice={"type": "tool", "name": TOOL_NAME},
                messages=messages,
            )
        except Exception as exc:
            raise _backend_error(exc, attempts=self.max_retries + 1) from exc

    def extract(self, document: Document, limits: Limits, context: StageResult | None = None) -> StageResult:
        started = time.perf_counter()
        blocks = document_blocks(document, limits, context.layout if context is not None else None)
        request = _request_text(context)
        usage = _Usage()
        collected: list[Entry] = []
        extra: dict[str, Any] = {}
        messages = [{"role": "user", "content": [*blocks, {"type": "text", "text": request}]}]
        repairs = continuations = 0
        while True:
            response = self._call(messages)
            usage.add(response.usage)
            tool = next((b for b in response.content if getattr(b, "type", None) == "tool_use"), None)
            data = tool.input if tool is not None else None
            if response.stop_reason == "max_tokens":
                # The tool input was cut off: keep its complete, valid entries and ask for the rest.
                partial, _, found = validate_tool_input(data if isinstance(data, dict) else {"entries": []})
                extra = extra or found
                collected.extend(partial)
                if continuations >= MAX_CONTINUATIONS:
                    raise BackendError(
                        f"Claude's answer was still cut off after {continuations + 1} requests of "
                        f"{self.max_tokens} tokens; raise TIMETABLE_CLAUDE_MAX_TOKENS.",
                        transient=False,
                    )
                continuations += 1
                usage.notes.append(
                    f"claude: answer cut off at max_tokens, asked for the rest ({continuations})"
                )
                text = request + "\n\n" + _continuation_text(collected)
                messages = [{"role": "user", "content": [*blocks, {"type": "text", "text": text}]}]
                continue
            entries, errors, found = validate_tool_input(data)
            if tool is None:
                errors = [f"no {TOOL_NAME} call in the answer"]
            if errors:
                if repairs >= 1:
                    shown = "; ".join(errors[:5])
                    raise BackendError(
                        f"Claude returned invalid timetable entries twice ({len(errors)} problems: {shown}).",
                        detail="\n".join(errors),
                        transient=False,
                    )
                repairs += 1
                usage.notes.append(
                    f"claude: {len(errors)} invalid entries, asked once for a corrected answer"
                )
                messages = [*messages, *_repair_turns(response, tool, errors)]
                continue
            extra = extra or found
            collected.extend(entries)
            break
        timetable = _timetable(collected, extra)
        if not timetable.entries:
            raise NoTimetableFound("no timetable found: Claude recorded no entries")
        pages = _pages(document)
        return StageResult(
            timetable=timetable,
            backend=f"{self.name}:{self.model}",
            seconds=time.perf_counter() - started,
            pages=pages,
            input_tokens=usage.all_input_tokens,
            output_tokens=usage.output_tokens,
            cost_usd=claude_cost(
                self.model,
                input_tokens=usage.input_tokens,
                output_tokens=usage.output_tokens,
                cache_creation_input_tokens=usage.cache_creation_input_tokens,
                cache_read_input_tokens=usage.cache_read_input_tokens,
            ),
            warnings=usage.notes,
        )


def _request_text(context: StageResult | None) -> str:
    text = f"Record every entry of this timetable with the {TOOL_NAME} tool."
    if context is not None and context.timetable.entries:
        candidate = [
            {k: v for k, v in e.model_dump(exclude={"confidence"}).items() if v is not None}
            for e in context.timetable.sorted_entries()
        ]
        text += (
            "\n\nA layout reader produced this candidate reading (it may contain mistakes; the document is "
            "the truth):\n" + json.dumps(candidate, ensure_ascii=False, separators=(",", ":"))
        )
    return text


def _continuation_text(recorded: list[Entry]) -> str:
    listed = [
        {
            k: v
            for k, v in e.model_dump(include={"day", "start", "end", "period", "week", "subject"}).items()
            if v is not None
        }
        for e in recorded
    ]
    return (
        f"Your previous answer was cut off. These {len(recorded)} entries are already recorded:\n"
        + json.dumps(listed, ensure_ascii=False, separators=(",", ":"))
        + f"\nCall {TOOL_NAME} with ONLY the remaining entries, none of the recorded ones."
    )


def _repair_turns(response: Any, tool: Any, errors: list[str]) -> list[dict[str, Any]]:
    """The assistant's answer and a tool_result naming what was wrong with it."""
    message = (
        "The entries did not validate:\n- "
        + "\n- ".join(errors[:50])
        + f"\nCall {TOOL_NAME} again with ALL entries, corrected."
    )
    if tool is None:
        return [
            {
                "role": "assistant",
                "content": [b.model_dump(exclude_none=True) for b in response.content] or "(no answer)",
            },
            {"role": "user", "content": message},
        ]
    return [
        {"role": "assistant", "content": [b.model_dump(exclude_none=True) for b in response.content]},
        {
            "role": "user",
            "content": [
                {"type": "tool_result", "tool_use_id": tool.id, "is_error": True, "content": message}
            ],
        },
    ]


def _timetable(entries: list[Entry], extra: dict[str, Any]) -> Timetable:
    seen: set[tuple[Any, ...]] = set()
    unique = []
    for entry in entries:
        key = _entry_key(entry)
        if key not in seen:
            seen.add(key)
            entry.confidence = CLAUDE_ENTRY_CONFIDENCE
            unique.append(entry)
    order = {d: i for i, d in enumerate(DAYS)}
    unique.sort(key=lambda e: (e.week or "", order[e.day], e.start or "99:99", e.period or ""))
    owner = None
    if extra.get("owner"):
        from timetable_platform.domain.model import Owner

        try:
            owner = Owner.model_validate(extra["owner"])
        except ValidationError:
            owner = None
    return Timetable(title=extra.get("title"), owner=owner, entries=unique)


def _pages(document: Document) -> int | None:
    if document.media_type == sniff.PDF:
        from timetable_platform.extraction.documentai import pdf_chunks

        return pdf_chunks(document.content, 10_000)[0]
    return 1 if document.media_type.startswith("image/") else None


def _backend_error(exc: Exception, *, attempts: int) -> BackendError:
    import anthropic

    if isinstance(exc, BackendError):
        return exc
    if isinstance(exc, anthropic.APIStatusError):
        status = exc.status_code
        body = exc.body if isinstance(exc.body, dict) else {}
        error = body.get("error") if isinstance(body.get("error"), dict) else {}
        detail = f"{status} {error.get('type', '')}: {error.get('message', exc.message)}".strip()
        if status in (401, 403):
            return BackendError(
                f"Anthropic refused the API key ({detail}); check TIMETABLE_ANTHROPIC_API_KEY.",
                detail=detail,
                transient=False,
            )
        if status == 429 or status >= 500:
            what = "rate-limited" if status == 429 else "overloaded" if status == 529 else "unavailable"
            return BackendError(
                f"Claude is {what} after {attempts} attempts ({detail}).", detail=detail, transient=True
            )
        return BackendError(f"Claude rejected the request ({detail}).", detail=detail, transient=False)
    if isinstance(exc, anthropic.APIConnectionError):  # includes timeouts
        return BackendError(
            f"Claude could not be reached after {attempts} attempts ({exc}).", detail=str(exc), transient=True
        )
    return BackendError(f"Claude failed ({type(exc).__name__}: {exc}).", detail=str(exc), transient=False)
