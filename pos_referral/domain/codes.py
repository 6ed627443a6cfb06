"""Referral and voucher codes: typed by people, checked offline, unforgeable without the chain's key.

A code is 14 Crockford base32 symbols (70 bits), printed ``XXXX-XXXX-XXXX-XX``:

* symbol 0: kind and key id (referral 0..15, voucher 16..31), so a scan routes itself and keys rotate;
* symbols 1..6: ``store_no << 20 | seq`` through a keyed Feistel permutation: uniqueness is structural
  (offline stores never collide), yet codes look random and reveal neither store nor sequence;
* symbols 7..12: 30-bit truncated HMAC-SHA256 over symbols 0..6, so any store can tell a code minted
  elsewhere from a guess before the two have synced (a guess passes with probability 2**-30);
* symbol 13: a GF(32) check symbol, so a typo is refused at once, offline, as ``mistyped_code``.

Secrets come only from :mod:`secrets`; keys never appear in ``repr`` (hence not in logs).
"""

from __future__ import annotations

import enum
import hmac
import re
import secrets
from collections.abc import Mapping
from dataclasses import dataclass
from types import MappingProxyType
from typing import Any

ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"  # Crockford base32
CODE_LENGTH = 14
ID_BITS = 30  # store_no (10 bits) << 20 | seq (20 bits), keyed-permuted
MAC_BITS = 30
MAX_STORE_NO = (1 << 10) - 1
MAX_SEQ = (1 << 20) - 1
MAX_KEY_ID = 15
MIN_SECRET_BYTES = 16

_VALUE = {ch: i for i, ch in enumerate(ALPHABET)}
# Crockford: letters people confuse with digits mean the digit; "U" stays, to fail rather than be guessed.
_CONFUSABLE = str.maketrans({"O": "0", "I": "1", "L": "1"})
_SEPARATORS = frozenset("-‐‑‒–—―−_.·")
# QR landing URL ".../r/<code>[/][?query][#fragment]"; any case, as QR alphanumeric mode upper-cases.
_URL_CODE = re.compile(r"/r/([^/?#]+)/?(?:[?#].*)?$", re.IGNORECASE | re.DOTALL)


class CodeKind(enum.Enum):
    """Referral codes (reusable, one per customer and program) and vouchers (single use, a reward)."""

    REFERRAL = "referral"
    VOUCHER = "voucher"


class CodeError(Exception):
    """A code refused before any lookup; ``reason`` is the API reason code (see ``domain.errors``)."""

    reason: str = "code_error"


class MistypedCode(CodeError):
    """Wrong length, a symbol outside the alphabet, or the check symbol fails: ask to retype or scan."""

    reason = "mistyped_code"


class UnknownCode(CodeError):
    """Well formed but not ours: unknown key id or MAC mismatch, i.e. a forgery or a guess."""

    reason = "unknown_code"


@dataclass(frozen=True)
class CodeKey:
    """One key of the chain's keyring. ``__repr__`` hides the secret so it can never reach a log."""

    key_id: int
    secret: bytes

    def __post_init__(self) -> None:
        if not 0 <= self.key_id <= MAX_KEY_ID:
            raise ValueError(f"key_id must be 0..{MAX_KEY_ID}")
        if not isinstance(self.secret, bytes) or len(self.secret) < MIN_SECRET_BYTES:
            raise ValueError(f"secret must be at least {MIN_SECRET_BYTES} bytes")

    def __repr__(self) -> str:
        return f"CodeKey(key_id={self.key_id}, secret=<hidden>)"


