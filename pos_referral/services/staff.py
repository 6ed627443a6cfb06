"""Staff sign-in: cashier PINs and manager passwords (argon2id). Failures slow the guesser down
(services/sign_in_throttle.py, in the web layer); nobody is ever locked out here.

Managers' PINs (they approve overrides at the till) are 6 to 8 digits; a cashier's 4 to 8. A manager
PIN shorter than 6 digits, set before that rule, is refused even when right (``pin_too_short``): the
manager sets a new one (``pos-referral manager add NAME --pin``, or the staff page).
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache

import sqlalchemy as sa
from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

from pos_referral.db.models import Staff
from pos_referral.services import audit
from pos_referral.services.context import StoreContext
from pos_referral.services.staff_sessions import note_till_sign_in
from pos_referral.services.unit_of_work import UnitOfWork

ROLES = ("cashier", "manager")
MIN_PIN = {"cashier": 4, "manager": 6}
MAX_PIN = 8
_hasher = PasswordHasher()  # argon2id with the library's current defaults


class StaffError(ValueError):
    pass


@dataclass(frozen=True)
class SignedIn:
    staff_id: int
    name: str
    role: str
    session_version: int


@dataclass(frozen=True)
class SignInRefused:
    reason: str  # "invalid" | "pin_too_short"


def staff_names(ctx: StoreContext, roles: tuple[str, ...]) -> list[str]:
    """Names of the active staff in ``roles`` who have a PIN (the override dialog, behind a till sign-in)."""
    with UnitOfWork(ctx.db, write=False) as read:
        return list(read.session.scalars(
            sa.select(Staff.name).where(Staff.active.is_(True), Staff.role.in_(roles), Staff.pin_hash.is_not(None))
            .order_by(Staff.name)))


def check_pin(pin: str, role: str) -> None:
    low = MIN_PIN.get(role, MIN_PIN["cashier"])
    if not (pin.isdigit() and pin.isascii() and low <= len(pin) <= MAX_PIN):
        raise StaffError(f"a {role}'s PIN is {low} to {MAX_PIN} digits")


def add_staff(ctx: StoreContext, name: str, role: str, *, pin: str | None = None,
              password: str | None = None, actor: str = "cli") -> int:
    """Create or update a staff member; returns the id. Managers need a password of 10+ characters
    and a PIN of 6+ digits. Changing someone ends their sessions (services/staff_sessions.py)."""
    if role not in ROLES:
        raise StaffError(f"role must be one of {', '.join(ROLES)}")
    name = name.strip()
    if not 1 <= len(name) <= 40:
        raise StaffError("a name is 1 to 40 characters")
    if pin is not None:
        check_pin(pin, role)
    if password is not None and len(password) < 10:
        raise StaffError("a password is at least 10 characters")
    now = ctx.clock()
    with UnitOfWork(ctx.db, write=True) as uow:
        member = uow.session.scalar(sa.select(Staff).where(Staff.name == name))
        if member is None:
            member = Staff(name=name, role=role, created_at=now, session_version=0)
            uow.session.add(member)
        else:
            member.session_version += 1  # a new PIN, password or role: their open sessions end
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


@cache
def _nobody() -> str:
    """A hash verified against for unknown names, so every refusal costs the same (made on first use)."""
    return _hasher.hash("no such person")


def _verify(hash_: str | None, secret: str) -> bool:
    try:
        return _hasher.verify(hash_ or _nobody(), secret) and hash_ is not None
    except (VerificationError, InvalidHashError):
        return False


def _find(uow: UnitOfWork, name: str, roles: tuple[str, ...]) -> Staff | None:
    """The active member called ``name`` (exactly, else the one whose name matches ignoring case)."""
    members = list(uow.session.scalars(sa.select(Staff).where(Staff.active.is_(True), Staff.role.in_(roles))))
    typed = name.strip()
    exact = [m for m in members if m.name == typed]
    folded = [m for m in members if m.name.casefold() == typed.casefold()]
    return exact[0] if exact else folded[0] if len(folded) == 1 else None


def sign_in(ctx: StoreContext, *, secret: str, name: str, use_password: bool = False,
            roles: tuple[str, ...] = ROLES, where: str = "", till_id: str | None = None) -> SignedIn | SignInRefused:
    """Check a named person's PIN, or a named manager's password. Every attempt is audited; a sign-in
    at a till is remembered there (the till's sign-in page lists who signed in at it recently)."""
    now = ctx.clock()
    with UnitOfWork(ctx.db, write=True) as uow:
        member = _find(uow, name, roles)
        ok = _verify(None if member is None else member.password_hash if use_password else member.pin_hash, secret)
        if member is not None and ok:
            if not use_password and len(secret) < MIN_PIN.get(member.role, 4):
                audit.record(ctx, uow.session, member.name, "sign_in_refused", f"{where}: PIN too short", now)
                uow.commit()
                return SignInRefused("pin_too_short")
            audit.record(ctx, uow.session, member.name, "sign_in", where, now)
            if till_id is not None:
                note_till_sign_in(uow, till_id, member.id, now)
            uow.commit()
            return SignedIn(member.id, member.name, member.role, member.session_version)
        audit.record(ctx, uow.session, name.strip()[:40] or "?", "sign_in_failed", where, now)
        uow.commit()
        return SignInRefused("invalid")
