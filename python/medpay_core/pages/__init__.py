"""The pages a patient sees, in one design system: Jinja2 templates (autoescaped) and one
stylesheet, shipped as package data (``templates/``, ``static/``). The sandbox's cashier,
its result and voucher pages, and the 6204 return page of :func:`medpay_core.asgi.create_app`
all render from here; :func:`render_return_page` serves any web framework.

>>> from medpay_core.models import OrderSyncNotice
>>> notice = OrderSyncNotice.from_wire({"payOrdId": "ORD1", "medOrgOrd": "MO1", "feeSumamt": "25.80",
...     "ownPayAmt": "5.00", "psnAcctPay": "20.80", "fundPay": "0", "othFeeAmt": "0"})
>>> html = render_return_page(notice, "WX", state="paid", branding=Branding(name="示例医院"))
>>> "支付成功" in html and "微信支付" in html and "示例医院" in html
True
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import Any, Literal, Optional, Sequence, Tuple, Union, get_args

import jinja2

from ..errors import ValidationError
from . import _render
from .channels import Channel, channel
from .messages import MESSAGES, PatientMessage
from ._render import render, safe_url, yuan

__all__ = [
    "Branding",
    "OrderState",
    "ORDER_STATES",
    "PatientMessage",
    "MESSAGES",
    "Channel",
    "channel",
    "render_return_page",
    "render_message_page",
    "load_template",
    "TemplateArg",
    "render",
    "yuan",
    "safe_url",
]

#: An order's state as the return page shows it: ``paid`` (the institution has the 6302
#: notice or a paid 6301), ``paying`` (the self-paid part is under way), ``failed``,
#: ``unknown`` (not known yet: "以医保结算通知为准").
OrderState = Literal["paid", "paying", "failed", "unknown"]
ORDER_STATES: Tuple[str, ...] = get_args(OrderState)

_COLOUR = re.compile(r"#(?:[0-9a-fA-F]{3}|[0-9a-fA-F]{6})")


@dataclass(frozen=True)
class Branding:
    """How an institution's own pages (the 6204 return page) look: ``name`` and
    ``logo_url`` (http(s), relative, or a ``data:image/`` URL) in the header,
    ``primary_color`` (``#RGB`` / ``#RRGGBB``) for buttons and marks, ``back_url`` and
    ``back_label`` for the way back, ``help_text`` under the page (where to ask).

    >>> Branding(name="示例医院", primary_color="#0A7F5A").back_label
    '返回医院'
    >>> Branding(primary_color="red")
    Traceback (most recent call last):
    ...
    medpay_core.errors.ValidationError: Branding: 1 invalid field(s): primary_color: ...
    """

    name: str = ""
    logo_url: str = ""
    primary_color: str = "#3B71E8"
    back_url: str = ""
    back_label: str = "返回医院"
    help_text: str = ""

    def __post_init__(self) -> None:
        if not _COLOUR.fullmatch(self.primary_color or ""):
            raise ValidationError([{"field": "primary_color", "rule": "pattern",
                                    "message": "is a hex colour such as #3B71E8"}], model="Branding")


_AMOUNT_ROWS = (
    ("feeSumamt", "费用总额", "amount"),
    ("fundPay", "医保基金支付", "amount"),
    ("psnAcctPay", "个人账户支付", "amount"),
    ("othFeeAmt", "其他支付", "amount"),
    ("deposit", "住院押金抵扣", "amount"),
    ("ownPayAmt", "自费部分", "cash"),
)


def _return_rows(wire: dict[str, Any]) -> list[tuple[str, str, str]]:
    rows = [("医院订单号", str(wire.get("medOrgOrd") or ""), "")]
    for key, label, kind in _AMOUNT_ROWS:
        value = wire.get(key)
        if value is None or (key in ("othFeeAmt", "deposit") and Decimal(str(value)) == 0):
            continue  # an absent or zero optional part is noise to a patient
        rows.append((label, yuan(value), kind))
    return rows


TemplateArg = Union[None, str, Path, jinja2.Template]


def load_template(template: TemplateArg, default: str) -> jinja2.Template:
    """``template`` as a compiled Jinja2 template: None is the package's ``default``, a
    path is read (its folder first on the search path, so it may extend the package's
    templates), a ``jinja2.Template`` is used as given.

    >>> load_template(None, "return.html").name
    'return.html'
    """
    if template is None:
        return _render.default_environment().get_template(default)
    if isinstance(template, jinja2.Template):
        return template
    path = Path(template)
    # An institution's own file: found first, so it may `{% extends "return.html" %}`.
    loader = jinja2.FileSystemLoader(str(path.parent))
    try:
        return _render.environment(loader).get_template(path.name)
    except jinja2.TemplateNotFound as e:
        problem = {"field": "template", "rule": "exists", "message": f"{path} not found ({e.message or e.name})"}
    except jinja2.TemplateSyntaxError as e:
        problem = {"field": "template", "rule": "syntax", "message": f"{path}, line {e.lineno}: {e.message}"}
    raise ValidationError([problem], model="load_template")  # type: ignore[list-item]


def render_return_page(
    notice: Any,
    chnl_type: Optional[str] = None,
    *,
    state: OrderState = "unknown",
    branding: Optional[Branding] = None,
    template: TemplateArg = None,
    refresh_url: str = "",
) -> str:
    """The 6204 return page for ``notice`` (an :class:`~medpay_core.models.OrderSyncNotice`):
    the order's ``state`` as the institution knows it, the amounts, the channel by name
    (微信支付 / 支付宝 / 银联云闪付), a refresh action while the result is pending and
    ``branding.back_url`` as the way back. ``template``: the institution's own Jinja2
    template (a path, or a ``jinja2.Template``), which may ``{% extends "return.html" %}``
    and override its blocks, or stand alone with the same context (``state``, ``message``,
    ``rows``, ``channel``, ``brand``, ``pay_ord_id``, ``back_url``, ``back_label``,
    ``refresh_url``).

    >>> from medpay_core.models import OrderSyncNotice
    >>> n = OrderSyncNotice.from_wire({"payOrdId": "ORD1", "medOrgOrd": "MO1", "feeSumamt": "25.80",
    ...     "ownPayAmt": "5.00", "psnAcctPay": "20.80", "fundPay": "0", "othFeeAmt": "0"})
    >>> "以医保结算通知为准" in render_return_page(n)
    True
    """
    if state not in ORDER_STATES:
        raise ValidationError([{"field": "state", "rule": "enum",
                                "message": f"is one of {', '.join(ORDER_STATES)}"}], model="render_return_page")
    brand = branding or Branding()
    wire = notice.to_wire()
    return load_template(template, "return.html").render(
        state=state,
        message=MESSAGES["return_" + state],
        rows=_return_rows(wire),
        channel=channel(chnl_type) if chnl_type else None,
        brand=brand,
        pay_ord_id=str(wire.get("payOrdId") or ""),
        back_url=brand.back_url,
        back_label=brand.back_label,
        refresh_url=refresh_url or "",
        page_title=brand.name or "医保移动支付",
    )


def render_message_page(
    key: str,
    *,
    state: Optional[str] = None,
    reference: str = "",
    actions: Sequence[Tuple[str, str, str]] = (),
) -> str:
    """A one-message page for a situation of :data:`MESSAGES` (``"link_invalid"``,
    ``"paid"``...): its title, what happened, what to do; ``reference`` is a line for the
    counter (an order number, a code), ``actions`` (label, href, "primary"|"secondary").

    >>> "请返回医院重新发起支付" in render_message_page("link_invalid")
    True
    """
    m = MESSAGES[key]
    shown = state or ("paid" if key in ("paid", "paid_now") else "failed")
    return render("result.html", state=shown, title=m.title, message=m.message, next_step=m.next_step,
                  reference=reference, actions=list(actions), page_title=m.title)
