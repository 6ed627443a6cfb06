"""Privacy requests: what the shop holds about a customer (``export``) and erasing it (``forget``).

``lookup`` finds the customer rows a request names, ``export`` gathers every row about them,
``erase`` blanks the personal data in one transaction (shared by the store, central and the
stores that hear of it through sync), ``forget`` is the store's use case (audited, sent to central).
"""
