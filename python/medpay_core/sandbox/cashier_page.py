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

import html as _html
import threading
from dataclasses import dataclass, field
from decimal import Decimal
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Dict, List, Mapping, Optional, Sequence, Tuple
from urllib.parse import parse_qs, urlsplit

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
    "stylesheet",
    "yuan",
    "DESIGN_WIDTH",
    "dp",
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
    error: Optional[str] = None  # shown in a one-button dialog when the page opens
    cancel_url: Optional[str] = None  # "放弃支付" goes here after a two-button confirm
    title: str = "医保移动支付"  # the document <title>

    @property
    def selected_channel(self) -> Optional[PayChannel]:
        for ch in self.channels:
            if ch.selected:
                return ch
        return self.channels[0] if self.channels else None


def _dec(value: Any, default: str = "0") -> Decimal:
    if value is None or value == "":
        return Decimal(default)
    if isinstance(value, Decimal):
        return value
    if isinstance(value, float):  # never produced by our parser; tolerate, via repr
        return Decimal(repr(value))
    return Decimal(str(value))


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
# Sizes: the spec's design width and the conversion to CSS pixels.
# --------------------------------------------------------------------------------------
#
# Tables A.2 and A.4 give sizes for a 750 px wide design (the usual mobile design
# board, 2x a 375 pt phone). The page converts every design size with one CSS custom
# property:
#
#     --dp: calc(min(100vw, 540px) / 750)        1 design px, in CSS px
#
# so a design size N becomes calc(N * var(--dp)), written dp(N) below. On a 375 px wide
# phone --dp is exactly 0.5px: 28 px text -> 14px, card radius 16 -> 8px, the 1 px card
# stroke -> 0.5px (a hairline: one device pixel on a 2x screen; see _stroke), the 44 px
# amount -> 22px. Wider phones scale proportionally (414 px -> x0.552); on a desktop the
# page is a 540 px column, so nothing grows past 540/750 = 0.72 CSS px per design px.
#
# Colours are the spec's (3.1 and tables A.2/A.4). "中黑体" (medium black) is weight
# 500, "常规体" (regular) 400. Where the spec disagrees with itself the tables win:
# 3.1 gives 辅助说明 as "#909399/220-6-60" (the RGB triple is not #909399; the hex is
# used), and 3.1 a) suggests 医保蓝 for text links while A.2 makes 查看明细 #606266.
# The table rows live in TABLE_A2/TABLE_A4 below; everything in _BASE_CSS (paddings,
# dialog width 600, loading box, spinner) is ours, also in design px, since the
# spec's figures (A.2-A.6) are images the text copy does not carry.

DESIGN_WIDTH = 750
MAX_COLUMN_PX = 540

PRIMARY = "#3B71E8"  # 医保蓝: main button, icons, text links
TEXT_MAIN = "#303133"  # 主内容
TEXT_TITLE = "#606266"  # 主标题
TEXT_AUX = "#909399"  # 辅助说明信息
BORDER = "#E6E6E6"
WHITE = "#FFFFFF"


def dp(n: float) -> str:
    """A design-px size (750 px board) as CSS: ``calc(N * var(--dp))``."""
    return f"calc({n:g} * var(--dp))"


def _rule(selector: str, **props: str) -> str:
    body = ";".join(f"{k.replace('_', '-')}:{v}" for k, v in props.items())
    return f"{selector}{{{body}}}"


def _text(size: float, weight: int, color: str) -> Dict[str, str]:
    return {"font_size": dp(size), "font_weight": str(weight), "color": color}


MEDIUM, REGULAR = 500, 400


def _stroke(n: float, color: str = BORDER) -> str:
    """A card outline ("描边") of N design px, drawn as an inset box-shadow.

    Not ``border``: browsers snap a computed border-width to whole CSS px (Chromium
    turns 0.5px into 1px), so the 1 design px card stroke - 0.5 CSS px, one device
    pixel on a 2x phone - could not be drawn as a border. A shadow spread is not
    snapped, takes no layout space and follows the radius.
    """
    return f"inset 0 0 0 {dp(n)} {color}"