@dataclass(frozen=True)
class Keyring:
    """All keys a store accepts; new codes are minted with ``current_id``, old ones still parse.

    ``adopted``: keys of shops that ran standalone and then joined the chain, only to verify the codes
    they printed before (never to mint). Their codes carry the key id their shop gave them, which may
    be a chain key's id too, so a code whose MAC fails under the chain's key of that id is tried under
    each adopted key of that id (a guess passes with probability 2**-30 per such key).
    """

    keys: Mapping[int, CodeKey]
    current_id: int
    adopted: tuple[CodeKey, ...] = ()

    def __post_init__(self) -> None:
        if any(key.key_id != key_id for key_id, key in self.keys.items()):
            raise ValueError("keyring entry does not match its key id")
        if self.current_id not in self.keys:
            raise ValueError("current key id is not in the keyring")
        object.__setattr__(self, "keys", MappingProxyType(dict(self.keys)))  # immutable in practice

    def __repr__(self) -> str:
        return f"Keyring(key_ids={sorted(self.keys)}, current_id={self.current_id}, adopted={len(self.adopted)})"

    @classmethod
    def generate(cls) -> Keyring:
        """A standalone shop's first keyring: one fresh 256-bit key, id 0."""
        return cls(keys={0: CodeKey(0, secrets.token_bytes(32))}, current_id=0)

    def current(self) -> CodeKey:
        return self.keys[self.current_id]

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form (hex secrets) for the store's 0600 secrets file; never log it."""
        def listed(keys: Any) -> list[dict[str, Any]]:
            return [{"key_id": k.key_id, "secret": k.secret.hex()} for k in keys]
        return {"current_id": self.current_id, "keys": listed(self.keys.values()), "adopted": listed(self.adopted)}

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Keyring:
        def keys(entries: Any) -> list[CodeKey]:
            return [CodeKey(int(e["key_id"]), bytes.fromhex(str(e["secret"]))) for e in entries]
        return cls(keys={k.key_id: k for k in keys(data["keys"])}, current_id=int(data["current_id"]),
                   adopted=tuple(keys(data.get("adopted", ()))))

    def holds(self, secret: bytes) -> bool:
        """Whether codes minted under ``secret`` parse here (a chain key, or an adopted one)."""
        return any(hmac.compare_digest(k.secret, secret) for k in (*self.keys.values(), *self.adopted))

    def verifying(self, key_id: int, head7: str, mac: str) -> CodeKey | None:
        """The key whose MAC over ``head7`` is ``mac``: the chain's key of that id, else an adopted one."""
        for key in (self.keys.get(key_id), *(k for k in self.adopted if k.key_id == key_id)):
            if key is not None and hmac.compare_digest(_mac(key.secret, head7), mac):
                return key
        return None


@dataclass(frozen=True)
class ParsedCode:
    """A code that passed every offline check; ``code`` is canonical (14 symbols, no separators)."""

    code: str
    kind: CodeKind
    key_id: int
    store_no: int
    seq: int


def _gf_mul(a: int, b: int) -> int:
    """Multiply in GF(32) = GF(2)[x] / (x^5 + x^2 + 1); addition is XOR."""
    result = 0
    while b:
        if b & 1:
            result ^= a
        b >>= 1
        a <<= 1
        if a & 0b100000:
            a ^= 0b100101
    return result


def _gf_pow(a: int, n: int) -> int:
    return _gf_mul(a, _gf_pow(a, n - 1)) if n else 1


_WEIGHTS = tuple(_gf_pow(2, i + 1) for i in range(CODE_LENGTH))  # alpha^(i+1), alpha = 2
_CHECK_WEIGHT_INV = _gf_pow(2, 31 - CODE_LENGTH)  # alpha^-14 = alpha^17 (alpha has order 31)
# products looked up, not computed: every quote and redemption checks a code (~20 us -> ~3 us)
_TIMES = {ch: tuple(_gf_mul(w, v) for w in _WEIGHTS) for ch, v in _VALUE.items()}  # symbol -> value * w_i
_CHECK_OF = "".join(ALPHABET[_gf_mul(p, _CHECK_WEIGHT_INV)] for p in range(32))  # partial sum -> check symbol


def check_symbol(payload13: str) -> str:
    """The symbol c making S = sum_{i=0..13} alpha^(i+1) * v_i == 0 in GF(32) for ``payload13 + c``.

    Why it catches every typo the architecture names (S is linear, so an error's effect on S does not
    depend on the rest of the code): a substitution a -> b at position i changes S by w_i * (a ^ b),
    non-zero as w_i != 0; a swap of different neighbours a, b at i, i+1 changes S by
    (a ^ b) * (w_i ^ w_{i+1}), non-zero because all 14 weights are distinct powers of a primitive
    element (14 < 31), the swap of symbol 12 with the check symbol included (alpha^13 != alpha^14).
    So the proposed weights needed no fix; the tests check this exhaustively.
    """
    if len(payload13) != CODE_LENGTH - 1:
        raise ValueError("payload must be 13 Crockford base32 symbols")
    partial = 0
    try:
        for i, ch in enumerate(payload13):
            partial ^= _TIMES[ch][i]
    except KeyError:
        raise ValueError("payload must be 13 Crockford base32 symbols") from None
    return _CHECK_OF[partial]  # w13 * c = partial (char 2: minus is plus)


