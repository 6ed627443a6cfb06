"""A manager's override of a refused code: an audited manual discount, recorded exactly once.

The override does not pretend the referral happened (no referrer reward, no friend code, no
outbox event): the program said no, a person decided to give the friend's discount anyway.
What is recorded is one hash-chained audit entry naming the till, the cashier, the manager,
the code, the sale, the refusal, the manager's reason and the amount — and an idempotency
record under the till's key in the same transaction, so a retried click cannot give it twice.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from pos_referral.db.models import IdempotencyRecord
from pos_referral.domain.errors import Refusal
from pos_referral.domain.money import format_money
from pos_referral.services import audit
from pos_referral.services.checkout import evaluate
from pos_referral.services.context import StoreContext
from pos_referral.services.customers import CustomerInput
from pos_referral.services.redemptions import body_hash
from pos_referral.services.unit_of_work import UnitOfWork

NOT_OVERRIDABLE = ("unknown_code", "mistyped_code", "wrong_kind", "already_redeemed", "voucher_revoked")


class OverrideError(Exception):
    def __init__(self, code: str, status: int = 422) -> None:
        super().__init__(code)
        self.code, self.status = code, status


@dataclass(frozen=True)
class OverrideRequest:
    code: str
    sale_id: str
    basket_minor: int
    customer: CustomerInput
    till_id: str
    cashier: str
    manager: str
    note: str
    key: str
    raw_body: dict[str, Any]


def record_override(ctx: StoreContext, req: OverrideRequest) -> tuple[dict[str, Any], bool]:
    """(answer, replayed). Raises OverrideError when there is nothing a manager may override."""
    key = f"override:{req.till_id}:{req.key}"
    request_hash = body_hash(req.raw_body)
    with UnitOfWork(ctx.db, write=True) as uow:
        session = uow.session
        done = session.get(IdempotencyRecord, key)
        if done is not None:
            if done.request_hash != request_hash:
                raise OverrideError("idempotency_key_reused")
            return json.loads(done.body), True
        now = ctx.clock()
        try:
            ev = evaluate(session.connection(), ctx, req.code, req.basket_minor, req.customer, now)
        except Refusal as exc:
            raise OverrideError(exc.code) from None
        if ev.reason is None:
            raise OverrideError("not_refused", 409)
        if ev.reason in NOT_OVERRIDABLE or ev.program is None:
            raise OverrideError(ev.reason)
        discount = ev.program.friend_reward_for(req.basket_minor, None).discount_for(req.basket_minor)
        detail = json.dumps({
            "till": req.till_id, "cashier": req.cashier, "code": ev.code, "sale_id": req.sale_id,
            "basket": format_money(req.basket_minor), "refused": ev.reason, "discount": format_money(discount),
            "note": req.note,
        }, ensure_ascii=False, sort_keys=True)
        entry = audit.record(ctx, session, req.manager, "override", detail, now)
        body = {"override_id": entry.id, "code": ev.code, "sale_id": req.sale_id, "refused": ev.reason,
                "discount": format_money(discount), "approved_by": req.manager, "at": now.isoformat()}
        session.add(IdempotencyRecord(key=key, request_hash=request_hash, status_code=201,
                                      body=json.dumps(body), created_at=now))
        uow.commit()
    return body, False
