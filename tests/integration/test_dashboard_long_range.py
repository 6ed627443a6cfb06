"""A year on the dashboard stays readable: past 60 days the trend is shown per week (issue 19)."""

from __future__ import annotations

import csv
import io
import re
from datetime import date, timedelta

from flask import Flask
from flask.testing import FlaskClient

from pos_referral.bootstrap import Store
from pos_referral.services import staff
from pos_referral.services.reports.periods import DAILY_ROWS_AT_MOST, weekly
from tests.conftest import Api

PASSWORD = "correct horse battery"


def signed_in(app: Flask, store: Store) -> FlaskClient:
    staff.add_staff(store.ctx, "Mia", "manager", password=PASSWORD, pin="999999")
    client = app.test_client()
    token = re.search(r'name="csrf_token" value="([^"]+)"', client.get("/manager/login").get_data(as_text=True))
    assert token
    assert client.post("/manager/login", data={"name": "Mia", "password": PASSWORD,
                                               "csrf_token": token.group(1)}).status_code == 302
    return client


def trend_rows(html: str) -> list[list[str]]:
    section = html[html.index('id="t-trend"'):]
    section = section[:section.index("</section>")]
    return [re.findall(r"<t[dh][^>]*>([^<]*)</t[dh]>", row) for row in re.findall(r"<tr>(.*?)</tr>", section)]


def test_a_year_on_the_dashboard_shows_weekly_rows_and_the_csv_keeps_every_day(
        app: Flask, store: Store, api: Api) -> None:
    code = api.issue("+4791111111", "Kari")["code"]  # 2026-06-15, a Monday
    assert api.redeem(code, "S1", "50.00", phone="+4794444441")[0] == 201
    client = signed_in(app, store)
    html = client.get("/manager/?from=2025-06-16&to=2026-06-15").get_data(as_text=True)
    rows = trend_rows(html)
    header, body = rows[0], rows[1:]
    assert header[0] == "Week" and "Weekly trend" in html
    assert 52 <= len(body) <= 54  # 365 days as weeks, not 365 rows
    assert body[0][0] == "2025-06-16 to 2025-06-22" and body[-1][0] == "2026-06-15 to 2026-06-15"
    assert body[-1][1:] == ["2", "0", "0", "1"]  # this week: Kari's code and the friend's own, one redemption
    assert sum(int(r[4]) for r in body) == 1
    days = list(csv.reader(io.StringIO(
        client.get("/manager/export/trend.csv?from=2025-06-16&to=2026-06-15").get_data(as_text=True))))
    assert len(days) == 1 + 365 and days[0][0] == "Day"


def test_a_month_keeps_its_daily_rows(app: Flask, store: Store) -> None:
    client = signed_in(app, store)
    rows = trend_rows(client.get("/manager/?from=2026-06-01&to=2026-06-30").get_data(as_text=True))
    assert rows[0][0] == "Day" and len(rows) == 1 + 30 and rows[1][0] == "2026-06-01"


def test_weeks_run_monday_to_sunday_and_are_cut_to_the_range() -> None:
    first = date(2026, 1, 1)  # a Thursday
    days = [{"day": (first + timedelta(days=i)).isoformat(), "redemptions": 1} for i in range(DAILY_ROWS_AT_MOST + 1)]
    weeks = weekly(days)
    assert weeks[0]["week"] == "2026-01-01 to 2026-01-04" and weeks[0]["days"] == 4
    assert weeks[1]["week"] == "2026-01-05 to 2026-01-11" and weeks[1]["redemptions"] == 7
    assert sum(w["redemptions"] for w in weeks) == len(days)


def test_a_long_list_shows_its_first_rows_on_the_page_and_every_row_in_the_csv(
        app: Flask, store: Store, api: Api) -> None:
    # 55 referred sales refunded: 55 fraud flags; the page shows 50 and says where the rest are
    for n in range(55):
        code = api.issue(f"+47911{n:05d}", f"R{n}")["code"]
        assert api.redeem(code, f"S{n}", "50.00", phone=f"+47944{n:05d}")[0] == 201
        assert api.post(f"/api/v1/sales/S{n}/refund", {})[0] == 200
    client = signed_in(app, store)
    html = client.get("/manager/").get_data(as_text=True)
    section = html[html.index('id="t-fraud"'):]
    section = section[:section.index("</section>")]
    assert section.count("<tr>") == 1 + 50
    assert "Showing the first 50 of 55 rows" in section and "/manager/export/fraud.csv" in section
    rows = list(csv.reader(io.StringIO(client.get("/manager/export/fraud.csv").get_data(as_text=True))))
    assert len(rows) == 1 + 55
