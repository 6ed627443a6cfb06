"""Schemathesis against our own OpenAPI document: any request the schema allows, zero 500s."""

from __future__ import annotations

import re

import pytest
import schemathesis
from flask import Flask
from hypothesis import HealthCheck, given, settings

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
def test_api_never_answers_500(app: Flask, token: str) -> None:
    schema = schemathesis.openapi.from_wsgi("/api/v1/openapi.json", app)
    operations = [result.ok() for result in schema.get_all_operations()]
    assert len(operations) == sum(len(ops) for ops in document()["paths"].values())
    headers = {"Authorization": f"Bearer {token}"}
    for operation in operations:

        @given(case=operation.as_strategy())
        @settings(max_examples=40, deadline=None, suppress_health_check=list(HealthCheck), database=None)
        def never_500(case: schemathesis.Case) -> None:
            response = case.call(headers={**(case.headers or {}), **headers})
            assert response.status_code < 500, (case.method, case.path, response.text)
            if response.status_code >= 400:
                content_type = {k.lower(): v for k, v in response.headers.items()}["content-type"][0]
                assert content_type.startswith("application/problem+json"), response.text

        never_500()
