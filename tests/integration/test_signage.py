"""In-store signs: print-ready PDFs whose QR decodes to the program's join page; the receipt sign."""

from __future__ import annotations

import io
import shutil
import subprocess
import tempfile
from pathlib import Path

import pytest
import sqlalchemy as sa
import zxingcpp
from click.testing import CliRunner
from flask import Flask
from PIL import Image

from pos_referral.bootstrap import Store
from pos_referral.cli import main
from pos_referral.config import load_settings
from pos_referral.db.models import PrintJob
from pos_referral.printing import fonts
from pos_referral.services.promo import signage
from pos_referral.services.unit_of_work import UnitOfWork

needs_poppler = pytest.mark.skipif(shutil.which("pdftoppm") is None,
                                   reason="pdftoppm (Debian poppler-utils) renders the PDF for the QR decoder")


def render_page(pdf: bytes, dpi: int = 100) -> Image.Image:
    """The PDF's page as pixels, as a printer would put it on paper (poppler's pdftoppm)."""
    with tempfile.TemporaryDirectory() as tmp:
        source = Path(tmp) / "sign.pdf"
        source.write_bytes(pdf)
        subprocess.run(["pdftoppm", "-r", str(dpi), "-png", "-singlefile", str(source), str(Path(tmp) / "page")],
                       capture_output=True, check=True, timeout=60)
        return Image.open(io.BytesIO((Path(tmp) / "page.png").read_bytes()))


def page_size_mm(pdf: bytes) -> tuple[float, float]:
    box = pdf.split(b"/MediaBox [", 1)[1].split(b"]", 1)[0].split()
    return round(float(box[2]) / 72 * 25.4), round(float(box[3]) / 72 * 25.4)


@needs_poppler
@pytest.mark.parametrize("size", list(signage.SIZES))
def test_sign_pdf_qr_leads_to_the_join_page(config_path: Path, tmp_path: Path, size: str) -> None:
    out = tmp_path / f"sign-{size}.pdf"
    result = CliRunner().invoke(main, ["--config", str(config_path), "--data-dir", str(tmp_path / "data"),
                                       "signage", "--size", size, "--out", str(out),
                                       "--base-url", "https://shop.example"])
    assert result.exit_code == 0, result.output
    pdf = out.read_bytes()
    assert pdf.startswith(b"%PDF-")
    assert page_size_mm(pdf) == signage.SIZES[size]
    decoded = zxingcpp.read_barcodes(render_page(pdf))
    assert [d.text for d in decoded] == ["https://shop.example/join"]


@needs_poppler
@pytest.mark.parametrize("lang", ["th", "pl", "nb"])
def test_signs_in_other_scripts_render_and_scan(config_path: Path, tmp_path: Path, lang: str) -> None:
    settings = load_settings(config_path, data_dir=tmp_path / "data", environ={},
                             overrides={"store": {"public_base_url": "https://shop.example/"}})
    url = signage.join_url(settings, settings.default_program)
    with fonts.using(fonts.FontLibrary([fonts.SHIPPED])):  # a fresh machine: only the package's own fonts
        pdf = signage.sign_pdf(settings, settings.default_program, size="counter-card", lang=lang, url=url)
    assert [d.text for d in zxingcpp.read_barcodes(render_page(pdf, 200))] == ["https://shop.example/join"]
    text = signage.sign_text(settings, settings.default_program, lang)
    assert len(text.steps) == 3 and text.headline and text.steps_title


def test_signage_needs_a_public_address(config_path: Path, tmp_path: Path) -> None:
    result = CliRunner().invoke(main, ["--config", str(config_path), "--data-dir", str(tmp_path / "data"),
                                       "signage", "--size", "A5", "--out", str(tmp_path / "x.pdf")])
    assert result.exit_code != 0 and "public_base_url" in result.output
    bad = CliRunner().invoke(main, ["--config", str(config_path), "signage", "--size", "A3", "--out", "x.pdf"])
    assert bad.exit_code == 2


def test_join_page_is_public_and_shows_the_three_steps(app: Flask) -> None:
    page = app.test_client().get("/join", headers={"Accept-Language": "it-IT,it;q=0.9"})
    html = page.get_data(as_text=True)
    assert page.status_code == 200 and "Chiedi alla cassa" in html and "Content-Security-Policy" in page.headers
    assert app.test_client().get("/join/bring-a-friend").status_code == 200
    assert app.test_client().get("/join/nope").status_code == 404


def test_printer_sign_and_staff_guide_are_queued(config_path: Path, tmp_path: Path) -> None:
    args = ["--config", str(config_path), "--data-dir", str(tmp_path / "data"), "printer"]
    sign = CliRunner().invoke(main, [*args, "sign", "--base-url", "https://shop.example", "--lang", "pl"])
    assert sign.exit_code == 0 and "print job" in sign.output, sign.output
    guide = CliRunner().invoke(main, [*args, "staff-guide"])
    assert guide.exit_code == 0, guide.output
    settings = load_settings(config_path, data_dir=tmp_path / "data", environ={})
    from pos_referral.bootstrap import build_store

    store: Store = build_store(settings)
    try:
        with UnitOfWork(store.db, write=False) as read:
            session = read.session
            jobs = {job.template: job.context for job in session.scalars(sa.select(PrintJob))}
    finally:
        store.close()
    assert jobs["sign"]["url"] == "https://shop.example/join" and len(jobs["sign"]["steps"]) == 3
    assert jobs["sign"]["steps_title"] == "Jak to działa"
    assert jobs["staff_guide"]["demos"]


def test_receipt_templates_exist() -> None:
    from pos_referral.resources import templates_dir

    for name in ("sign.receipt", "staff_guide.receipt"):
        text = (templates_dir() / name).read_text(encoding="utf-8")
        assert "[cut]" in text
