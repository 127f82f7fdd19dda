"""A small layout library for printable documents (copy reports, consent forms, letters).

It knows nothing of patients, the database or the clock: callers pass the words (in the
patient's language), the images as bytes and the creation date. Text is set in DejaVu Sans,
embedded and subset, so French and most names print; the document's metadata carries a title,
a language and the creator "clinphoto", never an author's name.

    doc = Document(title="Copie de votre dossier", language="fr", created_at=when,
                   page_words="page {page} de {pages}", footer="Clinique ...")
    doc.heading("Vos photos")
    doc.facts([("Date", "2026-11-30"), ("Site", "avant-bras gauche")])
    doc.image(jpeg_bytes, caption="Photo 1")
    pdf_bytes = doc.to_bytes()
"""

from __future__ import annotations

import io
from collections.abc import Sequence
from datetime import datetime
from pathlib import Path

from fpdf import FPDF
from fpdf.enums import XPos, YPos
from fpdf.fonts import FontFace
from PIL import Image

FONT_DIR = Path("/usr/share/fonts/truetype/dejavu")
FONT_REGULAR = FONT_DIR / "DejaVuSans.ttf"
FONT_BOLD = FONT_DIR / "DejaVuSans-Bold.ttf"
FAMILY = "DejaVu"
CREATOR = "clinphoto"

_BODY_SIZE = 10.0
_LINE = 5.0
_MARGIN = 18.0
_GREY = (90, 90, 90)
_MAX_IMAGE_PIXELS = 80_000_000


class DocumentError(ValueError):
    """The document could not be laid out (an unreadable image, a bad template)."""


class _Pages(FPDF):
    """FPDF with our footer: an optional line of text and the localized page count."""

    def __init__(self, footer: str | None, page_words: str) -> None:
        super().__init__(orientation="portrait", unit="mm", format="A4")
        self._footer_text = footer
        self._page_words = page_words

    def footer(self) -> None:
        self.set_y(-14)
        self.set_font(FAMILY, "", 8)
        self.set_text_color(*_GREY)
        if self._footer_text:
            self.cell(0, 4, self._footer_text, align="L")
            self.set_x(self.l_margin)
        words = self._page_words.format(page=self.page_no(), pages=self.str_alias_nb_pages)
        self.cell(0, 4, words, align="R")
        self.set_text_color(0, 0, 0)


