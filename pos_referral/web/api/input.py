"""Reading API request bodies: a clear 4xx for every malformed field, never a 500."""

from __future__ import annotations

import re
from typing import Any

from flask import request

from pos_referral.domain.json_input import JsonInputError, loads_checked
from pos_referral.domain.money import MoneyError, format_money, parse_money
from pos_referral.domain.text import clean_name
from pos_referral.services.customers import CustomerInput, CustomerInputError
from pos_referral.web.auth import current_store
from pos_referral.web.problems import ApiProblem

_SALE_ID = re.compile(r"^[\x21-\x7e]{1,64}$")


NOT_AN_OBJECT = "The body must be a JSON object (Content-Type: application/json)."


def json_body(*, empty_ok: bool = False) -> dict[str, Any]:
    """The request's JSON object, checked (``domain/json_input.py``: depth, UTF-8, surrogates, controls,
    NaN); ``empty_ok``: no body at all reads as ``{}``. Every JSON body of the web layer is read here."""
    data = request.get_data(cache=True)
    if empty_ok and not data:
        return {}
    if not request.is_json:
        raise ApiProblem(400, "invalid_request", NOT_AN_OBJECT)
    try:
        body = loads_checked(data)
    except JsonInputError as exc:
        extra = {"field": exc.field} if exc.field else {}
        raise ApiProblem(400, "invalid_request", f"The body cannot be read: {exc.detail}.", **extra) from None
    if not isinstance(body, dict):
        raise ApiProblem(400, "invalid_request", NOT_AN_OBJECT)
    return body


def invalid(detail: str, field: str) -> ApiProblem:
    return ApiProblem(422, "invalid_request", detail, field=field)


def code_field(body: dict[str, Any], name: str = "code") -> str:
    value = body.get(name)
    if not isinstance(value, str) or not value.strip():
        raise invalid(f"{name} is required: the code as scanned or typed", name)
    if len(value) > 500:
        raise invalid(f"{name} is too long", name)
    return value


def money_field(body: dict[str, Any], name: str, *, required: bool = True) -> int | None:
    if name not in body or body[name] is None:
        if required:
            raise invalid(f'{name} is required, as a decimal string such as "42.50"', name)
        return None
    try:
        minor = parse_money(body[name], field=name)
    except MoneyError as exc:
        raise invalid(str(exc), name) from None
    most = current_store().settings.config.max_amount_minor
    if minor > most:
        raise invalid(f"{name} is more than this shop accepts ({format_money(most)}; "
                      "[security] max_amount_accepted)", name)
    return minor


def customer_field(body: dict[str, Any], *, required: bool = False) -> CustomerInput:
    raw = body.get("customer")
    try:
        customer = CustomerInput.parse(raw)
    except CustomerInputError as exc:
        raise invalid(f"customer: {exc}", "customer") from None
    if required and not customer.given:
        raise invalid("customer needs a phone, an email or a customer_id", "customer")
    return customer


def sale_id_field(body: dict[str, Any]) -> str:
    value = body.get("sale_id")
    if not isinstance(value, str) or not _SALE_ID.match(value):
        raise invalid("sale_id is required: 1-64 printable characters, no spaces", "sale_id")
    return value


def choice_field(body: dict[str, Any], name: str, choices: tuple[str, ...], default: str) -> str:
    value = body.get(name, default)
    if value not in choices:
        raise invalid(f"{name} must be one of {', '.join(choices)}", name)
    return str(value)


def cashier_field(body: dict[str, Any]) -> str:
    """The optional ``cashier`` (a name or staff number as the POS knows it; 1-40 characters)."""
    value = body.get("cashier")
    if value is None:
        return ""
    if not isinstance(value, str) or not clean_name(value) or len(value) > 40:
        raise invalid("cashier must be a name or number of 1-40 characters", "cashier")
    return clean_name(value)
