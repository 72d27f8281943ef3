"""OCR engines behind two small interfaces: read many small crops (table cells, text blocks) at once,
or read a whole page with the engine's own text detector.

Tesseract pays a layout pass per call (and, through its command line, a process start and a model
load), so ``TesseractEngine`` stacks all crops into one tall sheet with white gaps, reads it in a
single call and maps each word back to its crop. It reads in-process through tesserocr when that is
installed (one loaded model per thread and language, kept), else through the ``tesseract`` command.
``read_page`` gives each engine the whole page instead (Tesseract's page segmentation, RapidOCR's DB
text detector), so the engines can be compared on what they find themselves.
RapidOCR (optional extra ``ocr-alt``) is kept for the engine comparison in ``bench/``.
"""

from __future__ import annotations

import os
import re
import subprocess
import tempfile
import threading
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from functools import cache
from typing import Any, Protocol

import cv2
import numpy as np

from timetable_platform.extraction.errors import BackendError

# OCR reads best when lower-case letters are about this tall; smaller crops are upscaled.
TARGET_TEXT_HEIGHT = 26
GAP = 28  # white rows between stacked crops; larger than any word spacing Tesseract would bridge
MAX_SHEET_HEIGHT = 30000  # Tesseract/leptonica limit is 32767 per side


@dataclass
class OcrWord:
    """A word in its crop's pixel coordinates (after the crop's own upscaling is undone)."""

    text: str
    box: tuple[float, float, float, float]  # x0, y0, x1, y1
    confidence: float  # 0..1
    line: int  # line index inside the crop, reading order


class OcrEngine(Protocol):
    name: str

    def read_crops(
        self, crops: list[np.ndarray], scales: list[float], *, charset: str | None = None
    ) -> list[list[OcrWord]]:
        """Words per crop; ``scales`` says by how much to enlarge each crop before reading; ``charset``,
        when the engine can, limits what it may read (the characters of a clock time, say)."""
        ...


class PageOcrEngine(Protocol):
    name: str

    def read_page(self, page: np.ndarray, scale: float = 1.0) -> list[OcrWord]:
        """Words of a whole page found by the engine's own text detector, in page pixels; ``line`` numbers
        the engine's text lines across the page. ``scale`` enlarges the page before reading."""
        ...


def page_scale(char_height: float | None, page_shape: tuple[int, ...]) -> float:
    """By how much to enlarge a whole page so that its typical letter reaches ``TARGET_TEXT_HEIGHT``
    (the rule crops follow), within 1..3 and within Tesseract's size limit."""
    if not char_height:
        return 1.0
    scale = float(np.clip(TARGET_TEXT_HEIGHT / char_height, 1.0, 3.0))
    return min(scale, MAX_SHEET_HEIGHT / max(page_shape[:2]))


@cache
def _list_langs() -> list[str]:
    try:
        done = subprocess.run(["tesseract", "--list-langs"], capture_output=True, text=True, timeout=20, check=False)
    except (OSError, subprocess.SubprocessError):
        return []
    return (done.stdout or done.stderr).splitlines()


def installed_languages() -> frozenset[str]:
    """The language models this machine's Tesseract has ('eng', 'deu', ...); empty when it cannot say."""
    lines = _list_langs()
    return frozenset(line.strip() for line in lines[1:] if line.strip() and " " not in line.strip())


@cache
def tessdata_dir() -> str | None:
    """Where this machine's Tesseract keeps its language models: ``TESSDATA_PREFIX``, else what
    ``tesseract --list-langs`` names ('List of available languages in "/usr/share/.../tessdata/"')."""
    if prefix := os.environ.get("TESSDATA_PREFIX"):
        return prefix
    lines = _list_langs()
    found = re.search(r'"([^"]+)"', lines[0]) if lines else None
    return found.group(1) if found and os.path.isdir(found.group(1)) else None


# The columns of Tesseract's TSV output; the API's TSV has no header row.
_TSV_COLUMNS = (
    "level", "page_num", "block_num", "par_num", "line_num", "word_num",
    "left", "top", "width", "height", "conf", "text",
)  # fmt: skip
_apis = threading.local()


def _tesserocr() -> Any | None:
    """The tesserocr module, or None where it is not installed (the command line is used then)."""
    # Before the library loads: one thread per read, as with the command line (callers run reads in parallel).
    os.environ.setdefault("OMP_THREAD_LIMIT", "1")
    try:
        import tesserocr
    except ImportError:
        return None
    return tesserocr


