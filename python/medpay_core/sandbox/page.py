"""The sandbox's HTML pages. The cashier page itself is ``cashier_page.py`` (its
``CashierView`` is the contract); this module fills the view from an order and adds
the small pages around it (results, the e-voucher page).
"""

from __future__ import annotations

import html
from decimal import Decimal
from typing import Any, Mapping, Optional

from . import cashier_page as _cp
from .center import Order
from .config import Institution
from ..masking import mask_value

CHANNELS = (("WX", "微信支付"), ("ZFB", "支付宝"), ("YL", "银联云闪付"))


def _e(v: Any) -> str:
    return html.escape(str(v), quote=True)


def _bare(title: str, body: str) -> str:
    return (f'<!DOCTYPE html><html lang="zh-CN"><head><meta charset="utf-8"><title>{_e(title)}</title>'
            '<meta name="viewport" content="width=device-width,initial-scale=1"></head>'
            f"<body><h1>{_e(title)}</h1>{body}</body></html>")


def cashier(inst: Institution, order: Order, *, fields: Mapping[str, str], action: str, bank: bool,
            deposit: Optional[Decimal], error: Optional[str]) -> str:
    """The cashier page of ``order``: the deposit (inpatients) is shown as a deduction
    that lowers what is paid now."""
    s = order.split
    dep = deposit or Decimal("0.00")
    cash_now = s.cash - dep
    channels = ([_cp.PayChannel("BANK", "银行卡支付", "医保 + 银行卡混合支付", selected=True)] if bank
                else [_cp.PayChannel(cid, name, selected=(i == 0)) for i, (cid, name) in enumerate(CHANNELS)])
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
        pay_form=None if error else _cp.PayForm(action=action, fields=dict(fields), channel_field="chnlType"),
        other_deductions=deductions,
        error=error,
    )
    return _cp.render_cashier_page(view)


def result(title: str, message: str, *, success: bool) -> str:
    """A one-message page (paid, refused, revoked...)."""
    return _cp.render_result_page(title, message, success=success)


def voucher_form(action: str) -> str:
    """The e-voucher page's form: who is authorising a payment."""
    return _bare("医保电子凭证（沙箱）", (
        "<p>为测试人员签发支付授权码（payAuthNo）与电子凭证二维码文本。</p>"
        f'<form method="post" action="{_e(action)}">'
        '<p><label>姓名 userName <input name="userName" value="张三" required></label></p>'
        '<p><label>证件号码 idNo <input name="idNo" value="350181199011193519" required></label></p>'
        '<p><label>证件类型 idType <input name="idType" value="01"></label></p>'
        '<p><label>参保地 insuOrg <input name="insuOrg" value="350100"></label></p>'
        "<p><button>签发 payAuthNo</button></p></form>"))


def voucher_issued(issued: Mapping[str, Any]) -> str:
    """The e-voucher page after issuing: the payAuthNo and the QR text to decode (the
    certificate number masked: the page may be on a shared screen)."""
    shown = {k: mask_value(k, v) for k, v in issued.items()}
    rows = "".join(f"<dt>{_e(k)}</dt><dd><code>{_e(v)}</code></dd>" for k, v in shown.items()
                   if not isinstance(v, (dict, list)))
    return _bare("医保电子凭证（沙箱）", f"<dl>{rows}</dl>")
