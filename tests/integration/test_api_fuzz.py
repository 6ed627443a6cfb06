"""Schemathesis against our own OpenAPI document: any request the schema allows, zero 500s."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import schemathesis
from flask import Flask
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from pos_referral import create_app
from pos_referral.bootstrap import build_store
from pos_referral.config import load_settings
from pos_referral.services.tills import add_till
from pos_referral.web.api.openapi import document


def test_openapi_document_lists_exactly_the_real_api_routes(app: Flask) -> None:
    real = {
        (re.sub(r"<(?:\w+:)?(\w+)>", r"{\1}", rule.rule), method.lower())
        for rule in app.url_map.iter_rules()
        if rule.rule.startswith("/api/v1/") and rule.endpoint != "openapi.openapi_json"
        for method in (rule.methods or set()) - {"HEAD", "OPTIONS"}
    }
    documented = {(path, method) for path, ops in document()["paths"].items() for method in ops}
    assert real == documented


@pytest.mark.slow
def test_api_never_answers_500(fuzz_api: tuple[Flask, str]) -> None:
    """Every operation of the document, with the rate limiter out of the way, is reached and never fails."""
    app, token = fuzz_api
    schema = schemathesis.openapi.from_wsgi("/api/v1/openapi.json", app)
    operations = [result.ok() for result in schema.get_all_operations()]
    assert len(operations) == sum(len(ops) for ops in document()["paths"].values())
    headers = {"Authorization": f"Bearer {token}"}
    reached: set[str] = set()
    for operation in operations:

        @given(case=operation.as_strategy())
        @settings(max_examples=40, deadline=None, suppress_health_check=list(HealthCheck), database=None)
        def never_500(case: schemathesis.Case) -> None:
            response = case.call(headers={**(case.headers or {}), **headers})
            assert response.status_code < 500 or response.status_code == 503, (case.method, case.path,
                                                                                response.text)
            if response.status_code not in (401, 429):
                reached.add(f"{case.method} {case.path}")
            if response.status_code >= 400:
                content_type = {k.lower(): v for k, v in response.headers.items()}["content-type"][0]
                assert content_type.startswith("application/problem+json"), response.text

        never_500()
    assert reached == {f"{op.method.upper()} {op.path}" for op in operations}


# --- property-based: bodies for every route from the OpenAPI schema, and from hostile strategies ---------

FUZZ_CONFIG = {"failed_lookups_per_minute = 20 ": "failed_lookups_per_minute = 1000000 ",
               "failed_lookups_per_minute_per_address = 100": "failed_lookups_per_minute_per_address = 1000000"}
HOSTILE_TEXT = st.one_of(
    st.text(max_size=40),
    st.text(alphabet=st.characters(codec=None, categories=["Cc", "Cs", "Zl", "Zp", "Nd", "Cf"]), max_size=40),
    st.sampled_from(["1e3", "1.234", "NaN", "Infinity", "1_000", "１２３", "+1", " 1", "\ud800", "\x00", "\x1bp",
                     "9" * 40, "0." + "9" * 30]),
    st.integers(min_value=1000, max_value=60_000).map(lambda n: "A" * n),  # huge: over 64 KB gets 413
)
HOSTILE_LEAF = st.one_of(HOSTILE_TEXT, st.integers(), st.floats(allow_nan=False, allow_infinity=False),
                         st.booleans(), st.none())
HOSTILE_JSON = st.recursive(HOSTILE_LEAF, lambda inner: st.lists(inner, max_size=4)
                            | st.dictionaries(HOSTILE_TEXT, inner, max_size=4), max_leaves=12)


def _strategy(schema: dict[str, Any], components: dict[str, Any]) -> st.SearchStrategy[Any]:
    """Values that satisfy ``schema`` (the subset our OpenAPI document uses)."""
    if "$ref" in schema:
        return _strategy(components[schema["$ref"].rsplit("/", 1)[1]], components)
    if "enum" in schema:
        return st.sampled_from(schema["enum"])
    kind = schema.get("type")
    if kind == "object" or "properties" in schema:
        props = schema.get("properties", {})
        required = set(schema.get("required", []))
        return st.fixed_dictionaries({k: _strategy(v, components) for k, v in props.items() if k in required},
                                     optional={k: _strategy(v, components) for k, v in props.items()
                                               if k not in required})
    if kind == "boolean":
        return st.booleans()
    if kind == "integer":
        return st.integers(min_value=schema.get("minimum"))
    if "pattern" in schema:
        return st.from_regex(schema["pattern"], fullmatch=True)
    return st.text(min_size=schema.get("minLength", 0), max_size=schema.get("maxLength", 60))


def _raw_bodies(strategy: st.SearchStrategy[Any]) -> st.SearchStrategy[bytes]:
    """JSON text of ``strategy``'s values, and hostile JSON text no serializer would write."""
    dumped = strategy.map(lambda v: json.dumps(v).encode())
    deep = st.integers(min_value=33, max_value=20_000).map(lambda n: b'{"a":' * n + b"1" + b"}" * n)
    constants = st.sampled_from([b'{"basket_total": NaN}', b'{"code": Infinity}', b'{"code": "\\udfff"}',
                                 b'{"code": "\xff\xfe"}', b"[]", b'"x"', b"", b"{", b'{"a": 1' + b"0" * 5000 + b"}"])
    return st.one_of(dumped, deep, constants)


@pytest.fixture
def fuzz_api(tmp_path: Path, config_path: Path) -> Iterator[tuple[Flask, str]]:
    """A store whose failed-lookup limits are out of the fuzzer's way, so it reaches every operation."""
    text = config_path.read_text()
    for old, new in FUZZ_CONFIG.items():
        assert old in text, old
        text = text.replace(old, new)
    config_path.write_text(text)
    store = build_store(load_settings(config_path, data_dir=tmp_path / "data", environ={}))
    try:
        yield create_app(store=store, test_config={"TESTING": True}), add_till(store.ctx, "T1")
    finally:
        store.close()


def _body_operations() -> list[tuple[str, dict[str, Any]]]:
    doc = document()
    out = []
    for path, ops in doc["paths"].items():
        for method, op in ops.items():
            if method == "post":
                body = op.get("requestBody", {}).get("content", {}).get("application/json", {}).get("schema")
                out.append((path, body or {"type": "object"}))
    return out


@pytest.mark.parametrize(("path", "schema"), _body_operations(), ids=[p for p, _ in _body_operations()])
def test_every_route_with_a_body_answers_schema_and_hostile_bodies_without_a_500(
    fuzz_api: tuple[Flask, str], path: str, schema: dict[str, Any]
) -> None:
    app, token = fuzz_api
    client = app.test_client()
    url = re.sub(r"\{(\w+)\}", lambda m: "0K3M-7QW2-XC9P-4T" if m.group(1) == "code" else "1", path)
    bodies = _raw_bodies(st.one_of(_strategy(schema, document()["components"]["schemas"]), HOSTILE_JSON))

    @given(raw=bodies)
    @settings(max_examples=40, deadline=None, suppress_health_check=list(HealthCheck), database=None)
    def never_500(raw: bytes) -> None:
        r = client.post(url, data=raw, headers={"Authorization": f"Bearer {token}", "Idempotency-Key": "k",
                                                "Content-Type": "application/json"})
        text = r.get_data(as_text=True)
        assert r.status_code < 500 or r.status_code == 503, (url, raw[:200], text)
        if r.status_code >= 400:
            assert r.mimetype == "application/problem+json", (url, text)
            assert json.loads(text)["detail"] and "Traceback" not in text and "codec" not in text

    never_500()
