"""Codes: typos refused offline, guesses and forgeries refused without a lookup, no collisions."""

from __future__ import annotations

import random
from collections.abc import Callable

import pytest
from hypothesis import given
from hypothesis import strategies as st

from pos_referral.domain.codes import (
    ALPHABET,
    CODE_LENGTH,
    ID_BITS,
    MAC_BITS,
    CodeError,
    CodeKey,
    CodeKind,
    Keyring,
    MistypedCode,
    ParsedCode,
    UnknownCode,
    check_symbol,
    format_display,
    mint,
    normalise,
    parse,
)

KEY = CodeKey(0, bytes(range(32)))
KEYRING = Keyring(keys={0: KEY}, current_id=0)
OTHER_KEY = CodeKey(0, bytes(range(100, 132)))


def sample_codes(n: int = 50) -> list[str]:
    rng = random.Random(1234)
    return [
        mint(rng.choice(list(CodeKind)), rng.randrange(1024), rng.randrange(1 << 20), KEY) for _ in range(n)
    ]


def with_check(payload13: str) -> str:
    return payload13 + check_symbol(payload13)


def valid_code_with(position: int, value: str, rng: random.Random, neighbour: str | None = None) -> str:
    """A code whose check symbol is right (MAC need not be) with ``value`` at ``position``.

    If ``neighbour`` is given it goes at ``position + 1``. Where the check symbol itself has to take a
    chosen value, the free symbol just before the fixed ones is searched: its weight is non-zero, so
    every check value is reachable.
    """
    fixed = {position: value} if neighbour is None else {position: value, position + 1: neighbour}
    base = [rng.choice(ALPHABET) for _ in range(CODE_LENGTH - 1)]
    for pos, ch in fixed.items():
        if pos < CODE_LENGTH - 1:
            base[pos] = ch
    want_check = fixed.get(CODE_LENGTH - 1)
    if want_check is None:
        return with_check("".join(base))
    free = min(fixed) - 1
    for ch in ALPHABET:
        base[free] = ch
        if check_symbol("".join(base)) == want_check:
            return with_check("".join(base))
    raise AssertionError("check symbol value not reachable")


def swapped(code: str, i: int) -> str:
    return code[:i] + code[i + 1] + code[i] + code[i + 2 :]


# --- round trip ----------------------------------------------------------------------------------


@pytest.mark.parametrize("kind", list(CodeKind))
def test_a_minted_code_parses_back_to_its_store_sequence_and_kind(kind: CodeKind) -> None:
    for store_no in (0, 1, 2, 7, 512, 1023):
        for seq in (0, 1, 2, 999, 65536, (1 << 20) - 1):
            code = mint(kind, store_no, seq, KEY)
            assert len(code) == CODE_LENGTH
            assert parse(code, KEYRING) == ParsedCode(code, kind, 0, store_no, seq)


def test_the_first_symbol_tells_a_referral_code_from_a_voucher() -> None:
    keyring = Keyring(keys={k: CodeKey(k, bytes([k]) * 32) for k in range(16)}, current_id=15)
    for key in keyring.keys.values():
        referral = mint(CodeKind.REFERRAL, 3, 42, key)
        voucher = mint(CodeKind.VOUCHER, 3, 42, key)
        assert referral[0] == ALPHABET[key.key_id] and referral[0] in "0123456789ABCDEF"
        assert voucher[0] == ALPHABET[16 + key.key_id] and voucher[0] in "GHJKMNPQRSTVWXYZ"
        assert parse(referral, keyring).key_id == parse(voucher, keyring).key_id == key.key_id


def test_codes_minted_under_a_retired_key_still_parse_after_rotation() -> None:
    new_key = CodeKey(1, bytes(range(50, 82)))
    rotated = Keyring(keys={0: KEY, 1: new_key}, current_id=1)
    old = mint(CodeKind.VOUCHER, 9, 10, KEY)
    new = mint(CodeKind.VOUCHER, 9, 10, rotated.current())
    assert parse(old, rotated).key_id == 0
    assert parse(new, rotated).key_id == 1
    with pytest.raises(UnknownCode):
        parse(new, KEYRING)


