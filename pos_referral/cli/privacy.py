"""Privacy requests from the command line: ``customer export`` and ``customer forget`` (audited as ``cli``)."""

from __future__ import annotations

import json
from pathlib import Path

import click

from pos_referral.cli.options import Obj
from pos_referral.private_files import write_private
from pos_referral.services.privacy.lookup import SubjectError
from pos_referral.services.privacy.requests import export_customer, forget_customer


@click.group()
def customer() -> None:
    """Privacy requests: what is held about a customer, and erasing it."""


@customer.command("export")
@click.argument("subject", metavar="ID|PHONE|EMAIL")
@click.option("--out", type=click.Path(dir_okay=False, path_type=Path), default=None,
              help="Write the JSON to this file (created 0600) instead of standard output.")
@click.pass_obj
def customer_export(obj: Obj, subject: str, out: Path | None) -> None:
    """Everything held about a customer, as JSON (customer id, phone number or email address)."""
    store = obj.store()
    try:
        doc = export_customer(store.ctx, subject, "cli")
    except SubjectError as exc:
        raise click.BadParameter(str(exc), param_hint="ID|PHONE|EMAIL") from None
    finally:
        store.close()
    if doc is None:
        raise click.ClickException("no customer found for that id, phone number or email address")
    text = json.dumps(doc, indent=2, ensure_ascii=False) + "\n"
    if out is None:
        click.echo(text, nl=False)
        return
    write_private(out, text.encode("utf-8"))
    click.echo(f"wrote {out} ({len(doc['customer_ids'])} customer row(s)); it holds personal data: hand it over "
               f"securely and delete it afterwards", err=True)


@customer.command("forget")
@click.argument("subject", metavar="ID|PHONE|EMAIL")
@click.option("--yes", "-y", "assume_yes", is_flag=True, help="Do not ask for confirmation.")
@click.pass_obj
def customer_forget(obj: Obj, subject: str, assume_yes: bool) -> None:
    """Erase a customer's contact data and name here, and at central and every store on the next sync.

    The anonymised ledger, rewards and sales stay for the accounts; their referral code and vouchers keep
    working but name nobody (bearer value). Repeating it is harmless."""
    if not assume_yes:
        click.confirm("Erase this customer's name and contact data for good? This cannot be undone", abort=True)
    store = obj.store()
    try:
        result = forget_customer(store.ctx, subject, "cli")
    except SubjectError as exc:
        raise click.BadParameter(str(exc), param_hint="ID|PHONE|EMAIL") from None
    finally:
        store.close()
    if not result.found:
        raise click.ClickException("no customer found for that id, phone number or email address "
                                   "(a forgotten customer is found only by id)")
    again = "" if result.newly_forgotten else " (already forgotten before: erased again)"
    click.echo(f"forgot customer {', '.join(result.customer_ids)}{again}: {result.erased.line()}")
