"""Typed models of every table of the interface spec 2.0.1, section 2.3.

Each model validates the rows of its table (required, length, ``16,2`` amounts as
``Decimal``, date formats, listed values) and the rules of the notes; any failure is a
single :class:`medpay_core.errors.ValidationError` listing every bad field. Attributes
are snake_case, wire names the spec's (both accepted); ``to_wire()`` / ``from_wire()``
convert to and from the ``data`` dict of a message.

>>> from decimal import Decimal
>>> from medpay_core.models import TRANSACTIONS, RefundRequest
>>> t = TRANSACTIONS["6203"]
>>> t.path, t.request is RefundRequest
('refund_Order', True)
>>> RefundRequest.from_wire({"payOrdId": "ORD1", "appRefdSn": "RF1", "appRefdTime": "20261125103000",
...     "totlRefdAmt": "25.80", "cashRefdAmt": "5.00", "refdType": "CASH",
...     "ecToken": "EC1"}).totl_refd_amt
Decimal('25.80')
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Dict, Optional, Type

from ._base import ExtData, ExtModel, InboundModel, WireModel, field_errors, validate
from ._common import ExpContent, UnionPayExpContent
from .notify import (
    OrderSyncExtData,
    OrderSyncNotice,
    SettlementExtData,
    SettlementNotice,
    SettlementNoticeReply,
)
from .payment import (
    BankCardPayExpContent,
    BankCardPayRequest,
    BankCardPayResponse,
    PayOrderExpContent,
    PayOrderRequest,
    PayOrderResponse,
)
from .query import QueryOrderExpContent, QueryOrderExtData, QueryOrderRequest, QueryOrderResponse
from .refund import RefundExpContent, RefundRequest, RefundResponse
from .revoke import RevokeExpContent, RevokeRequest, RevokeResponse
from .upload import (
    CashierEncData,
    DiseInfo,
    FeeDetail,
    FeeUploadExpContent,
    FeeUploadRequest,
    FeeUploadResponse,
)
from .voucher import VoucherDecodeRequest, VoucherDecodeResponse


@dataclass(frozen=True)
class Transaction:
    """One transaction of the spec, the one table medpay keeps of them (the client, the
    sandbox, the CLI and the docs all read it).

    ``code`` and ``name`` (Chinese) are the spec's; ``path`` the endpoint name (the last
    part of ``/org/local/api/hos/<path>``; None for those the institution does not post:
    6101 goes to the e-voucher library, 6204 and 6302 come from the center); ``request``
    and ``response`` the models of what is sent and answered (``response`` None when
    nothing is); ``method`` the client method that sends it (None when the client does
    not); ``retry_safe`` whether sending it twice is harmless (only 6301, a read: the
    others move money or change the order, and the spec does not say a second one is
    ignored).

    >>> TRANSACTIONS["6201"].path, TRANSACTIONS["6301"].retry_safe
    ('uldFeeInfo', True)
    """

    code: str
    name: str
    path: Optional[str]
    request: Type[WireModel]
    response: Optional[Type[WireModel]]
    method: Optional[str] = None
    retry_safe: bool = False


TRANSACTIONS: Dict[str, Transaction] = {
    t.code: t
    for t in (
        Transaction("6101", "解析医保电子凭证二维码", None, VoucherDecodeRequest, VoucherDecodeResponse),
        Transaction("6201", "费用明细上传", "uldFeeInfo", FeeUploadRequest, FeeUploadResponse,
                    "upload_fees"),
        Transaction("6202", "支付下单", "pay_order", PayOrderRequest, PayOrderResponse, "pay_order"),
        Transaction("6203", "医保退费", "refund_Order", RefundRequest, RefundResponse, "refund"),
        Transaction("6204", "医保订单信息同步", None, OrderSyncNotice, None),
        Transaction("6205", "银行卡支付下单", "medBankPay", BankCardPayRequest, BankCardPayResponse,
                    "bank_card_pay"),
        Transaction("6301", "医保订单结算结果查询", "query_order_info", QueryOrderRequest,
                    QueryOrderResponse, "query_order", retry_safe=True),
        Transaction("6302", "医保结算结果通知", None, SettlementNotice, SettlementNoticeReply),
        Transaction("6401", "费用明细上传撤销", "revoke_order", RevokeRequest, RevokeResponse,
                    "revoke_upload"),
    )
}

#: The transactions the institution posts to the center, by endpoint name.
BY_PATH: Dict[str, Transaction] = {t.path: t for t in TRANSACTIONS.values() if t.path}

__all__ = [
    "TRANSACTIONS",
    "BY_PATH",
    "validate",
    "field_errors",
    "InboundModel",
    "Transaction",
    "WireModel",
    "ExtModel",
    "ExtData",
    "ExpContent",
    "UnionPayExpContent",
    # 6101
    "VoucherDecodeRequest",
    "VoucherDecodeResponse",
    # 6201
    "FeeUploadRequest",
    "FeeUploadExpContent",
    "DiseInfo",
    "FeeDetail",
    "FeeUploadResponse",
    "CashierEncData",
    # 6202
    "PayOrderRequest",
    "PayOrderExpContent",
    "PayOrderResponse",
    # 6203
    "RefundRequest",
    "RefundExpContent",
    "RefundResponse",
    # 6204
    "OrderSyncNotice",
    "OrderSyncExtData",
    # 6205
    "BankCardPayRequest",
    "BankCardPayExpContent",
    "BankCardPayResponse",
    # 6301
    "QueryOrderRequest",
    "QueryOrderExpContent",
    "QueryOrderResponse",
    "QueryOrderExtData",
    # 6302
    "SettlementNotice",
    "SettlementExtData",
    "SettlementNoticeReply",
    # 6401
    "RevokeRequest",
    "RevokeExpContent",
    "RevokeResponse",
]
