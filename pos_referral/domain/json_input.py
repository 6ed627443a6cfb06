"""JSON from outside (API bodies, sync batches) read strictly, with a readable error for every flaw.

What ``json.loads`` lets through and what we refuse here, naming the field:
nesting deeper than ``MAX_DEPTH`` (Python's parser would raise ``RecursionError`` a few hundred levels
down, and every later walk of the value would too); ``NaN``/``Infinity``; bytes that are not UTF-8;
lone surrogate escapes (``"\\ud800"``: a string no database, log or printer can encode); and NUL
(``"\\u0000"``: PostgreSQL text cannot hold it, so it could never reach central). Other control characters
are each field's business: a name is cleaned (``domain/text.py``), a code or a sale id refused by its format.
"""

from __future__ import annotations

import json
import re
from typing import Any

MAX_DEPTH = 32
_BAD_CHAR = re.compile(r"[\x00\ud800-\udfff]")
_SURROGATE = re.compile(r"[\ud800-\udfff]")


class JsonInputError(ValueError):
    """A body that is not acceptable JSON; ``field`` names where (``None``: the body as a whole)."""

    def __init__(self, detail: str, field: str | None = None) -> None:
        super().__init__(detail)
        self.detail, self.field = detail, field


def _no_constants(name: str) -> Any:
    raise JsonInputError(f"{name} is not a number: send finite numbers only")


def loads_checked(raw: bytes | str, *, walk_always: bool = True, controls_ok: bool = False) -> Any:
    """``raw`` parsed as JSON, or ``JsonInputError`` with a detail a person can act on.

    A control character or a surrogate can only arrive as a ``\\u`` escape (JSON refuses them raw), so a
    bulk caller (sync batches) may pass ``walk_always=False`` to skip the walk of a body without escapes;
    its depth is then bounded only by the parser's own recursion limit. ``controls_ok``: refuse only
    surrogates (a store's sync batch may carry a NUL: central stores such a body row by row)."""
    if isinstance(raw, bytes):
        try:
            raw = raw.decode("utf-8")
        except UnicodeDecodeError:
            raise JsonInputError("the body is not valid UTF-8 text") from None
    try:
        value = json.loads(raw, parse_constant=_no_constants)
    except JsonInputError:
        raise
    except RecursionError:
        raise JsonInputError(f"the body is nested too deeply (at most {MAX_DEPTH} levels)") from None
    except json.JSONDecodeError as exc:
        raise JsonInputError(f"the body is not JSON ({exc.msg} at line {exc.lineno}, column {exc.colno})") from None
    except ValueError:  # the one other refusal of json.loads: an integer longer than 4300 digits
        raise JsonInputError("the body holds a number with too many digits") from None
    if walk_always or "\\u" in raw:
        check_value(value, controls_ok=controls_ok)
    return value


def _text_flaw(text: str, controls_ok: bool = False) -> str | None:
    bad = (_SURROGATE if controls_ok else _BAD_CHAR).search(text)
    if bad is None:
        return None
    if "\ud800" <= bad.group() <= "\udfff":
        return "is not valid Unicode (a lone surrogate escape)"
    return "contains a NUL character (U+0000)"


def check_value(value: Any, *, controls_ok: bool = False) -> None:
    """Walk ``value`` without recursion: depth, and every key and string (``JsonInputError`` names the path)."""
    stack: list[tuple[Any, str, int]] = [(value, "", 1)]
    while stack:
        item, path, depth = stack.pop()
        if isinstance(item, (dict, list)) and depth > MAX_DEPTH:
            raise JsonInputError(f"the body is nested too deeply (at most {MAX_DEPTH} levels)", path or None)
        if isinstance(item, dict):
            for key, child in item.items():
                where = f"{path}.{key[:40]}" if path else key[:40]
                flaw = _text_flaw(key, controls_ok)
                if flaw:
                    raise JsonInputError(f"a member name {flaw}", path or None)
                stack.append((child, where, depth + 1))
        elif isinstance(item, list):
            stack.extend((child, f"{path}[{i}]", depth + 1) for i, child in enumerate(item))
        elif isinstance(item, str):
            flaw = _text_flaw(item, controls_ok)
            if flaw:
                raise JsonInputError(f"{path or 'the body'} {flaw}", path or None)
