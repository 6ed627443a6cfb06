"""Every field of every route, with hostile values, as nobody, as a cashier and as a manager: never a 500,
never a Python error text; the API and sync answer problem+json, pages answer an HTML page."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import quote

import pytest
from flask import Flask
from flask.testing import FlaskClient
from werkzeug.routing import Rule

from pos_referral import create_app
from pos_referral.bootstrap import Store
from pos_referral.services.staff import add_staff
from pos_referral.services.tills import add_till

WEB = Path(__file__).resolve().parents[2] / "pos_referral" / "web"
# every form field, query parameter and JSON member the web layer reads, found in its source
FIELDS = sorted(
    {m for src in WEB.rglob("*.py") for m in re.findall(r"""(?:form|args|body)\.get(?:list)?\(\s*["'](\w+)["']""",
                                                          src.read_text())}
    | {"channel", "amount", "accepted", "offered", "role", "customer", "events", "after", "store_no"}
)
HOSTILE_TEXT = ["1e3", "1.234", "NaN", "-Infinity", "1_000", "１２３", "+5", " 7 ", "-1.00", "99999999999999999999999",
                "\x00", "\x1b[31mred\x1bp", "\u202e\u2028", "<script>alert(1)</script>", "' OR 1=1 --", "../../etc",
                "A" * 5000]
# raw bytes no browser would send: invalid UTF-8, an encoded surrogate, NUL
RAW_FORM_BYTES = [b"%ff%fe%fd", b"%ed%a0%80", b"%00", b"%c0%af"]
JSON_VALUES: list[object] = [*HOSTILE_TEXT, "\ud800", "x\udfffy", 1e308, -1, 2**70, True, None, [], {},
                              [[[[[[]]]]]], {"a": {"b": {}}}]
PYTHON_TEXT = re.compile(r"Traceback|File \"|codec can't|object has no attribute|invalid literal|"
                         r"\b[A-Z][A-Za-z]{0,40}Error\b|not subscriptable|unhashable|NoneType|sqlite3|sqlalchemy")
SKIP = {"static", "till.events"}  # files; the till's endless event stream
SECRET = "correct horse battery staple 42"


def _path_values(rule: Rule, value: str) -> Iterator[str]:
    """``rule`` with every path parameter set to hostile values (ints: 1 and a huge one)."""
    names = list(rule.arguments)
    if not names:
        yield rule.rule
        return
    for candidate in (value, "1") if all(rule._converters[n].regex != r"\d+" for n in names) else ("1", str(2**70)):
        path = rule.rule
        for name in names:
            path = re.sub(rf"<(?:[^:<>]+:)?{name}>", quote(candidate, safe=""), path)
        yield path


def _check(path: str, method: str, response: object) -> None:
    from werkzeug.test import TestResponse

    assert isinstance(response, TestResponse)
    text = response.get_data(as_text=True)
    where = f"{method} {path} -> {response.status_code}: {text[:300]!r}"
    assert response.status_code < 500 or response.status_code == 503, where  # 503: not joined, codes used up
    assert not PYTHON_TEXT.search(text) or response.mimetype not in ("text/html", "application/problem+json"), where
    if response.status_code >= 400 and path.startswith(("/api/", "/sync/")):
        assert response.mimetype == "application/problem+json", where
        body = json.loads(text)
        assert isinstance(body.get("detail"), str) and body["detail"], where
    elif response.status_code >= 400 and response.status_code != 405:
        assert response.mimetype in ("text/html", "application/problem+json", "application/json"), where


@pytest.fixture
def hostile_app(store: Store) -> Flask:
    add_staff(store.ctx, "Ann", "cashier", pin="246810")
    add_staff(store.ctx, "Mia", "manager", password=SECRET, pin="97531864")
    return create_app(store=store, test_config={"TESTING": True, "WTF_CSRF_ENABLED": False})