# Table A.2 (cashier page) and A.4 (prescription-detail popup), one entry per row, with
# the CSS selector that carries it. Tests read these back through getComputedStyle.
TABLE_A2: Dict[str, Tuple[str, Dict[str, str]]] = {
    "卡片圆角/卡片描边": (".mp-card", {"border_radius": dp(16), "box_shadow": _stroke(1)}),
    "机构图标尺寸": (".mp-org-icon", {"width": dp(80), "height": dp(80)}),
    "机构名称文字样式": (".mp-org-name", _text(36, MEDIUM, WHITE)),
    "费用总额文字样式": (".mp-total", _text(36, MEDIUM, TEXT_TITLE)),
    "医保基金支付文字样式": (".mp-split", _text(28, REGULAR, TEXT_AUX)),
    "现金支付文字样式": (".mp-split-cash", _text(32, MEDIUM, PRIMARY)),
    "查看明细文字样式": (".mp-detail-link", _text(28, REGULAR, TEXT_TITLE)),
    "支付方式文字样式": (".mp-channel-name", _text(30, REGULAR, TEXT_MAIN)),
    "内容文字样式": (".mp-content", _text(28, REGULAR, TEXT_TITLE)),
    "支付金额文字样式": (".mp-pay-amount", _text(44, MEDIUM, PRIMARY)),
    "按钮文字样式": (".mp-pay-btn", _text(36, MEDIUM, WHITE)),
    "支付渠道图标大小": (".mp-channel-icon", {"width": dp(50), "height": dp(50)}),
}
TABLE_A4: Dict[str, Tuple[str, Dict[str, str]]] = {
    "弹窗卡片圆角": (
        ".mp-sheet",
        {"border_top_left_radius": dp(32), "border_top_right_radius": dp(32)},
    ),
    "信息卡片圆角/描边": (".mp-info-card", {"border_radius": dp(12), "box_shadow": _stroke(2)}),
    "处方明细文字样式": (".mp-sheet-title", _text(40, MEDIUM, TEXT_MAIN)),
    "费用总额文字样式": (".mp-sheet-total", _text(36, MEDIUM, TEXT_TITLE)),
    "就诊信息等标题文字样式": (".mp-info-title", _text(32, MEDIUM, TEXT_MAIN)),
    "门诊类别等内容文字样式": (".mp-info-text", _text(28, REGULAR, TEXT_TITLE)),
    "费用总额金额数字文字样式": (".mp-info-amount", _text(28, MEDIUM, PRIMARY)),
    "药品规格文字样式": (".mp-info-spec", _text(28, REGULAR, TEXT_AUX)),
}


def _spec_css() -> str:
    return "\n".join(_rule(sel, **props) for sel, props in [*TABLE_A2.values(), *TABLE_A4.values()])


