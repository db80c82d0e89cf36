"""6203: refund (医保退费), endpoint ``refund_Order``."""

from __future__ import annotations

from decimal import Decimal
from typing import Any, Dict, List, Optional

from ..errors import FieldError
from ._base import InboundModel, ExtData, WireModel, amount, err, nested, text
from ._common import UnionPayExpContent

__all__ = ["RefundExpContent", "RefundRequest", "RefundResponse"]


class RefundExpContent(UnionPayExpContent):
    """6203 ``expContent`` (table 11): ``merchantNo``, ``terminalNo``, ``isvNo``.

    >>> RefundExpContent(merchant_no="M1", terminal_no="T1", isv_no="I1").to_wire()["isvNo"]
    'I1'
    """


class RefundRequest(WireModel):
    """6203 input, table 272 (``data``), with ``expContent`` (table 11).

    ``refdType`` is ``ALL`` (everything), ``CASH`` (cash only) or ``HI`` (insurance
    only); ``appRefdTime`` is ``yyyyMMddHHmmss``; ``ecToken`` and ``payAuthNo`` may not
    both be empty.

    >>> from decimal import Decimal
    >>> req = RefundRequest(pay_ord_id="ORD3501002026112500001", app_refd_sn="RF202611250001",
    ...     app_refd_time="20261125103000", totl_refd_amt=Decimal("25.80"),
    ...     psn_acct_refd_amt=Decimal("20.80"), fund_refd_amt=Decimal("0.00"),
    ...     cash_refd_amt=Decimal("5.00"), refd_type="ALL", pay_auth_no="AUTH1")
    >>> req.to_wire()["refdType"]
    'ALL'
    """

    pay_ord_id: str = text("payOrdId", 40, "支付订单号 (from 6201)", required=True)
    app_refd_sn: str = text("appRefdSn", 40, "应用退款流水号", required=True)
    app_refd_time: str = text("appRefdTime", 40, "应用退费时间 yyyyMMddHHmmss", required=True,
                              fmt="compact_datetime")
    totl_refd_amt: Decimal = amount("totlRefdAmt", 12, 2, "总退费金额 (original total)", required=True)
    psn_acct_refd_amt: Optional[Decimal] = amount("psnAcctRefdAmt", 12, 2, "医保个人账户支付")
    fund_refd_amt: Optional[Decimal] = amount("fundRefdAmt", 12, 2, "基金支付 (incl. commercial)")
    cash_refd_amt: Decimal = amount("cashRefdAmt", 12, 2, "现金退费金额", required=True)
    ec_token: Optional[str] = text("ecToken", 64, "电子凭证授权Token (or payAuthNo)")
    refd_type: str = text("refdType", 40, "退费类型: ALL, CASH or HI", required=True,
                          enum=("ALL", "CASH", "HI"))
    exp_content: Optional[RefundExpContent] = nested("expContent", "扩展数据 (table 11)",
                                                     max_length=4000)
    pay_auth_no: Optional[str] = text("payAuthNo", 40, "支付授权码 (or ecToken)")

    @classmethod
    def _medpay_rules(cls, v: Dict[str, Any], prefix: str) -> List[FieldError]:
        if v["ec_token"] is None and v["pay_auth_no"] is None:
            return [err(prefix + "ecToken", "one_of_required",
                        "ecToken and payAuthNo may not both be empty; give one of them")]
        return []


class RefundResponse(InboundModel):
    """6203 output, table 12 (``data``). ``refStatus`` is ``SUCC``, ``FAIL`` or ``EXP``
    (insurance refunded, cash refund failed: retry a cash-only refund). ``hiFefdSn``,
    ``hiTrnsDate`` and ``hiTrnsTime`` are absent for cash-only refunds.

    >>> r = RefundResponse.from_wire({"refdSn": "RS1", "hiFefdSn": "HF1", "hiTrnsDate": "20261125",
    ...     "hiTrnsTime": "103005", "refStatus": "SUCC"})
    >>> r.ref_status
    'SUCC'
    """


    refd_sn: str = text("refdSn", 40, "结算中心流水号", required=True)
    hi_fefd_sn: Optional[str] = text("hiFefdSn", 40, "医保退费流水号 (not for cash refunds)")
    hi_trns_date: Optional[str] = text("hiTrnsDate", 8, "医保退费日期 (not for cash refunds)")
    hi_trns_time: Optional[str] = text("hiTrnsTime", 6, "医保退费时间 (not for cash refunds)")
    ref_status: str = text("refStatus", 40, "退费状态: SUCC, FAIL or EXP", required=True,
                           enum=("SUCC", "FAIL", "EXP"))
    ext_data: Optional[ExtData] = nested("extData", "医保扩展数据")
