"""One line per figure the dashboard shows, for the manager: what is counted, and over which period.

Keys are the key figures' keys (``kpis``) and the tables' names; the page shows each table's line under
its title and every line in "How these figures are counted", and JSON carries them (``definitions``).
A new figure adds its line here (``DEFINITIONS[key] = ...``), next to the code that computes it.
"""

from __future__ import annotations

DEFINITIONS: dict[str, str] = {
    # key figures
    "customers_served": "Distinct customers seen in the period: given a code, a referred purchase, a sale with "
                        "their reward voucher, or a quote naming them.",
    "participation_rate": "Sales in the period with a referral code or a reward voucher, over every sale the shop "
                          "reported (its POS, the till's Sale done, the print proxy); not known without a sales feed.",
    "code_holder_share": "Customers served who hold a referral code issued before the period ended, over "
                         "customers served (the service sees mostly customers with a code: not participation).",
    "referral_conversion": "Codes issued in the period that brought at least one friend's purchase by its end, "
                           "over codes issued in the period.",
    "sales_minor": "Every sale reported in the period (POS sales feed, the till's Sale done, the print proxy, "
                   "redemptions); without a sales feed, only the baskets this service recorded: referred purchases "
                   "(net of refunds) and sales paid partly with a reward voucher.",
    "referred_revenue_minor": "Friends' first purchases with a code in the period, net of refunds.",
    "referred_share": "Referred revenue over the sales recorded in the period (over every reported sale when "
                      "the shop has a sales feed).",
    "avg_basket_referred_minor": "Average basket of customers who were a referred friend before the period "
                                 "ended.",
    "avg_basket_other_minor": "Average basket of the other sales: every reported sale that was not a referred "
                              "purchase (without a sales feed: sales with a reward voucher).",
    "repeat_rate_referred": "Referred customers served with visits on two or more days of the period, over "
                            "referred customers served.",
    "repeat_rate_other": "Other customers served with visits on two or more days of the period, over the other "
                         "customers served.",
    "reward_cost_minor": "Friends' discounts on purchases in the period not refunded in full, plus reward "
                         "vouchers redeemed in the period.",
    "acquired_customers": "Friends whose referred purchase in the period was not refunded in full.",
    "cost_per_acquired_minor": "Reward cost over acquired customers.",
    "liability_minor": "Now, not for the period: pending referrer rewards plus unused, unexpired reward "
                       "vouchers.",
    # tables
    "funnel": "The codes issued in the period, followed to its end: each step counts the codes of the step "
              "before that went one step further, so no step exceeds the one before. 'Reached' counts the "
              "period's codes that reached the step by any path (a friend may type a printed code without "
              "opening its page).",
    "activity": "Events as they happened in the period, whatever period their code came from: codes issued, "
                "landing page visits, friends quoted (a re-scan at one till within 10 minutes counts once), "
                "purchases with a code, referrer rewards released, reward vouchers redeemed.",
    "channels": "Landing page visits in the period to codes of a channel, over codes of that channel issued in "
                "the period.",
    "goals": "For the calendar month of the period's last day: new referred customers against the target, and "
             "reward cost against the monthly budget (warning at 80 % and 100 %).",
    "trend": "Per day of the period: codes issued, landing visits, friends quoted, purchases with a code.",
    "top_referrers": "Customers whose codes brought the most friends' purchases in the period, with those "
                     "purchases' value net of refunds.",
    "invite": "Customers with visits on two or more days of the period and no referral code.",
    "cashiers": "Per till and cashier: referral codes issued and purchases with a code in the period.",
    "unredeemed": "Now: customers holding unused reward vouchers or pending rewards.",
    "fraud": "Own code used (self-referral refused), 3 or more friends on one code within an hour, refunds of "
             "referred purchases, managers' overrides.",
    "reconciliation": "Conflicts central found between stores (a voucher used twice, a friend referred at two "
                      "stores); sales are never reversed.",
    "card_offers": "After a sale without a friend's code the till asks 'give this customer a referral card?': "
                   "offer rate is cards offered over prompts shown; acceptance is yes over offered.",
    "ab": "Per program and A/B variant: codes issued in the period, those that brought a friend by its end "
          "(conversion, 95 % Wilson interval), friends acquired and reward cost in the period.",
    "ab_verdicts": "The best-converting variant against the next, two-sided at 5 % (two-proportion z-test; "
                   "Fisher's exact test when an expected count is below 5); otherwise the further codes 80 % "
                   "power needs at the rates seen.",
    "budget": "Programs whose reward cost this month reached 80 % or 100 % of the monthly budget.",
    "ambassadors": "Customers holding a named status (the program's milestones), with friends they brought, "
                   "successful referrals (rewards released) and the value of rewards released to them, all up "
                   "to the period's end.",
    "stores": "Central only: each store's referral conversion and reward cost in the period, as its own "
              "dashboard counts them; participation is not known at central because sales are not synced.",
}
