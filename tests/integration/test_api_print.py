"""The print API: a redemption's job is visible, prints once, reprints say REPRINT, and POS programs that
own the printer fetch the footer as ESC/POS, text or PNG for the profile they name."""

from __future__ import annotations

import io

import zxingcpp
from escpos.printer import Dummy
from PIL import Image

from pos_referral.bootstrap import Store
from pos_referral.printing.escpos_renderer import RendererConfig
from pos_referral.printing.status import PrinterStatus
from pos_referral.services.print_worker import PrintWorker
from tests.conftest import Api
from tests.printing_support import decode_escpos


def _redeem(api: Api) -> dict[str, object]:
    ann = api.issue()
    status, body = api.redeem(ann["code"], "S1", email="bob@example.com", first_name="Bob")
    assert status == 201, body
    return dict(body)


class DummyPrinter:
    """python-escpos's Dummy printer behind the queue's printer interface (hardware fake)."""

    def __init__(self) -> None:
        self.device = Dummy()
        self.jobs: list[bytes] = []

    def send(self, data: bytes) -> None:
        self.device._raw(data)
        self.jobs.append(data)

    def status(self) -> PrinterStatus:
        return PrinterStatus(online=True, paper="ok", cover_open=False)

    def close(self) -> None:
        pass


def test_redemption_job_prints_once_and_reprint_is_marked(api: Api, store: Store) -> None:
    redemption = _redeem(api)
    job_id = redemption["print_job_id"]
    assert isinstance(job_id, int)
    status, job = api.get(f"/api/v1/print-jobs/{job_id}")
    assert status == 200
    assert (job["status"], job["template"], job["attempts"], job["redemption_id"], job["reprint"]) == (
        "queued", "referral_footer", 0, redemption["redemption_id"], False)

    printer = DummyPrinter()
    worker = PrintWorker(store.db, printer, RendererConfig("TM-T88V", 80), clock=store.ctx.clock)
    assert worker.run_once() == 1 and worker.run_once() == 0  # printed once, not twice
    status, job = api.get(f"/api/v1/print-jobs/{job_id}")
    assert (job["status"], job["attempts"], job["bytes_sent"]) == ("done", 1, len(printer.jobs[0]))
    friend_code = redemption["friend_code"]["code"]  # type: ignore[index]
    assert friend_code.encode() in printer.jobs[0]

    status, again = api.post(f"/api/v1/print-jobs/{job_id}/reprint")
    assert status == 201 and again["id"] != job_id and again["reprint"] and again["reprint_of"] == job_id
    assert again["status"] == "queued"
    assert worker.run_once() == 1
    assert b"REPRINT" in printer.jobs[1] and friend_code.encode() in printer.jobs[1]
    assert printer.device.output == printer.jobs[0] + printer.jobs[1]


def test_unknown_print_job_is_a_problem(api: Api) -> None:
    huge = 2**70  # larger than any database integer
    for status, body in (api.get("/api/v1/print-jobs/999"), api.post("/api/v1/print-jobs/999/reprint"),
                         api.get(f"/api/v1/print-jobs/{huge}"), api.post(f"/api/v1/print-jobs/{huge}/reprint")):
        assert status == 404 and body["code"] == "print_job_not_found"


def test_footer_for_a_pos_program_in_three_formats(api: Api) -> None:
    redemption = _redeem(api)
    friend = redemption["friend_code"]
    assert isinstance(friend, dict)
    url = f"/api/v1/redemptions/{redemption['redemption_id']}/footer"
    auth = {"Authorization": f"Bearer {api.token}"}

    escpos = api.client.get(f"{url}?profile=TM-T20II", headers=auth)
    assert escpos.status_code == 200 and escpos.mimetype == "application/vnd.escpos"
    commands = decode_escpos(escpos.data)
    assert commands[0].name == "ESC @"  # the host's own printer settings do not leak into the footer
    qr = [c.data.decode() for c in commands if c.name == "QR store"]
    barcodes = [c.data for c in commands if c.name == "CODE128"]
    assert len(qr) == 1 and qr[0].startswith(friend["landing_url"])
    assert len(barcodes) == 1 and friend["code"].encode() in barcodes[0]
    assert "Bob" in escpos.data.decode("cp858", errors="replace")

    text = api.client.get(f"{url}?format=text", headers=auth)
    assert text.status_code == 200 and text.mimetype == "text/plain"
    assert friend["display_code"] in text.get_data(as_text=True) and "[qr " in text.get_data(as_text=True)

    def widest(body: str) -> int:  # printed lines, not the [qr ...]/[barcode ...] markers
        return max(len(line) for line in body.splitlines() if not line.startswith("["))

    narrow = api.client.get(f"{url}?format=text&paper=58", headers=auth).get_data(as_text=True)
    assert widest(narrow) == 32 < widest(text.get_data(as_text=True))

    png = api.client.get(f"{url}?format=png", headers=auth)
    assert png.status_code == 200 and png.mimetype == "image/png"
    found = {r.format.name: r.text for r in zxingcpp.read_barcodes(Image.open(io.BytesIO(png.data)).convert("L"))}
    assert found["QRCode"].startswith(friend["landing_url"]) and found["Code128"] == friend["code"]


def test_footer_refuses_bad_requests_with_problems(api: Api) -> None:
    redemption = _redeem(api)
    url = f"/api/v1/redemptions/{redemption['redemption_id']}/footer"
    for query, status, code in (("?format=pdf", 422, "invalid_format"), ("?paper=76", 422, "invalid_paper"),
                                ("?profile=NoSuchPrinter", 422, "unknown_printer_profile")):
        r = api.client.get(url + query, headers={"Authorization": f"Bearer {api.token}"})
        assert r.status_code == status and r.mimetype == "application/problem+json"
        assert r.get_json()["code"] == code
    status, body = api.get("/api/v1/redemptions/nope/footer")
    assert status == 404 and body["code"] == "redemption_not_found"


def test_print_api_needs_a_till_token(api: Api) -> None:
    assert api.client.get("/api/v1/print-jobs/1").status_code == 401
