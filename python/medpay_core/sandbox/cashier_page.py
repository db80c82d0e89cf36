"""The sandbox's cashier page (医保收银台), built to chapter 3 of interface spec 2.0.1.

The sandbox server renders one of these per order, between 6201 (fee upload) and the
payment: build a :class:`CashierView` and call :func:`render_cashier_page`.

>>> from decimal import Decimal as D
>>> view = CashierView(
...     institution_name="示例医院", pay_ord_id="ORD1", org_order_no="MO1",
...     patient_name="张三", total=D("100.00"), fund=D("60.00"), acct=D("10.00"),
...     other=D("0.00"), cash=D("30.00"),
...     channels=[PayChannel("WX", "微信支付")],
...     pay_form=PayForm(action="/cashier/ORD1/pay", fields={"payOrdId": "ORD1"}))
>>> html = render_cashier_page(view)
>>> html.startswith("<!DOCTYPE html>") and "¥30.00" in html
True

The data model comes first in this file; the sandbox codes against it.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass, field
from decimal import Decimal
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Dict, List, Mapping, Optional, Sequence, Tuple
from urllib.parse import parse_qs, urlsplit

from ..pages import MESSAGES, render_message_page
from ..pages._render import decimal_of as _dec, default_environment, render, safe_url, yuan, yuan_price
from ..pages.channels import channel

__all__ = [
    "VisitInfo",
    "DiagnosisItem",
    "FeeLine",
    "Deduction",
    "PayChannel",
    "PayForm",
    "CashierView",
    "view_from_6201",
    "render_cashier_page",
    "render_dialog",
    "render_loading",
    "render_result_page",
    "render_loading_page",
    "yuan",
    "yuan_price",
    "safe_url",
]


# --------------------------------------------------------------------------------------
# The data model (what the page shows). Amounts are Decimal yuan, never float.
# --------------------------------------------------------------------------------------


@dataclass
class VisitInfo:
    """就诊信息: the first block of the prescription-detail popup (spec 3.5 b)."""

    dept_name: str = ""  # 6201 deptName
    doctor_name: str = ""  # 6201 drName
    visit_time: str = ""  # 6201 begntime, yyyy-MM-dd HH:mm:ss
    med_type: str = ""  # 6201 medType, a code ("11") or its label ("普通门诊")
    ipt_otp_no: str = ""  # 6201 iptOtpNo, 门诊/住院号 (optional)


@dataclass
class DiagnosisItem:
    """诊断信息: one row of 6201 diseinfoList."""

    name: str  # diagName
    code: str = ""  # diagCode
    diag_type: str = ""  # diagType (a code) - shown only if given


@dataclass
class FeeLine:
    """费用明细: one row of 6201 feedetailList."""

    name: str  # medListName
    spec: str = ""  # medListSpc, e.g. "8g/片/3"
    qty: Decimal = Decimal("1")  # cnt (16,4)
    unit_price: Decimal = Decimal("0")  # pric (16,6)
    amount: Decimal = Decimal("0")  # detItemFeeSumamt (16,2)


@dataclass
class Deduction:
    """其他抵扣金额: one named deduction (e.g. 住院押金, 医院减免)."""

    name: str
    amount: Decimal


@dataclass
class PayChannel:
    """One payment channel. One channel gives the single-channel layout, more the multi."""

    id: str  # the value submitted (e.g. "WX", "ZFB", "YL" - the 6204 chnlType)
    name: str  # "微信支付"
    subtitle: Optional[str] = None  # "推荐使用" / "单笔限额 5000 元"
    selected: bool = False  # at most one; the first is selected when none is


@dataclass
class PayForm:
    """Where the pay button posts. ``fields`` become hidden inputs; the chosen channel's
    id is posted as ``channel_field``."""

    action: str
    fields: Dict[str, str] = field(default_factory=dict)
    method: str = "post"
    channel_field: str = "chnlType"


@dataclass
class CashierView:
    """Everything the cashier page shows. Required: the first nine fields."""

    institution_name: str  # 收款机构名称
    pay_ord_id: str  # 6201 output payOrdId
    org_order_no: str  # 6201 medOrgOrd
    patient_name: str  # 6201 userName
    total: Decimal  # 费用总额 (medfeeSumamt)
    fund: Decimal  # 医保基金支付 (统筹)
    acct: Decimal  # 个人账户支付
    other: Decimal  # 其他抵扣金额
    cash: Decimal  # 现金支付 (what the user pays now)
    visit: VisitInfo = field(default_factory=VisitInfo)
    diagnoses: List[DiagnosisItem] = field(default_factory=list)
    # 特殊信息: (label, value) rows, e.g. ("病种", "高血压"), ("病情描述", ...).
    special_info: List[Tuple[str, str]] = field(default_factory=list)
    fee_lines: List[FeeLine] = field(default_factory=list)
    other_deductions: List[Deduction] = field(default_factory=list)
    channels: List[PayChannel] = field(default_factory=list)
    pay_form: Optional[PayForm] = None
    error: Optional[str] = None  # shown in a one-button dialog when the page opens; the page cannot pay
    # "open", or why it can no longer be paid: "expired", "paid", "revoked".
    state: str = "open"
    cancel_url: Optional[str] = None  # "放弃支付" goes here after a two-button confirm
    title: str = "医保移动支付"  # the document <title>

    @property
    def selected_channel(self) -> Optional[PayChannel]:
        for ch in self.channels:
            if ch.selected:
                return ch
        return self.channels[0] if self.channels else None


def view_from_6201(
    data: Mapping[str, Any],
    *,
    pay_ord_id: str,
    institution_name: str,
    fund: Any,
    acct: Any,
    other: Any = "0.00",
    cash: Optional[Any] = None,
    channels: Sequence[PayChannel] = (),
    pay_form: Optional[PayForm] = None,
    other_deductions: Sequence[Deduction] = (),
    error: Optional[str] = None,
    cancel_url: Optional[str] = None,
) -> CashierView:
    """Build a view from a 6201 request ``data`` (tables 3, 5, 6) and the sandbox's split.

    ``cash`` defaults to medfeeSumamt - fund - acct - other. Numbers may be Decimal,
    int or str (parse JSON with ``parse_float=Decimal``).
    """
    total = _dec(data.get("medfeeSumamt"))
    fund_d, acct_d, other_d = _dec(fund), _dec(acct), _dec(other)
    cash_d = _dec(cash) if cash is not None else total - fund_d - acct_d - other_d
    visit = VisitInfo(
        dept_name=str(data.get("deptName") or ""),
        doctor_name=str(data.get("drName") or ""),
        visit_time=str(data.get("begntime") or ""),
        med_type=MED_TYPE_LABELS.get(str(data.get("medType") or ""), str(data.get("medType") or "")),
        ipt_otp_no=str(data.get("iptOtpNo") or ""),
    )
    diagnoses = [
        DiagnosisItem(
            name=str(d.get("diagName") or ""),
            code=str(d.get("diagCode") or ""),
            diag_type=str(d.get("diagType") or ""),
        )
        for d in (data.get("diseinfoList") or [])
    ]
    special: List[Tuple[str, str]] = []
    if data.get("diseName") or data.get("diseCodg"):
        special.append(("病种", str(data.get("diseName") or data.get("diseCodg"))))
    if data.get("mainCondDscr"):
        special.append(("病情描述", str(data["mainCondDscr"])))
    if str(data.get("rxCircFlag") or "") == "1":
        special.append(("电子处方", "是"))
    fees = [
        FeeLine(
            name=str(f.get("medListName") or f.get("medinsListCodg") or ""),
            spec=str(f.get("medListSpc") or ""),
            qty=_dec(f.get("cnt"), "1"),
            unit_price=_dec(f.get("pric")),
            amount=_dec(f.get("detItemFeeSumamt")),
        )
        for f in (data.get("feedetailList") or [])
    ]
    return CashierView(
        institution_name=institution_name,
        pay_ord_id=pay_ord_id,
        org_order_no=str(data.get("medOrgOrd") or ""),
        patient_name=str(data.get("userName") or ""),
        total=total,
        fund=fund_d,
        acct=acct_d,
        other=other_d,
        cash=cash_d,
        visit=visit,
        diagnoses=diagnoses,
        special_info=special,
        fee_lines=fees,
        other_deductions=list(other_deductions),
        channels=list(channels),
        pay_form=pay_form,
        error=error,
        cancel_url=cancel_url,
    )


# A few common med_type codes (字典 med_type); unknown codes are shown as given.
MED_TYPE_LABELS: Dict[str, str] = {
    "11": "普通门诊",
    "12": "门诊挂号",
    "13": "急诊",
    "14": "门诊慢特病",
    "21": "普通住院",
    "41": "定点药店购药",
}


# --------------------------------------------------------------------------------------
# Rendering: the templates and the stylesheet are package data of medpay_core.pages
# (cashier.html, components.html, static/medpay.css, static/cashier.js); chapter 3's
# sizes and colours live in that stylesheet, one rule per row of tables A.2 and A.4.
# --------------------------------------------------------------------------------------

#: Why the pay button is disabled, per order state (the button's own label).
_STATE_BUTTON = {"expired": "订单已过期", "paid": "订单已支付", "revoked": "订单已撤销"}


def _components() -> Any:
    return default_environment().get_template("components.html").module


def render_dialog(
    dialog_id: str,
    title: str,
    message: str,
    buttons: Sequence[Tuple[str, str]] = (("我知道了", "close"),),
    *,
    open: bool = False,
) -> str:
    """A generic dialog (spec 3.9): title, text, one or two buttons.

    Each button is ``(label, action)``; action ``"close"`` closes the dialog,
    ``"href:<url>"`` goes to the URL (after showing the page-level loading). The last
    button is the primary one (医保蓝). The script on the cashier page wires the actions.

    >>> render_dialog("d1", "提示", "信息").count("<button")
    1
    """
    if not 1 <= len(buttons) <= 2:
        raise ValueError("a dialog has one or two buttons")
    return str(_components().dialog(dialog_id, title, message, list(buttons), open=open))


def render_loading(text: str = "加载中", *, level: str = "dialog", open: bool = False, element_id: str = "") -> str:
    """A loading element (spec 3.8): ``level="page"`` (full screen, text wraps at 560
    design px) or ``level="dialog"`` (small dark box, text best kept to 8 characters).

    >>> 'role="status"' in render_loading("支付中")
    True
    """
    if level not in ("page", "dialog"):
        raise ValueError("level is 'page' or 'dialog'")
    return str(_components().loading(text, level=level, open=open, id=element_id))


def render_cashier_page(view: CashierView) -> str:
    """The whole cashier page for ``view``: one self-contained HTML document (inline CSS
    and JS, no external resources; every value autoescaped). An order that can no longer
    be paid (``view.state`` other than ``"open"``, or ``view.error`` set) gets no form:
    the channels and the button are disabled and the button says why.

    >>> html = render_cashier_page(sample_view(1, error="订单已过期，请返回医院重新下单。"))
    >>> 'id="mp-pay-form"' in html, 'data-payable="0"' in html
    (False, True)
    """
    payable = view.pay_form is not None and view.state == "open" and not view.error
    return render(
        "cashier.html",
        view=view,
        state=view.state,
        payable=payable,
        button_label=_STATE_BUTTON.get(view.state, "无法支付"),
        error_title=MESSAGES[view.state].title if view.state in _STATE_BUTTON else "提示",
        mark_of=lambda ch: channel(ch.id).mark,
    )


def render_result_page(
    title: str,
    message: str = "",
    *,
    success: bool = True,
    next_step: str = "",
    state: Optional[str] = None,
    actions: Sequence[Tuple[str, str, str]] = (),
    page_title: str = "医保移动支付",
) -> str:
    """A result page in the same style (e.g. the sandbox's "支付成功"): a mark, the
    title, what happened, what to do next, and ``actions`` (label, href, kind) links.

    >>> "支付成功" in render_result_page("支付成功", "医保结算已完成。")
    True
    """
    return render("result.html", state=state or ("paid" if success else "failed"), title=title,
                  message=message, next_step=next_step, reference="", actions=list(actions),
                  page_title=page_title)


def render_loading_page(text: str, *, refresh_url: Optional[str] = None, refresh_seconds: int = 1,
                        page_title: str = "医保移动支付") -> str:
    """A page that is only the page-level loading (3.8), e.g. "正在确认支付结果";
    with ``refresh_url`` it reloads there (meta refresh) every ``refresh_seconds``.

    >>> "正在确认" in render_loading_page("正在确认支付结果")
    True
    """
    return render("loading.html", text=text, refresh_url=refresh_url or "", refresh_seconds=int(refresh_seconds),
                  page_title=page_title)


# --------------------------------------------------------------------------------------
# A sample view and a standalone preview server:
#     python -m medpay_core.sandbox.cashier_page --demo [--port 8750]
# --------------------------------------------------------------------------------------

DEMO_CHANNELS = [
    PayChannel("WX", "微信支付", "亿万用户的选择，更快更安全", selected=True),
    PayChannel("ZFB", "支付宝", "推荐有支付宝账户的用户使用"),
    PayChannel("YL", "银联云闪付", "支持各大银行储蓄卡"),
]


def sample_view(
    channels: int = 3,
    *,
    error: Optional[str] = None,
    action: str = "/pay",
    cancel_url: Optional[str] = "/cancelled",
) -> CashierView:
    """A realistic outpatient order (the demo and the tests use it)."""
    D = Decimal
    fees = [
        FeeLine("阿莫西林胶囊", "0.25g*24粒/盒", D("2.0000"), D("18.500000"), D("37.00")),
        FeeLine("布洛芬缓释胶囊", "0.3g*20粒/盒", D("1.0000"), D("26.800000"), D("26.80")),
        FeeLine("复方甘草片", "8g/片/3", D("3.0000"), D("4.200000"), D("12.60")),
        FeeLine("血常规检查（五分类）", "次", D("1.0000"), D("25.000000"), D("25.00")),
        FeeLine("普通门诊诊查费", "次", D("1.0000"), D("24.200000"), D("24.20")),
    ]
    return CashierView(
        institution_name="福州市第一人民医院",
        pay_ord_id="ORD350100202611251821000001",
        org_order_no="MO20261125182100001",
        patient_name="张三",
        total=D("125.60"),
        fund=D("62.80"),
        acct=D("30.00"),
        other=D("5.00"),
        cash=D("27.80"),
        visit=VisitInfo("呼吸内科门诊", "李医生", "2026-11-25 09:30:00", "普通门诊", "MZ20261125000123"),
        diagnoses=[
            DiagnosisItem("急性上呼吸道感染", "J06.900", "1"),
            DiagnosisItem("咳嗽", "R05.x00", "1"),
        ],
        special_info=[("病种", "普通门诊统筹"), ("电子处方", "是")],
        fee_lines=fees,
        other_deductions=[Deduction("医院减免", D("5.00"))],
        channels=list(DEMO_CHANNELS[: max(0, channels)]),
        pay_form=PayForm(action=action, fields={"payOrdId": "ORD350100202611251821000001"}),
        error=error,
        cancel_url=cancel_url,
    )


def _demo_handler() -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        server_version = "medpay-cashier-demo"

        def log_message(self, fmt: str, *args: Any) -> None:  # keep test output quiet
            pass

        def _send(self, html_text: str, status: int = 200) -> None:
            data = html_text.encode("utf-8")
            self.send_response(status)
            self.send_header("Content-Type", "text/html; charset=utf-8")
            self.send_header("Content-Length", str(len(data)))
            self.send_header("Cache-Control", "no-store")
            self.end_headers()
            self.wfile.write(data)

        def do_GET(self) -> None:  # noqa: N802
            path = urlsplit(self.path).path
            if path in ("/", "/multi"):
                self._send(render_cashier_page(sample_view(3)))
            elif path == "/single":
                self._send(render_cashier_page(sample_view(1)))
            elif path == "/error":
                self._send(render_cashier_page(sample_view(3, error="订单已过期，请返回医院重新下单。")))
            elif path == "/loading":
                self._send(render_loading_page("正在确认医保结算结果，请稍候……"))
            elif path == "/cancelled":
                self._send(render_message_page("cancelled"))
            else:
                self._send(render_message_page("page_not_found"), 404)

        def do_POST(self) -> None:  # noqa: N802
            length = int(self.headers.get("Content-Length") or 0)
            form = parse_qs(self.rfile.read(length).decode("utf-8"))
            chnl = (form.get("chnlType") or [""])[0]
            order = (form.get("payOrdId") or [""])[0]
            if urlsplit(self.path).path != "/pay":
                self._send(render_message_page("page_not_found"), 404)
                return
            self._send(render_result_page("支付成功", f"订单 {order}，已通过{channel(chnl).name}支付。"))

    return Handler


def serve_demo(port: int = 0, host: str = "127.0.0.1") -> ThreadingHTTPServer:
    """Start the preview server in a thread; returns the server (``server_address``,
    ``shutdown()``). Pages: ``/`` (multi-channel), ``/single``, ``/error``, ``/loading``."""
    server = ThreadingHTTPServer((host, port), _demo_handler())
    server.daemon_threads = True
    threading.Thread(target=server.serve_forever, name="cashier-demo", daemon=True).start()
    return server


def main(argv: Optional[Sequence[str]] = None) -> int:
    import argparse

    parser = argparse.ArgumentParser(
        prog="python -m medpay_core.sandbox.cashier_page",
        description="Preview the sandbox cashier page on 127.0.0.1.",
    )
    parser.add_argument("--demo", action="store_true", help="serve the sample pages")
    parser.add_argument("--port", type=int, default=8750)
    parser.add_argument("--print", dest="print_html", action="store_true", help="print the sample page's HTML and exit")
    args = parser.parse_args(argv)
    if args.print_html:
        print(render_cashier_page(sample_view(3)))
        return 0
    if not args.demo:
        parser.print_help()
        return 2
    server = ThreadingHTTPServer(("127.0.0.1", args.port), _demo_handler())
    print(f"cashier preview: http://127.0.0.1:{server.server_port}/  (also /single, /error, /loading); Ctrl-C stops")
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        server.server_close()
    return 0


if __name__ == "__main__":  # pragma: no cover
    raise SystemExit(main())