def _encode(value: int, width: int) -> str:
    return "".join(ALPHABET[(value >> (5 * (width - 1 - i))) & 31] for i in range(width))


def _decode(symbols: str) -> int:
    return sum(_VALUE[ch] << 5 * (len(symbols) - 1 - i) for i, ch in enumerate(symbols))


def _round(secret: bytes, tag: int, rnd: int, half: int) -> int:
    msg = b"perm" + bytes((tag, rnd)) + half.to_bytes(2, "big")
    return int.from_bytes(hmac.digest(secret, msg, "sha256")[:2], "big") & 0x7FFF


def _permute(secret: bytes, tag: int, ident: int, inverse: bool = False) -> int:
    """Balanced 4-round Feistel on two 15-bit halves: a bijection on 30 bits, keyed by secret and tag.

    The tag (symbol 0) is mixed into every round so referral and voucher codes of one store and seq,
    or the same ids under two keys, come out unrelated.
    """
    left, right = ident >> 15, ident & 0x7FFF
    if inverse:  # undo a round: swap the halves, run the rounds backwards, swap back
        left, right = right, left
    for rnd in reversed(range(4)) if inverse else range(4):
        left, right = right, left ^ _round(secret, tag, rnd, right)
    return right << 15 | left if inverse else left << 15 | right


def _mac(secret: bytes, head7: str) -> str:
    digest = hmac.digest(secret, b"mac" + head7.encode("ascii"), "sha256")
    return _encode(int.from_bytes(digest[:4], "big") >> (32 - MAC_BITS), MAC_BITS // 5)


def normalise(raw: str) -> str:
    """Turn what a person typed or a scanner sent into a candidate code (not yet validated).

    Accepts a landing URL (``.../r/<code>``), CR/LF suffixes, any case, hyphens, spaces, dashes and
    Crockford's confusables (O -> 0, I/L -> 1); anything else is kept, for validation to refuse.
    """
    text = raw.strip()
    if match := _URL_CODE.search(text):
        text = match.group(1)
    kept = "".join(ch for ch in text if not ch.isspace() and ch not in _SEPARATORS)
    return kept.upper().translate(_CONFUSABLE)


def mint(kind: CodeKind, store_no: int, seq: int, key: CodeKey) -> str:
    """The canonical 14-symbol code for (kind, store_no, seq) under ``key``; deterministic."""
    if not (0 <= store_no <= MAX_STORE_NO and 0 <= seq <= MAX_SEQ):
        raise ValueError(f"need store_no in 0..{MAX_STORE_NO} and seq in 0..{MAX_SEQ}")
    tag = key.key_id + (16 if kind is CodeKind.VOUCHER else 0)
    head = ALPHABET[tag] + _encode(_permute(key.secret, tag, store_no << 20 | seq), ID_BITS // 5)
    payload = head + _mac(key.secret, head)
    return payload + check_symbol(payload)


def parse(raw: str, keyring: Keyring) -> ParsedCode:
    """Normalise and validate ``raw``; raises MistypedCode before any key is used, then UnknownCode."""
    code = normalise(raw)
    if len(code) != CODE_LENGTH or any(ch not in _VALUE for ch in code):
        raise MistypedCode("not 14 Crockford base32 symbols")
    if check_symbol(code[:-1]) != code[-1]:
        raise MistypedCode("check symbol does not match")
    tag = _VALUE[code[0]]
    kind, key_id = (CodeKind.VOUCHER, tag - 16) if tag >= 16 else (CodeKind.REFERRAL, tag)
    key = keyring.verifying(key_id, code[:7], code[7:13])
    if key is None:
        raise UnknownCode("not minted under any key we hold")  # one message: no oracle for guessers
    ident = _permute(key.secret, tag, _decode(code[1:7]), inverse=True)
    return ParsedCode(code=code, kind=kind, key_id=key_id, store_no=ident >> 20, seq=ident & MAX_SEQ)


def format_display(code: str) -> str:
    """Groups of four joined by hyphens (``XXXX-XXXX-XXXX-XX``): easier to read aloud and retype."""
    return "-".join(code[i : i + 4] for i in range(0, len(code), 4))
