"""Staff administration from the manager pages: list, add a cashier, reset a PIN, deactivate. Audited.

Adding and PIN changes go through ``services.staff.add_staff`` (argon2id, audited there; a new PIN
ends the member's sessions); this module adds the list for the page and deactivation, which ends
them too.
"""

from __future__ import annotations

from dataclasses import dataclass

import sqlalchemy as sa

from pos_referral.db.models import Staff
from pos_referral.services import audit
from pos_referral.services.context import StoreContext
from pos_referral.services.staff import StaffError, add_staff
from pos_referral.services.unit_of_work import UnitOfWork


@dataclass(frozen=True)
class StaffRow:
    id: int
    name: str
    role: str
    active: bool


def list_staff(ctx: StoreContext) -> list[StaffRow]:
    with UnitOfWork(ctx.db, write=False) as uow:
        rows = uow.session.scalars(sa.select(Staff).order_by(Staff.active.desc(), Staff.role, Staff.name))
        return [StaffRow(s.id, s.name, s.role, s.active) for s in rows]


def _member(ctx: StoreContext, staff_id: int) -> Staff:
    with UnitOfWork(ctx.db, write=False) as uow:
        member = uow.session.get(Staff, staff_id)
    if member is None:
        raise StaffError("no such staff member")
    return member


def add_cashier(ctx: StoreContext, name: str, pin: str, *, actor: str) -> int:
    with UnitOfWork(ctx.db, write=False) as uow:
        existing = uow.session.scalar(sa.select(Staff).where(Staff.name == name.strip()))
    if existing is not None:
        raise StaffError(f"{existing.name} exists already: reset their PIN instead")
    return add_staff(ctx, name, "cashier", pin=pin, actor=actor)


def reset_pin(ctx: StoreContext, staff_id: int, pin: str, *, actor: str) -> str:
    """Set a new PIN (a manager's: 6+ digits); their sessions end. Returns the name. Managers' passwords
    stay with the CLI."""
    member = _member(ctx, staff_id)
    add_staff(ctx, member.name, member.role, pin=pin, actor=actor)
    with UnitOfWork(ctx.db, write=True) as uow:
        audit.record(ctx, uow.session, actor, "pin_reset", member.name, ctx.clock())
        uow.commit()
    return member.name


def deactivate(ctx: StoreContext, staff_id: int, *, actor: str) -> str:
    """Stop someone signing in and end their open sessions (the row and its audit history stay)."""
    member = _member(ctx, staff_id)
    if member.role == "manager" and member.name == actor:
        raise StaffError("you cannot deactivate yourself")
    with UnitOfWork(ctx.db, write=True) as uow:
        uow.session.execute(sa.update(Staff).where(Staff.id == staff_id)
                            .values(active=False, session_version=Staff.session_version + 1))
        audit.record(ctx, uow.session, actor, "staff_deactivated", f"{member.name} ({member.role})", ctx.clock())
        uow.commit()
    return member.name
