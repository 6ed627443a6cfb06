"""A/B results: per program and variant, what each friend offer brought and cost, and a plain verdict.

Definitions (also on the dashboard):
- *Codes issued*: referral codes of the variant issued in the period (a code's variant is fixed when it
  is minted, ``Program.variant_for``); codes of a program without variants are the "-" row.
- *Converted*: those codes that brought at least one friend's purchase by the period's end;
  *conversion* = converted / codes issued, with its 95 % Wilson score interval.
- *Friends acquired*: purchases with a code of the variant in the period, not refunded in full.
- *Reward cost*: those purchases' friend discounts plus reward vouchers (earned through the variant's
  purchases) redeemed in the period; *cost per acquired customer* = reward cost / friends acquired.
  Milestone rewards belong to no variant ("-" row), so every column sums to the dashboard's totals.
- *Verdict*: the best-converting variant against the next one, two-sided at 5 %: the two-proportion
  z-test, or Fisher's exact test when an expected count is below 5. Not significant: the number of
  further codes (both variants together) that 80 % power needs at the observed rates.
"""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa

from pos_referral.db.models import Code, LedgerEntry, Redemption, Reward
from pos_referral.domain import stats
from pos_referral.domain.rules import Program
from pos_referral.services.reports.cohort import cohort_where
from pos_referral.services.reports.date_range import DateRange, at_store, in_range, sold_at_store
from pos_referral.services.reports.funnel import ratio
from pos_referral.services.reports.rollup import milestones, variants

TABLE = ("A/B results per variant", [
    ("program", "Program", "text"), ("variant", "Variant", "text"), ("codes_issued", "Codes issued", "int"),
    ("codes_converted", "Codes that brought a friend", "int"), ("conversion", "Conversion", "ratio"),
    ("conversion_low", "95 % interval, low", "ratio"), ("conversion_high", "95 % interval, high", "ratio"),
    ("friends_acquired", "Friends acquired", "int"), ("reward_cost_minor", "Reward cost", "money"),
    ("cost_per_acquired_minor", "Cost per acquired customer", "money"), ("verdict", "Verdict", "text")])
VERDICT_TABLE = ("A/B verdicts", [
    ("program", "Program", "text"), ("verdict", "Verdict", "text"), ("test", "Test", "text"),
    ("p_value", "p-value", "ratio"), ("more_codes_needed", "More codes needed", "int")])

_NET = Redemption.basket_minor - Redemption.refunded_minor
NO_VARIANT = "-"


def _codes(conn: sa.Connection, rng: DateRange) -> dict[tuple[str, str], tuple[int, int]]:
    if milestones.usable(conn, rng):
        return milestones.by_variant(conn, rng)
    used = sa.exists().where(Redemption.code == Code.code, Redemption.created_at < rng.end)
    rows = conn.execute(sa.select(Code.program_id, Code.variant, sa.func.count(),
                                  sa.func.coalesce(sa.func.sum(sa.case((used, 1), else_=0)), 0))
                        .where(cohort_where(rng)).group_by(Code.program_id, Code.variant)).all()
    return {(str(p), str(v or "")): (int(n), int(c)) for p, v, n, c in rows}


def _acquired(conn: sa.Connection, rng: DateRange) -> dict[tuple[str, str], tuple[int, int]]:
    rows = conn.execute(sa.select(Redemption.program_id, Redemption.variant, sa.func.count(),
                                  sa.func.coalesce(sa.func.sum(Redemption.discount_minor), 0))
                        .where(in_range(Redemption.created_at, rng), at_store(Redemption.store_no, rng), _NET > 0)
                        .group_by(Redemption.program_id, Redemption.variant)).all()
    return {(str(p), str(v or "")): (int(n), int(d)) for p, v, n, d in rows}


def _vouchers(conn: sa.Connection, rng: DateRange) -> dict[tuple[str, str], int]:
    """Reward vouchers spent in the range, by the program and variant of the purchase that earned them."""
    stmt = (sa.select(Reward.program_id, Redemption.variant, sa.func.sum(LedgerEntry.amount_minor))
            .select_from(LedgerEntry).join(Reward, Reward.id == LedgerEntry.reward_id)
            .outerjoin(Redemption, Redemption.id == Reward.redemption_id)
            .where(LedgerEntry.entry == "voucher_redeemed", in_range(LedgerEntry.at, rng)))
    if rng.store_no is not None:
        stmt = stmt.where(sa.exists(sa.select(Code.code).where(
            Code.kind == "voucher", Code.reward_id == LedgerEntry.reward_id,
            sold_at_store(Code.redeemed_sale_id, rng))))
    rows = conn.execute(stmt.group_by(Reward.program_id, Redemption.variant)).all()
    return {(str(p), str(v or "")): int(n or 0) for p, v, n in rows}