@given(
    kind=st.sampled_from(list(CodeKind)),
    store_no=st.integers(0, 1023),
    seq=st.integers(0, (1 << 20) - 1),
    key_id=st.integers(0, 15),
    secret=st.binary(min_size=16, max_size=64),
)
def test_any_code_round_trips_even_when_retyped_as_displayed(
    kind: CodeKind, store_no: int, seq: int, key_id: int, secret: bytes
) -> None:
    key = CodeKey(key_id, secret)
    code = mint(kind, store_no, seq, key)
    parsed = parse(format_display(code).lower(), Keyring(keys={key_id: key}, current_id=key_id))
    assert (parsed.code, parsed.kind, parsed.key_id, parsed.store_no, parsed.seq) == (
        code,
        kind,
        key_id,
        store_no,
        seq,
    )


# --- typos -------------------------------------------------------------------------------------


def test_every_single_symbol_typo_is_refused_as_mistyped() -> None:
    for code in sample_codes():
        for i in range(CODE_LENGTH):
            for ch in ALPHABET.replace(code[i], ""):
                with pytest.raises(MistypedCode):
                    parse(code[:i] + ch + code[i + 1 :], KEYRING)


def test_every_swap_of_two_different_neighbours_is_refused_as_mistyped() -> None:
    for code in sample_codes():
        for i in range(CODE_LENGTH - 1):
            if code[i] != code[i + 1]:
                with pytest.raises(MistypedCode):
                    parse(swapped(code, i), KEYRING)


def test_every_substitution_of_every_value_at_every_position_is_caught() -> None:
    """Exhaustive over (position, old value, new value), the check symbol's position included."""
    rng = random.Random(7)
    for i in range(CODE_LENGTH):
        for old in ALPHABET:
            code = valid_code_with(i, old, rng)
            with pytest.raises(UnknownCode):  # well formed: only the MAC refuses it
                parse(code, KEYRING)
            for new in ALPHABET.replace(old, ""):
                with pytest.raises(MistypedCode):
                    parse(code[:i] + new + code[i + 1 :], KEYRING)


def test_every_swap_of_every_pair_of_neighbours_is_caught_including_the_check_symbol() -> None:
    """Exhaustive over (position, a, b) with a != b, swapping symbol 12 with the check symbol too."""
    rng = random.Random(8)
    for i in range(CODE_LENGTH - 1):
        for a in ALPHABET:
            for b in ALPHABET.replace(a, ""):
                code = valid_code_with(i, a, rng, neighbour=b)
                assert code[i : i + 2] == a + b
                with pytest.raises(MistypedCode):
                    parse(swapped(code, i), KEYRING)


@pytest.mark.parametrize(("payload", "check"), [("M9S346Q3D25VT", "1"), ("4F5V37E3S3E28", "W"),
                                               ("JT97KB6CQ643D", "6"), ("ZVMXXQKFBF5KZ", "Y")])
def test_check_symbols_are_the_ones_codes_already_carry(payload: str, check: str) -> None:
    """Pinned from the first (computed, not looked-up) implementation: printed cards must stay valid."""
    assert check_symbol(payload) == check


@pytest.mark.parametrize("raw", ["", "ABC", "0" * 13, "0" * 15, "U" * 14, "É" * 14, "ABCD*EFGH+JKMN"])
def test_wrong_length_or_foreign_symbols_are_refused_as_mistyped(raw: str) -> None:
    with pytest.raises(MistypedCode) as err:
        parse(raw, KEYRING)
    assert err.value.reason == "mistyped_code"


def test_a_u_is_never_guessed_into_another_symbol() -> None:
    code = mint(CodeKind.REFERRAL, 1, 1, KEY)
    with pytest.raises(MistypedCode):
        parse(code[:5] + "U" + code[6:], KEYRING)


# --- normalisation -------------------------------------------------------------------------------