# The rest of the stylesheet: layout, and the sizes the spec leaves open (ours).
_BASE_CSS = f"""
:root{{--dp:calc(min(100vw, {MAX_COLUMN_PX}px) / {DESIGN_WIDTH});--primary:{PRIMARY};
--text-main:{TEXT_MAIN};--text-title:{TEXT_TITLE};--text-aux:{TEXT_AUX};--border:{BORDER}}}
*{{box-sizing:border-box;margin:0;padding:0}}
[hidden]{{display:none!important}}
html{{-webkit-text-size-adjust:100%;text-size-adjust:100%}}
body{{font-family:-apple-system,BlinkMacSystemFont,"PingFang SC","Hiragino Sans GB",
"Microsoft YaHei","WenQuanYi Micro Hei","Noto Sans CJK SC","Source Han Sans SC",sans-serif;
font-size:{dp(28)};line-height:1.5;color:var(--text-main);background:#F4F6FA;
-webkit-tap-highlight-color:transparent}}
body.mp-lock{{overflow:hidden}}
button{{font:inherit;border:0;background:none;cursor:pointer;color:inherit}}
.mp-page{{max-width:{MAX_COLUMN_PX}px;margin:0 auto;min-height:100vh;position:relative;
padding:{dp(24)} {dp(24)} calc({dp(160)} + env(safe-area-inset-bottom, 0px))}}
.mp-hero{{position:absolute;left:0;right:0;top:0;height:{dp(300)};z-index:0;
background:linear-gradient(180deg,var(--primary) 0%,#5B8BF0 70%,rgba(91,139,240,0) 100%)}}
.mp-page>*:not(.mp-hero){{position:relative;z-index:1}}
.mp-card{{background:#fff;padding:{dp(32)};margin-top:{dp(24)}}}
.mp-org{{display:flex;align-items:center;gap:{dp(24)};padding:{dp(24)} {dp(8)} {dp(16)}}}
.mp-org-icon{{flex:none;display:block}}
.mp-org-text{{min-width:0}}
.mp-org-name{{line-height:1.35;word-break:break-all}}
.mp-org-sub{{font-size:{dp(24)};color:rgba(255,255,255,.85);margin-top:{dp(4)}}}
.mp-total{{display:flex;justify-content:space-between;align-items:baseline;
padding-bottom:{dp(24)};border-bottom:{dp(1)} solid var(--border)}}
.mp-splits{{list-style:none;padding-top:{dp(16)}}}
.mp-split,.mp-split-cash{{display:flex;justify-content:space-between;align-items:center;
padding:{dp(10)} 0}}
.mp-split-cash{{margin-top:{dp(6)}}}
.mp-total-foot{{display:flex;justify-content:space-between;align-items:center;gap:{dp(16)};
margin-top:{dp(16)};padding-top:{dp(20)};border-top:{dp(1)} solid var(--border)}}
.mp-content{{line-height:1.5}}
.mp-content .mp-k{{color:var(--text-aux)}}
.mp-detail-link{{display:inline-flex;align-items:center;gap:{dp(6)};white-space:nowrap;
padding:{dp(8)} 0 {dp(8)} {dp(16)}}}
.mp-chevron{{display:inline-block;width:{dp(14)};height:{dp(14)};border-top:{dp(3)} solid currentColor;
border-right:{dp(3)} solid currentColor;transform:rotate(45deg)}}
.mp-section-title{{font-size:{dp(32)};font-weight:500;color:var(--text-main);margin-bottom:{dp(8)}}}
.mp-channels{{list-style:none}}
.mp-channel{{display:flex;align-items:center;gap:{dp(20)};min-height:{dp(104)};cursor:pointer;
position:relative}}
.mp-channels[data-layout=multi] li+li>.mp-channel{{border-top:{dp(1)} solid var(--border)}}
.mp-channel-icon{{flex:none;display:block}}
.mp-channel-text{{flex:1;min-width:0;display:flex;flex-direction:column}}
.mp-channel-sub{{font-size:{dp(24)};color:var(--text-aux);line-height:1.4}}
.mp-radio-input{{position:absolute;opacity:0;width:1px;height:1px;pointer-events:none}}
.mp-radio{{flex:none;width:{dp(40)};height:{dp(40)};border-radius:50%;border:{dp(2)} solid #C0C4CC;
position:relative;background:#fff}}
.mp-radio-input:checked+.mp-radio,.mp-single-check{{background:var(--primary);border-color:var(--primary)}}
.mp-radio-input:checked+.mp-radio::after,.mp-single-check::after{{content:"";position:absolute;
left:32%;top:16%;width:24%;height:44%;border:solid #fff;border-width:0 {dp(4)} {dp(4)} 0;transform:rotate(45deg)}}
.mp-radio-input:focus-visible+.mp-radio{{outline:2px solid var(--primary);outline-offset:2px}}
.mp-single-check{{flex:none;width:{dp(40)};height:{dp(40)};border-radius:50%;position:relative}}
.mp-cancel{{display:block;margin:{dp(32)} auto 0;font-size:{dp(28)};color:var(--text-aux);padding:{dp(12)} {dp(24)}}}
.mp-paybar{{position:fixed;left:0;right:0;bottom:0;z-index:10;background:#fff;
border-top:{dp(1)} solid var(--border);padding-bottom:env(safe-area-inset-bottom, 0px)}}
.mp-paybar-in{{max-width:{MAX_COLUMN_PX}px;margin:0 auto;height:{dp(128)};display:flex;align-items:center;
justify-content:space-between;padding:0 {dp(24)} 0 {dp(32)};gap:{dp(24)}}}
.mp-paybar-amt{{display:flex;align-items:baseline;gap:{dp(8)};min-width:0;white-space:nowrap}}
.mp-pay-btn{{flex:none;min-width:{dp(260)};height:{dp(88)};padding:0 {dp(40)};border-radius:{dp(44)};
background:var(--primary);line-height:{dp(88)}}}
.mp-pay-btn:active{{filter:brightness(.92)}}
.mp-pay-btn:disabled{{opacity:.5;cursor:default}}
/* 3.5 prescription-detail popup: a bottom sheet */
.mp-mask{{position:fixed;inset:0;background:rgba(0,0,0,.5);z-index:20}}
.mp-sheet-wrap{{position:fixed;inset:0;z-index:21;display:flex;flex-direction:column;justify-content:flex-end;
align-items:center}}
.mp-sheet{{width:100%;max-width:{MAX_COLUMN_PX}px;max-height:88vh;background:#fff;display:flex;flex-direction:column;
animation:mp-up .2s ease-out}}
@keyframes mp-up{{from{{transform:translateY(100%)}}to{{transform:none}}}}
@media (prefers-reduced-motion:reduce){{.mp-sheet{{animation:none}}}}
.mp-sheet-head{{flex:none;position:relative;text-align:center;padding:{dp(32)} {dp(96)} {dp(8)}}}
.mp-sheet-close{{position:absolute;right:{dp(16)};top:{dp(16)};width:{dp(72)};height:{dp(72)};
color:var(--text-aux);font-size:{dp(44)};line-height:{dp(72)}}}
.mp-sheet-total{{flex:none;display:flex;justify-content:space-between;align-items:baseline;padding:{dp(16)} {dp(32)} {dp(20)}}}
.mp-sheet-body{{flex:1 1 auto;min-height:0;overflow-y:auto;overscroll-behavior:contain;scrollbar-width:thin;-webkit-overflow-scrolling:touch;padding:0 {dp(32)}
calc({dp(32)} + env(safe-area-inset-bottom, 0px))}}
.mp-info-card{{padding:{dp(24)} {dp(28)};margin-bottom:{dp(24)};background:#fff}}
.mp-info-title{{margin-bottom:{dp(12)}}}
.mp-info-row{{display:flex;justify-content:space-between;gap:{dp(24)};padding:{dp(6)} 0}}
.mp-info-row>.mp-info-text:last-child{{text-align:right;word-break:break-all}}
.mp-fee{{padding:{dp(14)} 0}}
.mp-fee+.mp-fee{{border-top:{dp(1)} solid var(--border)}}
.mp-fee-top,.mp-fee-bot{{display:flex;justify-content:space-between;gap:{dp(24)}}}
.mp-fee-name{{min-width:0;word-break:break-all}}
.mp-info-amount{{white-space:nowrap}}
.mp-empty{{color:var(--text-aux)}}
/* 3.8 loading: page level (full screen) and dialog level (a small dark box) */
.mp-page-loading{{position:fixed;inset:0;z-index:40;background:#fff;display:flex;flex-direction:column;
align-items:center;justify-content:center;gap:{dp(32)};padding:{dp(40)}}}
.mp-page-loading .mp-spinner{{width:{dp(80)};height:{dp(80)};border-width:{dp(6)};
border-color:rgba(59,113,232,.2);border-top-color:var(--primary)}}
.mp-page-loading-text{{max-width:{dp(560)};font-size:{dp(28)};color:var(--text-aux);text-align:center;
overflow-wrap:anywhere;line-height:1.5}}
.mp-loading{{position:fixed;inset:0;z-index:41;display:flex;align-items:center;justify-content:center}}
.mp-loading-box{{min-width:{dp(240)};max-width:{dp(320)};min-height:{dp(240)};padding:{dp(40)} {dp(24)};
border-radius:{dp(16)};background:rgba(17,17,17,.78);display:flex;flex-direction:column;align-items:center;
justify-content:center;gap:{dp(24)}}}
.mp-loading .mp-spinner{{width:{dp(64)};height:{dp(64)};border-width:{dp(5)};
border-color:rgba(255,255,255,.25);border-top-color:#fff}}
.mp-loading-text{{font-size:{dp(28)};color:#fff;text-align:center;line-height:1.4}}
.mp-spinner{{display:block;border-style:solid;border-radius:50%;animation:mp-spin .8s linear infinite}}
@keyframes mp-spin{{to{{transform:rotate(360deg)}}}}
/* 3.9 generic dialogs: fixed width, height follows the text; one or two buttons */
.mp-dialog-wrap{{position:fixed;inset:0;z-index:30;display:flex;align-items:center;justify-content:center;
background:rgba(0,0,0,.5)}}
.mp-dialog{{width:{dp(600)};max-width:calc(100vw - 32px);background:#fff;border-radius:{dp(24)};overflow:hidden;
text-align:center}}
.mp-dialog-title{{font-size:{dp(34)};font-weight:500;color:var(--text-main);padding:{dp(48)} {dp(40)} 0;line-height:1.4}}
.mp-dialog-msg{{font-size:{dp(28)};color:var(--text-title);padding:{dp(24)} {dp(48)} {dp(48)};line-height:1.6;
overflow-wrap:anywhere;white-space:pre-line}}
.mp-dialog-btns{{display:flex;border-top:{dp(1)} solid var(--border)}}
.mp-dialog-btn{{flex:1;height:{dp(100)};font-size:{dp(32)};color:var(--text-title)}}
.mp-dialog-btn+.mp-dialog-btn{{border-left:{dp(1)} solid var(--border)}}
.mp-dialog-btn.is-primary{{color:var(--primary);font-weight:500}}
.mp-dialog-btn:active{{background:#F2F3F5}}
.mp-result{{text-align:center;padding:{dp(64)} {dp(32)}}}
.mp-result-icon{{display:block;margin:0 auto {dp(24)}}}
.mp-result-title{{font-size:{dp(36)};font-weight:500;color:var(--text-main)}}
.mp-result-msg{{margin-top:{dp(16)};font-size:{dp(28)};color:var(--text-title)}}
"""


