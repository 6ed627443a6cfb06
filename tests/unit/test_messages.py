"""Message templates: every customer-facing text per language, editable files, program values filled in."""

from __future__ import annotations

from pathlib import Path

import pytest

from pos_referral.config import Settings, load_settings
from pos_referral.services import messages


@pytest.fixture
def settings(config_path: Path, tmp_path: Path) -> Settings:
    return load_settings(config_path, data_dir=tmp_path / "data", environ={},
                         overrides={"store": {"public_base_url": "https://shop.example"}})


def context(settings: Settings, lang: str) -> dict[str, object]:
    return messages.sample_context(settings, settings.default_program, lang)


@pytest.mark.parametrize("lang", messages.LANGUAGES)
def test_every_message_renders_in_every_language_with_the_programs_values(settings: Settings, lang: str) -> None:
    folder = messages.messages_folder(settings)
    assert (folder / lang / "share_whatsapp.txt").is_file()  # a real file per language, not only English
    for kind in messages.KINDS:
        rendered = messages.render(kind, lang, context(settings, lang), folder=folder)
        assert rendered.text and "{{" not in rendered.text and "{%" not in rendered.text, kind
        if kind in messages.MAIL_KINDS:
            assert rendered.subject and rendered.html and "https://shop.example/unsubscribe/example" in rendered.text
    share = messages.share_texts(settings, settings.default_program, lang, code="2K3M7QW2XC9P4T",
                                 link="https://shop.example/r/2K3M7QW2XC9P4T")
    assert set(share) >= {"whatsapp", "sms", "email", "x", "facebook", "email_subject"}
    for channel in ("whatsapp", "sms", "email", "facebook"):
        assert "https://shop.example/r/2K3M7QW2XC9P4T" in share[channel], channel
    assert all("2K3M-7QW2-XC9P-4T" in share[c] for c in messages.SHARE_CHANNELS)
    assert "10" in share["sms"]  # the program's 10% offer, formatted for the language


def test_offer_and_money_follow_the_language(settings: Settings) -> None:
    en = messages.render("share_sms", "en", context(settings, "en")).text
    pl = messages.render("share_sms", "pl", context(settings, "pl")).text.replace("\xa0", " ")
    assert "10% off (up to €30.00)" in en
    assert "zniżki (do 30,00 €)" in pl


def test_a_shop_edits_a_file_and_the_next_message_uses_it(settings: Settings) -> None:
    folder = messages.messages_folder(settings)
    assert folder == settings.config_dir / "messages"
    (folder / "nb" / "share_sms.txt").write_text("Hei fra {{ store_name }}: {{ display_code }}\n", encoding="utf-8")
    assert messages.render("share_sms", "nb", context(settings, "nb"), folder=folder).text == \
        "Hei fra Our shop: 2K3M-7QW2-XC9P-4T"


def test_a_missing_translation_falls_back_to_english(settings: Settings) -> None:
    folder = messages.messages_folder(settings)
    (folder / "it" / "share_x.txt").unlink()
    text = messages.render("share_x", "it", context(settings, "it"), folder=folder).text
    assert "at Our shop with my code" in text


def test_a_broken_template_is_a_clear_error_not_a_crash(settings: Settings) -> None:
    folder = messages.messages_folder(settings)
    (folder / "en" / "share_sms.txt").write_text("{{ no_such_value }}\n", encoding="utf-8")
    with pytest.raises(messages.MessageError, match=r"share_sms\.txt"):
        messages.render("share_sms", "en", context(settings, "en"), folder=folder)
    with pytest.raises(messages.MessageError, match="unknown message kind"):
        messages.render("../../etc/passwd", "en", {}, folder=folder)


def test_templates_are_sandboxed(settings: Settings) -> None:
    folder = messages.messages_folder(settings)
    (folder / "en" / "share_sms.txt").write_text("{{ ''.__class__.__mro__ }}\n", encoding="utf-8")
    with pytest.raises(messages.MessageError):
        messages.render("share_sms", "en", context(settings, "en"), folder=folder)


def test_a_referrers_note_cannot_inject_html_into_the_mail(settings: Settings) -> None:
    values = {**context(settings, "en"), "note": '<a href="https://evil.example">win</a><script>x()</script>'}
    rendered = messages.render("mail_invitation", "en", values)
    assert rendered.html is not None
    assert "<script>" not in rendered.html and "&lt;script&gt;" in rendered.html
    assert '<a href="https://evil.example">' not in rendered.html


def test_unknown_language_is_english(settings: Settings) -> None:
    assert messages.language("xx") == "en"
    assert messages.render("landing_headline", "xx", context(settings, "en")).text == "Give 10%, get €10.00"
    assert messages.render("landing_headline", "nb", context(settings, "nb")).text.startswith("Gi vennene dine")
