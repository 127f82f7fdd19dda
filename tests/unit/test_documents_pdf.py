"""The PDF layout library, read back with poppler (pdftotext, pdfimages, pdftoppm, pdfinfo).

Printed copies and consent forms (RET-4, AUD-3, CON-2) must carry French accents intact, the
images themselves, and metadata with no author's name.
"""

from __future__ import annotations

import io
import re
import subprocess
from datetime import UTC, datetime
from pathlib import Path

import pytest
from PIL import Image, ImageDraw

from clinphoto.documents.pdf import Document, DocumentError

WHEN = datetime(2026, 11, 30, 6, 0, tzinfo=UTC)


def _jpeg(size: tuple[int, int] = (1200, 900)) -> bytes:
    image = Image.new("RGB", size, (196, 152, 128))
    ImageDraw.Draw(image).ellipse((300, 200, 900, 700), fill=(120, 40, 40))
    out = io.BytesIO()
    image.save(out, "JPEG", quality=85)
    return out.getvalue()


def _signature_png() -> bytes:
    image = Image.new("L", (400, 120), 255)
    ImageDraw.Draw(image).line((10, 100, 120, 20, 220, 90, 390, 30), fill=0, width=4)
    out = io.BytesIO()
    image.save(out, "PNG")
    return out.getvalue()


def _french_document(rows: int = 3) -> bytes:
    doc = Document(
        title="Copie de votre dossier photographique",
        subtitle="Demande reçue le 30 novembre 2026",
        language="fr-CA",
        created_at=WHEN,
        footer="Clinique Saint-Élie — confidentiel",
        page_words="page {page} de {pages}",
    )
    doc.heading("Vos photos")
    doc.paragraph("Ces images sont la version épurée (métadonnées retirées) conservée au dossier.")
    doc.facts(
        [
            ("Date", "2026-11-29"),
            ("Site anatomique", "avant-bras gauche"),
            ("Rencontre", "Suivi de plaie"),
        ]
    )
    doc.image(_jpeg(), caption="Photo 1 — plaie, avant-bras gauche")
    doc.heading("Qui a consulté vos photos")
    doc.table(
        ["Quand", "Qui", "Rôle", "Quoi"],
        [
            [f"2026-11-{i % 28 + 1:02d}", "Dre Hélène Côté-Ngô", "médecin", "a vu la photo"]
            for i in range(rows)
        ],
        widths=[1, 1.4, 0.8, 1.2],
    )
    doc.signature(_signature_png(), label="Signature du patient", signer="François Lévesque")
    return doc.to_bytes()


def _run(args: list[str], tmp_path: Path, pdf: bytes) -> str:
    path = tmp_path / "doc.pdf"
    path.write_bytes(pdf)
    return subprocess.run(
        [*args, str(path), *([] if args[0] != "pdftotext" else ["-"])],
        check=True,
        capture_output=True,
        text=True,
    ).stdout


def test_french_text_is_extracted_with_accents_intact(tmp_path: Path) -> None:
    text = _run(["pdftotext", "-layout"], tmp_path, _french_document())
    for words in (
        "Copie de votre dossier photographique",
        "Demande reçue le 30 novembre 2026",
        "version épurée (métadonnées retirées)",
        "Qui a consulté vos photos",
        "Dre Hélène Côté-Ngô",
        "François Lévesque",
        "Clinique Saint-Élie — confidentiel",
    ):
        assert words in text
    assert re.search(r"page 1 de \d+", text)


def test_long_table_runs_onto_more_pages_with_the_page_count_localized(tmp_path: Path) -> None:
    pdf = _french_document(rows=120)
    text = _run(["pdftotext", "-layout"], tmp_path, pdf)
    pages = int(_run(["pdfinfo"], tmp_path, pdf).split("Pages:")[1].split()[0])
    assert pages >= 3
    assert f"page 1 de {pages}" in text
    assert f"page {pages} de {pages}" in text
    # the header row repeats on each page the table runs onto
    assert text.count("Quand") >= pages - 1


def test_the_photo_and_the_signature_are_embedded_images(tmp_path: Path) -> None:
    listing = _run(["pdfimages", "-list"], tmp_path, _french_document()).splitlines()[2:]
    images = [line.split() for line in listing if line.split()[2] == "image"]
    assert len(images) == 2
    sizes = {(int(row[3]), int(row[4])) for row in images}
    assert sizes == {(1200, 900), (400, 120)}
    assert any(row[8] == "jpeg" for row in images)


def test_first_page_renders_to_a_non_blank_image(tmp_path: Path) -> None:
    (tmp_path / "doc.pdf").write_bytes(_french_document())
    subprocess.run(
        [
            "pdftoppm",
            "-r",
            "50",
            "-f",
            "1",
            "-l",
            "1",
            "-png",
            str(tmp_path / "doc.pdf"),
            str(tmp_path / "page"),
        ],
        check=True,
    )
    [page] = list(tmp_path.glob("page*.png"))
    with Image.open(page) as image:
        grey = image.convert("L")
    dark = sum(grey.histogram()[:128])
    assert dark > 0.01 * grey.width * grey.height


def test_metadata_has_title_language_creator_and_date_but_no_author(tmp_path: Path) -> None:
    pdf = _french_document()
    info = _run(["pdfinfo", "-isodates"], tmp_path, pdf)
    assert "Copie de votre dossier photographique" in info
    assert "Creator:         clinphoto" in info
    assert "2026-11-30T06:00:00" in info
    assert "Author:" not in info
    assert b"/Lang (fr-CA)" in pdf or b"/Lang (fr-CA" in pdf.replace(b"\\", b"")
    # fonts are embedded and subset (a "+"-prefixed subset name)
    fonts = _run(["pdffonts"], tmp_path, pdf)
    assert "DejaVuSans" in fonts
    assert "+" in fonts
    assert all(" yes " in line for line in fonts.splitlines()[2:] if line.strip())


def test_same_inputs_give_the_same_pdf() -> None:
    assert _french_document() == _french_document()


def test_refuses_what_is_not_a_jpeg_or_png() -> None:
    doc = Document(title="x", language="en", created_at=WHEN)
    gif = io.BytesIO()
    Image.new("RGB", (10, 10)).save(gif, "GIF")
    with pytest.raises(DocumentError):
        doc.image(gif.getvalue())
    with pytest.raises(DocumentError):
        doc.image(b"not an image")


def test_refuses_a_naive_creation_date_and_a_page_template_without_counts() -> None:
    with pytest.raises(DocumentError):
        Document(title="x", language="en", created_at=datetime(2026, 11, 30))
    with pytest.raises(DocumentError):
        Document(title="x", language="en", created_at=WHEN, page_words="page")