def stylesheet() -> str:
    """The page's whole stylesheet (inline in every page; no external resources)."""
    return _BASE_CSS + _spec_css()


# --------------------------------------------------------------------------------------
# HTML helpers
# --------------------------------------------------------------------------------------

def e(value: Any) -> str:
    """HTML-escape any dynamic value (quotes included, safe in attributes too)."""
    return _html.escape("" if value is None else str(value), quote=True)


def safe_url(url: Optional[str]) -> str:
    """``url`` if it is relative or http(s), else ``"#"`` (no ``javascript:`` links)."""

    text = (url or "").strip()
    try:
        scheme = urlsplit(text).scheme.lower()
    except ValueError:
        return "#"
    return text if scheme in ("", "http", "https") and text else "#"


_CENT = Decimal("0.01")


def yuan(amount: Any) -> str:
    """``Decimal('12.3')`` -> ``'¥12.30'`` (2 decimals, never through float)."""
    return "¥" + format(_dec(amount).quantize(_CENT), "f")


def _plain(number: Any, min_places: int = 0) -> str:
    """A quantity or unit price without trailing zeros (``2.0000`` -> ``2``), padded to
    ``min_places`` decimals."""
    text = format(_dec(number), "f")
    if "." in text:
        text = text.rstrip("0").rstrip(".")
    if min_places:
        whole, _, frac = text.partition(".")
        text = whole + "." + frac.ljust(min_places, "0")
    return text


def yuan_price(price: Any) -> str:
    """A unit price (16,6): at least 2 decimals, no trailing zeros past them."""
    return "¥" + _plain(price, 2)


def _org_icon_svg() -> str:
    # 80 x 80 design px: a white disc with a blue medical cross (ours).
    return (
        '<svg class="mp-org-icon" viewBox="0 0 80 80" aria-hidden="true">'
        '<circle cx="40" cy="40" r="40" fill="#fff"/>'
        f'<path d="M33 20h14v13h13v14H47v13H33V47H20V33h13z" fill="{PRIMARY}"/></svg>'
    )


