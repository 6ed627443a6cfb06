"""Every sentence the till's script shows, translated on the server and handed over as JSON.

The script itself holds no English: it looks up keys here (``%(x)s`` placeholders filled in the
browser), so one catalog per language covers the page and its script.
"""

from __future__ import annotations

from flask_babel import gettext as _

from pos_referral.web.i18n import REASON_TEXT
from pos_referral.web.service_state import printer_words


def js_strings() -> dict[str, object]:
    return {
        "apply": _("Give %(amount)s off"),
        "give_item": _("Give: %(item)s"),
        "valid": _("Valid code"),
        "code_shown": _("Code %(code)s"),
        "need_basket": _("Type the basket total first, then press Enter."),
        "code_kept": _("Code scanned. Now type the basket total."),
        "next_scan": _("Ready for a scan"),
        "bad_basket": _("Type the basket total like 42.50"),
        "need_customer": _("Ask the customer for a phone number or email to apply the offer."),
        "checking": _("Checking…"),
        "recording": _("Recording…"),
        "recorded": _("Recorded: %(amount)s off. Sale %(sale)s."),
        "friend_code": _("The customer's own new code: %(code)s"),
        "referrer_capped": _("The friend gets the offer; the code's owner has reached their reward limit and earns "
                             "nothing more."),
        "job": _("Receipt footer queued (print job #%(id)s)."),
        "card_job": _("Referral card queued (print job #%(id)s)."),
        "no_print": _("Nothing to print (printer switched off in the settings)."),
        "job_status": _("Print job #%(id)s: %(status)s"),
        "issued": _("Code %(code)s for this customer."),
        "proxy_armed": _("The next receipt printed within %(seconds)s seconds gets a referral code."),
        "issued_again": _("This customer already had code %(code)s."),
        "override_done": _("Override approved by %(name)s: give %(amount)s off."),
        "offline": _("No answer from the till service. Check the cable or Wi-Fi and try again."),
        "reload": _("Reload the till page: its security token is old."),
        "signed_out": _("Your session has ended. Please sign in again."),
        "reprint_queued": _("Reprint queued (print job #%(id)s)."),
        "reprint_failed": _("Reprint is not available: %(why)s"),
        "scanner_scan": _("Scanned: %(code)s"),
        "printer": _("Printer"),
        "queue": _("Print queue"),
        "sync": _("Sync"),
        "sync_late": _("late: %(n)s waiting for %(min)s min"),
        "printer_states": printer_words(),
        "waiting": _("%(n)s waiting"),
        "failed": _("%(n)s failed"),
        "ok": _("OK"),
        "unknown": _("unknown"),
        "status_queued": _("queued"),
        "status_printing": _("printing"),
        "status_done": _("printed"),
        "status_failed": _("failed"),
        "error": _("Something went wrong: %(why)s"),
        "practice_on": _("Practice mode on"),
        "practice_off": _("Practice mode off: back to real sales"),
        "practice_done": _("Practice: nothing was recorded, printed or counted."),
        "say": _("Say to the customer: %(text)s"),
        "guide_queued": _("The staff guide is in the print queue (print job #%(id)s)."),
        "guide_no_printer": _("No receipt printer is set up."),
        "offer_card": _("Give this customer a referral card?"),
        "offer_none_referral": _("This sale used a friend's code: the receipt already carries the customer's own "
                                 "code."),
        "offer_none_again": _("A referral card was already offered for this sale."),
        "offer_accepted": _("Thank you! Type the customer's phone or email, then press F6 to print the card."),
        "offer_declined": _("Noted: no card for this sale."),
        "offer_skipped": _("No card offered for this sale."),
        "invite_hint": _("Frequent customer without a card: offer one (F6 prints it)."),
        "reasons": {code: str(text) for code, text in REASON_TEXT.items()},
    }
