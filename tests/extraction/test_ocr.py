"""OCR reader on generated scans and photos with known cells, one corpus image, and bad input.

OCR is slow, so each test reads at most one small image.
"""

from __future__ import annotations

import io
import itertools
import random
import shutil
import struct
import zlib
from difflib import SequenceMatcher
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from tests.corpusgen.degrade import GridSpec, Recipe, degrade, grid_page, photo_recipe
from timetable_platform.domain.layout import Cell, Layout, Table
from timetable_platform.extraction.base import Document, Limits
from timetable_platform.extraction.errors import CorruptDocument, NoTimetableFound, TooLarge
from timetable_platform.extraction.ocr.preprocess import decode_image
from timetable_platform.extraction.readers.image import read_image_layout, read_scanned_pdf_layout
from timetable_platform.reading.interpret import interpret

pytestmark = pytest.mark.skipif(shutil.which("tesseract") is None, reason="Tesseract is not installed")

GREY = (200, 200, 200)
BLUE = (170, 200, 240)
PINK = (245, 190, 200)


def timetable_spec() -> GridSpec:
    """Days as columns; a merged break row, a double lesson, colour-coded cells, a vertical header."""
    return GridSpec(
        title="Timetable Class 7B",
        rows=[
            ["", "Monday", "Tuesday", "Wednesday", "Assembly"],
            ["09:00", "Maths", "English", "Science", None],
            ["10:00", "BREAK", None, None, None],
            ["10:30", "History", "Art", "French", None],
            ["11:30", None, "Music", "Drama", None],
        ],
        spans={(2, 1): (1, 3), (3, 1): (2, 1), (0, 4): (5, 1)},
        fills={(2, 1): GREY, (3, 1): BLUE, (3, 2): PINK},
        vertical={(0, 4)},
        col_widths=[130, 190, 190, 190, 90],
        row_heights=[64, 64, 56, 64, 64],
    )


def encode(image: Image.Image, fmt: str, **options: object) -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, format=fmt, **options)
    return buffer.getvalue()


def only_table(layout: Layout) -> Table:
    assert len(layout.pages) == 1
    tables = layout.pages[0].tables
    assert len(tables) == 1, [(t.n_rows, t.n_cols) for t in tables]
    return tables[0]


def cell_with(table: Table, text: str) -> Cell:
    best = max(table.cells, key=lambda c: SequenceMatcher(None, c.text.lower(), text.lower()).ratio())
    assert SequenceMatcher(None, best.text.lower(), text.lower()).ratio() >= 0.8, (text, best.text)
    return best


def assert_structure(table: Table) -> None:
    assert (table.n_rows, table.n_cols) == (5, 5)
    brk = cell_with(table, "BREAK")
    assert (brk.row, brk.col, brk.rowspan, brk.colspan) == (2, 1, 1, 3)
    history = cell_with(table, "History")
    assert (history.row, history.col, history.rowspan, history.colspan) == (3, 1, 2, 1)
    monday = cell_with(table, "Monday")
    assert (monday.row, monday.col, monday.rowspan, monday.colspan) == (0, 1, 1, 1)
    for text, slot in (("Maths", (1, 1)), ("Science", (1, 3)), ("Drama", (4, 3)), ("11:30", (4, 0))):
        cell = cell_with(table, text)
        assert (cell.row, cell.col) == slot, text


def _rule_grid(
    image: np.ndarray, origin: tuple[int, int], cols: int, rows: int, cell: tuple[int, int],
    *, notched: bool = False, ink: int = 20, thickness: int = 3,
) -> None:
    """Draw a ruled grid of ``cols`` x ``rows`` cells of ``cell`` (w, h) px at ``origin`` into ``image``;
    ``notched``: its top-left corner cell printed without top and left borders."""
    import cv2

    (x0, y0), (cw, rh) = origin, cell
    colour = (ink,) * image.shape[2] if image.ndim == 3 else ink
    for r in range(rows + 1):
        left = x0 + cw if notched and r == 0 else x0
        cv2.line(image, (left, y0 + r * rh), (x0 + cols * cw, y0 + r * rh), colour, thickness)
    for c in range(cols + 1):
        top = y0 + rh if notched and c == 0 else y0
        cv2.line(image, (x0 + c * cw, top), (x0 + c * cw, y0 + rows * rh), colour, thickness)


def test_a_ruled_legend_just_under_the_timetable_is_a_table_of_its_own() -> None:
    """A legend (subject codes, teachers' names) ruled as a narrower table just under the timetable is
    no band of the timetable's: each is read as a table, the timetable keeps its full width."""
    import cv2

    from timetable_platform.extraction.ocr.gridlines import find_tables

    page = np.full((1400, 1800, 3), 255, np.uint8)
    _rule_grid(page, (100, 100), 10, 6, (150, 70), ink=0, thickness=2)  # the timetable: x 100-1600, y 100-520
    _rule_grid(page, (60, 540), 2, 6, (600, 35), ink=0, thickness=2)  # the legend, 20 px below, narrower
    gray = cv2.cvtColor(page, cv2.COLOR_BGR2GRAY)
    tables = find_tables(gray, page)
    assert len(tables) == 2
    timetable, legend = tables
    assert timetable.box[2] >= 1595 and timetable.box[3] <= 530 and len(timetable.col_edges) == 11
    assert legend.box[1] >= 530 and len(legend.col_edges) == 3


def test_scan_grid_spans_shading_and_vertical_header() -> None:
    page = grid_page(timetable_spec())
    scan = degrade(page.image, Recipe(rotation_deg=1.8, blur_sigma=0.6, noise_sigma=5, jpeg_quality=55, light_gradient=0.2))
    assert scan.jpeg is not None
    layout = read_image_layout(Document(scan.jpeg, "image/jpeg", "scan.jpg"), Limits(), languages="eng")

    assert layout.reader == "tesseract"
    assert "en" in layout.languages
    table = only_table(layout)
    assert_structure(table)

    # Shading: the dominant fill of a colour-coded cell, after paper tint and JPEG.
    history = cell_with(table, "History")
    assert history.background is not None
    red, _green, blue = (int(history.background[i : i + 2], 16) for i in (1, 3, 5))
    assert blue > red + 25
    art = cell_with(table, "Art")
    assert art.background is not None and int(art.background[1:3], 16) > int(art.background[5:7], 16) + 20

    # Text written at 90 degrees, read by turning the cell; the cell spans the whole height.
    assembly = cell_with(table, "Assembly")
    assert (assembly.col, assembly.rowspan) == (4, 5)
    assert all(w.rotation in (90, 270) for line in assembly.lines for w in line.words)
    assert assembly.bbox is not None and assembly.bbox.height > 3 * assembly.bbox.width

    # Words keep boxes and confidences; the title is outside the table.
    maths = cell_with(table, "Maths")
    word = maths.lines[0].words[0]
    assert 0.5 < word.confidence <= 1.0
    assert maths.bbox is not None and maths.bbox.contains_point(*word.bbox.center)
    assert any("Timetable" in p for p in layout.paragraphs)
    assert table.caption is not None and "7B" in table.caption


def test_phone_photo_with_perspective_and_shadow() -> None:
    page = grid_page(timetable_spec())
    recipe = photo_recipe(random.Random(7))
    photo = degrade(page.image, recipe)
    assert photo.jpeg is not None
    layout = read_image_layout(Document(photo.jpeg, "image/jpeg", "photo.jpg"), Limits(), languages="eng")
    table = only_table(layout)
    assert_structure(table)
    texts = {c.text.replace("\n", " ") for c in table.cells}
    expected = {"Monday", "Tuesday", "Wednesday", "Maths", "English", "Science", "History", "Art", "Music", "Drama"}
    assert len(expected & texts) >= 8, texts


def test_scanned_pdf_pages_are_rendered_and_read() -> None:
    spec = GridSpec(rows=[["", "Monday", "Tuesday"], ["09:00", "Maths", "Physics"]], col_widths=[120, 180, 180])
    image = grid_page(spec).image
    pdf = encode(image, "PDF", resolution=150)
    layout = read_scanned_pdf_layout(Document(pdf, "application/pdf", "scan.pdf"), Limits(), languages="eng")
    table = only_table(layout)
    assert (table.n_rows, table.n_cols) == (2, 3)
    assert cell_with(table, "Physics").col == 2
    assert layout.pages[0].width > 0


def test_corpus_png_grid(corpus_dir: Path) -> None:
    """A clean 150 dpi render from the shared corpus: dark header band, merged Registration/Break rows."""
    path = corpus_dir / "l1_png_001.png"
    if not path.exists():
        pytest.skip("corpus image missing")
    layout = read_image_layout(Document(path.read_bytes(), "image/png", path.name), Limits(), languages="eng")
    table = only_table(layout)
    assert (table.n_rows, table.n_cols) == (9, 6)
    assert [table.cell_at(0, c).text for c in range(1, 6)] == ["Monday", "Tuesday", "Wednesday", "Thursday", "Friday"]
    registration = cell_with(table, "Registration")
    assert (registration.row, registration.col, registration.colspan) == (1, 1, 5)
    assert cell_with(table, "Drama\nPAT Drama Studio").lines[1].text == "PAT Drama Studio"


# --- bad input: no OCR runs, these are fast -------------------------------------------------------


def test_decompression_bomb_is_too_large() -> None:
    # A 1-bit PNG of 20000 x 20000 pixels compresses to a few kilobytes.
    width = height = 20000
    row = b"\x00" + b"\x00" * (width // 8)
    raw = zlib.compress(row * height, 9)

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)

    png = b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, 1, 0, 0, 0, 0))
    png += chunk(b"IDAT", raw) + chunk(b"IEND", b"")
    assert len(png) < 200_000
    with pytest.raises(TooLarge) as info:
        read_image_layout(Document(png, "image/png"), Limits(max_pixels=60_000_000))
    assert "pixels" in str(info.value)
    # A modest image over a tight configured limit is refused the same way.
    small = encode(Image.new("RGB", (1200, 1000), "white"), "PNG")
    with pytest.raises(TooLarge):
        read_image_layout(Document(small, "image/png"), Limits(max_pixels=1_000_000))