_CHANNEL_LOOK: Dict[str, Tuple[str, str]] = {
    "WX": ("#07C160", "微"),
    "WECHAT": ("#07C160", "微"),
    "WXPAY": ("#07C160", "微"),
    "ZFB": ("#1677FF", "支"),
    "ALIPAY": ("#1677FF", "支"),
    "YL": ("#D7000F", "银"),
    "UNIONPAY": ("#D7000F", "银"),
    "YSF": ("#D7000F", "云"),
    "BANK": ("#E6A23C", "卡"),
}


def _channel_icon_svg(ch: PayChannel) -> str:
    color, glyph = _CHANNEL_LOOK.get(ch.id.upper(), (PRIMARY, (ch.name or ch.id or "?")[:1]))
    return (
        '<svg class="mp-channel-icon" viewBox="0 0 50 50" aria-hidden="true">'
        f'<rect width="50" height="50" rx="12" fill="{e(color)}"/>'
        '<text x="25" y="33.5" text-anchor="middle" font-size="25" font-weight="600" fill="#fff" '
        f'font-family="PingFang SC,Microsoft YaHei,WenQuanYi Micro Hei,sans-serif">{e(glyph)}</text></svg>'
    )


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
    button is the primary one (医保蓝). The JS on the page wires the actions.
    """
    if not 1 <= len(buttons) <= 2:
        raise ValueError("a dialog has one or two buttons")
    kind = "one" if len(buttons) == 1 else "two"
    btns = []
    for i, (label, action) in enumerate(buttons):
        primary = " is-primary" if i == len(buttons) - 1 else ""
        btns.append(
            f'<button type="button" class="mp-dialog-btn{primary}" data-action="{e(action)}">{e(label)}</button>'
        )
    return (
        f'<div class="mp-dialog-wrap" id="{e(dialog_id)}" data-kind="{kind}"'
        f'{"" if open else " hidden"}>'
        f'<div class="mp-dialog" role="alertdialog" aria-modal="true" aria-labelledby="{e(dialog_id)}-t">'
        f'<h2 class="mp-dialog-title" id="{e(dialog_id)}-t">{e(title)}</h2>'
        f'<p class="mp-dialog-msg">{e(message)}</p>'
        f'<div class="mp-dialog-btns">{"".join(btns)}</div></div></div>'
    )


def render_loading(text: str = "加载中", *, level: str = "dialog", open: bool = False, element_id: str = "") -> str:
    """A loading element (spec 3.8): ``level="page"`` (full screen, text wraps at 560
    design px) or ``level="dialog"`` (small dark box, text best kept to 8 characters)."""
    hidden = "" if open else " hidden"
    if level == "page":
        eid = element_id or "mp-page-loading"
        return (
            f'<div class="mp-page-loading" id="{e(eid)}" role="status" aria-live="polite"{hidden}>'
            '<span class="mp-spinner" aria-hidden="true"></span>'
            f'<p class="mp-page-loading-text">{e(text)}</p></div>'
        )
    if level != "dialog":
        raise ValueError("level is 'page' or 'dialog'")
    eid = element_id or "mp-loading"
    return (
        f'<div class="mp-loading" id="{e(eid)}" role="status" aria-live="polite"{hidden}>'
        '<div class="mp-loading-box"><span class="mp-spinner" aria-hidden="true"></span>'
        f'<p class="mp-loading-text">{e(text)}</p></div></div>'
    )


def _info_rows(rows: Sequence[Tuple[str, str]]) -> str:
    out = []
    for k, v in rows:
        if v in (None, ""):
            continue
        out.append(
            f'<div class="mp-info-row"><span class="mp-info-text mp-k">{e(k)}</span>'
            f'<span class="mp-info-text">{e(v)}</span></div>'
        )
    return "".join(out) or '<p class="mp-info-text mp-empty">无</p>'


def _detail_sheet(view: CashierView) -> str:
    v = view.visit
    visit = _info_rows(
        [
            ("医疗类别", v.med_type),
            ("就诊科室", v.dept_name),
            ("医生", v.doctor_name),
            ("就诊时间", v.visit_time),
            ("门诊/住院号", v.ipt_otp_no),
            ("就诊人", view.patient_name),
        ]
    )
    if view.diagnoses:
        diag = "".join(
            f'<div class="mp-info-row"><span class="mp-info-text">{e(d.name)}</span>'
            f'<span class="mp-info-text mp-k">{e(d.code)}</span></div>'
            for d in view.diagnoses
        )
    else:
        diag = '<p class="mp-info-text mp-empty">无</p>'
    special = _info_rows(view.special_info)
    if view.fee_lines:
        fees = "".join(
            '<div class="mp-fee">'
            f'<div class="mp-fee-top"><span class="mp-info-text mp-fee-name">{e(f.name)}</span>'
            f'<span class="mp-info-amount">{e(yuan(f.amount))}</span></div>'
            f'<div class="mp-fee-bot"><span class="mp-info-spec">{e(f.spec)}</span>'
            f'<span class="mp-info-spec">{e(yuan_price(f.unit_price))} × {e(_plain(f.qty))}</span></div>'
            "</div>"
            for f in view.fee_lines
        )
    else:
        fees = '<p class="mp-info-text mp-empty">无</p>'
    if view.other_deductions:
        deds = "".join(
            f'<div class="mp-info-row"><span class="mp-info-text">{e(d.name)}</span>'
            f'<span class="mp-info-amount">{e(yuan(d.amount))}</span></div>'
            for d in view.other_deductions
        )
    else:
        deds = (
            '<div class="mp-info-row"><span class="mp-info-text">其他抵扣金额</span>'
            f'<span class="mp-info-amount">{e(yuan(view.other))}</span></div>'
        )

    def card(key: str, title: str, body: str) -> str:
        return (
            f'<section class="mp-info-card" data-section="{key}">'
            f'<h3 class="mp-info-title">{title}</h3>{body}</section>'
        )

    return (
        '<div id="mp-detail" class="mp-detail" hidden>'
        '<div class="mp-mask" data-action="close-detail"></div>'
        '<div class="mp-sheet-wrap" data-action="close-detail">'
        '<div class="mp-sheet" role="dialog" aria-modal="true" aria-labelledby="mp-sheet-title">'
        '<div class="mp-sheet-head"><h2 class="mp-sheet-title" id="mp-sheet-title">处方明细</h2>'
        '<button type="button" class="mp-sheet-close" data-action="close-detail" aria-label="关闭">×</button></div>'
        f'<div class="mp-sheet-total"><span>费用总额</span><span>{e(yuan(view.total))}</span></div>'
        '<div class="mp-sheet-body">'
        + card("visit", "就诊信息", visit)
        + card("diagnosis", "诊断信息", diag)
        + card("special", "特殊信息", special)
        + card("fees", "费用明细", fees)
        + card("deductions", "其他抵扣金额", deds)
        + "</div></div></div></div>"
    )


def _channels_block(view: CashierView) -> str:
    if not view.channels:
        return ""
    chosen = view.selected_channel
    field_name = view.pay_form.channel_field if view.pay_form else "chnlType"
    form_attr = ' form="mp-pay-form"' if view.pay_form else ""
    if len(view.channels) == 1:
        ch = view.channels[0]
        sub = f'<span class="mp-channel-sub">{e(ch.subtitle)}</span>' if ch.subtitle else ""
        return (
            '<section class="mp-card mp-channel-card" aria-label="支付方式">'
            '<h2 class="mp-section-title">支付方式</h2>'
            '<ul class="mp-channels" data-layout="single">'
            f'<li class="mp-channel is-selected" data-channel="{e(ch.id)}">{_channel_icon_svg(ch)}'
            f'<span class="mp-channel-text"><span class="mp-channel-name">{e(ch.name)}</span>{sub}</span>'
            '<span class="mp-single-check" aria-hidden="true"></span>'
            f'<input type="hidden" name="{e(field_name)}" value="{e(ch.id)}"{form_attr}></li>'
            "</ul></section>"
        )
    items = []
    for ch in view.channels:
        checked = ch is chosen
        sub = f'<span class="mp-channel-sub">{e(ch.subtitle)}</span>' if ch.subtitle else ""
        items.append(
            f'<li><label class="mp-channel{" is-selected" if checked else ""}" data-channel="{e(ch.id)}">'
            f"{_channel_icon_svg(ch)}"
            f'<span class="mp-channel-text"><span class="mp-channel-name">{e(ch.name)}</span>{sub}</span>'
            f'<input class="mp-radio-input" type="radio" name="{e(field_name)}" value="{e(ch.id)}"'
            f'{" checked" if checked else ""}{form_attr}>'
            '<span class="mp-radio" aria-hidden="true"></span></label></li>'
        )
    return (
        '<section class="mp-card mp-channel-card" aria-label="选择支付方式">'
        '<h2 class="mp-section-title">选择支付方式</h2>'
        f'<ul class="mp-channels" data-layout="multi" role="radiogroup">{"".join(items)}</ul></section>'
    )


def _pay_form(view: CashierView) -> str:
    pf = view.pay_form
    if pf is None:
        return ""
    method = "get" if pf.method.lower() == "get" else "post"
    hidden = "".join(
        f'<input type="hidden" name="{e(k)}" value="{e(v)}">' for k, v in pf.fields.items()
    )
    return f'<form id="mp-pay-form" class="mp-pay-form" method="{method}" action="{e(safe_url(pf.action))}">{hidden}</form>'


_JS = r"""
(function () {
  "use strict";
  var doc = document, body = doc.body;
  function $(id) { return doc.getElementById(id); }
  function lock() {
    var open = doc.querySelector("#mp-detail:not([hidden]),.mp-dialog-wrap:not([hidden])");
    body.classList.toggle("mp-lock", !!open);
  }
  function show(el) { if (el) { el.hidden = false; lock(); } }
  function hide(el) { if (el) { el.hidden = true; lock(); } }
  function setText(el, text) { if (el && text != null) { el.textContent = String(text); } }

  var api = {
    openDetail: function () { show($("mp-detail")); },
    closeDetail: function () { hide($("mp-detail")); },
    showPageLoading: function (text) {
      setText(doc.querySelector("#mp-page-loading .mp-page-loading-text"), text);
      show($("mp-page-loading"));
    },
    hidePageLoading: function () { hide($("mp-page-loading")); },
    showLoading: function (text) {
      setText(doc.querySelector("#mp-loading .mp-loading-text"), text);
      show($("mp-loading"));
    },
    hideLoading: function () { hide($("mp-loading")); },
    // Runtime dialogs: built with textContent only (never innerHTML).
    dialog: function (title, message, buttons) {
      return new Promise(function (resolve) {
        var wrap = doc.createElement("div");
        wrap.className = "mp-dialog-wrap";
        wrap.id = "mp-dialog-" + Date.now();
        wrap.setAttribute("data-kind", buttons.length === 1 ? "one" : "two");
        var box = doc.createElement("div");
        box.className = "mp-dialog";
        box.setAttribute("role", "alertdialog");
        box.setAttribute("aria-modal", "true");
        var h = doc.createElement("h2"); h.className = "mp-dialog-title"; h.textContent = title;
        var p = doc.createElement("p"); p.className = "mp-dialog-msg"; p.textContent = message;
        var row = doc.createElement("div"); row.className = "mp-dialog-btns";
        buttons.forEach(function (label, i) {
          var b = doc.createElement("button");
          b.type = "button";
          b.className = "mp-dialog-btn" + (i === buttons.length - 1 ? " is-primary" : "");
          b.textContent = label;
          b.addEventListener("click", function () { wrap.remove(); lock(); resolve(i); });
          row.appendChild(b);
        });
        box.appendChild(h); box.appendChild(p); box.appendChild(row); wrap.appendChild(box);
        body.appendChild(wrap); lock();
      });
    },
    alert: function (title, message, button) {
      return api.dialog(title, message, [button || "我知道了"]).then(function () { return true; });
    },
    confirm: function (title, message, cancel, ok) {
      return api.dialog(title, message, [cancel || "取消", ok || "确定"]).then(function (i) { return i === 1; });
    }
  };
  window.MedpayCashier = api;

  doc.addEventListener("click", function (ev) {
    var t = ev.target.closest("[data-action]");
    if (!t) { return; }
    var action = t.getAttribute("data-action");
    if (action === "open-detail") { ev.preventDefault(); api.openDetail(); }
    else if (action === "close-detail") {
      // the sheet wrapper closes only on clicks outside the sheet itself
      if (t.classList.contains("mp-sheet-wrap") && ev.target !== t) { return; }
      api.closeDetail();
    }
    else if (action.indexOf("open-dialog:") === 0) { show($(action.slice(12))); }
    else if (action === "close") { hide(t.closest(".mp-dialog-wrap")); }
    else if (action.indexOf("href:") === 0) {
      hide(t.closest(".mp-dialog-wrap"));
      api.showPageLoading("正在返回，请稍候");
      window.location.href = action.slice(5);
    }
  });
  doc.addEventListener("keydown", function (ev) {
    if (ev.key === "Escape" && !$("mp-detail").hidden) { api.closeDetail(); }
  });

  // Multi-channel: keep the selected row's look in step with its radio.
  doc.addEventListener("change", function (ev) {
    if (!ev.target.classList.contains("mp-radio-input")) { return; }
    doc.querySelectorAll(".mp-channel").forEach(function (row) {
      var input = row.querySelector(".mp-radio-input");
      row.classList.toggle("is-selected", !!(input && input.checked));
    });
  });

  var form = $("mp-pay-form"), btn = $("mp-pay-btn");
  if (form) {
    form.addEventListener("submit", function (ev) {
      if (form.getAttribute("data-submitting") === "1") { ev.preventDefault(); return; }
      form.setAttribute("data-submitting", "1");
      if (btn) { btn.disabled = true; }
      api.showLoading("支付中");
    });
  }
  // Back from the next page (bfcache): the page is live again.
  window.addEventListener("pageshow", function (ev) {
    if (ev.persisted && form) {
      form.removeAttribute("data-submitting");
      if (btn) { btn.disabled = false; }
      api.hideLoading(); api.hidePageLoading();
    }
  });
  lock();
})();
"""


def _document(title: str, body: str, *, script: bool = True, head_extra: str = "") -> str:
    js = f"<script>{_JS}</script>" if script else ""
    return (
        "<!DOCTYPE html>\n"
        '<html lang="zh-CN"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width,initial-scale=1,viewport-fit=cover">'
        '<meta name="format-detection" content="telephone=no">'
        f'<meta name="theme-color" content="{PRIMARY}">'
        '<link rel="icon" href="data:,">'
        f"{head_extra}<title>{e(title)}</title><style>{stylesheet()}</style></head>"
        f"<body>{body}{js}</body></html>"
    )


def render_cashier_page(view: CashierView) -> str:
    """The whole cashier page for ``view``: one self-contained HTML document (inline CSS
    and JS, no external resources). Every dynamic value is HTML-escaped."""
    patient = (
        f'<p class="mp-org-sub">就诊人 {e(view.patient_name)}</p>' if view.patient_name else ""
    )
    org = (
        '<header class="mp-org">'
        f"{_org_icon_svg()}"
        f'<div class="mp-org-text"><h1 class="mp-org-name">{e(view.institution_name)}</h1>{patient}</div>'
        "</header>"
    )
    splits = (
        '<ul class="mp-splits">'
        f'<li class="mp-split" data-k="fund"><span>医保基金支付</span><span>{e(yuan(view.fund))}</span></li>'
        f'<li class="mp-split" data-k="acct"><span>个人账户支付</span><span>{e(yuan(view.acct))}</span></li>'
        f'<li class="mp-split" data-k="other"><span>其他抵扣金额</span><span>{e(yuan(view.other))}</span></li>'
        f'<li class="mp-split-cash" data-k="cash"><span>现金支付</span><span>{e(yuan(view.cash))}</span></li>'
        "</ul>"
    )
    order_info = (
        '<div class="mp-content">'
        f'<div><span class="mp-k">订单号 </span><span class="mp-order-no">{e(view.org_order_no or view.pay_ord_id)}</span></div>'
        "</div>"
    )
    amount_card = (
        '<section class="mp-card mp-amount-card" aria-label="费用总额">'
        f'<div class="mp-total"><span>费用总额</span><span class="mp-total-amt">{e(yuan(view.total))}</span></div>'
        f"{splits}"
        f'<div class="mp-total-foot">{order_info}'
        '<button type="button" class="mp-detail-link" data-action="open-detail" aria-haspopup="dialog">'
        '查看明细<i class="mp-chevron" aria-hidden="true"></i></button></div>'
        "</section>"
    )
    cancel = ""
    dialogs = []
    if view.cancel_url:
        cancel = '<button type="button" class="mp-cancel" data-action="open-dialog:mp-cancel-dialog">放弃支付</button>'
        dialogs.append(
            render_dialog(
                "mp-cancel-dialog",
                "确认放弃支付？",
                "放弃后本次医保结算不会生效，可稍后重新发起支付。",
                (("继续支付", "close"), ("放弃支付", "href:" + safe_url(view.cancel_url))),
            )
        )
    if view.error:
        dialogs.append(render_dialog("mp-error-dialog", "提示", view.error, open=True))
    pay_disabled = "" if view.pay_form else " disabled"
    paybar = (
        '<footer class="mp-paybar"><div class="mp-paybar-in">'
        '<div class="mp-paybar-amt"><span class="mp-content">需支付</span>'
        f'<span class="mp-pay-amount" id="mp-pay-amount">{e(yuan(view.cash))}</span></div>'
        f'<button type="submit" form="mp-pay-form" class="mp-pay-btn" id="mp-pay-btn"{pay_disabled}>去支付</button>'
        "</div></footer>"
    )
    body = (
        f'<main class="mp-page" data-pay-ord-id="{e(view.pay_ord_id)}">'
        '<div class="mp-hero" aria-hidden="true"></div>'
        f"{org}{amount_card}{_channels_block(view)}{cancel}"
        f"{_pay_form(view)}</main>{paybar}"
        f"{_detail_sheet(view)}"
        + render_loading("加载中", level="page")
        + render_loading("支付中", level="dialog")
        + "".join(dialogs)
    )
    return _document(view.title, body)


def render_result_page(title: str, message: str = "", *, success: bool = True, page_title: str = "医保移动支付") -> str:
    """A simple result page in the same style (e.g. the sandbox's "支付成功")."""
    color = PRIMARY if success else "#F56C6C"
    mark = (
        '<path d="M14 25l7 7 14-15" fill="none" stroke="#fff" stroke-width="4" stroke-linecap="round" stroke-linejoin="round"/>'
        if success
        else '<path d="M17 17l16 16M33 17L17 33" fill="none" stroke="#fff" stroke-width="4" stroke-linecap="round"/>'
    )
    icon = f'<svg class="mp-result-icon" width="64" height="64" viewBox="0 0 50 50" aria-hidden="true"><circle cx="25" cy="25" r="25" fill="{color}"/>{mark}</svg>'
    body = (
        '<main class="mp-page"><section class="mp-card mp-result" data-success="'
        + ("1" if success else "0")
        + f'">{icon}<h1 class="mp-result-title">{e(title)}</h1>'
        + (f'<p class="mp-result-msg">{e(message)}</p>' if message else "")
        + "</section></main>"
    )
    return _document(page_title, body, script=False)


def render_loading_page(text: str, *, refresh_url: Optional[str] = None, refresh_seconds: int = 1, page_title: str = "医保移动支付") -> str:
    """A page that is only the page-level loading (3.8), e.g. "正在确认支付结果";
    with ``refresh_url`` it reloads there (meta refresh) every ``refresh_seconds``."""
    head = ""
    if refresh_url:
        head = f'<meta http-equiv="refresh" content="{int(refresh_seconds)};url={e(refresh_url)}">'
    return _document(page_title, render_loading(text, level="page", open=True), script=False, head_extra=head)


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
                self._send(render_result_page("已放弃支付", "本次医保结算未生效", success=False))
            else:
                self._send(render_result_page("页面不存在", self.path, success=False), 404)

        def do_POST(self) -> None:  # noqa: N802
            length = int(self.headers.get("Content-Length") or 0)
            form = parse_qs(self.rfile.read(length).decode("utf-8"))
            chnl = (form.get("chnlType") or [""])[0]
            order = (form.get("payOrdId") or [""])[0]
            if urlsplit(self.path).path != "/pay":
                self._send(render_result_page("页面不存在", self.path, success=False), 404)
                return
            self._send(render_result_page("支付成功", f"订单 {order}，支付渠道 {chnl}"))

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
