"""The receipt print proxy: POS -> pos-referral -> printer, with the referral footer before the cut."""