class Document:
    """An A4 document built top to bottom; ``to_bytes()`` gives the PDF."""

    def __init__(
        self,
        *,
        title: str,
        language: str,
        created_at: datetime,
        subtitle: str | None = None,
        footer: str | None = None,
        page_words: str = "Page {page} of {pages}",
    ) -> None:
        if "{page}" not in page_words or "{pages}" not in page_words:
            raise DocumentError("page_words needs {page} and {pages}")
        if created_at.tzinfo is None:
            raise DocumentError("created_at must be timezone-aware")
        pdf = _Pages(footer, page_words)
        pdf.add_font(FAMILY, "", str(FONT_REGULAR))
        pdf.add_font(FAMILY, "B", str(FONT_BOLD))
        pdf.set_margins(_MARGIN, _MARGIN, _MARGIN)
        pdf.set_auto_page_break(auto=True, margin=20)
        pdf.set_title(title)
        pdf.set_lang(language)
        pdf.set_creator(CREATOR)
        pdf.set_producer(CREATOR)
        pdf.set_creation_date(created_at)
        pdf.add_page()
        self._pdf = pdf
        self._write(title, size=18, bold=True, line=8)
        if subtitle:
            self._write(subtitle, size=12, line=6, colour=_GREY)
        self.space(4)

    @property
    def width(self) -> float:
        """The usable width of a page, in millimetres."""
        return float(self._pdf.epw)

    def _write(
        self,
        text: str,
        *,
        size: float = _BODY_SIZE,
        bold: bool = False,
        line: float = _LINE,
        colour: tuple[int, int, int] = (0, 0, 0),
    ) -> None:
        pdf = self._pdf
        pdf.set_font(FAMILY, "B" if bold else "", size)
        pdf.set_text_color(*colour)
        pdf.multi_cell(0, line, text, align="L", new_x=XPos.LMARGIN, new_y=YPos.NEXT)
        pdf.set_text_color(0, 0, 0)

    def space(self, millimetres: float = 3.0) -> None:
        self._pdf.ln(millimetres)

    def page_break(self) -> None:
        self._pdf.add_page()

    def heading(self, text: str, level: int = 1) -> None:
        """A heading; it starts a new page rather than sit alone at the bottom of one."""
        size = {1: 14.0, 2: 12.0}.get(level, 11.0)
        self._keep_room(size + 20)
        self.space(3 if level == 1 else 2)
        self._write(text, size=size, bold=True, line=size * 0.5)
        self.space(1.5)

    def paragraph(self, text: str, *, small: bool = False) -> None:
        self._write(text, size=8.5 if small else _BODY_SIZE, line=4.2 if small else _LINE)
        self.space(2)

    def facts(self, rows: Sequence[tuple[str, str]], *, label_width: float = 0.32) -> None:
        """A two-column table of label and value, labels in bold, no header row."""
        if not rows:
            return
        widths = (label_width, 1.0 - label_width)
        self._grid(None, [list(row) for row in rows], widths, bold_first_column=True)

    def table(
        self,
        header: Sequence[str],
        rows: Sequence[Sequence[str]],
        *,
        widths: Sequence[float] | None = None,
    ) -> None:
        """A table whose header row repeats on each page it runs onto.

        ``widths`` are fractions of the page width (they need not sum to 1, they are scaled).
        """
        if widths is not None and len(widths) != len(header):
            raise DocumentError("one width per column")
        if any(len(row) != len(header) for row in rows):
            raise DocumentError("every row needs one cell per column")
        self._grid(list(header), [list(row) for row in rows], widths, bold_first_column=False)

    def _grid(
        self,
        header: list[str] | None,
        rows: list[list[str]],
        widths: Sequence[float] | None,
        *,
        bold_first_column: bool,
    ) -> None:
        pdf = self._pdf
        columns = len(header) if header is not None else len(rows[0])
        fractions = list(widths) if widths is not None else [1.0] * columns
        total = sum(fractions)
        col_widths = tuple(self.width * f / total for f in fractions)
        pdf.set_font(FAMILY, "", 9)
        bold = FontFace(family=FAMILY, emphasis="BOLD")
        with pdf.table(
            col_widths=col_widths,
            width=self.width,
            first_row_as_headings=header is not None,
            headings_style=FontFace(family=FAMILY, emphasis="BOLD", fill_color=(230, 230, 230)),
            repeat_headings=1,
            line_height=4.6,
            text_align="LEFT",
            padding=1.2,
            borders_layout="HORIZONTAL_LINES",
        ) as grid:
            if header is not None:
                head = grid.row()
                for cell in header:
                    head.cell(cell)
            for row in rows:
                line = grid.row()
                for index, cell in enumerate(row):
                    line.cell(cell, style=bold if bold_first_column and index == 0 else None)
        self.space(3)

    def image(
        self,
        data: bytes,
        *,
        caption: str | None = None,
        max_height: float = 120.0,
        max_width: float | None = None,
    ) -> None:
        """A JPEG or PNG scaled to fit the page width and ``max_height`` (mm), caption below."""
        width_px, height_px = _image_size(data)
        limit_w = min(self.width, max_width) if max_width else self.width
        scale = min(limit_w / width_px, max_height / height_px)
        w, h = width_px * scale, height_px * scale
        self._keep_room(h + (10 if caption else 2))
        pdf = self._pdf
        x = pdf.l_margin + (self.width - w) / 2 if max_width is None else pdf.l_margin
        pdf.image(io.BytesIO(data), x=x, y=pdf.get_y(), w=w, h=h, alt_text=caption)
        pdf.set_y(pdf.get_y() + h + 1.5)
        if caption:
            self._write(caption, size=8.5, line=4.2, colour=_GREY)
        self.space(3)

    def signature(self, data: bytes, *, label: str, signer: str | None = None) -> None:
        """A signature image in a small box with a label (and the signer's name) under it."""
        self._keep_room(45)
        pdf = self._pdf
        top = pdf.get_y()
        box_w, box_h = 80.0, 30.0
        pdf.set_draw_color(*_GREY)
        pdf.rect(pdf.l_margin, top, box_w, box_h)
        width_px, height_px = _image_size(data)
        scale = min((box_w - 4) / width_px, (box_h - 4) / height_px)
        w, h = width_px * scale, height_px * scale
        pdf.image(
            io.BytesIO(data),
            x=pdf.l_margin + (box_w - w) / 2,
            y=top + (box_h - h) / 2,
            w=w,
            h=h,
            alt_text=label,
        )
        pdf.set_y(top + box_h + 1.5)
        self._write(label if not signer else f"{label}: {signer}", size=8.5, line=4.2)
        self.space(3)

    def _keep_room(self, height: float) -> None:
        pdf = self._pdf
        if pdf.get_y() + height > pdf.page_break_trigger:
            pdf.add_page()

    def to_bytes(self) -> bytes:
        return bytes(self._pdf.output())


def _image_size(data: bytes) -> tuple[int, int]:
    """Width and height in pixels of a JPEG or PNG, refusing anything else."""
    try:
        with Image.open(io.BytesIO(data)) as image:
            if image.format not in ("JPEG", "PNG"):
                raise DocumentError("only JPEG and PNG images go into documents")
            width, height = image.size
    except DocumentError:
        raise
    except Exception as exc:  # Pillow raises many types for a bad file
        raise DocumentError("unreadable image") from exc
    if width <= 0 or height <= 0 or width * height > _MAX_IMAGE_PIXELS:
        raise DocumentError("image size out of bounds")
    return width, height