def test_what_people_type_and_scanners_send_normalises_to_the_same_code() -> None:
    code = mint(CodeKind.REFERRAL, 5, 77, KEY)
    confusable = code.replace("0", "O").replace("1", "I")
    shown = format_display(code)
    variants = [
        code.lower(),
        shown,
        shown.lower(),
        " ".join(code[i : i + 4] for i in range(0, 14, 4)),
        f"  {shown}  ",
        confusable,
        confusable.lower().replace("i", "l"),
        code + "\r\n",
        code + "\n",
        "\t" + shown + "\r",
        f"https://shop.example/r/{shown.lower()}?s=x",
        f"http://127.0.0.1:8000/r/{code}/",
        f"https://shop.example/r/{code}#top",
        f"https://shop.example/r/{code}/?s=x&utm=qr\r\n",
        f"HTTPS://SHOP.EXAMPLE/R/{code}",
        f"https://shop.example/de/r/{shown}",
    ]
    for raw in variants:
        assert normalise(raw) == code, raw
        assert parse(raw, KEYRING).code == code


def test_display_groups_the_code_in_fours() -> None:
    code = mint(CodeKind.VOUCHER, 5, 77, KEY)
    assert format_display(code) == f"{code[:4]}-{code[4:8]}-{code[8:12]}-{code[12:]}"


# --- authenticity --------------------------------------------------------------------------------


def test_a_code_minted_with_another_secret_is_refused_as_unknown() -> None:
    for seq in range(50):
        forged = mint(CodeKind.VOUCHER, 1, seq, OTHER_KEY)
        with pytest.raises(UnknownCode) as err:
            parse(forged, KEYRING)
        assert err.value.reason == "unknown_code"


def test_a_code_under_a_key_id_we_do_not_hold_is_refused_as_unknown() -> None:
    with pytest.raises(UnknownCode):
        parse(mint(CodeKind.REFERRAL, 1, 1, CodeKey(3, KEY.secret)), KEYRING)


def test_two_thousand_well_formed_guesses_are_all_refused_as_unknown() -> None:
    rng = random.Random(2024)
    for _ in range(2000):
        guess = with_check("".join(rng.choice(ALPHABET) for _ in range(CODE_LENGTH - 1)))
        with pytest.raises(UnknownCode):
            parse(guess, KEYRING)


def test_both_refusals_are_code_errors_with_the_api_reason() -> None:
    assert issubclass(MistypedCode, CodeError) and issubclass(UnknownCode, CodeError)
    assert (MistypedCode.reason, UnknownCode.reason) == ("mistyped_code", "unknown_code")


# --- uniqueness and unlinkability ----------------------------------------------------------------


def test_twenty_thousand_codes_from_several_stores_never_collide() -> None:
    codes = {
        mint(kind, store, seq, KEY)
        for store in (0, 1, 2, 3, 1023)
        for seq in range(2000)
        for kind in CodeKind
    }
    assert len(codes) == 20_000


def test_the_same_sequence_at_two_stores_gives_unrelated_codes() -> None:
    distances = []
    for seq in range(300):
        one, two = mint(CodeKind.REFERRAL, 1, seq, KEY), mint(CodeKind.REFERRAL, 2, seq, KEY)
        distances.append(sum(a != b for a, b in zip(one[1:13], two[1:13], strict=True)))
    assert min(distances) >= 6
    assert sum(distances) / len(distances) > 10.5  # random strings differ in ~11.6 of 12 symbols


def test_consecutive_sequences_do_not_reveal_an_order() -> None:
    codes = [mint(CodeKind.VOUCHER, 4, seq, KEY) for seq in range(200)]
    assert codes != sorted(codes)
    assert len({c[1:3] for c in codes}) > 150  # no shared prefix from a counter


# --- key handling --------------------------------------------------------------------------------


def test_the_secret_never_shows_in_a_repr() -> None:
    keyring = Keyring.generate()
    secret = keyring.current().secret
    for text in (repr(keyring.current()), repr(keyring), str(keyring), repr(KEY)):
        assert secret.hex() not in text and secret.hex().upper() not in text
        assert KEY.secret.hex() not in text
        assert "hidden" in text or "key_ids" in text