def _verdict(rows: list[dict[str, Any]]) -> dict[str, Any]:
    """The plain verdict for one program's variant rows (at least two)."""
    ranked = sorted(rows, key=lambda r: (r["conversion"] or 0.0, r["codes_issued"]), reverse=True)
    a, b = ranked[0], ranked[1]
    out: dict[str, Any] = {"test": "", "p_value": None, "more_codes_needed": None}
    if not a["codes_issued"] or not b["codes_issued"]:
        empty = a if not a["codes_issued"] else b
        return {**out, "verdict": f"not enough data yet: no codes of variant {empty['variant']} in this period"}
    found = stats.compare(a["codes_converted"], a["codes_issued"], b["codes_converted"], b["codes_issued"])
    assert found is not None
    out.update(test="two-proportion z-test" if found.test == "z" else "Fisher exact test", p_value=found.p_value)
    shown = "p < 0.001" if found.p_value < 0.001 else f"p = {found.p_value:.3f}".rstrip("0").rstrip(".")
    if found.p_value < stats.ALPHA and a["conversion"] != b["conversion"]:
        return {**out, "verdict": f"{a['variant']} converts better than {b['variant']}, {shown}"}
    per_variant = stats.sample_size(a["conversion"], b["conversion"])
    if per_variant is None:
        return {**out, "verdict": f"no difference so far ({shown}): both convert at "
                                  f"{a['conversion'] * 100:.1f} %"}
    more = max(0, per_variant - a["codes_issued"]) + max(0, per_variant - b["codes_issued"])
    out["more_codes_needed"] = more
    return {**out, "verdict": f"not enough data yet ({shown}): about {more} more referral codes needed "
                              f"({per_variant} per variant for 80 % power at the rates seen)"}


def ab_results(conn: sa.Connection, rng: DateRange, programs: tuple[Program, ...]
               ) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """(variant rows, verdict rows): every variant of every program, plus whatever the tables hold."""
    codes = _codes(conn, rng)
    if variants.usable(conn, rng):  # the kept day sums (rollup/variants.py)
        kept = variants.sums(conn, rng)
        acquired = {k: (n, d) for k, (n, d, _) in kept.items() if n}
        vouchers = {k: c for k, (n, _, c) in kept.items() if c or not n}  # the raw keys: any voucher spent
    else:
        acquired, vouchers = _acquired(conn, rng), _vouchers(conn, rng)
    names = {p.id: p.name for p in programs}
    keys = set(codes) | set(acquired) | set(vouchers)
    keys |= {(p.id, v.name) for p in programs for v in p.variants}
    rows: list[dict[str, Any]] = []
    for program_id, variant in sorted(keys):
        issued, converted = codes.get((program_id, variant), (0, 0))
        friends, discounts = acquired.get((program_id, variant), (0, 0))
        cost = discounts + vouchers.get((program_id, variant), 0)
        low_high = stats.wilson(converted, issued) or (None, None)
        rows.append({"program_id": program_id, "program": names.get(program_id, program_id),
                     "variant": variant or NO_VARIANT, "codes_issued": issued, "codes_converted": converted,
                     "conversion": ratio(converted, issued), "conversion_low": low_high[0],
                     "conversion_high": low_high[1], "friends_acquired": friends, "reward_cost_minor": cost,
                     "cost_per_acquired_minor": cost // friends if friends else None, "verdict": ""})
    verdicts: list[dict[str, Any]] = []
    for program in programs:
        tested = [r for r in rows if r["program_id"] == program.id and r["variant"] != NO_VARIANT]
        if len(tested) < 2:
            continue
        found = _verdict(tested)
        verdicts.append({"program_id": program.id, "program": program.name, **found})
        for r in tested:
            r["verdict"] = found["verdict"]
    return rows, verdicts