class TesseractEngine:
    """Tesseract 5 (LSTM) through its command line: crops stacked into sheets, sheets read in parallel."""

    name = "tesseract"

    def __init__(
        self,
        languages: str = "eng",
        psm: int = 6,
        timeout: float = 120.0,
        workers: int = 1,
        *,
        in_process: bool | None = None,
    ) -> None:
        self.languages = languages
        self.psm = psm
        self.timeout = timeout
        self.workers = max(1, workers)
        # None: in-process when tesserocr and the models are found; False: always the command line.
        self.in_process = in_process is not False and _tesserocr() is not None and tessdata_dir() is not None
        if in_process and not self.in_process:
            raise BackendError("tesserocr or Tesseract's language models are not installed (see `make install`).")

    def read_crops(
        self, crops: list[np.ndarray], scales: list[float], *, charset: str | None = None
    ) -> list[list[OcrWord]]:
        results: list[list[OcrWord]] = [[] for _ in crops]
        if not crops:
            return results
        # Split into sheets of similar height, one per worker, each under Tesseract's size limit.
        heights = [int(c.shape[0] * s) + GAP for c, s in zip(crops, scales, strict=True)]
        per_sheet = min(MAX_SHEET_HEIGHT, sum(heights) // self.workers + 1)
        sheets: list[list[int]] = [[]]
        used = 0
        for index, height in enumerate(heights):
            if sheets[-1] and used + height > per_sheet:
                sheets.append([])
                used = 0
            sheets[-1].append(index)
            used += height
        if len(sheets) == 1:
            self._read_sheet(crops, scales, sheets[0], results, charset)
        else:
            with ThreadPoolExecutor(max_workers=self.workers) as pool:
                jobs = [pool.submit(self._read_sheet, crops, scales, batch, results, charset) for batch in sheets]
                for future in jobs:
                    future.result()
        return results

    def _run(self, sheet: np.ndarray, charset: str | None = None) -> list[dict[str, str]]:
        if self.in_process:
            return self._run_in_process(sheet, charset)
        with tempfile.TemporaryDirectory(prefix="timetable-ocr-") as tmp:
            path = os.path.join(tmp, "sheet.png")
            cv2.imwrite(path, sheet, [cv2.IMWRITE_PNG_COMPRESSION, 1])
            command = [
                "tesseract", path, "stdout", "-l", self.languages, "--psm", str(self.psm), "--oem", "1",
                "-c", "preserve_interword_spaces=1",
                *(["-c", f"tessedit_char_whitelist={charset}"] if charset else []), "tsv",
            ]
            # One thread per process: the sheets already run in parallel, and the machine is shared.
            env = {**os.environ, "OMP_THREAD_LIMIT": "1"}
            try:
                done = subprocess.run(command, capture_output=True, timeout=self.timeout, env=env, check=False)
            except FileNotFoundError as exc:
                raise BackendError("Tesseract is not installed (see `make system-deps`).", detail=str(exc)) from exc
            except subprocess.TimeoutExpired as exc:
                raise BackendError("Tesseract timed out reading the page.", detail=str(exc), transient=True) from exc
        if done.returncode != 0:
            raise BackendError("Tesseract failed to read the page.", detail=done.stderr.decode(errors="replace")[-500:])
        rows = done.stdout.decode("utf-8", errors="replace").splitlines()
        if not rows:
            return []
        header = rows[0].split("\t")
        return [dict(zip(header, row.split("\t"), strict=False)) for row in rows[1:]]

    def _api(self) -> Any:
        """This thread's loaded model for the engine's languages and page segmentation mode."""
        cache: dict[tuple[str, int], Any] = _apis.__dict__.setdefault("by_key", {})
        key = (self.languages, self.psm)
        if key not in cache:
            tesserocr = _tesserocr()
            try:
                api = tesserocr.PyTessBaseAPI(
                    path=tessdata_dir(), lang=self.languages, psm=self.psm, oem=tesserocr.OEM.LSTM_ONLY
                )
            except RuntimeError as exc:
                raise BackendError(f"Tesseract could not load the language models {self.languages!r}.", detail=str(exc)) from exc
            api.SetVariable("preserve_interword_spaces", "1")
            cache[key] = api
        return cache[key]

    def _run_in_process(self, sheet: np.ndarray, charset: str | None) -> list[dict[str, str]]:
        from PIL import Image

        api = self._api()
        api.SetVariable("tessedit_char_whitelist", charset or "")
        try:
            api.SetImage(Image.fromarray(sheet))
            if not api.Recognize(timeout=int(self.timeout * 1000)):
                raise BackendError("Tesseract timed out reading the page.", transient=True)
            tsv = api.GetTSVText(0)
        finally:
            api.Clear()
        return [dict(zip(_TSV_COLUMNS, row.split("\t"), strict=False)) for row in tsv.splitlines()]

    def read_page(self, page: np.ndarray, scale: float = 1.0) -> list[OcrWord]:
        """The whole page in one call: Tesseract's own page segmentation (``psm``) finds the text."""
        image = _scaled(page, scale)
        words: list[OcrWord] = []
        line_ids: dict[tuple[str, str, str], int] = {}
        for row in self._run(image):
            parsed = _tsv_word(row)
            if parsed is None:
                continue
            text, confidence, (left, top, width, height) = parsed
            key = (row.get("block_num", ""), row.get("par_num", ""), row.get("line_num", ""))
            line = line_ids.setdefault(key, len(line_ids))
            box = (left / scale, top / scale, (left + width) / scale, (top + height) / scale)
            words.append(OcrWord(text=text, box=box, confidence=confidence, line=line))
        return words

    def _read_sheet(
        self,
        crops: list[np.ndarray],
        scales: list[float],
        batch: list[int],
        results: list[list[OcrWord]],
        charset: str | None = None,
    ) -> None:
        scaled = [_scaled(crops[i], scales[i]) for i in batch]
        width = max(c.shape[1] for c in scaled) + 2 * GAP
        height = sum(c.shape[0] + GAP for c in scaled) + GAP
        sheet = np.full((height, width), 255, np.uint8)
        bands: list[tuple[int, int, int]] = []  # (top, bottom, crop index)
        y = GAP
        for index, crop in zip(batch, scaled, strict=True):
            sheet[y : y + crop.shape[0], GAP : GAP + crop.shape[1]] = crop
            bands.append((y, y + crop.shape[0], index))
            y += crop.shape[0] + GAP

        tops = [band[0] for band in bands]
        line_ids: dict[tuple[int, str, str, str], int] = {}
        lines_per_crop: dict[int, int] = {}
        for row in self._run(sheet, charset):
            parsed = _tsv_word(row)
            if parsed is None:
                continue
            text, confidence, (left, top, w, h) = parsed
            centre = top + h / 2
            slot = int(np.searchsorted(tops, centre, side="right")) - 1
            if slot < 0:
                continue
            band_top, band_bottom, index = bands[slot]
            if centre > band_bottom:
                continue
            scale = scales[index]
            key = (index, row.get("block_num", ""), row.get("par_num", ""), row.get("line_num", ""))
            if key not in line_ids:
                line_ids[key] = lines_per_crop.get(index, 0)
                lines_per_crop[index] = line_ids[key] + 1
            results[index].append(
                OcrWord(
                    text=text,
                    box=(
                        (left - GAP) / scale,
                        (top - band_top) / scale,
                        (left + w - GAP) / scale,
                        (top + h - band_top) / scale,
                    ),
                    confidence=confidence,
                    line=line_ids[key],
                )
            )


class RapidOcrEngine:
    """RapidOCR (ONNX models shipped in the wheel); one call per crop. Optional extra ``ocr-alt``."""

    name = "rapidocr"

    def __init__(self) -> None:
        try:
            from rapidocr_onnxruntime import RapidOCR
        except ImportError as exc:  # pragma: no cover - optional extra
            raise BackendError("RapidOCR is not installed (pip install '.[ocr-alt]').") from exc
        self._ocr = RapidOCR()

    def read_page(self, page: np.ndarray, scale: float = 1.0) -> list[OcrWord]:
        """The whole page in one call: RapidOCR's text detector finds the lines, its recogniser reads them."""
        image = _scaled(page, scale)
        colour = cv2.cvtColor(image, cv2.COLOR_GRAY2BGR) if image.ndim == 2 else image
        # No line classifier: pages reach OCR upright (``preprocess.prepare_page``), and the classifier
        # turns point-symmetric lines upside down ("09:00" read as "00:60").
        found, _ = self._ocr(colour, use_cls=False, return_word_box=True)
        words: list[OcrWord] = []
        for line_index, item in enumerate(found or []):
            points, text, score = item[0], str(item[1]), float(item[2])
            xs, ys = [p[0] for p in points], [p[1] for p in points]
            line_box = (min(xs), min(ys), max(xs), max(ys))
            pieces = _word_pieces(item[3], item[4]) if len(item) >= 5 else None
            if not pieces:
                pieces = _proportional_words(text, line_box)
            for token, (x0, y0, x1, y1) in pieces:
                words.append(OcrWord(token, (x0 / scale, y0 / scale, x1 / scale, y1 / scale), score, line_index))
        return words

    def read_crops(
        self, crops: list[np.ndarray], scales: list[float], *, charset: str | None = None
    ) -> list[list[OcrWord]]:
        # RapidOCR's recogniser has no character limit: ``charset`` is ignored, the callers check what it read.
        results: list[list[OcrWord]] = []
        for crop, scale in zip(crops, scales, strict=True):
            image = _scaled(crop, scale)
            # A margin helps the detector find text that touches the crop edge.
            image = cv2.copyMakeBorder(image, 16, 16, 16, 16, cv2.BORDER_CONSTANT, value=255)
            found, _ = self._ocr(cv2.cvtColor(image, cv2.COLOR_GRAY2BGR))
            words: list[OcrWord] = []
            for line_index, (points, text, score) in enumerate(sorted(found or [], key=lambda f: f[0][0][1])):
                xs = [p[0] - 16 for p in points]
                ys = [p[1] - 16 for p in points]
                box = (min(xs) / scale, min(ys) / scale, max(xs) / scale, max(ys) / scale)
                # RapidOCR returns text lines; split into words with proportional boxes.
                for token, word_box in _proportional_words(text, box):
                    words.append(OcrWord(token, word_box, float(score), line_index))
            results.append(words)
        return results


Box = tuple[float, float, float, float]


def _proportional_words(text: str, box: Box) -> list[tuple[str, Box]]:
    """A text line's words with boxes that share the line's width by their length."""
    tokens = text.split()
    total = sum(len(t) for t in tokens) or 1
    x = box[0]
    out: list[tuple[str, Box]] = []
    for token in tokens:
        width = (box[2] - box[0]) * len(token) / total
        out.append((token, (x, box[1], x + width, box[3])))
        x += width
    return out


def _word_pieces(boxes: object, texts: object) -> list[tuple[str, Box]] | None:
    """Words from RapidOCR's per-character (Latin: sometimes per-word) boxes: pieces run together until a
    blank piece; None when the boxes do not match the texts."""
    if not isinstance(boxes, list) or not isinstance(texts, list) or len(boxes) != len(texts) or not boxes:
        return None
    out: list[tuple[str, Box]] = []
    current_text, current_box = "", None
    for points, piece in zip(boxes, texts, strict=True):
        piece = str(piece)
        if not piece.strip():
            if current_box is not None:
                out.append((current_text, current_box))
            current_text, current_box = "", None
            continue
        xs, ys = [p[0] for p in points], [p[1] for p in points]
        box = (float(min(xs)), float(min(ys)), float(max(xs)), float(max(ys)))
        if len(piece.strip()) > 1:  # a word-level piece is a word of its own
            if current_box is not None:
                out.append((current_text, current_box))
            out.append((piece.strip(), box))
            current_text, current_box = "", None
            continue
        current_text += piece
        current_box = box if current_box is None else (
            min(current_box[0], box[0]), min(current_box[1], box[1]),
            max(current_box[2], box[2]), max(current_box[3], box[3]),
        )
    if current_box is not None:
        out.append((current_text, current_box))
    return out


def _tsv_word(row: dict[str, str]) -> tuple[str, float, tuple[int, int, int, int]] | None:
    """(text, confidence 0..1, (left, top, width, height)) of a Tesseract TSV word row; None for
    layout rows (blocks, lines) and blanks."""
    text = (row.get("text") or "").strip()
    try:
        conf = float(row.get("conf", "-1"))
        left, top = int(row["left"]), int(row["top"])
        width, height = int(row["width"]), int(row["height"])
    except (KeyError, ValueError):
        return None
    if not text or conf < 0:
        return None
    return text, max(0.0, min(1.0, conf / 100.0)), (left, top, width, height)


def _scaled(crop: np.ndarray, scale: float) -> np.ndarray:
    if abs(scale - 1.0) < 0.05:
        return crop
    interpolation = cv2.INTER_CUBIC if scale > 1 else cv2.INTER_AREA
    return cv2.resize(crop, None, fx=scale, fy=scale, interpolation=interpolation)
