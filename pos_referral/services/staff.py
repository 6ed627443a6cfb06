"""Staff sign-in: cashier PINs and manager passwords (argon2id), lockout after repeated failures."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

import sqlalchemy as sa
from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

from pos_referral.db.models import Staff
from pos_referral.services import audit
from pos_referral.services.context import StoreContext
from pos_referral.services.unit_of_work import UnitOfWork

ROLES = ("cashier", "manager")
_hasher = PasswordHasher()  # argon2id with the library's current defaults


class StaffError(ValueError):
    pass


@dataclass(frozen=True)
class SignedIn:
    staff_id: int
    name: str
    role: str


@dataclass(frozen=True)
class SignInRefused:
    reason: str  # "invalid" | "locked"
    retry_after: int = 0


def staff_names(ctx: StoreContext, roles: tuple[str, ...]) -> list[str]:
    """Names to pick on the sign-in pad (first names of the shop's own staff, shown only in the shop)."""
    with UnitOfWork(ctx.db, write=False) as read:
        return list(read.session.scalars(
            sa.select(Staff.name).where(Staff.active.is_(True), Staff.role.in_(roles), Staff.pin_hash.is_not(None))
            .order_by(Staff.name)))


def _check_pin(pin: str) -> None:
    if not (pin.isdigit() and 4 <= len(pin) <= 8):
        raise StaffError("a PIN is 4 to 8 digits")


def add_staff(ctx: StoreContext, name: str, role: str, *, pin: str | None = None,
              password: str | None = None, actor: str = "cli") -> int:
    """Create or update a staff member; returns the id. Managers need a password of 10+ characters."""
    if role not in ROLES:
        raise StaffError(f"role must be one of {', '.join(ROLES)}")
    name = name.strip()
    if not 1 <= len(name) <= 40:
        raise StaffError("a name is 1 to 40 characters")
    if pin is not None:
        _check_pin(pin)
    if password is not None and len(password) < 10:
        raise StaffError("a password is at least 10 characters")
    now = ctx.clock()
    with UnitOfWork(ctx.db, write=True) as uow:
        member = uow.session.scalar(sa.select(Staff).where(Staff.name == name))
        if member is None:
            member = Staff(name=name, role=role, created_at=now)
            uow.session.add(member)
        member.role = role
        member.active = True
        if pin is not None:
            member.pin_hash = _hasher.hash(pin)
        if password is not None:
            member.password_hash = _hasher.hash(password)
        uow.session.flush()
        audit.record(ctx, uow.session, actor, "staff_saved", f"{name} as {role}", now)
        uow.commit()
        return member.id


def _verify(hash_: str | None, secret: str) -> bool:
    if not hash_:
        return False
    try:
        return _hasher.verify(hash_, secret)
    except (VerificationError, InvalidHashError):
        return False


def sign_in(ctx: StoreContext, *, secret: str, name: str | None = None, use_password: bool = False,
            roles: tuple[str, ...] = ROLES, where: str = "") -> SignedIn | SignInRefused:
    """Check a PIN (any active staff member, or the named one) or a named manager's password.

    Every attempt is audited; ``pin_attempts_before_lockout`` failures lock the account(s)
    concerned for ``lockout_seconds``.
    """
    security = ctx.settings.config.security
    now = ctx.clock()
    with UnitOfWork(ctx.db, write=True) as uow:
        query = sa.select(Staff).where(Staff.active.is_(True), Staff.role.in_(roles))
        if name is not None:
            query = query.where(Staff.name == name)
        members = list(uow.session.scalars(query))
        for member in members:
            if member.locked_until is not None and member.locked_until > now:
                continue
            if _verify(member.password_hash if use_password else member.pin_hash, secret):
                member.failed_attempts = 0
                member.locked_until = None
                audit.record(ctx, uow.session, member.name, "sign_in", where, now)
                uow.commit()
                return SignedIn(member.id, member.name, member.role)
        locked = [m for m in members if m.locked_until is not None and m.locked_until > now]
        if name is not None and members:
            member = members[0]
            if not locked:
                member.failed_attempts += 1
                if member.failed_attempts >= security.pin_attempts_before_lockout:
                    member.locked_until = now + timedelta(seconds=security.lockout_seconds)
                    member.failed_attempts = 0
        audit.record(ctx, uow.session, name or "?", "sign_in_failed", where, now)
        uow.commit()
        if name is not None and members and members[0].locked_until and members[0].locked_until > now:
            wait = int((members[0].locked_until - now).total_seconds()) + 1
            return SignInRefused("locked", wait)
        return SignInRefused("invalid")
