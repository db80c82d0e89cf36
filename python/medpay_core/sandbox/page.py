"""The sandbox's HTML pages. The cashier page itself is ``cashier_page.py`` (its
``CashierView`` is the contract); this module fills the view from an order, picks what a
patient is told for each refusal, and renders the pages around it (results, the e-voucher
page) from the shared templates of :mod:`medpay_core.pages`.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any, Mapping, Optional

from . import cashier_page as _cp
from . import codes
from .center import Order
from .config import Institution
from ..masking import mask_value
from ..pages import MESSAGES, render, render_message_page
from ..pages.channels import CASHIER_CHANNELS, channel

#: What the patient is told for a refusal code (the integrator's English message goes to
#: the sandbox's log and event stream, never to the page).
_SITUATION: dict[int, str] = {
    codes.BAD_ENVELOPE: "link_invalid",
    codes.UNKNOWN_APP: "link_invalid",
    codes.BAD_SIGNATURE: "link_invalid",
    codes.BAD_ENCRYPTION: "link_invalid",
    codes.AUTH_REFUSED: "auth_refused",
    codes.ORDER_NOT_FOUND: "order_not_found",
    codes.OTHER_INSTITUTION: "order_mismatch",
    codes.TOKEN_MISMATCH: "order_mismatch",
    codes.FIELD_MISMATCH: "order_mismatch",
    codes.ALREADY_PAID: "paid",
    codes.REVOKED: "revoked",
    codes.ORDER_EXPIRED: "expired",
}


def situation(code: int) -> str:
    """The :data:`medpay_core.pages.MESSAGES` key a patient sees for refusal ``code``.

    >>> situation(4001), situation(5000)
    ('paid', 'pay_failed')
    """
    return _SITUATION.get(code, "pay_failed")


def patient_text(code: int) -> str:
    """The one sentence the cashier's dialog shows for refusal ``code``: what happened
    and what to do, with the code for the counter.

    >>> patient_text(2002)
    '医保支付授权已失效，或不属于本人。请返回医院重新扫码授权后再支付。（2002）'
    """
    m = MESSAGES[situation(code)]
    return f"{m.message}{m.next_step}（{code}）"


def refusal(code: int, *, order_id: str = "") -> str:
    """The page for a refusal: its title, what happened, what to do, and a reference
    line (the code, the order) to read out at the counter.

    >>> "请返回医院重新发起支付" in refusal(1001)
    True
    """
    key = situation(code)
    ref = f"订单号 {order_id} · 代码 {code}" if order_id else f"代码 {code}"
    return render_message_page(key, state="paid" if key == "paid" else "failed", reference=ref)


def cashier(inst: Institution, order: Order, *, fields: Mapping[str, str], action: str, bank: bool,
            deposit: Optional[Decimal], error: Optional[str], state: str = "open") -> str:
    """The cashier page of ``order``: the deposit (inpatients) is shown as a deduction
    that lowers what is paid now. ``error`` or a ``state`` other than ``"open"`` shows
    the page without a way to pay."""
    s = order.split
    dep = deposit or Decimal("0.00")
    cash_now = s.cash - dep
    if bank:
        card = channel("BANK")
        channels = [_cp.PayChannel(card.code, card.name, "医保 + 银行卡混合支付", selected=True)]
    else:
        channels = [_cp.PayChannel(c.code, c.name, selected=(i == 0)) for i, c in enumerate(CASHIER_CHANNELS)]
    deductions = []
    if s.other:
        deductions.append(_cp.Deduction("其他支付（医院负担）", s.other))
    if dep:
        deductions.append(_cp.Deduction("住院押金抵扣", dep))
    view = _cp.view_from_6201(
        order.upload,
        pay_ord_id=order.pay_ord_id,
        institution_name=inst.name,
        fund=s.fund,
        acct=s.acct,
        other=s.other + dep,
        cash=cash_now,
        channels=channels,
        pay_form=_cp.PayForm(action=action, fields=dict(fields), channel_field="chnlType"),
        other_deductions=deductions,
        error=error,
    )
    view.state = state
    return _cp.render_cashier_page(view)


def result(key: str, *, order_id: str = "") -> str:
    """A one-message page for situation ``key`` of :data:`~medpay_core.pages.MESSAGES`
    (``"paid_now"``, ``"revoked"``...), with the order number for the counter."""
    return render_message_page(key, reference=f"订单号 {order_id}" if order_id else "")


def voucher_form(action: str) -> str:
    """The e-voucher page's form: who is authorising a payment."""
    return render("voucher.html", action=action, issued=None)


_VOUCHER_LABELS = {"payAuthNo": "支付授权码", "userName": "姓名", "idNo": "证件号码", "idType": "证件类型",
                   "insuOrg": "参保地", "qrText": "二维码文本"}


def voucher_issued(issued: Mapping[str, Any], action: str) -> str:
    """The e-voucher page after issuing: the payAuthNo and the QR text to decode (the
    certificate number and name masked: the page may be on a shared screen)."""
    rows = []
    for k, v in issued.items():
        if isinstance(v, (dict, list)):
            continue
        label = _VOUCHER_LABELS.get(k, k)
        value = str(mask_value(k, v))
        rows.append((f"{label}（{k}）" if label != k else k, value, "code" if len(value) > 16 else ""))
    return render("voucher.html", action=action, issued=rows)
