"""Receipt templates: Jinja for values, then a line-oriented markup parsed into a ``Document``.

One tag per line, at the start of the line; every other line is text::

    [left] [center] [right]            alignment for the lines that follow
    [bold] ... [/bold]                 also [double] (wide and tall), [wide], [tall]
    [rule] / [rule =]                  a line of '-' (or the given character) across the paper
    [cols 2< 1>] left | right          columns that fit any width: weight + < left, > right, ^ centre
    [qr DATA] [barcode DATA]           QR code, CODE128
    {{ amount | money(currency) }}     a decimal string as money in the receipt's language
    [image NAME]                       a picture from printer_templates/images/
    [feed N] [cut] [cut partial]
    \\[text                             a text line that starts with '['

Values from people cannot smuggle markup or printer commands in: the Jinja ``finalize`` hook runs
``sanitize_text`` on every ``{{ value }}`` and masks '[' and '|', so a first name of "[cut]" prints as
text. A broken template raises ``TemplateError`` naming the file and line; ``validate_all_templates``
checks every shipped template at start-up.
"""

from __future__ import annotations

import functools
import logging
import re
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

import jinja2

from pos_referral.printing import document as d
from pos_referral.printing.parse import (
    MASKED_BAR,
    MASKED_BRACKET,
    PAIRED,
    SIMPLE,
    SUFFIX,
    TAG,
    TemplateError,
    parse_markup,
)

__all__ = ["TemplateError", "check_source", "render_template", "validate_all_templates"]
from pos_referral.domain.money_text import decimal_text
from pos_referral.domain.text import sanitize_text
from pos_referral.printing.strings import language, strings_for
from pos_referral.resources import templates_dir

logger = logging.getLogger(__name__)



def _finalize(value: Any) -> str:
    text = sanitize_text(value)
    return text.replace("[", MASKED_BRACKET).replace("|", MASKED_BAR)


def _groups(value: Any, size: int = 4, sep: str = " ") -> str:
    text = str(value or "")
    return sep.join(text[i : i + size] for i in range(0, len(text), size))


def _fill(template: Any, **values: Any) -> str:
    text = str(template)
    for key, value in values.items():
        text = text.replace("{" + key + "}", str(value))
    return text


@jinja2.pass_context
def _money(context: jinja2.runtime.Context, value: Any, currency: Any = "") -> str:
    """``{{ discount | money(currency) }}``: a decimal string as money in the receipt's language
    (``"5,00 €"`` in Italian); a line the printer's code page cannot hold is drawn as a picture."""
    return decimal_text(value, str(currency or ""), str(context.get("lang") or "en"))


@functools.lru_cache(maxsize=8)
def _environment(folder: str) -> jinja2.Environment:
    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(folder),
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=False,
        autoescape=False,
        finalize=_finalize,
        undefined=jinja2.ChainableUndefined,
    )
    env.filters["groups"] = _groups
    env.filters["fill"] = _fill
    env.filters["money"] = _money
    env.globals["_"] = lambda text, **kw: _fill(text, **kw)
    return env


def template_path(name: str, folder: Path | None = None) -> Path:
    return (folder or templates_dir()) / f"{name}{SUFFIX}"


def _read_source(path: Path) -> str:
    try:
        return path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise TemplateError(path.name, 0, "no such template") from None
    except UnicodeDecodeError as exc:
        raise TemplateError(path.name, 1, f"not UTF-8 ({exc.reason})") from None


def render_template(
    name: str,
    context: Mapping[str, Any],
    *,
    lang: str | None = None,
    folder: Path | None = None,
    gettext: Callable[[str], str] | None = None,
) -> d.Document:
    """Render ``printer_templates/<name>.receipt`` with ``context`` into a document.

    ``lang`` (else ``context['lang']``, else English) picks the wording table passed as ``t``;
    ``context['t']`` overrides single strings; ``gettext`` becomes the ``_()`` global.
    """
    folder = folder or templates_dir()
    path = template_path(name, folder)
    if not re.fullmatch(r"[a-z0-9_]+", name):
        raise TemplateError(path.name, 0, "template names are lower-case letters, digits and '_'")
    code = language(lang or str(context.get("lang") or ""))
    values = dict(context)
    values["t"] = strings_for(code, context.get("t") if isinstance(context.get("t"), Mapping) else None)
    values["lang"] = code
    if gettext is not None:
        values["_"] = gettext
    env = _environment(str(folder))
    try:
        text = env.get_template(path.name).render(values)
    except jinja2.TemplateNotFound:
        raise TemplateError(path.name, 0, "no such template") from None
    except jinja2.TemplateSyntaxError as exc:
        raise TemplateError(path.name, exc.lineno, exc.message or "syntax error") from None
    except Exception as exc:  # a template expression that fails (e.g. calling a missing method)
        raise TemplateError(path.name, _jinja_line(exc), f"{type(exc).__name__}: {exc}") from None
    return parse_markup(text, name=name, folder=folder, lang=code, source=_read_source(path))


def _jinja_line(exc: BaseException) -> int:
    tb = exc.__traceback__
    line = 0
    while tb is not None:
        if tb.tb_frame.f_code.co_filename.endswith(SUFFIX):
            line = tb.tb_lineno
        tb = tb.tb_next
    return line


def _strip_jinja_comments(source: str) -> str:
    return re.sub(r"\{#.*?#\}", lambda m: "\n" * m.group(0).count("\n"), source, flags=re.DOTALL)


def check_source(path: Path) -> None:
    """Static checks with source line numbers: Jinja syntax, unknown tags, unbalanced [bold] and friends."""
    source = _read_source(path)
    env = _environment(str(path.parent))
    try:
        env.parse(source)
    except jinja2.TemplateSyntaxError as exc:
        raise TemplateError(path.name, exc.lineno, exc.message or "syntax error") from None
    open_at: dict[str, int] = {}
    for number, raw in enumerate(_strip_jinja_comments(source).split("\n"), 1):
        line = re.sub(r"\{%.*?%\}", "", raw).strip()
        match = TAG.match(line)
        if match is None:
            continue
        closing, tag = match.group(1) == "/", match.group(2)
        if tag in PAIRED:
            if closing and tag not in open_at:
                raise TemplateError(path.name, number, f"[/{tag}] closes nothing")
            if not closing and tag in open_at:
                raise TemplateError(path.name, number, f"[{tag}] opened again (open since line {open_at[tag]})")
            if closing:
                del open_at[tag]
            else:
                open_at[tag] = number
        elif closing or tag not in SIMPLE:
            raise TemplateError(path.name, number, f"unknown tag [{tag}] (write \\[ for text starting with '[')")
    for tag, number in open_at.items():
        raise TemplateError(path.name, number, f"[{tag}] is never closed")


def validate_all_templates(folder: Path | None = None) -> list[str]:
    """Check every ``*.receipt`` (static checks, then a render with an empty context); return their names.

    Call at start-up: a broken template stops the service with ``file:line: what``.
    """
    folder = folder or templates_dir()
    names = []
    for path in sorted(folder.glob(f"*{SUFFIX}")):
        check_source(path)
        render_template(path.stem, {}, folder=folder)
        names.append(path.stem)
    logger.debug("printer templates valid: %s", ", ".join(names))
    return names
