"""The template engine of the pages: Jinja2 with autoescape on (every value is escaped
unless a template marks it safe), the package's ``templates/`` and ``static/``, and the
filters the templates share. Templates are compiled once per process.
"""

from __future__ import annotations

import functools
from decimal import Decimal
from pathlib import Path
from typing import Any, Optional
from urllib.parse import urlsplit

import jinja2
from markupsafe import Markup

HERE = Path(__file__).parent
_CENT = Decimal("0.01")


def decimal_of(value: Any, default: str = "0") -> Decimal:
    """A Decimal from a Decimal, int or str (``""`` and None give ``default``).

    >>> decimal_of("2.50"), decimal_of(None)
    (Decimal('2.50'), Decimal('0'))
    """
    if value is None or value == "":
        return Decimal(default)
    if isinstance(value, Decimal):
        return value
    if isinstance(value, float):  # never produced by our parsers; tolerated, via repr
        return Decimal(repr(value))
    return Decimal(str(value))


def yuan(amount: Any) -> str:
    """``Decimal('12.3')`` -> ``'¥12.30'`` (2 decimals, never through float).

    >>> yuan("7")
    '¥7.00'
    """
    return "¥" + format(decimal_of(amount).quantize(_CENT), "f")


def plain(number: Any, min_places: int = 0) -> str:
    """A quantity or unit price without trailing zeros (``2.0000`` -> ``2``), padded to
    ``min_places`` decimals.

    >>> plain("2.0000"), plain("18.500000", 2)
    ('2', '18.50')
    """
    text = format(decimal_of(number), "f")
    if "." in text:
        text = text.rstrip("0").rstrip(".")
    if min_places:
        whole, _, frac = text.partition(".")
        text = whole + "." + frac.ljust(min_places, "0")
    return text


def yuan_price(price: Any) -> str:
    """A unit price (16,6): at least 2 decimals, no trailing zeros past them.

    >>> yuan_price("18.500000")
    '¥18.50'
    """
    return "¥" + plain(price, 2)


def safe_url(url: Optional[str]) -> str:
    """``url`` if it is relative or http(s), else ``"#"`` (no ``javascript:`` links).

    >>> safe_url("javascript:alert(1)"), safe_url("/back")
    ('#', '/back')
    """
    text = (url or "").strip()
    try:
        scheme = urlsplit(text).scheme.lower()
    except ValueError:
        return "#"
    return text if scheme in ("", "http", "https") and text else "#"


def safe_src(url: Optional[str]) -> str:
    """An image source: what :func:`safe_url` allows, or a ``data:image/`` URL (an
    inline logo).

    >>> safe_src("data:image/png;base64,AAAA")[:15], safe_src("javascript:x")
    ('data:image/png;', '#')
    """
    text = (url or "").strip()
    if text.lower().startswith("data:image/") and '"' not in text:
        return text
    return safe_url(text)


@functools.lru_cache(maxsize=1)
def _static() -> dict[str, str]:
    return {name: (HERE / "static" / name).read_text("utf-8") for name in ("medpay.css", "cashier.js")}


def environment(extra_loader: Optional[jinja2.BaseLoader] = None) -> jinja2.Environment:
    """A Jinja2 environment over the package's templates (and ``extra_loader``'s first,
    for an institution's own templates, which may extend ``base.html`` and import the
    macros of ``components.html`` and ``marks.html``)."""
    loaders: list[jinja2.BaseLoader] = [jinja2.FileSystemLoader(str(HERE / "templates"))]
    if extra_loader is not None:
        loaders.insert(0, extra_loader)
    env = jinja2.Environment(
        loader=jinja2.ChoiceLoader(loaders),
        autoescape=True,
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=False,
    )
    env.filters.update(yuan=yuan, yuan_price=yuan_price, plain=plain, safe_url=safe_url, safe_src=safe_src)
    static = _static()
    env.globals.update(stylesheet=Markup(static["medpay.css"]),
                       cashier_js=Markup(static["cashier.js"]))
    return env


@functools.lru_cache(maxsize=1)
def default_environment() -> jinja2.Environment:
    """The package's environment, built once per process."""
    return environment()


def render(template: str, **context: Any) -> str:
    """Render one of the package's templates.

    >>> render("result.html", state="paid", title="支付成功", message="", next_step="",
    ...        actions=[], reference="").startswith("<!DOCTYPE html>")
    True
    """
    return default_environment().get_template(template).render(**context)
