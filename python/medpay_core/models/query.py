"""6301: query the settlement result of an order (医保订单结算结果查询),
endpoint ``query_order_info``."""

from __future__ import annotations

from decimal import Decimal
from typing import Optional

from ._base import InboundModel, ExtModel, WireModel, amount, nested, text
from ._common import UnionPayExpContent

__all__ = ["QueryOrderExpContent", "QueryOrderRequest", "QueryOrderExtData", "QueryOrderResponse"]


class QueryOrderExpContent(UnionPayExpContent):
    """6301 ``expContent`` (table 19): ``merchantNo``, ``terminalNo``, ``isvNo``.

    >>> QueryOrderExpContent(merchant_no="M1", terminal_no="T1", isv_no="I1").terminal_no
    'T1'
    """


class QueryOrderRequest(WireModel):
    """6301 input, table 18 (``data``), with ``expContent`` (table 19). ``payToken`` must
    be the one of the fee upload.

    >>> QueryOrderRequest(pay_ord_id="ORD1", org_codg="H35010200001", pay_token="TK1",
    ...     id_no="350181199011193519", user_name="张三", id_type="01").to_wire()["idType"]
    '01'
    """

    pay_ord_id: str = text("payOrdId", 40, "支付订单号", required=True)
    org_codg: str = text("orgCodg", 40, "定点机构编码", required=True)
    pay_token: str = text("payToken", 40, "支付token (as in the fee upload)", required=True)
    id_no: str = text("idNo", 40, "证件号码", required=True)
    user_name: str = text("userName", 40, "用户姓名", required=True)
    id_type: str = text("idType", 3, "证件类别 (dictionary psn_cert_type)", required=True)
    exp_content: Optional[QueryOrderExpContent] = nested("expContent", "扩展数据 (table 19)",
                                                         max_length=4000)


class QueryOrderExtData(ExtModel):
    """6301 ``extData`` (table 278): ``psnPaySn``, only for real-account personal-account
    payments; other keys kept.

    >>> QueryOrderExtData.from_wire('{"psnPaySn":"PS1"}').psn_pay_sn
    'PS1'
    """

    __medpay_inbound__ = True

    psn_pay_sn: Optional[str] = text("psnPaySn", 40, "实账支付流水号")


class QueryOrderResponse(InboundModel):
    """6301 output, table 275 (``data``), with ``extData`` (table 278).

    Required are the three fields of the spec's short form after table 275 (``ordStas``,
    ``payOrdId``, ``callType``): an order not settled yet has no settlement fields.
    ``ordStas`` and ``callType`` are dictionary codes the spec does not list: kept as the
    center's strings. ``setlType`` is ``ALL``, ``CASH`` or ``HI`` when present.

    >>> r = QueryOrderResponse.from_wire({"ordStas": "6", "payOrdId": "ORD1", "callType": "02",
    ...     "feeSumamt": 25.8, "setlType": "ALL", "extData": {"psnPaySn": "PS1"}})
    >>> r.fee_sumamt, r.ext_data.psn_pay_sn
    (Decimal('25.8'), 'PS1')
    """


    ord_stas: str = text("ordStas", 40, "订单状态 (dictionary ordStas)", required=True)
    pay_ord_id: str = text("payOrdId", 40, "支付订单号", required=True)
    call_type: str = text("callType", 40, "回调类型 (dictionary callType)", required=True)
    med_org_ord: Optional[str] = text("medOrgOrd", 40, "医院订单号")
    trace_time: Optional[str] = text("traceTime", 40, "交易时间")
    org_codg: Optional[str] = text("orgCodg", 40, "两定机构编号")
    org_name: Optional[str] = text("orgName", 40, "两定机构名称")
    setl_type: Optional[str] = text("setlType", 40, "结算类型: ALL, CASH or HI",
                                    enum=("ALL", "CASH", "HI"))
    fee_sumamt: Optional[Decimal] = amount("feeSumamt", 12, 2, "费用总金额")
    own_pay_amt: Optional[Decimal] = amount("ownPayAmt", 12, 2, "现金支付")
    psn_acct_pay: Optional[Decimal] = amount("psnAcctPay", 12, 2, "个人账户支付")
    fund_pay: Optional[Decimal] = amount("fundPay", 12, 2, "医保基金支付")
    revs_token: Optional[str] = text("revsToken", 40, "冲正授权 (valid 1 hour)")
    ext_data: Optional[QueryOrderExtData] = nested("extData", "医保扩展数据 (table 278)")
    deposit: Optional[Decimal] = amount("deposit", 16, 2, "住院押金")
    hi_chrg_time: Optional[str] = text("hiChrgTime", 6, "医保收费时间")
    hi_doc_sn: Optional[str] = text("hiDocSn", 40, "医保交易流水号")
    hi_rgst_sn: Optional[str] = text("hiRgstSn", 40, "医保挂号流水号")
    ec_code: Optional[str] = text("ecCode", 200, "电子凭证码值")
