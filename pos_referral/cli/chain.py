"""``pos-referral chain join``: a shop that ran standalone joins a chain, with everything it has done."""

from __future__ import annotations

import click

from pos_referral.cli.options import Obj
from pos_referral.sync.client import Rejected, Unavailable
from pos_referral.sync.inbound import KeysConflict
from pos_referral.sync.join import join_chain
from pos_referral.sync.relay import relay_for


@click.group("chain")
def chain() -> None:
    """This shop and its chain."""


@chain.command("join")
@click.option("--url", default="", help="Central's address, e.g. http://central:8100 (default: [central] url).")
@click.option("--token", default="", envvar="POS_REFERRAL_CENTRAL_TOKEN",
              help="This store's sync token from `pos-referral central store add` (default: [central] token).")
@click.pass_obj
def chain_join(obj: Obj, url: str, token: str) -> None:
    """Join a chain at any time: codes already printed keep working at every store, the history syncs.

    Central adopts this shop's code keys and identity pepper, refuses a store number another shop
    uses, and the first sync sends every customer, code, redemption and voucher so far. Safe to run
    again. Restart `pos-referral serve` afterwards: from then on central releases the rewards."""
    store = obj.store()
    try:
        configured = store.settings.config.central
        url, token = url or configured.url, token or configured.token
        if not url or not token:
            raise click.ClickException("say where central is: --url http://central:8100 --token TOKEN (the token "
                                       "`pos-referral central store add NUMBER NAME` printed at central)")
        if configured.url and configured.url.rstrip("/") != url.rstrip("/"):
            raise click.ClickException(f"the config names another central ([central] url = {configured.url}): "
                                       "remove [central] from the config, or join that one")
        answer = join_chain(store.ctx, url, token)
    except Rejected as exc:
        raise click.ClickException(f"central refused the join: {exc}") from None
    except Unavailable as exc:
        raise click.ClickException(f"central unavailable, nothing changed (run again later): {exc}") from None
    finally:
        store.close()
    click.echo(f"store S{store.ctx.store_no:03d} joined the chain at {url}: {answer.adopted_keys} code key(s) "
               f"adopted, {answer.customers} customers, {answer.waiting_events} events to send")
    store = obj.store()  # built again: it now knows central (chain.json) and works as a chain store
    try:
        relay = relay_for(store.ctx)
        with click.progressbar(length=relay.backlog(), label="sending the shop's history", show_pos=True) as bar:
            summary = relay.sync(max_attempts=8, on_batch=bar.update)
    except (Rejected, KeysConflict) as exc:
        raise click.ClickException(str(exc)) from None
    except Unavailable as exc:
        raise click.ClickException(f"joined; the history is not sent yet (central unavailable): run "
                                   f"`pos-referral sync` later, nothing is lost: {exc}") from None
    finally:
        store.close()
    click.echo(summary.line())
    click.echo("restart `pos-referral serve` (the service) so it syncs with central from now on")
