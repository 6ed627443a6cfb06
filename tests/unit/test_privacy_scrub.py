"""What a forget removes from JSON it keeps: names in contexts, and only the forgotten person's identity in
sync events (the other party of a referral keeps theirs, or central could not tell a duplicate friend)."""

from __future__ import annotations

from pos_referral.services.privacy.erase import scrub, scrub_event


def test_names_and_addresses_are_blanked_at_any_depth_and_the_rest_kept() -> None:
    context = {"first_name": "Ann", "code": "R123", "to_addr": "a@example.com", "nested": [{"name": "Ann"}],
               "discount": "5.00"}
    assert scrub(context) == {"first_name": "", "code": "R123", "to_addr": "", "nested": [{"name": ""}],
                              "discount": "5.00"}


def test_an_event_loses_only_the_forgotten_persons_identity() -> None:
    issued = {"customer_id": "ann", "code": "R1", "identity_hash": "h-ann", "identity_aliases": ["old-ann"],
              "first_name": "Ann", "at": "2026-06-15T12:00:00+00:00"}
    assert scrub_event("code_issued", issued, {"ann"}) == {"customer_id": "ann", "code": "R1", "first_name": "",
                                                          "at": "2026-06-15T12:00:00+00:00"}
    assert scrub_event("code_issued", issued, {"bo"}) == issued
    redeemed = {"friend_id": "bo", "referrer_id": "ann", "friend_identity_hash": "h-bo", "code": "R1"}
    assert scrub_event("redemption_recorded", redeemed, {"ann"}) == redeemed  # Ann was the referrer: Bo's stays
    assert scrub_event("redemption_recorded", redeemed, {"bo"}) == {"friend_id": "bo", "referrer_id": "ann",
                                                                    "code": "R1"}
    assert scrub_event("voucher_redeemed", {"customer_id": "ann", "code": "V1"}, {"ann"}) == {
        "customer_id": "ann", "code": "V1"}
