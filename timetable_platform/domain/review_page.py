"""The week view in edit mode: the teacher's page for correcting a timetable (pure HTML).

The grid is ``exports.to_html_week`` with every block a focusable control; around it go what to
check first (low-confidence blocks, then the notices), an "Add a block" and a "Mark as reviewed"
button, and one form in a ``<dialog>`` that ``review.js`` (served by the API, no CDN) fills in and
sends. Without JavaScript the page still shows the timetable.
"""

from __future__ import annotations

import html
import json
from collections.abc import Sequence
from datetime import datetime

from timetable_platform.domain.days import DAY_NAMES
from timetable_platform.domain.exports import to_html_week
from timetable_platform.domain.model import DAYS, Timetable

# Most urgent first, and not so many that the list hides the week.
MAX_CHECK_FIRST = 12

EDIT_STYLE = """<style>
.toolbar{display:flex;flex-wrap:wrap;gap:.5rem;align-items:center;margin:0 0 1rem}
.toolbar button,dialog button{font:inherit;padding:.45rem .9rem;border-radius:4px;border:1px solid #5f6368;background:#fff;cursor:pointer;min-height:2.5rem}
.toolbar button.primary,dialog button.primary{background:#1a73e8;color:#fff;border-color:#1a73e8}
dialog button.danger{color:#a50e0e;border-color:#a50e0e}
.state{font-weight:600}.state.reviewed{color:#137333}.state.draft{color:#a56300}
.entry[data-entry-id]{cursor:pointer}
.entry[data-entry-id]:focus,.entry[data-entry-id]:hover{outline:3px solid #1a73e8;outline-offset:-1px;z-index:2}
.checkfirst{background:#fdecea;border:1px solid #d93025;padding:.5rem 1rem;margin:0 0 1rem}
.checkfirst ol{margin:.25rem 0;padding-left:1.4rem}.checkfirst button{font:inherit;background:none;border:none;color:#1a0dab;text-decoration:underline;cursor:pointer;padding:.15rem 0;text-align:left}
dialog{max-width:32rem;width:calc(100% - 2rem);border:1px solid #888;border-radius:6px;padding:1rem}
dialog form{display:grid;grid-template-columns:1fr 1fr;gap:.5rem .75rem}
dialog label{display:flex;flex-direction:column;font-size:.85rem;gap:.15rem}
dialog input,dialog select,dialog textarea{font:inherit;padding:.35rem;border:1px solid #888;border-radius:3px;min-height:2.2rem}
dialog .wide{grid-column:1/-1}dialog .actions{grid-column:1/-1;display:flex;flex-wrap:wrap;gap:.5rem;justify-content:flex-end}
.errors{grid-column:1/-1;color:#a50e0e;margin:0}.message{min-height:1.2rem}
@media (max-width:700px){dialog form{grid-template-columns:1fr}}
</style>"""


def _json_for_script(value: object) -> str:
    """JSON safe inside ``<script type="application/json">`` (no ``</script>`` or HTML comment)."""
    return json.dumps(value, ensure_ascii=False).replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")


def _field(name: str, label: str, kind: str = "text", extra: str = "") -> str:
    return f'<label>{label}<input name="{name}" type="{kind}" {extra}></label>'


def _form() -> str:
    day_options = "".join(f'<option value="{d}">{DAY_NAMES[d]}</option>' for d in DAYS)
    kind_options = "".join(f'<option value="{k}">{k}</option>' for k in ("lesson", "break", "other"))
    return (
        '<dialog id="editor" aria-labelledby="editor-title"><form id="entry-form" novalidate>'
        '<h2 id="editor-title" class="wide">Edit block</h2>'
        '<label class="wide">Subject<input name="subject" type="text" required maxlength="500"></label>'
        + _field("teacher", "Teacher")
        + _field("room", "Room")
        + _field("group", "Group")
        + f'<label>Day<select name="day">{day_options}</select></label>'
        + _field("start", "Start", "time")
        + _field("end", "End", "time")
        + _field("period", "Period")
        + f'<label>Kind<select name="kind">{kind_options}</select></label>'
        + _field("week", "Week (A/B)")
        + '<label class="wide">Notes<textarea name="notes" rows="2" maxlength="2000"></textarea></label>'
        '<p class="errors" id="form-errors" role="alert"></p>'
        '<div class="actions"><button type="button" class="danger" id="delete-entry">Delete block</button>'
        '<button type="button" id="cancel-edit">Cancel</button>'
        '<button type="submit" class="primary" id="save-entry">Save</button></div>'
        "</form></dialog>"
    )


def edit_page(
    timetable: Timetable,
    *,
    entry_ids: Sequence[str],
    etag: str,
    api_base: str,
    edit_token: str,
    script_url: str,
    reviewed_at: datetime | None,
    revision: int,
    low_confidence: float = 0.6,
) -> str:
    """The edit page of ``timetable`` (the version being reviewed; ``entry_ids`` parallel to its entries)."""
    ids_by_object = {id(entry): entry_id for entry, entry_id in zip(timetable.entries, entry_ids, strict=True)}
    low = sorted(
        (
            (entry.confidence, entry_id, entry)
            for entry, entry_id in zip(timetable.entries, entry_ids, strict=True)
            if entry.confidence is not None and entry.confidence < low_confidence
        ),
        key=lambda item: item[0],
    )
    if reviewed_at is not None:
        state = f'<span class="state reviewed">Reviewed {html.escape(reviewed_at.strftime("%d %b %Y %H:%M"))} UTC</span>'
    elif revision:
        state = '<span class="state draft">Your changes are saved; not marked as reviewed yet</span>'
    else:
        state = '<span class="state draft">Not reviewed yet: this is what was read from the document</span>'
    toolbar = (
        f'<div class="toolbar" role="toolbar" aria-label="Review">{state}'
        '<button type="button" id="add-entry">Add a block</button>'
        '<button type="button" class="primary" id="mark-reviewed">Mark as reviewed</button></div>'
        '<p class="message" id="message" role="status" aria-live="polite"></p>'
    )
    if low:
        items = "".join(
            f'<li><button type="button" data-focus-entry="{html.escape(entry_id, quote=True)}">'
            f"{html.escape(DAY_NAMES[entry.day])} {html.escape(entry.start or entry.period or '')} "
            f"{html.escape(entry.subject)} (read with {confidence:.0%} confidence)</button></li>"
            for confidence, entry_id, entry in low[:MAX_CHECK_FIRST]
        )
        more = f"<p>{len(low) - MAX_CHECK_FIRST} more are outlined in the week.</p>" if len(low) > MAX_CHECK_FIRST else ""
        toolbar += (
            '<section class="checkfirst" aria-labelledby="checkfirst-title"><strong id="checkfirst-title">'
            f"Check these first: the reading was unsure</strong><ol>{items}</ol>{more}</section>"
        )
    data = {
        "etag": etag,
        "api": api_base,
        "token": edit_token,
        "entries": {
            entry_id: entry.model_dump(mode="json")
            for entry, entry_id in zip(timetable.entries, entry_ids, strict=True)
        },
    }
    end = (
        _form()
        + f'<script type="application/json" id="review-data">{_json_for_script(data)}</script>'
        + f'<script src="{html.escape(script_url, quote=True)}" defer></script>'
    )
    return to_html_week(
        timetable,
        low_confidence=low_confidence,
        entry_ids=ids_by_object,
        head_extra=EDIT_STYLE,
        body_top=toolbar,
        body_end=end,
    )