def test_a_generated_keyring_has_one_fresh_256_bit_key_with_id_0() -> None:
    one, two = Keyring.generate(), Keyring.generate()
    assert one.current_id == 0 and list(one.keys) == [0]
    assert len(one.current().secret) == 32
    assert one.current().secret != two.current().secret


def test_a_keyring_survives_the_secrets_file_round_trip() -> None:
    keyring = Keyring(keys={0: KEY, 5: CodeKey(5, bytes(range(32, 64)))}, current_id=5)
    data = keyring.to_dict()
    assert data["keys"][0]["secret"] == KEY.secret.hex()
    restored = Keyring.from_dict(data)
    assert restored == keyring
    assert parse(mint(CodeKind.REFERRAL, 8, 9, keyring.current()), restored).store_no == 8


@pytest.mark.parametrize(
    "make",
    [
        lambda: CodeKey(16, bytes(32)),
        lambda: CodeKey(-1, bytes(32)),
        lambda: CodeKey(0, bytes(15)),
        lambda: Keyring(keys={0: KEY}, current_id=1),
        lambda: Keyring(keys={1: KEY}, current_id=1),
        lambda: mint(CodeKind.REFERRAL, 1024, 0, KEY),
        lambda: mint(CodeKind.REFERRAL, 0, 1 << 20, KEY),
        lambda: mint(CodeKind.REFERRAL, -1, 0, KEY),
        lambda: check_symbol("0" * 12),
        lambda: check_symbol("U" * 13),
    ],
)
def test_out_of_range_keys_and_identifiers_are_rejected_when_minting(make: Callable[[], object]) -> None:
    with pytest.raises(ValueError):
        make()


def test_codes_carry_at_least_sixty_keyed_bits_in_at_most_fourteen_symbols() -> None:
    assert ID_BITS + MAC_BITS >= 60
    assert CODE_LENGTH <= 14
    assert len(ALPHABET) == len(set(ALPHABET)) == 32
    assert not set("ILOU") & set(ALPHABET)


def test_a_joined_shops_codes_parse_under_the_chain_keyring_that_adopted_its_key() -> None:
    """The shop and the chain both used key id 0; the printed code keeps its id, the MAC tells the keys apart."""
    shop, chain = Keyring.generate(), Keyring.generate()
    printed = [mint(kind, 3, seq, shop.current()) for kind in CodeKind for seq in range(50)]
    ours = [mint(kind, 4, seq, chain.current()) for kind in CodeKind for seq in range(50)]
    with pytest.raises(UnknownCode):
        parse(printed[0], chain)
    joined = Keyring(keys=chain.keys, current_id=chain.current_id, adopted=(shop.current(),))
    assert all(parse(code, joined).store_no == 3 for code in printed)
    assert all(parse(code, joined).store_no == 4 for code in ours)
    assert joined.holds(shop.current().secret) and not chain.holds(shop.current().secret)


def test_adopted_keys_survive_the_secrets_file_round_trip_and_never_mint() -> None:
    shop = Keyring.generate()
    joined = Keyring(keys={1: CodeKey(1, bytes(range(32)))}, current_id=1, adopted=(shop.current(),))
    restored = Keyring.from_dict(joined.to_dict())
    assert restored == joined and restored.current().key_id == 1
    assert Keyring.from_dict({"current_id": 0, "keys": shop.to_dict()["keys"]}).adopted == ()  # an older file
    assert "secret" not in repr(restored) and "adopted=1" in repr(restored)


def test_guesses_are_still_refused_with_adopted_keys_beside_the_chains() -> None:
    shop, chain = Keyring.generate(), Keyring.generate()
    joined = Keyring(keys=chain.keys, current_id=0, adopted=(shop.current(),))
    rng = random.Random(11)
    for _ in range(2000):
        payload = "0" + "".join(rng.choice(ALPHABET) for _ in range(12))
        with pytest.raises(UnknownCode):
            parse(payload + check_symbol(payload), joined)
