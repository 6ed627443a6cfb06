"""``python -m pos_referral`` is the ``pos-referral`` command."""

from pos_referral.cli import run

run()
