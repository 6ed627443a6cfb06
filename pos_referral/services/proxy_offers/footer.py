"""``ProxyFooter``: the referral side's answer to the print proxy, one receipt at a time.

Order of work for each receipt: read its total and number (pure); ask the offer policy (a read when
not armed) and, for a receipt that gets one, issue a bearer code in one write transaction; hand the
sale over; render the footer. The sale (when the number and total were found) is recorded on a single background
thread in its own transaction, idempotent by receipt number (a reprint records nothing new): it
changes nothing on the paper, so the proxy does not wait for its commit; a failure there is logged
and never reaches the proxy. The proxy waits at most ``[proxy] footer_timeout_ms`` and prints the
receipt unchanged when late; ``bench/proxy_footer.py`` measures this call.
"""

from __future__ import annotations

import logging
import threading
import time
from concurrent.futures import Future, ThreadPoolExecutor

from pos_referral.domain.receipt_text import ReceiptFacts, ReceiptReader
from pos_referral.printing.escpos_renderer import INIT, RendererConfig
from pos_referral.printing.render import render
from pos_referral.proxy.footer import ReceiptSeen
from pos_referral.services import owner_links
from pos_referral.services.context import StoreContext
from pos_referral.services.print_jobs import footer_context
from pos_referral.services.proxy_offers.bearer import issue_bearer
from pos_referral.services.proxy_offers.policy import Decision, OfferPolicy
from pos_referral.services.sales import SaleConflict, SaleSeen, record_sale
from pos_referral.services.unit_of_work import UnitOfWork

logger = logging.getLogger(__name__)

TEMPLATE = "proxy_footer"


def claim_url(ctx: StoreContext, code: str) -> str:
    """The printed QR: the claim page, signed for whoever holds this paper (``services/owner_links``)."""
    return f"{ctx.landing_url(code)}/claim?s={owner_links.owner_signature(ctx, code, 0)}"


def strip_init(data: bytes) -> bytes:
    """The renderer starts every job with ``ESC @``; inside the POS's receipt it must not reset the printer."""
    return data[len(INIT):] if data.startswith(INIT) else data


class ProxyFooter:
    """Implements ``pos_referral.proxy.footer.FooterSource``; thread-safe (each call has its own transactions)."""

    def __init__(self, ctx: StoreContext, renderer: RendererConfig) -> None:
        section = ctx.settings.config.proxy
        self.ctx, self.renderer = ctx, renderer
        self.reader = ReceiptReader(section.layout, section.total_pattern, section.receipt_pattern)
        self.policy = OfferPolicy(section)
        self.counts: dict[str, int] = {}
        self._lock = threading.Lock()
        # one thread, started at the first sale (not here): sales are recorded in the order printed
        self._sales = ThreadPoolExecutor(max_workers=1, thread_name_prefix="proxy-sales")
        self._last_sale: Future[None] | None = None

    def footer_for(self, receipt: ReceiptSeen) -> bytes | None:
        facts = self.reader.read(receipt.text)
        decision, code = self._decide_and_issue(facts)
        if facts.receipt_no is not None and facts.total_minor is not None and facts.total_minor >= 0:
            # after the code's commit: the sale's own commit then never holds up this receipt's code
            self._last_sale = self._sales.submit(self._record_sale, facts, receipt.peer)
        self._count(decision.reason)
        if code is None:
            return None
        return self.render(code)

    def render(self, code: str) -> bytes:
        """The footer for ``code`` in the shop's language, for the configured printer profile."""
        ctx = self.ctx
        context = footer_context(ctx, first_name="", code=code, discount_minor=0,
                                 program=ctx.settings.default_program, owner_url=claim_url(ctx, code),
                                 language=self.renderer.language)
        return strip_init(render(TEMPLATE, context, self.renderer))

    def warm_up(self) -> None:
        """Render one footer and read the database once before the first receipt: the first render loads the
        template, fonts and QR encoder (well over the proxy's 100 ms on a small PC), which would otherwise
        cost the first customer after a start their code."""
        started = time.perf_counter()
        try:
            self.render("0" * 14)
            self.policy.may_offer(self.ctx, self.ctx.clock())
        except Exception:  # a footer problem shows on the first receipt and in the proxy's counters
            logger.warning("the referral footer could not be prepared", exc_info=True)
        logger.info("referral footer ready in %.0f ms", (time.perf_counter() - started) * 1000)

    def drain(self) -> None:
        """Wait until every sale seen so far is recorded (tests; shutting down)."""
        last = self._last_sale
        if last is not None:
            last.result()

    def close(self) -> None:
        """Record the sales still queued, then stop the sales thread (the composition root's shutdown)."""
        self._sales.shutdown(wait=True)

    def _record_sale(self, facts: ReceiptFacts, peer: str) -> None:
        assert facts.receipt_no is not None and facts.total_minor is not None
        try:
            record_sale(self.ctx, SaleSeen(facts.receipt_no, facts.total_minor, "proxy"))
        except SaleConflict as exc:
            logger.warning("receipt %s from %s: %s (recorded as %d); not recorded again", facts.receipt_no, peer,
                           exc, exc.recorded_minor)
        except Exception:  # the sale is a report figure: it must never cost the customer their receipt
            logger.exception("receipt %s from %s: the sale could not be recorded", facts.receipt_no, peer)

    def _decide_and_issue(self, facts: ReceiptFacts) -> tuple[Decision, str | None]:
        ctx = self.ctx
        now = ctx.clock()
        if not self.policy.may_offer(ctx, now):  # "armed" and nobody pressed "Give card": a read, no commit
            return Decision(False, "not_armed"), None
        program = ctx.settings.default_program
        if not program.is_running(now.astimezone(ctx.tz).date()):  # before its start or after its end
            return Decision(False, "program_not_running"), None
        with UnitOfWork(ctx.db, write=True) as uow:
            decision = self.policy.decide(uow.conn, facts, now)
            if not decision.offer:
                uow.commit()  # an arm taken or a receipt counted is kept
                return decision, None
            issued = issue_bearer(uow.conn, ctx, program, now)
            uow.commit()
        logger.info("bearer code %s for a receipt (%s)", issued.code, decision.reason)
        return decision, issued.code

    def _count(self, reason: str) -> None:
        with self._lock:
            self.counts[reason] = self.counts.get(reason, 0) + 1
