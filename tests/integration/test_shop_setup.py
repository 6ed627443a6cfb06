"""``pos-referral init`` and where a shop's configuration lives: with its data, never in the package."""

from __future__ import annotations

import time
import tomllib
from collections.abc import Iterator
from pathlib import Path

import pytest
from click.testing import CliRunner

from pos_referral import create_app
from pos_referral.bootstrap import build_store
from pos_referral.cli import main
from pos_referral.config import StoreConfig, load_settings
from pos_referral.config_sources import shipped_config_file
from pos_referral.netinfo import lan_address
from pos_referral.services.print_jobs import footer_context
from pos_referral.shop_config import set_values, write_shop_config
from tests.conftest import staff_session
from tests.printing_support import FakeNetworkPrinter, decode_escpos
from tests.server_support import free_port

MANAGER = ["--manager-name", "Kari", "--manager-password", "a long password", "--manager-pin", "246813"]


@pytest.fixture
def fake() -> Iterator[FakeNetworkPrinter]:
    printer = FakeNetworkPrinter()
    yield printer
    printer.close()


def init(data: Path, *args: str, input: str | None = None) -> tuple[int, str]:
    result = CliRunner().invoke(main, ["--data-dir", str(data), "init", *args], input=input)
    return result.exit_code, result.output


def test_init_with_flags_writes_the_shops_config_into_its_data_folder(tmp_path: Path) -> None:
    data = tmp_path / "shop"
    code, out = init(data, "--yes", "--name", "Corner Shop", "--language", "nb", "--currency", "nok",
                     "--timezone", "Europe/Oslo", "--public-url", "http://192.168.1.50:8000", *MANAGER)
    assert code == 0, out
    written = data / "config" / "store.toml"
    assert (data / "config" / "programs" / "bring-a-friend.toml").is_file()
    assert (data / "config" / "messages" / "nb" / "share_sms.txt").is_file()
    text = written.read_text()
    assert "= every network of this machine" in text  # the shipped comments travel with the values
    settings = load_settings(None, data_dir=data, environ={})  # no --config: found in the data folder
    store = settings.config.store
    assert (store.name, store.language, store.currency, store.timezone) == ("Corner Shop", "nb", "NOK", "Europe/Oslo")
    assert settings.public_base == "http://192.168.1.50:8000" and settings.config.server.host == "0.0.0.0"
    assert settings.config_file == written.resolve() and not settings.shipped_config
    assert "port 8000" in out and "firewall" in out
    assert shipped_config_file().read_text().count('name = "Our shop"') == 1  # the package is untouched


def test_init_refuses_to_replace_a_shops_config_without_force(tmp_path: Path) -> None:
    data = tmp_path / "shop"
    assert init(data, "--yes", "--name", "First")[0] == 0
    code, out = init(data, "--yes", "--name", "Second")
    assert code == 1 and "exists already" in out and "--force" in out
    assert load_settings(None, data_dir=data, environ={}).config.store.name == "First"
    assert init(data, "--yes", "--name", "Second", "--force")[0] == 0
    assert load_settings(None, data_dir=data, environ={}).config.store.name == "Second"


def test_init_asks_a_few_questions_offering_this_machines_address(tmp_path: Path, fake: FakeNetworkPrinter) -> None:
    answers = "\n".join(["Bakery Sol", "id", "", "Asia/Jakarta", "8000",  # name, language, currency, zone, port
                         "",  # the address for phones: the one offered
                         "network", "80", f"127.0.0.1:{fake.port}",  # the printer
                         "Dewi", "a long password", "a long password", "135792", "135792",  # the first manager
                         "y"]) + "\n"  # a test page
    code, out = init(tmp_path / "shop", input=answers)
    assert code == 0, out
    offered = f"http://{lan_address()}:8000"
    assert offered in out
    settings = load_settings(None, data_dir=tmp_path / "shop", environ={})
    assert settings.config.store.currency == "IDR" and settings.public_base == offered
    assert (settings.config.printer.type, settings.config.printer.port) == ("network", fake.port)
    assert "test page sent" in out
    deadline = time.monotonic() + 5
    while not fake.jobs and time.monotonic() < deadline:  # the fake records the job when the link closes
        time.sleep(0.02)
    assert any(c.name == "QR store" for c in decode_escpos(fake.jobs[0]))


def test_init_says_when_the_network_printer_does_not_answer(tmp_path: Path) -> None:
    code, out = init(tmp_path / "shop", "--yes", "--printer", "network", "--printer-host", "127.0.0.1",
                     "--printer-port", str(free_port()))  # nothing listens there
    assert code == 0 and "the printer did not answer" in out and "test page sent" not in out


