"""In-memory cache of referral code rows for the quote hot path."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from pos_referral.domain.codes import Keyring, ParsedCode, parse


@dataclass(frozen=True)
class CodeRef:
    """The immutable facts of a code row (referral code rows never change once written)."""

    code: str
    kind: str
    program_id: str
    customer_id: str
    variant: str
    expires_at: datetime | None


class CodeCache:
    """Referral code rows by code, in memory: the hot path of every quote skips a query.

    Safe because a referral code row is immutable once committed; voucher rows (which change
    when used or revoked) are never cached. Bounded: cleared when it grows past ``limit``.
    """

    def __init__(self, limit: int = 100_000) -> None:
        self._rows: dict[str, CodeRef] = {}
        self._limit = limit
        self._parsed: dict[str, ParsedCode] = {}
        self._parsed_keyring: Keyring | None = None

    def parse(self, raw: str, keyring: Keyring) -> ParsedCode:
        """``codes.parse`` remembered for authentic input (five HMACs saved per scan of a known code).

        Only successful parses are kept (a guess is checked in full every time), and the memory
        is dropped whenever the keyring object changes (rotation, keys from central)."""
        if keyring is not self._parsed_keyring:
            self._parsed = {}
            self._parsed_keyring = keyring
        found = self._parsed.get(raw)
        if found is None:
            found = parse(raw, keyring)  # raises CodeError for mistyped or forged input
            if len(self._parsed) >= self._limit:
                self._parsed = {}
            self._parsed[raw] = found
        return found

    def get(self, code: str) -> CodeRef | None:
        return self._rows.get(code)

    def put(self, ref: CodeRef) -> None:
        if len(self._rows) >= self._limit:
            self._rows.clear()
        self._rows[ref.code] = ref
