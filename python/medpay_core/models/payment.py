"""6202 pay the order (支付下单, ``pay_order``) and 6205 bank-card payment (银行卡支付下单,
``medBankPay``), both for the no-cashier mode."""

from __future__ import annotations

from decimal import Decimal
from typing import Optional

from ._base import InboundModel, ExtData, WireModel, amount, nested, text
from ._common import UnionPayExpContent

__all__ = [
    "PayOrderExpContent",
    "PayOrderRequest",
    "PayOrderResponse",
    "BankCardPayExpContent",
    "BankCardPayRequest",
    "BankCardPayResponse",
]


class PayOrderExpContent(UnionPayExpContent):
    """6202 ``expContent`` (table 9): ``merchantNo``, ``terminalNo``, ``isvNo``.

    >>> PayOrderExpContent(merchant_no="898350112340001", terminal_no="12345678",
    ...     isv_no="ISV0001").isv_no
    'ISV0001'
    """


class PayOrderRequest(WireModel):
    """6202 input, table 8 (``data``), with ``expContent`` (table 9).

    >>> from decimal import Decimal
    >>> req = PayOrderRequest(pay_auth_no="AUTH3501002026112500001", pay_ord_id="ORD3501002026112500001",
    ...     pay_token="ORD3501002026112500001TK", org_codg="H35010200001",
    ...     org_biz_ser="BIZ202611250001", chrg_bchno="B20261125001", fee_type="01",
    ...     mdtrt_id="MD35010020261125001", deposit=Decimal("500.00"))
    >>> req.to_wire()["deposit"]
    Decimal('500.00')
    """

    pay_auth_no: str = text("payAuthNo", 40, "支付授权码", required=True)
    pay_ord_id: str = text("payOrdId", 40, "待支付订单号 (from 6201)", required=True)
    pay_token: str = text("payToken", 40, "支付订单对应的token (from 6201)", required=True)
    org_codg: str = text("orgCodg", 12, "定点机构编码", required=True)
    org_biz_ser: str = text("orgBizSer", 40, "业务流水号 (unique per request)", required=True)
    chrg_bchno: str = text("chrgBchno", 40, "收费批次号 (as uploaded)", required=True)
    fee_type: str = text("feeType", 2, "费用类别 (as uploaded)", required=True)
    mdtrt_id: str = text("mdtrtId", 40, "就诊事件ID (as uploaded)", required=True)
    deposit: Optional[Decimal] = amount("deposit", 16, 2, "住院押金")
    exp_content: Optional[PayOrderExpContent] = nested("expContent", "扩展数据 (table 9)",
                                                       max_length=4000)
    acct_used_flag: Optional[str] = text("acctUsedFlag", 1, "个账使用标识 (empty: as uploaded)")


class PayOrderResponse(InboundModel):
    """6202 output, table 10 (``data``). ``ordStas`` is the order state (dictionary
    ordStas, values not in the spec: kept as the center's string).

    >>> r = PayOrderResponse.from_wire({"payOrdId": "ORD1", "ordStas": "6", "feeSumamt": "25.80",
    ...     "ownPayAmt": 5, "psnAcctPay": "20.80", "fundPay": 0, "othFeeAmt": "0.00"})
    >>> r.fee_sumamt, r.own_pay_amt
    (Decimal('25.80'), Decimal('5'))
    """


    pay_ord_id: str = text("payOrdId", 40, "支付订单号", required=True)
    ord_stas: str = text("ordStas", 40, "订单状态 (dictionary ordStas)", required=True)
    fee_sumamt: Decimal = amount("feeSumamt", 12, 2, "费用总额", required=True)
    own_pay_amt: Decimal = amount("ownPayAmt", 12, 2, "现金支付", required=True)
    psn_acct_pay: Decimal = amount("psnAcctPay", 12, 2, "个人账户支出", required=True)
    fund_pay: Decimal = amount("fundPay", 12, 2, "医保基金支付", required=True)
    deposit: Optional[Decimal] = amount("deposit", 16, 2, "住院押金")
    ext_data: Optional[ExtData] = nested("extData", "扩展数据")
    oth_fee_amt: Decimal = amount("othFeeAmt", 12, 2, "其他支付金额 (e.g. hospital-borne)",
                                  required=True)


class BankCardPayExpContent(UnionPayExpContent):
    """6205 ``expContent`` (table 16): ``merchantNo``, ``terminalNo``, ``isvNo``.

    >>> BankCardPayExpContent.from_wire({"merchantNo": "M1", "terminalNo": "T1",
    ...     "isvNo": "I1"}).merchant_no
    'M1'
    """


class BankCardPayRequest(WireModel):
    """6205 input, table 15 (``data``), with ``expContent`` (table 16).

    >>> BankCardPayRequest(pay_auth_no="AUTH1", pay_ord_id="ORD1", pay_token="TK1",
    ...     org_codg="H35010200001", org_biz_ser="BIZ1").to_wire()["orgBizSer"]
    'BIZ1'
    """

    pay_auth_no: str = text("payAuthNo", 40, "支付授权码", required=True)
    pay_ord_id: str = text("payOrdId", 40, "待支付订单号 (from 6201)", required=True)
    pay_token: str = text("payToken", 40, "支付订单对应的token (from 6201)", required=True)
    org_codg: str = text("orgCodg", 12, "定点机构编码", required=True)
    org_biz_ser: str = text("orgBizSer", 40, "业务流水号 (unique per request)", required=True)
    exp_content: Optional[BankCardPayExpContent] = nested("expContent", "扩展数据 (table 16)",
                                                          max_length=4000)


class BankCardPayResponse(InboundModel):
    """6205 output, table 17 (``data``): the bank-card payment page ``medBankPayUrl``.

    >>> BankCardPayResponse.from_wire({"medBankPayUrl": "https://bank.example/pay?o=1"}).med_bank_pay_url
    'https://bank.example/pay?o=1'
    """


    med_bank_pay_url: str = text("medBankPayUrl", 4000, "银行卡混合支付地址", required=True)
    ext_data: Optional[ExtData] = nested("extData", "扩展数据")