def test_init_refuses_a_weak_manager_pin_before_writing_anything(tmp_path: Path) -> None:
    code, out = init(tmp_path / "shop", "--yes", "--manager-name", "Kari", "--manager-password", "a long password",
                     "--manager-pin", "1234")
    assert code == 1 and "6 to 8 digits" in out
    assert not (tmp_path / "shop" / "config").exists()


def test_without_init_the_shipped_defaults_are_read_and_serve_says_so(tmp_path: Path) -> None:
    settings = load_settings(None, data_dir=tmp_path / "new", environ={})
    assert settings.shipped_config and "pos-referral init" in settings.config_origin()
    assert settings.config_file == shipped_config_file().resolve()


def test_every_config_key_is_explained_in_the_shipped_store_toml() -> None:
    text = shipped_config_file().read_text()
    raw = tomllib.loads(text)
    for section, field in StoreConfig.model_fields.items():
        model = field.annotation
        assert model is not None and section in raw, section
        for key in model.model_fields:  # type: ignore[union-attr]
            assert key in raw[section], f"[{section}] {key} is not in the shipped store.toml"
    printer = text.split("[printer]", 1)[1].split("\n[", 1)[0]  # network, serial and usb keys say what they mean
    keys = [line for line in printer.splitlines() if line and not line.startswith((" ", "#"))]
    assert len(keys) == len(raw["printer"]) and all("#" in line for line in keys), keys


def test_set_values_keeps_comments_and_adds_missing_keys() -> None:
    text = '[store]\nname = "Our shop"   # printed on receipts\n\n[printer]\ntype = "preview"  # preview | network\n'
    out = set_values(text, {"store": {"name": 'Ann\'s "Corner" # 1'}, "printer": {"host": "10.0.0.5"},
                            "mail": {"enabled": True}})
    parsed = tomllib.loads(out)
    assert parsed["store"]["name"] == 'Ann\'s "Corner" # 1' and parsed["printer"]["host"] == "10.0.0.5"
    assert parsed["mail"]["enabled"] is True and "# printed on receipts" in out


def test_messages_page_names_the_shops_own_copy_never_the_package(tmp_path: Path, compiled_translations: Path) -> None:
    shipped = load_settings(None, data_dir=tmp_path / "new", environ={})
    store = build_store(shipped)
    try:
        app = create_app(store=store, test_config={"TESTING": True})
        page = staff_session(app.test_client(), store, "Mia", "manager").get("/manager/messages").get_data(True)
        assert "pos-referral init" in page and str(tmp_path / "new" / "config" / "messages") in page
        assert str(shipped_config_file().parent) not in page
    finally:
        store.close()
    write_shop_config(tmp_path / "shop", {})
    own = build_store(load_settings(None, data_dir=tmp_path / "shop", environ={}))
    try:
        app = create_app(store=own, test_config={"TESTING": True})
        page = staff_session(app.test_client(), own, "Mia", "manager").get("/manager/messages").get_data(True)
        assert f"Edit the files in <code>{tmp_path / 'shop' / 'config' / 'messages'}" in page
    finally:
        own.close()


def test_a_shop_set_up_in_norwegian_prints_the_programs_words_in_norwegian(tmp_path: Path) -> None:
    """The shipped program's prose is English in its file; a Norwegian shop's copy says it in Norwegian,
    so its cards and footers do too (and the owner edits Norwegian words, not English ones)."""
    data = tmp_path / "shop"
    code, out = init(data, "--yes", "--language", "nb", "--currency", "NOK", *MANAGER)
    assert code == 0, out
    program = tomllib.loads((data / "config" / "programs" / "bring-a-friend.toml").read_text())
    texts = program["texts"]
    assert texts["headline"] == "Gi 10 %, få {referrer_amount}"
    assert texts["terms"].startswith("Én rabatt per ny kunde")
    assert texts["faq"][0]["q"] != "How does my friend use my code?"
    store = build_store(load_settings(None, data_dir=data, environ={}))
    try:
        context = footer_context(store.ctx, first_name="Ann", code="0K3M7QW2XC9P4T", discount_minor=0,
                                 program=store.settings.default_program, owner_url="http://x/r/1")
        assert context["headline"] == "Gi 10 %, få 10,00\xa0kr" and str(context["terms"]).startswith("Én rabatt")
    finally:
        store.close()
    assert init(tmp_path / "en", "--yes", *MANAGER)[0] == 0  # an English shop keeps the shipped words
    english = tomllib.loads((tmp_path / "en" / "config" / "programs" / "bring-a-friend.toml").read_text())
    assert english["texts"]["headline"] == "Give 10%, get {referrer_amount}"
