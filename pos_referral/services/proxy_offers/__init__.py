"""The print proxy's referral side: which receipts get a code, bearer codes and their claim, the footer.

The byte side (``pos_referral/proxy``) asks one question per receipt (``FooterSource.footer_for``);
``footer.ProxyFooter`` answers it: it reads the receipt's total and number (``domain/receipt_text``),
records the sale, asks the offer policy (``policy``), issues a bearer code (``bearer``) and renders
``printer_templates/proxy_footer.receipt``. The customer claims the code later (``claims``).
"""
