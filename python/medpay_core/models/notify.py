"""What the center sends to the institution: 6204 order-information sync (医保订单信息同步,
a browser redirect) and 6302 settlement-result notification (医保结算结果通知), with the
institution's 6302 reply."""

from __future__ import annotations

from decimal import Decimal
from typing import Optional

from ._base import InboundModel, ExtModel, WireModel, amount, flag, nested, text

__all__ = [
    "OrderSyncExtData",
    "OrderSyncNotice",
    "SettlementExtData",
    "SettlementNotice",
    "SettlementNoticeReply",
]


class OrderSyncExtData(ExtModel):
    """6204 ``extData`` (table 14): ``merchantNo``, ``terminalNo``, ``isvNo``. The same
    field is described as "the core settlement output passed through", so these three
    are not required here and every other key is kept.

    >>> OrderSyncExtData.from_wire('{"merchantNo":"M1","setlId":"S1"}').model_extra
    {'setlId': 'S1'}
    """

    __medpay_inbound__ = True

    merchant_no: Optional[str] = text("merchantNo", 20, "医保个账商户号")
    terminal_no: Optional[str] = text("terminalNo", 8, "终端号")
    isv_no: Optional[str] = text("isvNo", 20, "服务商号（渠道ID）")


class OrderSyncNotice(InboundModel):
    """6204 input, table 13 (``data``), with ``extData`` (table 14): the decrypted
    ``encData`` of the redirect to the institution's page.

    >>> n = OrderSyncNotice.from_wire({"payOrdId": "ORD1", "medOrgOrd": "MO1", "feeSumamt": "25.80",
    ...     "ownPayAmt": "5.00", "psnAcctPay": "20.80", "fundPay": "0", "othFeeAmt": "0"})
    >>> n.own_pay_amt
    Decimal('5.00')
    """


    pay_ord_id: str = text("payOrdId", 40, "支付订单号", required=True)
    med_org_ord: str = text("medOrgOrd", 40, "医院订单号", required=True)
    fee_sumamt: Decimal = amount("feeSumamt", 12, 2, "费用总金额", required=True)
    own_pay_amt: Decimal = amount("ownPayAmt", 12, 2, "现金自付", required=True)
    psn_acct_pay: Decimal = amount("psnAcctPay", 12, 2, "个人账户支付", required=True)
    fund_pay: Decimal = amount("fundPay", 12, 2, "医保基金支付", required=True)
    oth_fee_amt: Decimal = amount("othFeeAmt", 12, 2, "其他支付金额", required=True)
    deposit: Optional[Decimal] = amount("deposit", 16, 2, "住院押金")
    ext_data: Optional[OrderSyncExtData] = nested("extData", "扩展数据 (table 14)")


class SettlementExtData(ExtModel):
    """6302 ``extData`` (table 280): ``psnPaySn``, only for real-account personal-account
    payments; other keys kept.

    >>> SettlementExtData.from_wire({"psnPaySn": "PS1"}).psn_pay_sn
    'PS1'
    """

    __medpay_inbound__ = True

    psn_pay_sn: Optional[str] = text("psnPaySn", 40, "实账支付流水号")


class SettlementNotice(InboundModel):
    """6302 input, table 20 (``data``), with ``extData`` (table 280). ``callType`` must be
    ``02`` (the spec: 固定传 02，目前仅支付成功回调); a notice without it or with another
    value is invalid, so :func:`medpay_core.callbacks.handle_settlement_notice` refuses
    it before ``on_notice``. ``setlType`` is ``ALL``, ``CASH`` or ``HI``. The cash part is spelled ``ownpayAmt`` here (``ownPayAmt``, as in
    6202/6204/6301, is accepted too).

    >>> n = SettlementNotice.from_wire({"payOrdId": "ORD1", "callType": "02", "medOrgOrd": "MO1",
    ...     "traceTime": "2026-11-25 10:00:00", "feeSumamt": "25.80", "ownpayAmt": "5.00",
    ...     "psnAcctPay": "20.80", "fundPay": "0.00", "hiChrgTime": "100000", "hiDocSn": "D1",
    ...     "hiRgstSn": "R1", "orgName": "福州市第一医院", "setlType": "ALL", "revsToken": "RV1",
    ...     "orgCodg": "H35010200001"})
    >>> n.ownpay_amt
    Decimal('5.00')
    """


    pay_ord_id: str = text("payOrdId", 40, "支付订单号", required=True)
    call_type: str = text("callType", 40, "回调类型: 02 (payment succeeded)", required=True,
                          enum=("02",))
    med_org_ord: str = text("medOrgOrd", 40, "医院订单号", required=True)
    trace_time: str = text("traceTime", 40, "交易时间", required=True)
    fee_sumamt: Decimal = amount("feeSumamt", 12, 2, "费用总金额", required=True)
    ownpay_amt: Decimal = amount("ownpayAmt", 12, 2, "个人现金自付", required=True,
                                 aliases=("ownPayAmt",))
    psn_acct_pay: Decimal = amount("psnAcctPay", 12, 2, "个人账户支付", required=True)
    fund_pay: Decimal = amount("fundPay", 12, 2, "其中基金支付", required=True)
    hi_chrg_time: str = text("hiChrgTime", 6, "医保收费时间", required=True)
    hi_doc_sn: str = text("hiDocSn", 40, "医保交易流水号", required=True)
    hi_rgst_sn: str = text("hiRgstSn", 40, "医保挂号流水号", required=True)
    org_name: str = text("orgName", 40, "机构名称", required=True)
    ec_code: Optional[str] = text("ecCode", 200, "电子凭证码值")
    setl_type: str = text("setlType", 40, "结算类型: ALL, CASH or HI", required=True,
                          enum=("ALL", "CASH", "HI"))
    revs_token: str = text("revsToken", 40, "冲正授权 (valid 1 hour)", required=True)
    ext_data: Optional[SettlementExtData] = nested("extData", "医保扩展数据 (table 280)")
    org_codg: str = text("orgCodg", 40, "两定机构编号", required=True)
    deposit: Optional[Decimal] = amount("deposit", 16, 2, "住院押金")


class SettlementNoticeReply(WireModel):
    """6302 output, table 277: ``success`` false asks the center to deliver the notice
    again. It is the ``data`` of the nested reply or the whole flat one (see
    :func:`medpay_core.callbacks.settlement_reply`).

    >>> SettlementNoticeReply(success=True, message="院内处理回调成功").to_wire()
    {'success': True, 'message': '院内处理回调成功'}
    """

    success: bool = flag("success", "回调通知结果", required=True)
    message: str = text("message", 1000, "结果说明", required=True)