def test_truncated_and_garbage_images_are_corrupt() -> None:
    image = grid_page(GridSpec(rows=[["a", "b"], ["c", "d"]])).image
    jpeg = encode(image, "JPEG", quality=80)
    with pytest.raises(CorruptDocument):
        read_image_layout(Document(jpeg[: len(jpeg) // 2], "image/jpeg"), Limits())
    with pytest.raises(CorruptDocument):
        read_image_layout(Document(b"\xff\xd8\xff\xe0 not really a jpeg", "image/jpeg"), Limits())
    with pytest.raises(CorruptDocument):
        read_image_layout(Document(b"", "image/png"), Limits())
    with pytest.raises(CorruptDocument):
        read_scanned_pdf_layout(Document(b"%PDF-1.4 truncated", "application/pdf"), Limits())


def test_heic_webp_and_multipage_tiff_decode() -> None:
    page = Image.new("RGB", (240, 120), "white")
    for fmt in ("HEIF", "WEBP"):
        frames = decode_image(encode(page, fmt), Limits())
        assert [f.size for f in frames] == [(240, 120)], fmt
    tiff = encode(page, "TIFF", save_all=True, append_images=[Image.new("RGB", (90, 60), "white")])
    assert [f.size for f in decode_image(tiff, Limits())] == [(240, 120), (90, 60)]
    assert len(decode_image(tiff, Limits(max_pages=1))) == 1
    # A later frame over the pixel limit is refused even when the first one is small.
    big_second = encode(page, "TIFF", save_all=True, append_images=[Image.new("1", (3000, 3000))])
    with pytest.raises(TooLarge):
        decode_image(big_second, Limits(max_pixels=1_000_000))
    # Transparency is flattened onto white, not black.
    clear = Image.new("RGBA", (40, 40), (0, 0, 0, 0))
    assert decode_image(encode(clear, "PNG"), Limits())[0].getpixel((5, 5)) == (255, 255, 255)


def test_blank_photo_has_no_timetable() -> None:
    # An evenly lit but shaded sheet of paper with sensor noise and nothing printed on it.
    ramp = np.linspace(150, 230, 900, dtype=np.float32)[None, :].repeat(700, axis=0)
    noisy = np.clip(ramp + np.random.default_rng(1).normal(0, 4, ramp.shape), 0, 255).astype(np.uint8)
    photo = encode(Image.fromarray(noisy).convert("RGB"), "JPEG", quality=70)
    with pytest.raises(NoTimetableFound) as info:
        read_image_layout(Document(photo, "image/jpeg"), Limits(), languages="eng")
    assert "no table" in str(info.value).lower()


def test_degrade_reports_where_the_page_went() -> None:
    page = Image.new("RGB", (400, 300), "white")
    page.paste((0, 0, 0), (195, 145, 205, 155))  # a dot at (200, 150)
    result = degrade(page, Recipe(rotation_deg=2.5, perspective=((0.03, 0.0), (-0.02, 0.02), (0, 0), (0.01, -0.03)), margin=0.1))
    x, y = result.map_point(200, 150)
    pixels = np.asarray(result.image.convert("L"))
    ys, xs = np.nonzero(pixels < 100)
    assert abs(xs.mean() - x) < 2 and abs(ys.mean() - y) < 2


def test_unruled_grid_with_two_line_cells_and_a_time_under_the_period() -> None:
    """No ruling lines: OCR returns words and lines only and the interpreter finds the table from word
    positions. Ink-tight OCR boxes leave wider gaps between a cell's lines than a text layer does, and
    short words ("&", "–") must stay on their line."""
    spec = GridSpec(
        title="Timetable Class 7B",
        rows=[
            ["", "Monday", "Tuesday", "Wednesday"],
            ["P1\n09:00 – 09:50", "Maths\nRoom 12", "Art & Design\nLab 2", "French\nRoom 4"],
            ["10:00 – 10:20", "Break", "Break", "Break"],
            ["P2\n10:20 – 11:10", "History\nRoom 9", "English\nRoom 3", "Science\nLab 1"],
        ],
        col_widths=[190, 220, 220, 220],
        row_heights=[50, 80, 50, 80],
    )
    page = grid_page(spec, line_width=0)
    content = encode(page.image, "PNG")
    layout = read_image_layout(Document(content=content, media_type="image/png", filename="u.png"), Limits())
    assert not layout.pages[0].tables  # nothing ruled: the interpreter's table finder does the work
    entries = interpret(layout).entries
    got = {(e.day, e.start, e.end, e.subject, e.room) for e in entries if e.kind == "lesson"}
    assert got == {
        ("MON", "09:00", "09:50", "Maths", "Room 12"),
        ("TUE", "09:00", "09:50", "Art & Design", "Lab 2"),
        ("WED", "09:00", "09:50", "French", "Room 4"),
        ("MON", "10:20", "11:10", "History", "Room 9"),
        ("TUE", "10:20", "11:10", "English", "Room 3"),
        ("WED", "10:20", "11:10", "Science", "Lab 1"),
    }
    breaks = {(e.day, e.start, e.end) for e in entries if e.kind == "break"}
    assert breaks == {(d, "10:00", "10:20") for d in ("MON", "TUE", "WED")}


def _web_timetable() -> Image.Image:
    """A web timetable screenshot: saturated fills with white text, and a double lesson whose two lines
    are centred in the merged cell, so each line sits near the hidden row boundary."""
    from PIL import ImageDraw

    from tests.corpusgen.degrade import font

    image = Image.new("RGB", (760, 300), "white")
    draw = ImageDraw.Draw(image)
    face = font(20)
    cols, rows = [10, 130, 380, 630], [10, 60, 130, 200, 270]
    for x in cols:
        draw.line([(x, rows[0]), (x, rows[-1])], fill=(40, 40, 40), width=2)
    draw.line([(cols[0], rows[0]), (cols[-1], rows[0])], fill=(40, 40, 40), width=2)
    draw.line([(cols[0], rows[1]), (cols[-1], rows[1])], fill=(40, 40, 40), width=2)
    for y in rows[3:]:  # the line at 9.00 is drawn beside the merged Monday cell only (below)
        draw.line([(cols[0], y), (cols[-1], y)], fill=(40, 40, 40), width=2)
    draw.rectangle([cols[1] + 1, rows[1] + 1, cols[2] - 1, rows[3] - 1], fill=(255, 255, 120))  # merged
    draw.line([(cols[0], rows[2]), (cols[1], rows[2])], fill=(40, 40, 40), width=2)
    draw.line([(cols[2], rows[2]), (cols[-1], rows[2])], fill=(40, 40, 40), width=2)
    draw.rectangle([cols[2] + 1, rows[1] + 1, cols[3] - 1, rows[2] - 1], fill=(230, 40, 40))  # red
    texts = {
        (0, 1): "Monday", (0, 2): "Tuesday", (1, 0): "8.00", (2, 0): "9.00", (3, 0): "10.00",
        (1, 2): "Chemistry", (2, 2): "History", (3, 1): "Drama", (3, 2): "Music",
    }
    for (r, c), text in texts.items():
        colour = "white" if (r, c) == (1, 2) else "black"
        draw.text((cols[c] + 12, rows[r] + 18), text, fill=colour, font=face)
    draw.text((cols[1] + 12, rows[2] - 28), "Biology Lab", fill="black", font=face)  # centred pair
    draw.text((cols[1] + 12, rows[2] + 6), "Rossi Anna", fill="black", font=face)
    return image


def test_white_text_on_a_saturated_fill_and_lines_centred_in_a_merged_cell() -> None:
    content = encode(_web_timetable(), "PNG")
    layout = read_image_layout(Document(content, "image/png", "web.png"), Limits(), languages="eng")
    table = only_table(layout)
    chemistry = cell_with(table, "Chemistry")  # white on red: read from the colour channel
    assert chemistry.text.strip() == "Chemistry"
    merged = cell_with(table, "Biology Lab Rossi Anna")
    assert merged.rowspan == 2 and merged.text.splitlines() == ["Biology Lab", "Rossi Anna"]


def test_low_confidence_words_are_noise_unless_they_read_as_words_or_a_lone_time() -> None:
    from timetable_platform.extraction.readers.image import _is_noise

    assert _is_noise("~e", 0.1) and _is_noise("1i.", 0.2)
    # Tesseract sometimes scores a clean long word near 0: four or more letters are no speck.
    assert not _is_noise("Biology", 0.0)
    # A time label alone in its cell is kept; beside other words a low-scored time is a misreading.
    assert not _is_noise("8:30-9:20", 0.0, alone=True)
    assert _is_noise("1:35-1:50", 0.1)
    # Nor does a speck read as capitals and a bracketed mark: a course code read weakly.
    assert not _is_noise("ECO(LYJK", 0.05) and not _is_noise("GEOiL)", 0.1)
    assert _is_noise("(i", 0.1) and _is_noise("a(1", 0.1)


def test_short_rotated_labels_are_read_turned() -> None:
    """Two-letter day labels printed bottom-to-top in a narrow day column read as their letters; the
    same labels printed upright stay upright."""
    from PIL import ImageDraw

    from tests.corpusgen.degrade import font
    from timetable_platform.extraction.ocr.engine import TesseractEngine
    from timetable_platform.extraction.readers.image import _crop_from_region, _ocr

    labels = ("Mo", "Fr", "Ka", "Ju", "Di")
    crops = []
    for angle in (90, 0):
        for text in labels:
            image = Image.new("L", (90, 50), 255)
            ImageDraw.Draw(image).text((15, 8), text, fill=0, font=font(26))
            crop = _crop_from_region(np.array(image.rotate(angle, expand=True)), (0, 0))
            assert crop is not None
            crops.append(crop)
    _ocr(TesseractEngine(), crops)
    assert ["".join(w.text for w in c.words) for c in crops] == [*labels, *labels]
    assert [c.rotation for c in crops] == [90] * len(labels) + [0] * len(labels)


def test_the_edge_of_a_run_of_bold_letters_is_no_ruling() -> None:
    """A blurred bold line of text merges into a band whose bottom edge passes a horizontal line
    filter; a ruling has paper on both sides, the band's edge has letters along one side."""
    from timetable_platform.extraction.ocr.gridlines import _without_text_runs

    ink = np.zeros((60, 300), np.uint8)
    ink[10:22, 20:90] = 255  # a bold word, merged by blur into one band
    ink[40:42, 150:260] = 255  # a short ruling with paper around it
    candidates = np.zeros_like(ink)
    candidates[21:22, 20:90] = 255  # the band's bottom edge, found by the line filter
    candidates[40:42, 150:260] = 255
    kept = _without_text_runs(candidates, ink, h_len=50)
    assert not kept[21, 20:90].any()
    assert kept[40:42, 150:260].all()


def test_a_bold_numeral_one_in_a_header_cell_is_no_column_rule() -> None:
    """A period's number printed large and bold over its column ('1' in an aSc print's header) stands as
    tall as a short rule. No row below has a column there: the header cell stays one cell, and the
    table keeps its columns."""
    import cv2

    from timetable_platform.extraction.ocr.gridlines import find_tables

    page = np.full((900, 1500, 3), 255, np.uint8)
    _rule_grid(page, (100, 100), 6, 6, (200, 90), ink=0, thickness=2)  # x 100-1300, y 100-640
    cv2.rectangle(page, (395, 112), (405, 168), (0, 0, 0), -1)  # the '1' over the first period's column
    gray = cv2.cvtColor(page, cv2.COLOR_BGR2GRAY)
    (table,) = find_tables(gray, page)
    assert len(table.col_edges) == 7
    assert sum(1 for cell in table.cells if cell.row == 0) == 6

    # Where the rows below are one run-together block (a grid misfound in a photo), nothing marks a column
    # around the stroke, and the header is left as found.
    from timetable_platform.extraction.ocr.gridlines import _header_strokes
    from timetable_platform.reading.geometry import DisjointSet

    def slots(merged_below: list[tuple[int, int]]) -> DisjointSet:
        found = DisjointSet(3 * 4)  # 3 rows of 4 slots
        for a, b in merged_below:
            found.union(a, b)
        return found

    columns = slots([(5, 6), (9, 10)])  # rows 1 and 2 merged across boundary 2 only
    assert _header_strokes(columns, 3, 4) == [2]
    block = slots([(4, 5), (5, 6), (6, 7), (8, 9), (9, 10), (10, 11), (4, 8)])
    assert _header_strokes(block, 3, 4) == []


def test_print_in_a_photos_shadow_is_not_read_inverted_as_on_a_dark_fill() -> None:
    """Light print on a dark fill is found in the inverted grey. A shadow across a photographed sheet
    darkens the paper as much, but its print stays darker still: inverted there, the paper between a
    word's letters would be the ink, and each gap a column rule. The dark rim of a photographed
    screen, with no print, stays a dark fill as before."""
    from timetable_platform.extraction.ocr.gridlines import _dark_fills, _fills, find_rulings

    page = np.full((600, 1500, 3), 235, np.uint8)
    page[50:250, 50:700] = (80, 40, 20)  # a navy header band ...
    for x in range(100, 600, 40):  # ... with light print
        page[120:150, x : x + 20] = 250
    page[50:550, 800:1400] = 90  # shadowed paper ...
    for x in range(850, 1350, 22):  # ... with a bold word's letters, their stems 8 px apart
        page[300:345, x : x + 14] = 20
    page[300:550, 50:700] = 70  # a dark rim, no print
    dark = _dark_fills(page, _fills(page))
    assert dark[80, 80] and dark[400, 300]
    assert not dark[200, 1000]
    gray = page.mean(axis=2).astype(np.uint8)
    assert not find_rulings(gray, page).vertical[290:355, 870:1330].any()  # within the word


def test_a_photographed_sheets_edges_beside_a_tables_corner_make_no_table_of_their_own() -> None:
    """A sheet's top and left edges, photographed beside the table's top-left corner, make a region that
    reaches over most of the table: read as a grid, its rows are the table's own, cut off at the sheet's
    edge. It is no frame around the table (it holds only part of it), and the table, with more rulings
    of its own, is the one read."""
    import cv2

    from timetable_platform.extraction.ocr.gridlines import find_tables

    page = np.full((1300, 2400, 3), 255, np.uint8)
    _rule_grid(page, (300, 300), 8, 6, (240, 140), ink=0, thickness=3)  # the table: x 300-2220, y 300-1140
    cv2.line(page, (150, 100), (1500, 100), (0, 0, 0), 3)  # the sheet's top edge, over the table's left part
    cv2.line(page, (150, 100), (150, 1000), (0, 0, 0), 3)  # and its left edge
    gray = cv2.cvtColor(page, cv2.COLOR_BGR2GRAY)
    (table,) = find_tables(gray, page)
    assert table.box[0] >= 290 and table.box[2] >= 2210 and len(table.col_edges) == 9


def test_letter_tall_strokes_lined_up_down_a_table_are_no_column_rule() -> None:
    """The numeral over a period's column and the stems of its lessons' bold names can stand one above
    the other, each letter-tall: together as long as a short rule, but no piece of them runs down a row.
    A rule runs a row down at least, or, dashed, down much of the table."""
    from timetable_platform.extraction.ocr.gridlines import _column_rules, _positions

    vertical = np.zeros((400, 500), np.uint8)
    vertical[:, 100:102] = 255  # a rule
    for top in range(0, 400, 40):  # a dashed rule
        vertical[top : top + 22, 300:302] = 255
    for top in (20, 130, 235, 330):  # strokes of print, one in each row
        vertical[top : top + 30, 200:203] = 255
    rows = [0, 100, 200, 300, 399]
    hits = _positions((vertical > 0).sum(axis=0), 20, 6)
    assert {position for position, _ in hits} == {100, 200, 300}
    assert {position for position, _ in _column_rules(vertical, hits, rows)} == {100, 300}


def test_the_stems_of_large_bold_letters_are_no_column_rules() -> None:
    """Stems of a bold word that ran into one blob outlast the vertical line filter; they stand side by
    side a letter's width apart over one line of print, while column rules stand a column apart and
    the pieces of a broken rule stand one above the other."""
    from timetable_platform.extraction.ocr.gridlines import _without_letter_stems

    vertical = np.zeros((300, 600), np.uint8)
    for x in (100, 118, 131, 150, 167):  # the stems of one word, 30 px tall
        vertical[50:80, x : x + 3] = 255
    for x in (300, 420):  # two column rules a column apart
        vertical[20:280, x : x + 2] = 255
    for top in (20, 70, 120):  # a rule broken into short pieces, one above the other
        vertical[top : top + 40, 520:522] = 255
    kept = _without_letter_stems(vertical, letter=15.0)
    assert not kept[50:80, 100:170].any()
    assert kept[20:280, 300:302].all() and kept[20:280, 420:422].all()
    assert kept[20:160, 520:522].any(axis=1).sum() == 120


def test_a_block_of_a_tables_cells_is_a_piece_of_it_not_the_table() -> None:
    """A shadow's edges can outline a block of a photographed table's cells as a grid of its own. A
    frame around a table adds a margin at most; a grid with many more rows and columns around the
    block is the table, and the block is a piece of it."""
    from timetable_platform.extraction.ocr.gridlines import GridTable, _piece_of

    def grid(box: tuple[int, int, int, int], rows: int, cols: int) -> GridTable:
        x0, y0, x1, y1 = box
        return GridTable(
            box=box,
            row_edges=[y0 + (y1 - y0) * k // rows for k in range(rows + 1)],
            col_edges=[x0 + (x1 - x0) * k // cols for k in range(cols + 1)],
            cells=[],
        )

    table = grid((0, 0, 900, 600), 6, 9)
    block = grid((300, 200, 500, 400), 2, 2)
    assert _piece_of(block, table)
    framed = grid((20, 20, 880, 580), 5, 8)  # the table inside a window frame of one margin each way
    assert not _piece_of(framed, grid((0, 0, 900, 600), 7, 10))
    # The left part of a table whose rulings fell apart reaches its left, top and bottom sides.
    assert _piece_of(grid((2, 1, 600, 598), 6, 4), grid((0, 0, 900, 600), 6, 6))


def test_pieces_of_a_photographed_tables_rulings_are_joined_and_a_frame_stays_apart() -> None:
    """A photographed table's rulings, bent a little, fall apart into pieces that interleave and each
    reach the table's edge: they are one table. A frame has a margin all round what it holds."""
    from timetable_platform.extraction.ocr.gridlines import _joined_pieces

    left, right = (80, 190, 2060, 950), (550, 194, 2680, 955)  # same top and bottom, overlapping
    assert _joined_pieces([left, right], 10) == [(80, 190, 2680, 955)]
    frame, table = (20, 20, 1000, 700), (60, 80, 940, 650)
    assert sorted(_joined_pieces([frame, table], 10)) == sorted([frame, table])
    apart = (2200, 190, 2500, 950)  # beside the table, not over it
    assert len(_joined_pieces([left, apart], 10)) == 2


def _app_timetable() -> Image.Image:
    """A timetable app screenshot: cells filled with mid-tone colours, two lines of large white text in
    each, thin dark rulings between the cells."""
    from PIL import ImageDraw

    from tests.corpusgen.degrade import font

    image = Image.new("RGB", (900, 400), (30, 30, 40))
    draw = ImageDraw.Draw(image)
    face = font(24)
    cols, rows = [20, 160, 460, 760], [20, 70, 200, 330]
    fills = [(200, 50, 160), (30, 120, 130), (60, 180, 40)]
    texts = {(1, 1): ("Desarrollo de", "interfaces"), (1, 2): ("Acceso a", "datos"),
             (2, 1): ("Sistemas de", "Gestion"), (2, 2): ("Empresa e", "iniciativa")}  # fmt: skip
    draw.rectangle([cols[0], rows[0], cols[-1], rows[-1]], fill=(240, 200, 230))
    for r in range(1, 3):
        for c in range(1, 3):
            draw.rectangle([cols[c], rows[r], cols[c + 1], rows[r + 1]], fill=fills[(r + c) % 3])
    for x in cols:
        draw.line([(x, rows[0]), (x, rows[-1])], fill=(40, 20, 90), width=3)
    for y in rows:
        draw.line([(cols[0], y), (cols[-1], y)], fill=(40, 20, 90), width=3)
    for (r, c), (first, second) in texts.items():
        draw.text((cols[c] + 14, rows[r] + 24), first, fill="white", font=face)
        draw.text((cols[c] + 14, rows[r] + 60), second, fill="white", font=face)
    for c, day in ((1, "Lunes"), (2, "Martes")):
        draw.text((cols[c] + 14, rows[0] + 12), day, fill="black", font=face)
    for r, hour in ((1, "8:15"), (2, "9:15")):
        draw.text((cols[0] + 14, rows[r] + 24), hour, fill="black", font=face)
    return image


def test_large_white_text_on_colour_fills_makes_no_cells_of_its_own() -> None:
    """Lines of large light letters on a coloured fill: neither the gaps between the letters (dark in
    the flattened grey) nor the pale band a text line blurs into are rulings, and the words read."""
    content = encode(_app_timetable(), "PNG")
    layout = read_image_layout(Document(content, "image/png", "app.png"), Limits(), languages="spa")
    table = only_table(layout)
    # Eight printed cells, each whole (no cell split through a line of text).
    printed = [" ".join(c.text.split()) for c in table.cells if c.text.strip()]
    assert len(printed) == 8
    for subject in ("Desarrollo de interfaces", "Acceso a datos", "Sistemas de Gestion", "Empresa e iniciativa"):
        assert subject in printed


def test_a_line_in_the_fill_colour_is_no_ruling_and_one_fill_on_both_sides_is_no_edge() -> None:
    from timetable_platform.extraction.ocr.gridlines import _without_fill_coloured, _without_same_fill_sides

    color = np.full((120, 400, 3), (160, 50, 200), np.uint8)  # one magenta fill
    color[60:62, 200:400] = (40, 20, 20)  # a dark ruling across the right half
    candidates = np.zeros((120, 400), np.uint8)
    candidates[30:34, 20:150] = 255  # the fill between two rows of light letters
    candidates[60:62, 200:400] = 255
    kept = _without_fill_coloured(candidates, color, vertical=False)
    assert not kept[30:34, 20:150].any() and kept[60:62, 200:400].all()

    color[90:, :200] = (250, 250, 250)  # white below y=90 on the left: a real change of fill
    edges = np.zeros((120, 400), np.uint8)
    edges[40:42, 220:330] = 255  # magenta above and below
    edges[89:91, 20:180] = 255  # magenta above, white below
    kept = _without_same_fill_sides(edges, color, long=1000)
    assert not kept[40:42, 220:330].any() and kept[89:91, 20:180].all()


def test_light_print_on_a_fill_is_told_from_dark_print() -> None:
    from timetable_platform.extraction.readers.image import _light_print_on_fill

    region = np.full((40, 160, 3), (160, 50, 200), np.uint8)
    region[15:25, 20:140:6] = 255  # light strokes
    assert _light_print_on_fill(region)
    dark_print = np.full((40, 160, 3), (120, 200, 240), np.uint8)
    dark_print[15:25, 20:140:6] = 0
    assert not _light_print_on_fill(dark_print)
    paper = np.full((40, 160, 3), 255, np.uint8)
    assert not _light_print_on_fill(paper)


def test_filled_boxes_drawn_back_to_back_are_found_one_by_one() -> None:
    """A calendar day column: two events 2 px apart (same colour), one with light print, one pale box
    with dark print, on paper that darkens towards one side (a photo's light); hour labels on the
    paper are no boxes."""
    from timetable_platform.extraction.readers.image import find_filled_boxes

    page = np.full((400, 600, 3), 250, np.uint8)
    page[:, 300:] -= np.linspace(0, 60, 300, dtype=np.uint8)[None, :, None]  # light falls off
    page[40:120, 100:280] = (180, 60, 40)
    page[122:200, 100:280] = (180, 60, 40)
    page[60:70, 110:200:4] = 255  # light print
    page[140:150, 110:220:4] = 255
    page[220:300, 340:520] = (200, 230, 250)  # pale fill
    page[240:250, 350:450:4] = 30  # dark print
    page[100:108, 10:50:3] = 40  # an hour label on the paper
    boxes = find_filled_boxes(page, char_height=10.0)
    assert len(boxes) == 3
    (a, b, c) = boxes
    assert abs(a[1] - 40) <= 2 and abs(a[3] - 120) <= 3 and abs(b[1] - 122) <= 3 and abs(b[3] - 200) <= 2
    assert abs(c[0] - 340) <= 2 and abs(c[2] - 520) <= 2
    assert find_filled_boxes(np.full((200, 300, 3), 245, np.uint8), char_height=10.0) == []


def test_words_printed_in_a_clear_colour_carry_it_as_their_style() -> None:
    """Red notes under a black name: the red words share one style (so the splitter can tell the note
    from the name); black print, and a photo's warm cast on black print, carry none."""
    from timetable_platform.domain.layout import BBox
    from timetable_platform.extraction.readers.image import _ink_colour

    page = np.full((40, 300, 3), 250, np.uint8)
    page[10:30, 10:60] = (40, 40, 215)  # red strokes (BGR)
    page[10:30, 110:160] = (60, 50, 200)  # another red, a little different
    page[10:30, 210:260] = (40, 60, 90)  # black with a brown cast
    assert _ink_colour(page, BBox(5, 5, 65, 35)) == _ink_colour(page, BBox(105, 5, 165, 35)) == "#ff0000"
    assert _ink_colour(page, BBox(205, 5, 265, 35)) is None
    assert _ink_colour(page, BBox(70, 5, 100, 35)) is None  # paper only


def test_a_time_label_ends_its_column_on_an_unruled_line() -> None:
    """Outside ruled tables a wide gap splits columns; after a time label a gap wider than a text
    height is enough ('10:05 - 11:00   Chemistry'), while words of a phrase stay together."""
    from timetable_platform.domain.layout import BBox, Word
    from timetable_platform.extraction.readers.image import _split_at_gaps

    def word(text: str, x0: float, x1: float) -> Word:
        return Word(text=text, bbox=BBox(x0, 100, x1, 113), confidence=0.9)

    timed = [word("10:05", 30, 80), word("-", 88, 92), word("11:00", 100, 150), word("Chemistry", 170, 250)]
    assert [line.text for line in _split_at_gaps(timed)] == ["10:05 - 11:00", "Chemistry"]
    phrase = [word("Indoor", 30, 80), word("provision", 100, 170), word("time", 190, 230)]
    assert [line.text for line in _split_at_gaps(phrase)] == ["Indoor provision time"]
    # A dash after the start goes on to the end, however wide the gap before it.
    spaced = [word("09:15", 30, 80), word("-", 110, 116), word("09:55", 124, 174), word("Kunst", 200, 250)]
    assert [line.text for line in _split_at_gaps(spaced)] == ["09:15 - 09:55", "Kunst"]


def test_a_blurred_block_of_short_lines_is_read_as_horizontal_text() -> None:
    """In a blurred photo the letters of each word run together into one wide blob, and lines set close
    together join when smeared down the block: the blob shapes, not the smear, give the direction. The
    digit alone, tall as it is, is no rotated text."""
    import cv2
    from PIL import ImageDraw

    from tests.corpusgen.degrade import font
    from timetable_platform.extraction.readers.image import _orientation

    image = Image.new("L", (100, 130), 255)
    draw = ImageDraw.Draw(image)
    for row, text in enumerate(("Scienze", "Prof.ssa", "Colombo", "Lab 2")):
        draw.text((4, 6 + row * 28), text, fill=0, font=font(16, bold=True))
    _, ink = cv2.threshold(np.array(image), 0, 255, cv2.THRESH_BINARY_INV + cv2.THRESH_OTSU)
    ink = cv2.dilate(ink, np.ones((1, 5), np.uint8))  # the letters of a word touch, as blur makes them
    assert ink[:, 85:].max() == 0  # a block taller than wide, as a cell of short lines is
    assert _orientation(ink) == 0
    digit = Image.new("L", (27, 38), 255)
    ImageDraw.Draw(digit).text((8, 4), "1", fill=0, font=font(28))
    _, one = cv2.threshold(np.array(digit), 0, 255, cv2.THRESH_BINARY_INV + cv2.THRESH_OTSU)
    assert _orientation(one) == 0


def test_a_degree_sign_between_hour_and_minutes_is_a_colon() -> None:
    from timetable_platform.extraction.readers.image import _clean_text

    assert _clean_text("08°15-08:30") == "08:15-08:30"
    assert _clean_text("9º05") == "9:05"
    # A temperature or an ordinal keeps its sign.
    assert _clean_text("21° C") == "21° C" and _clean_text("3° SERIE") == "3° SERIE"


def test_two_clock_times_run_together_get_their_lost_dash_back() -> None:
    """Small print loses the dash of a range ('3:10–4:10' read '3:104:10'); minutes have two digits,
    so the cut between the times is certain."""
    from timetable_platform.extraction.readers.image import _clean_text

    assert _clean_text("3:104:10") == "3:10–4:10" and _clean_text("12:3013:15") == "12:30–13:15"
    assert _clean_text("1:05–2:05") == "1:05–2:05"
    # A year and a time, or a longer number, are left alone.
    assert _clean_text("2024:10") == "2024:10" and _clean_text("3:1045:10") == "3:1045:10"


def test_an_opening_bracket_read_as_i_is_put_back() -> None:
    """Small serif print of 'COURSE(L)' cells: the opening bracket is read as 'i' ('ECOiL)'). Only after
    a word of capitals and before a short mark that a bracket closes; words in lower case keep it."""
    from timetable_platform.extraction.readers.image import _clean_text

    assert _clean_text("ECOiL)") == "ECO(L)" and _clean_text("GEOGiT2)/QW") == "GEOG(T2)/QW"
    assert _clean_text("x/ECOiP1)") == "x/ECO(P1)"
    assert _clean_text("Mini)") == "Mini)" and _clean_text("ECOiLY") == "ECOiLY" and _clean_text("CS(AiB)") == "CS(AiB)"
    # A round bracket closed by a curly or square one.
    assert _clean_text("ECO(P1}") == "ECO(P1)" and _clean_text("GEO(T2]/QW") == "GEO(T2)/QW"
    assert _clean_text("{P1}") == "{P1}" and _clean_text("[Lab - E1]") == "[Lab - E1]"


def test_a_course_numbers_digits_read_as_letters_are_put_back() -> None:
    """University codes ('ECON101') in small print: OCR reads 1 as i or l and 0 as o. Three to five
    capitals and a three-character number with a digit in it; words and all-letter codes are left."""
    from timetable_platform.extraction.readers.image import _clean_text

    assert _clean_text("Macro - ECONio1") == "Macro - ECON101" and _clean_text("GEOGl0O") == "GEOG100"
    assert _clean_text("ECON101") == "ECON101" and _clean_text("BIOLOGIO") == "BIOLOGIO"
    assert _clean_text("CHEMlol") == "CHEMlol" and _clean_text("Mio1") == "Mio1"


def test_a_batch_mark_with_its_1_read_as_a_letter_takes_the_digit_the_page_numbers_marks_with() -> None:
    """A page printing '(P2)', '(P3)' printed '(P1)' where OCR read '(PI)'; a page whose marks carry
    no digits keeps its letters ('(AI)' may be a course's own name)."""
    from timetable_platform.extraction.ocr.engine import OcrWord
    from timetable_platform.extraction.readers.image import _Crop, _restore_mark_ones

    def crop(*texts: str) -> _Crop:
        return _Crop(
            image=np.zeros((10, 10), np.uint8), origin=(0, 0), size=(10, 10), rotation=0, scale=1.0,
            words=[OcrWord(text=t, box=(0, 0, 1, 1), confidence=0.5, line=0) for t in texts],
        )  # fmt: skip

    crops = [crop("ECO(P2)/QW", "GEO(PI)/RT"), crop("ECO(Pl)", "LAW(TI)")]
    _restore_mark_ones(crops)
    assert [w.text for c in crops for w in c.words] == ["ECO(P2)/QW", "GEO(P1)/RT", "ECO(P1)", "LAW(TI)"]
    plain = [crop("DATA(AI)", "ECO(L)")]
    _restore_mark_ones(plain)
    assert [w.text for w in plain[0].words] == ["DATA(AI)", "ECO(L)"]


def test_a_dollar_sign_starting_a_code_is_an_s() -> None:
    """Timetables print no prices: '$232' is the room 'S232' read by OCR (sometimes '$S232')."""
    from timetable_platform.extraction.readers.image import _clean_text

    assert _clean_text("$232") == "S232" and _clean_text("$S125") == "S125"
    assert _clean_text("US$5") == "US$5" and _clean_text("$ fee") == "$ fee"


def test_a_bracket_and_slash_read_as_one_letter_are_put_back() -> None:
    """'PHY(L)/KM' in small serif print reads 'PHY(LVKM': the bracket is never closed, and the letter
    after its one or two marks stands for ')/'. A closed bracket or a word going on is left alone."""
    from timetable_platform.extraction.readers.image import _clean_text

    assert _clean_text("PHY(LVKM") == "PHY(L)/KM"
    assert _clean_text("ECO(T2YYR") == "ECO(T2)/YR"
    assert _clean_text("GEO(P4¥") == "GEO(P4)/"
    assert _clean_text("(LV)") == "(LV)" and _clean_text("Chem(Hybrid") == "Chem(Hybrid"
    assert _clean_text("Lab (LY)/B") == "Lab (LY)/B"


class _ScriptedEngine:
    """Answers each read with the next scripted reading (one per crop), recording the charset asked for."""

    name = "scripted"

    def __init__(self, readings: list[list[str]]) -> None:
        self.readings = readings
        self.charsets: list[str | None] = []

    def read_crops(self, crops: list[np.ndarray], scales: list[float], *, charset: str | None = None) -> list:
        from timetable_platform.extraction.ocr.engine import OcrWord

        self.charsets.append(charset)
        texts = self.readings.pop(0)
        return [[OcrWord(t, (0, 0, 50, 10), 0.0, 0)] if t else [] for t in texts]


def test_time_labels_read_badly_are_read_again_as_times_and_the_majority_kept() -> None:
    """A time label read as nothing, or weakly with a wrong digit, is read again limited to the
    characters of a time at two sizes; the clean time most readings agree on is kept. A label that
    is a period number beside its time, or a word, is left as read."""
    from timetable_platform.extraction.ocr.engine import OcrWord
    from timetable_platform.extraction.readers.image import TIME_CHARSET, _Crop, _retry_time_labels

    def crop(text: str | None, confidence: float) -> _Crop:
        c = _Crop(image=np.full((30, 120), 255, np.uint8), origin=(0, 0), size=(120, 30), rotation=0, scale=2.0)
        c.words = [OcrWord(text, (0, 0, 100, 20), confidence, 0)] if text else []
        return c

    crops = [crop(None, 0.0), crop("08:15-08:20", 0.4), crop("5 9:35-9:55", 0.9), crop("Music", 0.3)]
    # One call reads both sizes: the two retried crops as they are, then a third larger.
    engine = _ScriptedEngine([["08:35-09:20", "08:15-08:30", "", "08:15-08:30"]])
    _retry_time_labels(engine, crops)
    assert [" ".join(w.text for w in c.words) for c in crops] == ["08:35-09:20", "08:15-08:30", "5 9:35-9:55", "Music"]
    assert engine.charsets == [TIME_CHARSET]


def test_a_time_label_with_digits_read_as_letters_is_read_again_with_the_digits_model() -> None:
    """A photo's small header time read by the page's language model with a 5 as an S ('08 SS 09 50') is
    still a time label to read again; the re-read goes to the model that reads digits best (English,
    on a page read again in Italian), and eight digits read without a dash are that range."""
    from timetable_platform.extraction.ocr.engine import OcrWord
    from timetable_platform.extraction.readers.image import (
        TIME_CHARSET,
        _clean_time_text,
        _Crop,
        _may_be_time,
        _ocr,
    )

    def words(*texts: str) -> list[OcrWord]:
        return [OcrWord(t, (12 * k, 0, 12 * k + 10, 10), 0.5, 0) for k, t in enumerate(texts)]

    assert _may_be_time(words("08", "SS", "09", "50"))
    assert not _may_be_time(words("Aula", "105"))  # a room's number beside a word
    assert _may_be_time(words("11.40-12", "35"))  # the end's colon read as a gap: not a period number
    assert _clean_time_text(words("08550950"), loose=True) == "08:55-09:50"
    assert _clean_time_text(words("08550950")) is None  # only when no reading is clean as it stands
    assert _clean_time_text(words("20242025"), loose=True) is None  # a school year
    assert _clean_time_text(words("14:50", "-", "15-35"), loose=True) == "14:50-15:35"  # the end's colon a dash
    assert _clean_time_text(words("10:20-1120"), loose=True) is None  # digits lost, not a colon

    label = _Crop(image=np.full((30, 120), 255, np.uint8), origin=(0, 0), size=(120, 30), rotation=0, scale=2.0)
    page_model = _ScriptedEngine([["08 SS 09 50"], [""]])  # the first read; weak readings read again
    digits_model = _ScriptedEngine([["08:55-09:50", "08550950"]])
    _ocr(page_model, [label], digits=digits_model)
    assert [w.text for w in label.words] == ["08:55-09:50"]
    assert page_model.charsets == [None, None] and digits_model.charsets == [TIME_CHARSET]


def test_weak_readings_are_read_again_larger_and_the_clearly_surer_one_kept() -> None:
    """Blurred small print reads weakly and wrongly at one size, often surely at another. Crops read
    under half sure are read again a third larger; the new reading is kept when clearly surer."""
    from timetable_platform.extraction.ocr.engine import OcrWord
    from timetable_platform.extraction.readers.image import _Crop, _retry_weak_readings

    def crop(text: str, confidence: float) -> _Crop:
        c = _Crop(image=np.full((30, 120), 255, np.uint8), origin=(0, 0), size=(120, 30), rotation=0, scale=2.0)
        c.words = [OcrWord(text, (0, 0, 100, 20), confidence, 0)]
        return c

    class Engine:
        name = "scripted"

        def __init__(self) -> None:
            self.scales: list[float] = []

        def read_crops(self, crops: list[np.ndarray], scales: list[float], **_: object) -> list[list[OcrWord]]:
            self.scales.extend(scales)
            answers = [("ECO(L)/AG", 0.8), ("GEO(L)/PR", 0.35)]
            return [[OcrWord(t, (0, 0, 100, 20), c, 0)] for t, c in answers[: len(crops)]]

    crops = [crop("ECO(LYAG", 0.3), crop("GEOiLYPR", 0.3), crop("Maths", 0.9)]
    engine = Engine()
    _retry_weak_readings(engine, crops)
    assert [c.words[0].text for c in crops] == ["ECO(L)/AG", "GEOiLYPR", "Maths"]
    assert engine.scales == [2.7, 2.7]  # the two weak crops only, a third larger


def test_tesseract_reads_only_the_characters_asked_for() -> None:
    from PIL import ImageDraw

    from tests.corpusgen.degrade import font
    from timetable_platform.extraction.ocr.engine import TesseractEngine

    image = Image.new("L", (260, 50), 255)
    ImageDraw.Draw(image).text((10, 8), "08:15-O9:20", fill=0, font=font(28))
    words = TesseractEngine().read_crops([np.array(image)], [1.0], charset="0123456789:.-")[0]
    assert "".join(w.text for w in words) == "08:15-09:20"


def test_tesseract_in_process_reads_as_its_command_line_and_forgets_the_charset() -> None:
    from PIL import ImageDraw

    from tests.corpusgen.degrade import font
    from timetable_platform.extraction.ocr.engine import TesseractEngine

    crops = []
    for text in ("Maths 08:15", "Room B2.04", "Mr Smith"):
        image = Image.new("L", (300, 50), 255)
        ImageDraw.Draw(image).text((10, 8), text, fill=0, font=font(26))
        crops.append(np.array(image))
    in_process, command_line = TesseractEngine(in_process=True), TesseractEngine(in_process=False)
    assert in_process.in_process and not command_line.in_process
    read = in_process.read_crops(crops, [1.0] * 3)
    assert read == command_line.read_crops(crops, [1.0] * 3)
    assert [" ".join(w.text for w in words) for words in read] == ["Maths 08:15", "Room B2.04", "Mr Smith"]
    # A read limited to a time's characters leaves the kept model reading letters again.
    assert in_process.read_crops(crops[:1], [1.0], charset="0123456789:.-")[0][0].text != "Maths"
    assert in_process.read_crops(crops, [1.0] * 3) == read


def test_light_print_on_a_dark_page_is_read_turned_to_dark_on_light() -> None:
    """An app screenshot in dark mode: the page is inverted before anything else and reads as the
    same page printed dark on light. A dim photo of paper (dark print darker still) and a sheet on a
    dark ground are no dark pages."""
    from timetable_platform.extraction.ocr.preprocess import is_dark_page

    page = grid_page(timetable_spec()).image.convert("RGB")
    dark = Image.eval(page, lambda v: 255 - v)
    assert is_dark_page(np.asarray(dark.convert("L")))
    assert not is_dark_page(np.asarray(page.convert("L")))
    dim = np.asarray(page.convert("L")).astype(np.float32) * 0.3  # paper at 77, print darker
    assert not is_dark_page(dim.astype(np.uint8))
    on_ground = np.full((1000, 1000), 40, np.uint8)
    on_ground[300:800, 250:750] = 230  # a quarter of the frame is the sheet
    assert not is_dark_page(on_ground)

    buffer = io.BytesIO()
    dark.save(buffer, format="PNG")
    layout = read_image_layout(Document(buffer.getvalue(), "image/png", "dark.png"), Limits(), languages="eng")
    texts = {c.text.replace("\n", " ") for c in only_table(layout).cells}
    assert {"Monday", "Tuesday", "Maths", "English"} <= texts, texts


def test_a_photographed_sheet_is_cut_from_its_ground() -> None:
    """The sheet's edges and the ground around it are no rulings: after the perspective is undone,
    only the sheet is kept."""
    from timetable_platform.extraction.ocr.preprocess import prepare_page

    page = grid_page(timetable_spec()).image.convert("RGB")
    recipe = Recipe(
        rotation_deg=2.0, perspective=((0.03, 0.0), (-0.02, 0.02), (0, 0), (0.01, -0.03)), background=(70, 90, 80),
        margin=0.12,
    )
    photo = degrade(page, recipe)
    prepared = prepare_page(photo.image)
    rim = np.concatenate([prepared.gray[:4].ravel(), prepared.gray[-4:].ravel(), prepared.gray[:, :4].ravel(), prepared.gray[:, -4:].ravel()])
    assert np.median(rim) > 200  # paper all round, no ground
    assert abs(prepared.width / prepared.height - page.width / page.height) < 0.05


def test_a_sheet_seen_whole_sets_the_perspective_not_a_notched_table() -> None:
    """A table whose top-left corner cell has no borders (a notch in its outline) on a sheet photographed
    straight on: fitted to that outline, a quad has a slanted top and would shear the page. The sheet's
    edges set the perspective, and the table's rulings stay level."""
    import cv2

    from timetable_platform.extraction.ocr.preprocess import prepare_page

    sheet = np.full((1000, 1400, 3), 250, np.uint8)
    cw, rh, cols, rows = 150, 60, 7, 8
    _rule_grid(sheet, (150, 200), cols, rows, (cw, rh), notched=True)
    photo = np.full((1300, 1800, 3), (70, 90, 80), np.uint8)
    photo[150:1150, 200:1600] = sheet
    prepared = prepare_page(photo)
    assert "perspective corrected" in prepared.notes
    ink = (prepared.gray < 100).astype(np.uint8)
    count, _, stats, _ = cv2.connectedComponentsWithStats(ink)
    table = max(range(1, count), key=lambda i: stats[i][2] * stats[i][3])
    x, y, w, h = (int(v) for v in stats[table][:4])
    top_row = ink[y : y + 2 * rh // 3, x + w // 2 :]  # the header's top border, right half
    ys = np.flatnonzero(top_row.sum(axis=1) > 0.6 * top_row.shape[1])
    assert ys.size and ys.max() - ys.min() <= 6, ys  # level: a sheared border spreads over many rows
    assert abs(w / h - (cols * cw) / (rows * rh)) < 0.05


def test_a_table_outline_with_a_notch_gives_no_quad_to_warp_by() -> None:
    """A scanned table whose top-left corner cell has no borders: a quad fitted round its outline has a
    side cut across the notch, slanted against the table's lines; warping by it would shear the page.
    The same table with its corner ruled gives its frame."""

    from timetable_platform.extraction.ocr.preprocess import find_table_quad

    def page(notched: bool) -> np.ndarray:
        gray = np.full((1100, 1500), 250, np.uint8)
        _rule_grid(gray, (150, 200), 8, 10, (150, 60), notched=notched)
        return gray

    assert find_table_quad(page(notched=True)) is None
    quad = find_table_quad(page(notched=False))
    assert quad is not None and np.allclose(quad, [[150, 200], [1350, 200], [1350, 800], [150, 800]], atol=6)


def test_a_leaning_curled_table_photographed_at_an_angle_gives_its_frame() -> None:
    """A table on a sheet photographed from the side and curled where it hangs: its sides lean by
    several degrees and its top and bottom rules bow between the corners. Its frame is still the quad
    to undo the perspective by (the notched outline above still gives none)."""
    import cv2

    from timetable_platform.extraction.ocr.preprocess import find_table_quad

    flat = np.full((1100, 1500), 250, np.uint8)
    _rule_grid(flat, (150, 200), 8, 10, (150, 60))
    corners = np.float32([[150, 200], [1350, 200], [1350, 800], [150, 800]])
    seen = np.float32([[260, 180], [1330, 230], [1360, 780], [130, 830]])  # the left side leans ~11 degrees
    photo = cv2.warpPerspective(flat, cv2.getPerspectiveTransform(corners, seen), (1500, 1100), borderValue=250)
    ys, xs = np.mgrid[0:1100, 0:1500].astype(np.float32)
    # Curl: the rows sag by up to 14 px between the table's sides, none at its corners.
    sag = 14 * np.sin(np.pi * np.clip((xs - 140) / 1220, 0, 1))
    curled = cv2.remap(photo, xs, ys - sag, cv2.INTER_LINEAR, borderValue=250)
    quad = find_table_quad(curled)
    assert quad is not None and np.abs(quad - seen).max() < 15, quad


def _bar_rows(gray: np.ndarray) -> list[list[tuple[float, float]]]:
    """Centres of word-sized dark bars, grouped into rows top to bottom, each row left to right."""
    import cv2

    _, _, stats, centres = cv2.connectedComponentsWithStats((gray < 100).astype(np.uint8))
    bars = sorted(
        (tuple(c) for s, c in zip(stats[1:], centres[1:], strict=True) if 30 <= s[2] <= 200 and 8 <= s[3] <= 30),
        key=lambda c: c[1],
    )
    rows: list[list[tuple[float, float]]] = []
    for centre in bars:
        if rows and abs(centre[1] - rows[-1][-1][1]) < 20:
            rows[-1].append(centre)
        else:
            rows.append([centre])
    return [sorted(row) for row in rows]


def test_a_sheet_with_a_corner_in_shadow_is_not_warped_askew() -> None:
    """A shadow as dark as the ground over one corner of a photographed sheet cuts that corner off its
    outline: warping by the cut outline would shear the print. The print's own rows stay level and
    straight; where the sheet's edges meet is offered too."""
    import cv2

    from timetable_platform.extraction.ocr.preprocess import find_page_quad, find_page_quads, prepare_page

    rng = np.random.default_rng(3)
    photo = np.full((1000, 1400, 3), 70, np.uint8)
    cv2.fillPoly(photo, [np.array([[90, 100], [1310, 100], [1310, 900], [90, 900]], np.int32)], (235, 235, 235))
    for row in range(10):
        y, x = 200 + 45 * row, 150
        while x < 1200:
            width = int(rng.integers(40, 140))
            cv2.rectangle(photo, (x, y), (x + width, y + 14), (20, 20, 20), -1)
            x += width + int(rng.integers(20, 50))
    cv2.fillPoly(photo, [np.array([[1110, 100], [1311, 100], [1311, 190]], np.int32)], (75, 75, 75))
    quad = find_page_quad(cv2.cvtColor(photo, cv2.COLOR_BGR2GRAY))
    assert quad is not None and quad[1][1] > 150  # the outline's top right corner is where the shadow ends
    # The top edge and the right edge, both straight outside the shadow, meet at the true corner.
    met = find_page_quads(cv2.cvtColor(photo, cv2.COLOR_BGR2GRAY))[-1]
    assert abs(met[1][0] - 1310) < 15 and abs(met[1][1] - 100) < 15

    # (The shadow itself stays in the sheet's top corner, at its edge.)
    rows = [row for row in _bar_rows(prepare_page(photo).gray) if row[0][1] > 20]
    assert len(rows) == 10
    for row in (rows[0], rows[-1]):
        assert abs(row[0][1] - row[-1][1]) <= 3, row  # level from the first word to the last


def test_a_sheet_cut_by_a_shadow_band_near_a_corner_keeps_its_true_corner() -> None:
    """A shadow band as dark as the ground across a photographed sheet near one corner leaves the tip
    of the corner apart from the sheet; the polygon fitted to what is left cuts the corner off, and
    warping by it would slant the print. The edges on either side still meet at the true corner."""
    import cv2

    from timetable_platform.extraction.ocr.preprocess import find_page_quads

    photo = np.full((1000, 800, 3), 80, np.uint8)
    sheet = np.array([[90, 60], [720, 130], [740, 940], [60, 930]], np.int32)
    cv2.fillPoly(photo, [sheet], (230, 230, 230))
    cv2.line(photo, (630, 100), (745, 230), (80, 80, 80), 30)  # the band, from the top edge to the right one
    quads = find_page_quads(cv2.cvtColor(photo, cv2.COLOR_BGR2GRAY))
    assert quads and np.abs(quads[-1] - sheet.astype(np.float32)).max() < 15, quads


def test_a_sheet_split_by_a_shadow_right_across_it_is_still_one_sheet() -> None:
    """A shadow band as dark as the ground cast right across a photographed sheet splits its bright
    part in two; the two parts together are the sheet, corner to corner."""
    import cv2

    from timetable_platform.extraction.ocr.preprocess import find_page_quads

    photo = np.full((900, 1200, 3), 80, np.uint8)
    sheet = np.array([[100, 90], [1100, 110], [1090, 800], [110, 790]], np.int32)
    cv2.fillPoly(photo, [sheet], (225, 225, 225))
    cv2.line(photo, (300, 80), (900, 820), (85, 85, 85), 120)  # the band, from the top edge to the bottom one
    quads = find_page_quads(cv2.cvtColor(photo, cv2.COLOR_BGR2GRAY))
    assert quads and np.abs(quads[0] - sheet.astype(np.float32)).max() < 15, quads
    # Two bright boxes far apart on a dark ground fill too little of the outline around them to be one sheet.
    apart = np.full((900, 1200, 3), 80, np.uint8)
    cv2.rectangle(apart, (100, 100), (350, 800), (225, 225, 225), -1)
    cv2.rectangle(apart, (850, 100), (1100, 800), (225, 225, 225), -1)
    assert find_page_quads(cv2.cvtColor(apart, cv2.COLOR_BGR2GRAY)) == []


def test_a_grey_sheet_lit_from_one_side_on_a_cork_board_is_found_by_its_colour() -> None:
    """A sheet pinned on a brown board with the light from one side: its far half is no brighter than
    the board, so brightness alone outlines half a sheet; its grey still differs from the board's brown."""
    import cv2

    from timetable_platform.extraction.ocr.preprocess import find_page_quads

    photo = np.empty((900, 1200, 3), np.uint8)
    photo[:] = (60, 100, 140)  # BGR: cork brown
    sheet = np.array([[90, 80], [1110, 120], [1100, 820], [100, 800]], np.int32)
    paper = np.zeros_like(photo)
    cv2.fillPoly(paper, [sheet], (1, 1, 1))
    light = np.linspace(200, 100, photo.shape[1]).astype(np.uint8)  # bright on the left, dim on the right
    lit = np.repeat(light[None, :, None], 3, axis=2).repeat(photo.shape[0], axis=0)
    photo = np.where(paper > 0, lit, photo)
    gray = cv2.cvtColor(photo, cv2.COLOR_BGR2GRAY)
    half = find_page_quads(gray)  # by brightness: the lit half only
    assert not half or np.abs(half[0] - sheet.astype(np.float32)).max() > 100
    quads = find_page_quads(gray, photo)
    assert quads and np.abs(quads[0] - sheet.astype(np.float32)).max() < 15, quads
    # A grey ground around the grey sheet gives no colour to tell them apart: brightness decides alone.
    plain = np.where(paper > 0, lit, np.full_like(photo, 110))
    plain_gray = cv2.cvtColor(plain, cv2.COLOR_BGR2GRAY)
    by_colour, by_brightness = find_page_quads(plain_gray, plain), find_page_quads(plain_gray)
    assert len(by_colour) == len(by_brightness) and all(
        np.array_equal(a, b) for a, b in zip(by_colour, by_brightness, strict=True)
    )


def test_a_sheets_edge_stepping_from_pixel_to_pixel_is_one_straight_run() -> None:
    """The hull of a sheet's outline follows a slightly slanted edge in many short steps; together
    they are one run, so the edge is found even where a shadow's long chord cuts a corner off."""
    from timetable_platform.extraction.ocr.preprocess import _straight_runs

    edge = [(float(x), 24.0 + x // 60) for x in range(40, 560, 40)]  # one straight edge, in 40 px steps
    chord = [(740.0, 95.0)]  # then a cut across a shadow, at 16 degrees, to the right edge
    hull = np.array(edge + chord + [(740.0, 380.0), (40.0, 370.0)], np.float32)
    runs = [(tuple(map(float, p)), tuple(map(float, q))) for p, q in _straight_runs(hull)]
    assert ((40.0, 24.0), edge[-1]) in runs
    assert (edge[-1], chord[0]) in runs  # the chord turns away: a run of its own


def test_the_bowed_rows_of_a_curled_sheet_are_bent_straight() -> None:
    """A curled sheet's rulings come out of a photo as gentle curves, which a perspective warp cannot
    undo; each is fitted and the page is bent so that they run straight. Straight rulings are left."""
    import cv2

    from timetable_platform.extraction.ocr.preprocess import straighten_bowed_rows

    page = np.full((600, 1200), 255, np.uint8)
    for y in range(60, 560, 100):
        page[y : y + 3, 40:1160] = 0
    for x in range(40, 1161, 280):
        page[60:563, x : x + 3] = 0
    assert straighten_bowed_rows(cv2.cvtColor(page, cv2.COLOR_GRAY2BGR), page) is None

    ys, xs = np.mgrid[0:600, 0:1200].astype(np.float32)
    bow = 18 * (1 - ((xs - 600) / 600) ** 2)  # the middle of the sheet sags 18 px
    bowed = cv2.remap(page, xs, ys - bow, cv2.INTER_LINEAR, borderValue=255)
    straightened = straighten_bowed_rows(cv2.cvtColor(bowed, cv2.COLOR_GRAY2BGR), bowed)
    assert straightened is not None
    _, gray = straightened
    rows = []
    for x in (100, 350, 610, 850, 1100):  # the first ruling, bowed 13 px in the photo
        dark = np.flatnonzero(gray[:120, x] < 128)
        assert dark.size, x
        rows.append(float(dark.mean()))
    assert max(rows) - min(rows) <= 2, rows  # now sits on the same pixel rows across the page


def test_the_edges_of_a_warped_sheet_do_not_stop_its_table_rows_being_straightened() -> None:
    """A sheet warped by its table's frame keeps its own edges in the page, bowing their own way and
    spanning wider than the table: they are no rows of it, and the table's bowed rows are still bent
    straight."""
    import cv2

    from timetable_platform.extraction.ocr.preprocess import straighten_bowed_rows

    page = np.full((800, 1400), 255, np.uint8)
    for y in range(160, 660, 100):
        page[y : y + 3, 140:1260] = 0
    for x in range(140, 1261, 280):
        page[160:663, x : x + 3] = 0
    ys, xs = np.mgrid[0:800, 0:1400].astype(np.float32)
    bow = 18 * np.clip(1 - ((xs - 700) / 560) ** 2, 0, None)  # the table's middle sags 18 px
    bowed = cv2.remap(page, xs, ys - bow, cv2.INTER_LINEAR, borderValue=255)
    for x in range(20, 1380):  # the sheet's top and bottom edges rise towards its middle
        lift = int(10 * (1 - ((x - 700) / 680) ** 2))
        bowed[40 - lift : 43 - lift, x] = 0
        bowed[760 - lift : 763 - lift, x] = 0
    straightened = straighten_bowed_rows(cv2.cvtColor(bowed, cv2.COLOR_GRAY2BGR), bowed)
    assert straightened is not None
    _, gray = straightened
    rows = [float(np.flatnonzero(gray[120:220, x] < 128).mean()) for x in (200, 450, 710, 950, 1200)]
    assert max(rows) - min(rows) <= 2, rows  # the table's first row rule is straight


def test_straight_lines_below_a_curled_table_do_not_stop_its_rows_being_straightened() -> None:
    """Below a curled sheet's table, lines the perspective warp set straight (the table's foot, the
    sheet's lower edge) bow neither way: they do not count against the rows that bow alike. Rules
    that only lean, bowing none, are no curl."""
    import cv2

    from timetable_platform.extraction.ocr.preprocess import straighten_bowed_rows

    page = np.full((800, 1400), 255, np.uint8)
    for y in range(100, 600, 100):
        page[y : y + 3, 140:1260] = 0
    for x in range(140, 1261, 280):
        page[100:503, x : x + 3] = 0
    ys, xs = np.mgrid[0:800, 0:1400].astype(np.float32)
    bow = 20 * (1 - ((xs - 700) / 700) ** 2) * np.clip((560 - ys) / 460, 0, 1)  # less bowed further down
    bowed = cv2.remap(page, xs, ys - bow, cv2.INTER_LINEAR, borderValue=255)
    bowed[640:643, 140:1260] = 0  # straight lines, as wide as the table
    bowed[700:703, 140:1260] = 0
    straightened = straighten_bowed_rows(cv2.cvtColor(bowed, cv2.COLOR_GRAY2BGR), bowed)
    assert straightened is not None
    _, gray = straightened
    rows = [float(np.flatnonzero(gray[60:160, x] < 128).mean()) for x in (200, 450, 710, 950, 1200)]
    assert max(rows) - min(rows) <= 2, rows  # the table's first row rule is straight

    leaning = cv2.warpAffine(page, np.float32([[1, 0, 0], [0.012, 1, 0]]), (1400, 800), borderValue=255)
    assert straighten_bowed_rows(cv2.cvtColor(leaning, cv2.COLOR_GRAY2BGR), leaning) is None


def test_columns_fanning_out_in_a_photo_without_its_tables_frame_are_set_upright() -> None:
    """A sheet photographed from below with its table's frame running off the photo keeps its column
    rules leaning once the rows are level, each a little more than the one beside it (a keystone no
    frame corrected). They are set upright; upright rules, and rules leaning each their own way, are
    left."""
    import cv2

    from timetable_platform.extraction.ocr.preprocess import upright_leaning_columns

    page = np.full((700, 1400), 255, np.uint8)
    for y in range(100, 601, 100):
        page[y : y + 3, 0:1300] = 0
    for x in range(100, 1301, 240):
        page[100:603, x : x + 3] = 0
    assert upright_leaning_columns(cv2.cvtColor(page, cv2.COLOR_GRAY2BGR), page) is None

    xs = np.arange(1400, dtype=np.float32)
    lean = (0.12 - 0.08 * xs / 1400)[None, :]  # 0.12 at the left edge, 0.04 at the right
    ys = np.arange(700, dtype=np.float32)[:, None]
    map_x = (xs[None, :] - lean * (ys - 350)).astype(np.float32)
    fanned = cv2.remap(page, map_x, np.repeat(ys, 1400, axis=1), cv2.INTER_LINEAR, borderValue=255)
    upright = upright_leaning_columns(cv2.cvtColor(fanned, cv2.COLOR_GRAY2BGR), fanned)
    assert upright is not None
    _, gray = upright
    for rule in (340, 820):  # two column rules, each upright now: the same pixel column at the top and foot
        top = np.flatnonzero(gray[150, rule - 60 : rule + 60] < 128).mean()
        foot = np.flatnonzero(gray[550, rule - 60 : rule + 60] < 128).mean()
        assert abs(top - foot) <= 2, (rule, top, foot)

    crooked = page.copy()
    for k, x in enumerate(range(100, 1301, 240)):  # each rule its own way
        crooked[100:603, x : x + 3] = 255
        tilt = 0.05 if k % 2 else -0.05
        for y in range(100, 603):
            crooked[y, int(x + tilt * (y - 350)) : int(x + tilt * (y - 350)) + 3] = 0
    assert upright_leaning_columns(cv2.cvtColor(crooked, cv2.COLOR_GRAY2BGR), crooked) is None


def _lines_read_from_boxes(
    size: tuple[int, int],
    boxes: list[tuple[tuple[int, int, int, int], tuple[int, int, int], list[str]]],
    *, font_size: int, pad: int, leading: int, radius: int = 0,
) -> list[str]:
    """The text lines read from a white page holding filled boxes with white print (first line bold)."""
    from PIL import ImageDraw

    from tests.corpusgen.degrade import font

    image = Image.new("RGB", size, "white")
    draw = ImageDraw.Draw(image)
    for (x0, y0, x1, y1), fill, texts in boxes:
        draw.rounded_rectangle((x0, y0, x1, y1), radius=radius, fill=fill)
        for k, text in enumerate(texts):
            draw.text((x0 + pad, y0 + pad + leading * k), text, fill="white", font=font(font_size, bold=k == 0))
    buffer = io.BytesIO()
    image.save(buffer, format="PNG")
    layout = read_image_layout(Document(buffer.getvalue(), "image/png", "boxes.png"), Limits(), languages="eng")
    return [line.text for line in layout.pages[0].lines]


def test_light_print_on_coloured_boxes_outside_any_table_is_read() -> None:
    """Calendar events and app cards: coloured boxes with white print on a white page, no ruled table.
    Each box is read from its own colour; the normalised grey takes the box for paper and loses it."""
    boxes = [((40, 40, 420, 170), (91, 57, 183), ["Geography", "08:15 - 09:45"]), ((470, 120, 860, 250), (229, 57, 53), ["Chemistry", "10:00 - 11:30"])]
    texts = _lines_read_from_boxes((900, 420), boxes, font_size=26, pad=14, leading=34, radius=10)
    assert {"Geography", "08:15 - 09:45", "Chemistry", "10:00 - 11:30"} <= set(texts), texts


def test_light_print_on_dull_dark_boxes_is_read() -> None:
    """A school portal's lesson boxes in brown and slate: dark, but too grey to count as coloured.
    The normalised grey lifts such a box to paper; it is found by being dark as printed."""
    boxes = [((40, 40, 300, 150), (109, 76, 65), ["Storia", "ROM"]), ((500, 120, 760, 230), (84, 110, 122), ["Arte", "RUS"])]
    texts = _lines_read_from_boxes((900, 300), boxes, font_size=22, pad=10, leading=30)
    assert {"Storia", "ROM", "Arte", "RUS"} <= set(texts), texts


def test_a_text_block_leaves_out_a_neighbour_block_reaching_out_of_its_box() -> None:
    """A header line stepping down beside a taller label: the step's box reaches round part of a block
    below it, which its own crop reads whole; the step's crop leaves that part out (it would read a
    cut word). A block wholly inside the box, and specks too small to be blocks, stay."""
    from timetable_platform.extraction.readers.image import _text_blocks

    ink = np.zeros((240, 600), np.uint8)
    ink[20:34, 20:560] = 255  # a long line of print ...
    ink[20:100, 546:560] = 255  # ... stepping down at its right end
    ink[95:120, 60:300] = 255  # a block reaching below the step's box
    ink[55:69, 150:260] = 255  # a block wholly inside it
    ink[80, 400] = 255  # a speck too small to be a block
    blocks = _text_blocks(ink, 14.0, 0.9 * ink.size, resplit=False)
    assert len(blocks) == 3
    (x, y, w, h), own = max(blocks, key=lambda b: b[0][2] * b[0][3])
    assert own.shape == (h, w)
    assert own[25 - y, 30 - x] and own[60 - y, 200 - x] and own[80 - y, 400 - x]  # its print, the inner block, the speck
    assert not own[100 - y, 150 - x]  # the block reaching out of the box


def test_a_long_listing_in_one_block_is_read_in_strips_cut_between_its_lines() -> None:
    """A record table printed without rules smears into one block too big to read as one crop: it is cut
    in the blank rows between its lines into strips; print running on without a blank row (a photo's
    texture) gives no strip."""
    from timetable_platform.extraction.readers.image import _strips

    ink = np.zeros((600, 400), np.uint8)
    for line in range(20):
        ink[20 + 28 * line : 36 + 28 * line, 10:380] = 255  # 16 rows of print, 12 blank
    strips = _strips(ink, tallest=100)
    assert len(strips) == 5  # four lines (100 rows of print) to a strip
    assert strips[0][0] == 0 and strips[-1][1] == 600
    assert all(a[1] == b[0] for a, b in itertools.pairwise(strips))  # cut in the blank rows, nothing lost
    texture = np.full((600, 400), 255, np.uint8)
    assert _strips(texture, tallest=100) == []


def test_print_read_by_two_overlapping_crops_is_one_word() -> None:
    """A band read both as part of a frame's cell and as a box of its own gives each word twice: the
    page keeps one (the surer reading), while a word repeated elsewhere on the page stays."""
    from timetable_platform.domain.layout import BBox, Word
    from timetable_platform.extraction.readers.image import _read_once

    words = [
        Word(text="MON", bbox=BBox(100, 50, 140, 62), confidence=0.7),
        Word(text="MON", bbox=BBox(102, 51, 141, 63), confidence=0.9),
        Word(text="MON", bbox=BBox(100, 250, 140, 262), confidence=0.8),  # printed again lower down
        Word(text="TUE", bbox=BBox(101, 50, 139, 62), confidence=0.6),  # another reading, not a repeat
        Word(text="MON", bbox=BBox(400, 450, 440, 462), confidence=0.8),  # apart on both axes
    ]
    kept = _read_once(words)
    assert sorted((w.text, w.bbox.top, w.confidence) for w in kept) == [
        ("MON", 51, 0.9),
        ("MON", 250, 0.8),
        ("MON", 450, 0.8),
        ("TUE", 50, 0.6),
    ]


def test_a_lone_unsure_short_word_in_an_empty_cell_is_a_speck() -> None:
    """A shadow or a ruling's stub in an empty cell reads as a short word with low confidence ('ii',
    'Ee'): the cell is empty. A surely read short name, one the page prints again, and the header
    row and column (short day names) keep their text; print outside the tables is no second copy
    when it lies inside a table (a crop that read the cell again)."""
    from timetable_platform.domain.layout import BBox, Line, Word
    from timetable_platform.extraction.readers.image import _blank_specks

    def cell(row: int, col: int, text: str, confidence: float) -> Cell:
        box = BBox(100 * col, 50 * row, 100 * col + 90, 50 * row + 40)
        line = Line(words=[Word(text=text, bbox=box, confidence=confidence)], bbox=box)
        return Cell(row=row, col=col, text=text, bbox=box, lines=[line], confidence=confidence)

    cells = [
        cell(0, 1, "Mo", 0.4), cell(1, 0, "P1", 0.5), cell(1, 1, "ii", 0.4), cell(1, 2, "PE", 0.9),
        cell(2, 1, "Art", 0.5), cell(2, 2, "Art", 0.9), cell(3, 1, "Ee", 0.55), cell(3, 2, "Bio", 0.5),
    ]
    table = Table(n_rows=4, n_cols=3, cells=cells, bbox=BBox(0, 0, 300, 200))
    again = Line(words=[Word(text="Ee", bbox=BBox(100, 150, 190, 190), confidence=0.5)], bbox=BBox(100, 150, 190, 190))
    outside = [again, Line(words=[Word(text="Bio", bbox=BBox(0, 300, 40, 320))], bbox=BBox(0, 300, 40, 320))]
    blanked = _blank_specks([table], outside)
    assert {c.text for c in cells} == {"Mo", "P1", "", "PE", "Art", "Bio"}
    assert [c.text for c in cells if c.col == 1] == ["Mo", "", "Art", ""]
    assert len(blanked) == 2


def test_a_time_cut_after_its_colon_is_one_word() -> None:
    """Small print read with a gap after a colon ('09:' '30') is one time; a period number before a
    time ('1.' '08:30', '1:' '08:30') and a label's colon ('Room:' '12') are left apart."""
    from timetable_platform.domain.layout import BBox, Word
    from timetable_platform.extraction.readers.image import _join_split_times

    def texts(*parts: str) -> list[str]:
        words = [Word(text=t, bbox=BBox(50 * k, 0, 50 * k + 40, 12)) for k, t in enumerate(parts)]
        return [w.text for w in _join_split_times(words)]

    assert texts("08:30-09:", "30") == ["08:30-09:30"]
    assert texts("Mon", "09:", "30-10:40") == ["Mon", "09:30-10:40"]
    assert texts("1.", "08:30") == ["1.", "08:30"]
    assert texts("1:", "08:30") == ["1:", "08:30"]
    assert texts("Room:", "12") == ["Room:", "12"]


def test_a_cell_merged_across_columns_and_rows_by_lost_separators_splits_both_ways() -> None:
    """Two faint separators (a shadow over a header's corner) make one cell of four: each slot holds
    its own words and none crosses an edge, so it is four cells again."""
    from timetable_platform.domain.layout import BBox, Line, Word
    from timetable_platform.extraction.ocr.gridlines import GridCell, GridTable
    from timetable_platform.extraction.readers.image import _split_false_merge

    grid = GridTable(
        box=(0, 0, 400, 200), row_edges=[0, 60, 200], col_edges=[0, 200, 400],
        cells=[GridCell(row=0, col=0, rowspan=2, colspan=2, box=(0, 0, 400, 200))],
    )
    placed = {"12:35": (40, 20), "13:10": (240, 20), "Lunch": (40, 110), "Physics": (240, 110)}
    lines = [
        Line(words=[word], bbox=word.bbox)
        for word in (Word(text=t, bbox=BBox(x, y, x + 60, y + 14), confidence=0.95) for t, (x, y) in placed.items())
    ]
    merged = Cell(row=0, col=0, text="\n".join(line.text for line in lines), rowspan=2, colspan=2,
                  bbox=BBox(0, 0, 400, 200), lines=lines)
    cells = _split_false_merge(merged, grid)
    assert sorted((c.row, c.col, c.rowspan, c.colspan, c.text) for c in cells) == [
        (0, 0, 1, 1, "12:35"), (0, 1, 1, 1, "13:10"), (1, 0, 1, 1, "Lunch"), (1, 1, 1, 1, "Physics"),
    ]


def test_a_large_name_centred_over_a_double_lesson_stays_one_cell() -> None:
    """A double lesson spans two period columns; its name, printed large, falls half in each, with a
    small code in the corners. The space between the name's words is a word space in the name's
    print, however wide beside the corner codes: the merge stands."""
    from timetable_platform.domain.layout import BBox, Line, Word
    from timetable_platform.extraction.ocr.gridlines import GridCell, GridTable
    from timetable_platform.extraction.readers.image import _split_false_merge

    grid = GridTable(
        box=(0, 0, 500, 100), row_edges=[0, 100], col_edges=[0, 250, 500],
        cells=[GridCell(row=0, col=0, rowspan=1, colspan=2, box=(0, 0, 500, 100))],
    )
    placed = {
        "8C": (5, 5, 25, 15), "English": (150, 30, 240, 52), "Literature": (252, 30, 380, 52), "SAP": (5, 80, 30, 90),
        "Hall": (460, 80, 495, 90),
    }
    lines = [
        Line(words=[word], bbox=word.bbox)
        for word in (Word(text=t, bbox=BBox(*box), confidence=0.95) for t, box in placed.items())
    ]
    merged = Cell(row=0, col=0, text="\n".join(line.text for line in lines), colspan=2, bbox=BBox(0, 0, 500, 100),
                  lines=lines)  # fmt: skip
    assert [c.colspan for c in _split_false_merge(merged, grid)] == [2]


def test_text_beside_a_scanned_screens_dark_edge_is_still_read() -> None:
    """A dark-mode screen scanned on white paper, once inverted, has a black band down its edge. Text
    near it must not join it into one block too big to read: marks taller than any letter are no text."""
    from PIL import ImageDraw

    from tests.corpusgen.degrade import font
    from timetable_platform.extraction.readers.image import _outside_text_crops

    image = Image.new("L", (700, 900), 255)
    draw = ImageDraw.Draw(image)
    draw.rectangle((0, 0, 40, 899), fill=0)  # the band, from top to bottom
    for k, text in enumerate(("8.15-9.10", "9.20-10.15", "10.25-11.20", "11.30-11.45", "11.55-12.50")):
        draw.text((52, 40 + 170 * k), text, fill=0, font=font(26))
        draw.text((300, 40 + 170 * k), "Science", fill=0, font=font(26, bold=True))
    crops = _outside_text_crops(np.array(image), [], inverted=True)
    starts = sorted(c.origin[1] for c in crops if c.origin[0] < 200)
    assert len(starts) >= 5, starts  # every time beside the band is a block of its own


def test_a_configured_language_this_machine_lacks_is_skipped() -> None:
    """TIMETABLE_OCR_LANGUAGES may name a model a machine does not have (an older image): the reader
    reads with the installed ones instead of failing every page."""
    from timetable_platform.extraction.ocr.engine import installed_languages
    from timetable_platform.extraction.readers.image import _PageReader

    assert "eng" in installed_languages()
    reader = _PageReader("eng+xyz+deu")
    assert reader.first == "eng" and "xyz" not in reader.allowed
    assert ("deu" in reader.allowed) == ("deu" in installed_languages())


def test_a_page_is_read_again_only_in_its_most_likely_language() -> None:
    """Abbreviated headings name a Spanish page; an Indonesian one names its own language, which has no
    model here, so no other language reads it; a stray word is no evidence."""
    from timetable_platform.extraction.readers.image import detect_languages

    assert detect_languages(["LUN", "MAR", "MIÉ", "JUE", "VIE"])[0] == "es"
    assert detect_languages(["Senin", "Selasa", "Rabu", "Kamis", "Jumat", "Mulai"])[0] == "id"
    assert detect_languages(["Maths", "R101"]) == []


def test_fields_in_opposite_corners_of_a_table_cell_are_separate_lines() -> None:
    """A cell prints a room bottom-left and a teacher code bottom-right on one baseline: OCR reads one
    line, but the wide blank between them separates two fields. A phrase's words stay one line, and
    so do words far apart that do not stand against the cell's two edges (columns of an unruled table)."""
    from timetable_platform.domain.layout import BBox, Line, Word
    from timetable_platform.extraction.readers.image import _corner_fields

    def line(*words: tuple[str, float, float]) -> Line:
        found = [Word(text=t, bbox=BBox(x0, 100, x1, 108), confidence=0.9) for t, x0, x1 in words]
        return Line(words=found, bbox=BBox(found[0].bbox.x0, 100, found[-1].bbox.x1, 108))

    cell = BBox(0, 60, 165, 110)
    corners = line(("Lab", 5, 20), ("West", 23, 42), ("7", 45, 50), ("41", 150, 160))
    assert [part.text for part in _corner_fields(corners, cell)] == ["Lab West 7", "41"]
    phrase = line(("Social", 40, 70), ("Studies", 74, 110))
    assert [part.text for part in _corner_fields(phrase, cell)] == ["Social Studies"]
    columns = line(("Art", 5, 20), ("Art", 60, 75), ("PE", 120, 130), ("PE", 150, 160))
    assert len(_corner_fields(columns, cell)) == 1
    inside = line(("Art", 40, 55), ("PE", 120, 130))
    assert len(_corner_fields(inside, cell)) == 1
    speck = line(("R304", 5, 25), ("a", 155, 160))
    assert len(_corner_fields(speck, cell)) == 1
    code = line(("Lab", 5, 20), ("5", 155, 160))
    assert len(_corner_fields(code, cell)) == 2


def test_a_cent_sign_is_a_misread_c_or_a_zero_in_a_time() -> None:
    from timetable_platform.extraction.readers.image import _clean_text

    assert _clean_text("7¢") == "7C"
    assert _clean_text("10:3¢") == "10:30" and _clean_text("9:¢5") == "9:05"


def test_small_print_beside_a_fill_edge_is_not_erased_as_a_ruling() -> None:
    """A header cell prints its times just above a coloured row: the edge between paper and fill is a
    separator band a few pixels high that covers the bottom of those letters. Only ink shaped like a
    line is erased from it; the letters stay."""
    from timetable_platform.extraction.ocr.gridlines import Rulings
    from timetable_platform.extraction.readers.image import _line_shaped_ink

    ink = np.zeros((200, 400), np.uint8)
    for x in range(40, 300, 9):  # a row of small letters, 6 px wide with gaps between them
        ink[100:108, x : x + 6] = 255
    ink[150:152, 20:380] = 255  # a real ruling
    band = np.zeros_like(ink)
    band[104:111, 20:380] = 255  # the fill edge band, overlapping the letters' lower half
    band[148:154, 20:380] = 255
    erased = _line_shaped_ink(Rulings(horizontal=band, vertical=np.zeros_like(ink), ink=ink))
    assert not erased[100:108].any()
    assert erased[150:152, 30:370].all()


def test_a_grid_whose_outline_cuts_filled_boxes_is_not_a_table() -> None:
    """A week view's faint hour lines and the edges of its event boxes can piece together a "grid";
    events hang over its border, where a real table's coloured cells end at its rulings."""
    from timetable_platform.extraction.ocr.gridlines import GridTable
    from timetable_platform.extraction.readers.image import _cut_through_boxes

    grid = GridTable(box=(100, 300, 700, 600), row_edges=[300, 450, 600], col_edges=[100, 400, 700], cells=[])
    inside = [(110, 310, 390, 440), (410, 460, 690, 590)]
    hanging = [(110, 250, 390, 350), (410, 560, 690, 660)]  # events started above / ending below it
    assert not _cut_through_boxes(grid, inside)
    assert _cut_through_boxes(grid, inside + hanging)



def test_a_border_around_an_unruled_timetable_is_a_frame_not_a_table() -> None:
    """A border drawn round an unruled timetable (a photo's sheet edge does the same), with a rule under
    a heading band and one near its right edge, makes a 2 x 2 "grid" whose big cell holds every day
    and time. Read as one cell, each of its lines runs across all the columns; the page is read
    again without that grid, its print found as text blocks, each cell's text a line of its own."""
    from PIL import ImageDraw

    from tests.corpusgen.degrade import font

    image = Image.new("RGB", (1300, 560), "white")
    draw = ImageDraw.Draw(image)
    draw.rectangle((30, 30, 1270, 530), outline="black", width=3)
    draw.line((30, 90, 1270, 90), fill="black", width=3)
    draw.line((1200, 30, 1200, 530), fill="black", width=3)
    regular, bold = font(20), font(20, bold=True)
    draw.text((60, 45), "Timetable", font=bold, fill="black")
    days = ("Monday", "Tuesday", "Wednesday")
    for col, day in enumerate(days):
        draw.text((330 + 280 * col, 110), day, font=bold, fill="black")
    lessons = (("Maths", "Art", "Music"), ("French", "History", "Drama"), ("Biology", "Latin", "Physics"))
    teachers = ("Mr Hill", "Ms Ray", "Dr Lee")
    for row, subjects in enumerate(lessons):
        top = 160 + 70 * row
        draw.text((60, top), f"{row + 1}", font=bold, fill="black")
        draw.text((60, top + 24), f"{9 + row}:00-{10 + row}:00", font=regular, fill="black")
        for col, subject in enumerate(subjects):
            draw.text((330 + 280 * col, top), subject, font=regular, fill="black")
            draw.text((330 + 280 * col, top + 24), teachers[col], font=regular, fill="black")
    layout = read_image_layout(Document(encode(image, "PNG"), "image/png", "framed.png"), Limits(), languages="eng")
    page = layout.pages[0]
    assert page.tables == []
    lines = {line.text for line in page.lines}
    assert {"Monday", "Maths", "Physics", "10:00-11:00", "Ms Ray"} <= lines
    timetable = interpret(layout)
    assert sorted((e.day, e.start, e.subject, e.teacher) for e in timetable.entries) == sorted(
        (day[:3].upper(), f"{9 + row:02d}:00", subject, teacher)
        for row, subjects in enumerate(lessons)
        for day, subject, teacher in zip(days, subjects, teachers, strict=True)
    )


def test_a_lone_narrow_glyph_stands_upright_when_the_page_letter_height_is_known() -> None:
    """A bold '1' alone in its cell is one tall narrow blob, like a blurred word turned on its side;
    but a turned word is as wide as the page's letters are tall, and the digit is much narrower."""
    import cv2

    from timetable_platform.extraction.readers.image import _orientation

    one = np.zeros((24, 20), np.uint8)
    one[4:20, 8:12] = 255  # the stem: 16 px tall, 4 px wide
    one[4:7, 5:9] = 255  # the flag
    assert _orientation(one) == 90  # no page to compare with: taken for a turned word, as before
    assert _orientation(one, letter=16.0) == 0
    word = np.zeros((60, 24), np.uint8)
    word[6:54, 4:18] = 255  # three letters run together, written downwards: as wide as a letter is tall
    word = cv2.GaussianBlur(word, (3, 3), 0)
    assert _orientation(word, letter=16.0) == 90


def test_a_time_read_again_without_its_dots_is_kept_as_a_time_range() -> None:
    """Read limited to a time's characters, small print can lose its dots ('925-1020'): two numbers of
    three or four digits a lesson's length apart are that range, and the label prints it as a time."""
    from timetable_platform.extraction.ocr.engine import OcrWord
    from timetable_platform.extraction.readers.image import _Crop, _retry_time_labels

    label = _Crop(image=np.full((30, 120), 255, np.uint8), origin=(0, 0), size=(120, 30), rotation=0, scale=2.0)
    label.words = [OcrWord("9", (0, 0, 10, 20), 0.3, 0), OcrWord("25-10", (14, 0, 60, 20), 0.3, 0)]
    _retry_time_labels(_ScriptedEngine([["925-1020", "925-1020"]]), [label])
    assert [w.text for w in label.words] == ["9:25-10:20"]
    assert label.words[0].box == (0, 0, 50, 10)  # the box of the reading kept


def test_a_time_range_longer_than_any_slot_is_no_clean_reading_of_a_label() -> None:
    from timetable_platform.extraction.ocr.engine import OcrWord
    from timetable_platform.extraction.readers.image import _clean_time_text

    def word(text: str) -> list[OcrWord]:
        return [OcrWord(text, (0, 0, 50, 10), 0.5, 0)]

    assert _clean_time_text(word("7:50-8:30")) == "7:50-8:30"
    assert _clean_time_text(word("7:30-3:50")) is None  # eight hours: a misread '7:50-8:30'
    # Small print whose dots and dash were read as gaps or dots: four numbers make the range.
    assert _clean_time_text(word("11 45 12 30")) == "11:45-12:30"
    assert _clean_time_text(word("09 25-10 10")) == "09:25-10:10"
    assert _clean_time_text(word("2024 2025")) is None  # a minute long: a school year


def test_small_grey_print_under_big_black_print_stays_in_the_crop_and_upright() -> None:
    """A period number in big black print over its times in small grey print: one Otsu split takes the
    grey print for paper, and the crop, cut round the number alone, loses the times (or stands them on
    their side, the number being taller than wide). The crop reaches round the grey print too."""
    from PIL import ImageDraw

    from tests.corpusgen.degrade import font
    from timetable_platform.extraction.readers.image import _crop_from_region

    image = Image.new("L", (220, 70), 255)
    draw = ImageDraw.Draw(image)
    draw.text((96, 2), "4", fill=0, font=font(36, bold=True))
    draw.text((62, 46), "11.40-12.35", fill=120, font=font(13))
    region = np.array(image)
    times = np.flatnonzero((region[44:] < 240).any(axis=0))  # the columns the times are printed in
    crop = _crop_from_region(region, (0, 0), faint=True)
    assert crop is not None and crop.rotation == 0
    assert crop.origin[0] <= times.min() and crop.origin[0] + crop.size[0] > times.max()


def test_a_crop_turned_by_its_shape_and_read_poorly_is_read_upright_and_kept_when_better() -> None:
    """A narrow cell of three short lines looks like a word written downwards; read turned it gives
    weak garbage, read upright its lines. A turned crop that reads well stays turned."""
    from timetable_platform.extraction.ocr.engine import OcrWord
    from timetable_platform.extraction.readers.image import _Crop, _retry_upright

    class Engine:
        name = "scripted"

        def read_crops(self, crops: list[np.ndarray], scales: list[float], *, charset: str | None = None) -> list:
            assert [c.shape for c in crops] == [(60, 50)]  # only the weak one, turned back upright
            return [[OcrWord("Storia", (0, 0, 40, 10), 0.8, 0), OcrWord("B142", (0, 14, 30, 24), 0.9, 1)]]

    weak = _Crop(image=np.full((50, 60), 255, np.uint8), origin=(0, 0), size=(50, 60), rotation=270, scale=1.0)
    weak.words = [OcrWord("EEE", (0, 0, 30, 10), 0.4, 0)]
    strong = _Crop(image=np.full((40, 90), 255, np.uint8), origin=(0, 0), size=(40, 90), rotation=90, scale=1.0)
    strong.words = [OcrWord("Montag", (0, 0, 60, 10), 0.9, 0)]
    _retry_upright(Engine(), [weak, strong])
    assert (weak.rotation, [w.text for w in weak.words], weak.image.shape) == (0, ["Storia", "B142"], (60, 50))
    assert (strong.rotation, [w.text for w in strong.words]) == (90, ["Montag"])

    class Symbols:
        name = "scripted"

        def read_crops(self, crops: list[np.ndarray], scales: list[float], *, charset: str | None = None) -> list:
            return [[OcrWord(t, (0, 0, 9, 10), 0.7, 0) for t in ("£", "Qa.", "—", "l", "N")]]

    label = _Crop(image=np.full((50, 60), 255, np.uint8), origin=(0, 0), size=(50, 60), rotation=90, scale=1.0)
    label.words = [OcrWord("12-—1pm", (0, 0, 30, 10), 0.46, 0)]
    _retry_upright(Symbols(), [label])  # symbols read off turned strokes, however confident: stays turned
    assert (label.rotation, [w.text for w in label.words]) == (90, ["12-—1pm"])


def test_a_light_rule_under_a_heading_does_not_widen_its_crop() -> None:
    """A day heading over a light grey underline running across the page, broken up by a photo's
    grain: the rule is no faint print, and the crop stays round the heading."""
    from PIL import ImageDraw

    from tests.corpusgen.degrade import font
    from timetable_platform.extraction.readers.image import _crop_from_region

    image = Image.new("L", (600, 40), 255)
    ImageDraw.Draw(image).text((4, 4), "Jueves", fill=0, font=font(18, bold=True))
    region = np.array(image)
    region[30:32, :] = 150  # the rule
    grain = np.random.default_rng(7).random(region.shape) < 0.15
    region[30:32][grain[30:32]] = 255
    crop = _crop_from_region(region, (0, 0), faint=True)
    assert crop is not None and crop.size[0] < 150


@pytest.mark.parametrize("grey", [130, 150])
def test_faint_small_times_under_a_big_number_are_split_off_as_one_line(grey: int) -> None:
    """A period number over its times in small grey print: the one threshold that keeps the black
    number cuts the grey line into slivers (or loses it), and each sliver was read alone, as nothing.
    The times are one crop of their own, whole."""
    from PIL import ImageDraw

    from tests.corpusgen.degrade import font
    from timetable_platform.extraction.readers.image import _Crop, _split_by_text_size

    image = Image.new("L", (120, 60), 255)
    draw = ImageDraw.Draw(image)
    draw.text((50, 0), "5", fill=0, font=font(34, bold=True))
    draw.text((20, 42), "11:35 - 12:25", fill=grey, font=font(11))
    crop = _Crop(image=np.array(image), origin=(0, 0), size=(120, 60), rotation=0, scale=1.0)
    number, times = _split_by_text_size(crop)
    times_rows = np.flatnonzero((np.array(image)[38:] < 230).any(axis=1)) + 38
    assert times.origin[1] <= times_rows.min() and times.origin[1] + times.image.shape[0] > times_rows.max()
    assert number.origin[1] + number.image.shape[0] <= times_rows.min() + 1


def test_a_time_label_with_its_colons_lost_and_its_dash_read_as_a_dot_is_read_loosely() -> None:
    """'800.850' is 8:00-8:50 when no reading of the label is clean as it stands."""
    from timetable_platform.extraction.ocr.engine import OcrWord
    from timetable_platform.extraction.readers.image import _clean_time_text, _Crop, _retry_time_labels

    word = [OcrWord("800.850", (0, 0, 50, 10), 0.4, 0)]
    assert _clean_time_text(word) is None and _clean_time_text(word, loose=True) == "8:00-8:50"
    # A reading that kept a colon lost digits, not separators: '10:20-1120' for '10:20-11:00'.
    assert _clean_time_text([OcrWord("10:20-1120", (0, 0, 50, 10), 0.4, 0)], loose=True) is None
    label = _Crop(image=np.full((30, 120), 255, np.uint8), origin=(0, 0), size=(120, 30), rotation=0, scale=2.0)
    label.words = word
    _retry_time_labels(_ScriptedEngine([["8OO", "800.85"]]), [label])
    assert [w.text for w in label.words] == ["8:00-8:50"]
    label.words = word
    _retry_time_labels(_ScriptedEngine([["8:10-8:50", "800.85"]]), [label])  # a clean reading wins
    assert [w.text for w in label.words] == ["8:10-8:50"]


def test_a_shadow_band_joined_to_the_dark_ground_keeps_its_print_and_rulings() -> None:
    """A shadow band across a photographed sheet, as dark as the ground around the sheet, joins that
    ground into one dark region, which holds no print as a whole and passes for a dark fill. Inverted
    there, the band's dark print and rulings would vanish. Each patch of the band holding darker print
    is paper; the bare ground stays a fill."""
    from timetable_platform.extraction.ocr.gridlines import _dark_fills, _fills, find_rulings

    page = np.full((600, 1500, 3), 70, np.uint8)  # the dark ground ...
    page[40:560, 40:1460] = 210  # ... around a sheet ...
    page[250:350, :] = 90  # ... crossed by a shadow band that runs into the ground on both sides
    page[40:560, 700:703] = 20  # a column rule down the sheet, through the band
    for x in range(200, 400, 20):  # a word in the band
        page[290:310, x : x + 10] = 20
    dark = _dark_fills(page, _fills(page))
    assert dark[20, 300] and dark[300, 1480]  # the bare ground
    assert not dark[300, 701] and not dark[300, 250]  # the rule and the word in the band
    gray = page.mean(axis=2).astype(np.uint8)
    rule = find_rulings(gray, page).vertical[260:340, 695:708]
    assert rule.any(axis=1).mean() > 0.9


def test_a_sheets_edges_around_half_a_table_make_no_table_of_their_own() -> None:
    """A curled sheet photographed on a dark ground shows its top, right and bottom edges as heavy lines
    around the right half of its table: read as a grid, that region takes the table's rows and more
    line pixels than the table holds, but around mostly empty paper. The table, ruled all over, is the
    one kept."""
    from timetable_platform.extraction.ocr.gridlines import GridTable, _without_sparser_overlaps

    lines = np.zeros((900, 1500), np.uint8)
    for y in range(250, 651, 100):  # the table: x 100-1300, y 250-650
        lines[y : y + 3, 100:1300] = 255
    for x in range(100, 1301, 150):
        lines[250:650, x : x + 3] = 255
    lines[50:58, 600:1480] = lines[872:880, 600:1480] = lines[50:880, 1472:1480] = 255  # the sheet's edges
    table = GridTable(box=(100, 250, 1303, 653), row_edges=[], col_edges=[], cells=[])
    edges = GridTable(box=(600, 50, 1480, 880), row_edges=[], col_edges=[], cells=[])
    assert np.count_nonzero(lines[50:880, 600:1480]) > np.count_nonzero(lines[250:653, 100:1303])
    assert _without_sparser_overlaps([edges, table], lines) == [table]


def test_thin_strips_joined_around_a_table_do_not_make_one_cell_of_it() -> None:
    """A sheet's margin inside a table's double frame runs down one side and along the foot: its
    slots join through the gaps in the rulings into an L, whose bounding box is the whole table. Thin
    strips covering little of their box are cut into rectangles; a frame's wide margins around a
    table (which the reader then takes for a frame) stay one cell."""
    import cv2

    from timetable_platform.extraction.ocr.gridlines import _rectangles, find_tables

    page = np.full((900, 1500, 3), 255, np.uint8)
    _rule_grid(page, (120, 100), 6, 6, (200, 100), ink=0)  # x 120-1320, y 100-700
    cv2.line(page, (96, 100), (96, 724), (0, 0, 0), 3)  # the outer frame: left, 24 px out ...
    cv2.line(page, (96, 724), (1320, 724), (0, 0, 0), 3)  # ... and foot
    cv2.line(page, (1320, 700), (1320, 724), (0, 0, 0), 3)
    gray = cv2.cvtColor(page, cv2.COLOR_BGR2GRAY)
    (table,) = find_tables(gray, page)
    for a in table.cells:  # a grid's cells never overlap
        for b in table.cells:
            if a is not b:
                assert a.row + a.rowspan <= b.row or b.row + b.rowspan <= a.row or (
                    a.col + a.colspan <= b.col or b.col + b.colspan <= a.col
                )
    assert sum(1 for c in table.cells if c.box[2] - c.box[0] > 150 and c.box[3] - c.box[1] > 80) == 36
    # A ring of wide margins (rows 0 and 3, columns 0 and 3 of a 4 x 4 grid of 100 px slots) stays one cell.
    ring = [(r, c) for r in range(4) for c in range(4) if r in (0, 3) or c in (0, 3)]
    edges = [0, 100, 200, 300, 400]
    assert _rectangles(ring, edges, edges) == [(0, 0, 4, 4)]


def test_a_label_in_a_rounded_box_is_read_once() -> None:
    """Day names printed in rounded boxes (pills): each box's outline is a text block whose box holds
    the label, itself a block. The outline's crop reads the label; the label makes no second crop,
    whose reading would print the name twice."""
    import cv2

    from timetable_platform.extraction.readers.image import _text_blocks

    ink = np.zeros((300, 900), np.uint8)
    for left in (40, 480):
        cv2.rectangle(ink, (left, 40), (left + 380, 100), 255, 2)
        ink[63:77, left + 140 : left + 240] = 255  # the label, well inside its box
    # A sheet's edge round a block of print: no label's box (as tall as many lines).
    cv2.rectangle(ink, (30, 130), (860, 290), 255, 2)
    ink[200:214, 300:500] = 255
    blocks = _text_blocks(ink, 14.0, 0.9 * ink.size, resplit=False)
    boxes = [box for box, _ in blocks]
    assert len(blocks) == 4
    assert sum(y < 120 for _, y, _, _ in boxes) == 2  # the labels' boxes, no crop of their own ...
    for (x, y, _, _), own in blocks:
        if y < 120:
            assert own[70 - y, (190 if x < 400 else 630) - x]  # ... each read in its box's crop
    assert any(y > 190 and w < 300 for _, y, w, _ in boxes)  # the print in the sheet's edge: a block


def test_column_rules_outside_a_grid_end_text_blocks() -> None:
    """A table ruled only between its columns (zebra rows, no row lines) makes no grid, and its cells,
    set close to the rules, smear into text blocks running across the days. Long thin upright rules
    side by side, with print on both sides, end the blocks; a thick bar, an edge with print on one
    side only (a sheet's, a screen's) or a lone long line is no rule."""
    from timetable_platform.extraction.readers.image import _column_rules, _text_blocks

    ink = np.zeros((400, 960), np.uint8)
    vertical = np.zeros_like(ink)
    for top in (40, 100, 160, 220, 280, 340):
        for left in (60, 310, 560):
            ink[top : top + 14, left : left + 230] = 255  # a cell's line, closer to the rules than a smear's reach
    for x in (299, 549):
        ink[20:380, x : x + 3] = 255  # the rules between the columns, leaning one pixel
        ink[200:380, x + 3 : x + 4] = 255
        vertical[20:380, x - 2 : x + 6] = 255  # the ruling mask, wider than the rule itself
    ink[20:380, 10:12] = 255  # an edge left of the print, beyond a smear's reach
    vertical[20:380, 8:14] = 255
    ink[300:330, 880:920] = 255  # a thick bar, not a rule
    vertical[300:330, 880:920] = 255
    rules = _column_rules(vertical, ink, 14.0)
    assert rules[100, 300] and rules[100, 550] and not rules[315, 900] and not rules[100, 11]
    joined = _text_blocks(ink, 14.0, 0.9 * ink.size, resplit=False)
    assert any(x < 60 and x + w > 790 for (x, _, w, _), _ in joined)  # one block over the three columns
    apart = _text_blocks(np.where(rules, 0, ink).astype(np.uint8), 14.0, 0.9 * ink.size, resplit=False, barriers=rules)
    assert sum(x > 30 and x + w <= 300 for (x, _, w, _), _ in apart) == 6
    assert sum(x >= 300 and x + w <= 550 for (x, _, w, _), _ in apart) == 6
    lone = vertical.copy()
    lone[:, 540:560] = 0  # one rule left: an edge, not a table's columns
    assert not _column_rules(lone, ink, 14.0).any()

def test_a_cell_merged_across_part_of_a_grid_holding_a_whole_timetable_makes_the_grid_a_frame() -> None:
    """A photographed sheet's edge round a heading band and an unruled table: the band is one row, the
    table below it one cell merged across the columns that two day labels in boxes split off. That cell
    holds every day and time: the grid is a frame. A cell merged over every slot of a grid is not (the
    grid's own inner lines were missed)."""
    from timetable_platform.domain.layout import Page
    from timetable_platform.extraction.readers.image import _frames

    timetable = "Time Monday Tuesday Wednesday\n8:00 - 9:00 Maths Art\n9:00 - 10:00 French Music\n10:00 - 11:00 Latin"
    cells = [
        Cell(row=0, col=0, text="School of Arts", colspan=3),
        Cell(row=1, col=0, text=timetable, colspan=3),
        Cell(row=1, col=1, text="Tuesday"),
        Cell(row=1, col=2, text="Wednesday"),
    ]
    page = Page(number=1, width=1000, height=800, tables=[Table(n_rows=2, n_cols=3, cells=cells)])
    assert _frames(page) == frozenset({0})
    whole = Page(number=1, width=1000, height=800, tables=[Table(n_rows=2, n_cols=3, cells=[
        Cell(row=0, col=0, text=timetable, rowspan=2, colspan=3)])])  # fmt: skip
    assert _frames(whole) == frozenset()


def test_a_table_ruled_only_between_its_columns_is_read_cell_by_cell() -> None:
    """Zebra rows and rules only between the day columns: no grid is found, and each cell's print,
    set close to the rules, is a line of its own, not one line running across the days."""
    from PIL import ImageDraw

    from tests.corpusgen.degrade import font

    image = Image.new("RGB", (1240, 520), "white")
    draw = ImageDraw.Draw(image)
    regular, bold = font(22), font(22, bold=True)
    days = ("Monday", "Tuesday", "Wednesday")
    lessons = (("Chemistry Lab", "Geography", "Economics"), ("Literature", "Philosophy", "Statistics"),
               ("Psychology", "Sociology", "Astronomy"), ("Cell Biology", "Mechanics", "Accounting"))  # fmt: skip
    left, width = 220, 330
    for col, day in enumerate(days):
        draw.text((left + width * col + 90, 30), day, font=bold, fill="black")
    for row, subjects in enumerate(lessons):
        top = 100 + 95 * row
        if row % 2 == 0:
            draw.rectangle((left, top - 15, left + 3 * width, top + 65), fill=(236, 236, 236))
        draw.text((30, top + 10), f"{8 + row}:00 - {9 + row}:00", font=regular, fill="black")
        for col, subject in enumerate(subjects):
            name = f"{subject} - Course {row + 1}{col + 1}0"  # wide: it ends a few pixels from the rules
            shift = (width - draw.textlength(name, font=regular)) / 2
            draw.text((left + width * col + shift, top), name, font=regular, fill="black")
            draw.text((left + width * col + 120, top + 30), "Room 12", font=regular, fill="black")
    for col in (1, 2):
        x = left + width * col
        draw.line((x, 85, x, 85 + 95 * len(lessons)), fill="black", width=3)
    layout = read_image_layout(Document(encode(image, "PNG"), "image/png", "columns.png"), Limits(), languages="eng")
    page = layout.pages[0]
    assert page.tables == []
    texts = [line.text for line in page.lines]
    subjects = {subject for row in lessons for subject in row}
    assert all(sum(subject in text for subject in subjects) <= 1 for text in texts), texts
    assert sum(text.split(" - ")[0] in subjects for text in texts) >= 10, "|".join(texts)


def test_a_whole_cell_beside_a_period_split_for_two_batches_stays_whole() -> None:
    """One period printed as two halves for two batches cuts its day's row in two across the grid; the
    day's other cells are whole, their room atop the name and the teacher at the foot on either side of
    that cut. Most other columns end no cell there, so no separator was lost: the cell stays one. Where
    they all do, its own separator was lost, and it splits."""
    from timetable_platform.domain.layout import BBox, Line, Word
    from timetable_platform.extraction.ocr.gridlines import GridCell, GridTable
    from timetable_platform.extraction.readers.image import _split_false_merge

    cols = [0, 300, 600, 900, 1200]

    def grid(split_cols: set[int]) -> GridTable:
        cells = [GridCell(0, c, 1, 1, (cols[c], 0, cols[c + 1], 100)) for c in range(4)]
        for c in range(4):
            if c in split_cols:
                cells += [GridCell(1, c, 1, 1, (cols[c], 100, cols[c + 1], 160)),
                          GridCell(2, c, 1, 1, (cols[c], 160, cols[c + 1], 220))]  # fmt: skip
            else:
                cells.append(GridCell(1, c, 2, 1, (cols[c], 100, cols[c + 1], 220)))
        return GridTable(box=(0, 0, 1200, 220), row_edges=[0, 100, 160, 220], col_edges=cols, cells=cells)

    placed = {"R4": (6, 104, 40, 116), "Geometry": (90, 130, 210, 152), "KLR": (250, 200, 290, 212)}
    lines = [Line(words=[w], bbox=w.bbox) for w in (Word(t, BBox(*box), confidence=0.95) for t, box in placed.items())]
    whole = Cell(row=1, col=0, text="\n".join(ln.text for ln in lines), rowspan=2, bbox=BBox(0, 100, 300, 220), lines=lines)
    assert [c.rowspan for c in _split_false_merge(whole, grid({1}))] == [2]
    assert [c.rowspan for c in _split_false_merge(whole, grid({1, 2, 3}))] == [1, 1]


def test_a_rule_bent_to_two_heights_a_letter_apart_is_one_row_edge() -> None:
    """A curled sheet's top rule runs at one height on the left and a letter's height lower on the right;
    found at both heights it would make a strip of a row too thin for any print, which joins empty header
    cells into one cell over the whole header. Row edges are at least a line of print apart."""
    import cv2

    from timetable_platform.extraction.ocr.gridlines import find_tables

    page = np.full((700, 1300, 3), 255, np.uint8)
    _rule_grid(page, (100, 100), 5, 4, (220, 110), ink=0)  # x 100-1200, y 100-540
    page[98:103, 650:1203] = 255  # the top rule's right half ...
    cv2.line(page, (650, 114), (1200, 114), (0, 0, 0), 3)  # ... bent a letter's height lower
    for r in range(4):
        for c in range(5):
            cv2.putText(page, f"Cell {r}{c}", (130 + 220 * c, 170 + 110 * r), cv2.FONT_HERSHEY_SIMPLEX, 0.6, (0, 0, 0), 1)
    gray = cv2.cvtColor(page, cv2.COLOR_BGR2GRAY)
    (table,) = find_tables(gray, page)
    assert min(b - a for a, b in itertools.pairwise(table.row_edges)) > 40
    assert len(table.row_edges) == 5