def _clients(app: Flask, store: Store) -> dict[str, tuple[FlaskClient, dict[str, str]]]:
    nobody = app.test_client()
    cashier = app.test_client()
    cashier.post("/till/T1/sign-in", data={"name": "Ann", "pin": "246810"})
    manager = app.test_client()
    manager.post("/manager/login", data={"name": "Mia", "password": SECRET})
    bearer = {"Authorization": f"Bearer {add_till(store.ctx, 'T1')}"}
    return {"nobody": (nobody, {}), "cashier": (cashier, {}), "manager": (manager, {}), "till token": (nobody, bearer)}


def _who(path: str, clients: dict[str, tuple[FlaskClient, dict[str, str]]]) -> list[tuple[FlaskClient, dict[str, str]]]:
    """Nobody, and whoever may use ``path``: the manager on manager pages, the till elsewhere."""
    if path.startswith("/manager"):
        return [clients["nobody"], clients["manager"]]
    if path.startswith("/till"):
        return [clients["nobody"], clients["cashier"]]
    if path.startswith("/api/"):
        return [clients["nobody"], clients["till token"], clients["cashier"]]
    return [clients["nobody"]]


def _routes(app: Flask) -> list[tuple[Rule, str]]:
    return [(rule, method) for rule in app.url_map.iter_rules() if rule.endpoint not in SKIP
            for method in sorted((rule.methods or set()) - {"HEAD", "OPTIONS"})]


def _encodable(text: str) -> bool:
    return not re.search("[\ud800-\udfff]", text)


def _rotated(values: list[object], turn: int) -> dict[str, object]:
    """Every field at once, each with another hostile value; ``turn`` shifts which gets which."""
    return {name: values[(i + turn) % len(values)] for i, name in enumerate(FIELDS)}


def _send_everywhere(app: Flask, store: Store, values: list[object], turns: range, *, forms: bool) -> None:
    clients = _clients(app, store)
    for rule, method in _routes(app):
        for turn in turns:
            fields = _rotated(values, turn)
            # a URL or a form cannot carry a lone surrogate at all: those go in JSON only
            text = {k: v for k, v in fields.items() if isinstance(v, str) and _encodable(v)}
            in_path = str(values[turn % len(values)])
            for path in _path_values(rule, in_path if _encodable(in_path) else "x"):
                for client, headers in _who(path, clients):
                    if method == "GET":
                        _check(path, method, client.get(path, query_string=text, headers=headers))
                        continue
                    if forms:
                        _check(path, method, client.post(path, data=text, headers=headers))
                    _check(path, method, client.post(path, json=fields, headers={**headers, "Idempotency-Key": "k"}))


def test_every_field_of_every_route_takes_hostile_text_without_a_500(hostile_app: Flask, store: Store) -> None:
    _send_everywhere(hostile_app, store, list(HOSTILE_TEXT), range(1), forms=True)


@pytest.mark.slow
def test_every_field_of_every_route_takes_every_hostile_value_without_a_500(hostile_app: Flask,
                                                                           store: Store) -> None:
    _send_everywhere(hostile_app, store, [*HOSTILE_TEXT, *JSON_VALUES], range(len(HOSTILE_TEXT) + len(JSON_VALUES)),
                     forms=True)


def test_every_json_member_takes_any_json_value_without_a_500(hostile_app: Flask, store: Store) -> None:
    _send_everywhere(hostile_app, store, JSON_VALUES, range(len(HOSTILE_TEXT), len(HOSTILE_TEXT) + 1), forms=False)


def test_raw_bytes_no_browser_sends_get_a_page_not_a_500(hostile_app: Flask, store: Store) -> None:
    clients = _clients(hostile_app, store)
    for rule, method in _routes(hostile_app):
        raw = RAW_FORM_BYTES[hash(rule.rule) % len(RAW_FORM_BYTES)]
        for path in _path_values(rule, "x"):
            for client, headers in _who(path, clients):
                body = b"&".join(name.encode() + b"=" + raw for name in FIELDS)
                if method == "GET":
                    _check(path, method, client.get(path + "?" + body.decode("ascii"), headers=headers))
                else:
                    _check(path, method, client.post(path, data=body, headers={
                        **headers, "Content-Type": "application/x-www-form-urlencoded"}))
                    _check(path, method, client.post(path, data=b'{"code": "\xff\xfe\xed\xa0\x80"}', headers={
                        **headers, "Content-Type": "application/json"}))
