"""The till page writes money exactly as receipts and pages do: money.js applies the server's Babel pieces."""

from __future__ import annotations

import json
import shutil
import subprocess

import pytest

from pos_referral.domain.money import format_money
from pos_referral.domain.money_text import money_parts, money_text
from pos_referral.resources import kiosk_ui_dir

SHOPS = [("en", "EUR"), ("nb", "NOK"), ("it", "EUR"), ("pl", "PLN"), ("th", "THB"), ("id", "IDR"), ("nb", "EUR")]
AMOUNTS = [0, 5, 250, 100000, 5156928, 150000000, 150000050, 123456789012]


@pytest.mark.skipif(shutil.which("node") is None, reason="needs node to run the till's JavaScript")
def test_the_tills_money_text_equals_the_servers_for_every_shop() -> None:
    cases = [{"parts": money_parts(currency, lang), "value": format_money(minor),
              "expected": money_text(minor, currency, lang)} for lang, currency in SHOPS for minor in AMOUNTS]
    script = (kiosk_ui_dir() / "static" / "money.js").read_text(encoding="utf-8") + """
const cases = JSON.parse(require("fs").readFileSync(0, "utf8"));
process.stdout.write(JSON.stringify(cases.map(c => globalThis.moneyFormatter(c.parts)(c.value))));
"""
    done = subprocess.run(["node", "-e", script], input=json.dumps(cases), capture_output=True, text=True,
                          timeout=60, check=True)
    shown = json.loads(done.stdout)
    assert [(c["value"], s) for c, s in zip(cases, shown, strict=True)] == [
        (c["value"], c["expected"]) for c in cases]
    assert shown[AMOUNTS.index(5156928) + len(AMOUNTS)] == "51\xa0569,28\xa0kr"  # nb, NOK
