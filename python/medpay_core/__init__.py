"""medpay: China's medical-insurance mobile payment interface (医保移动支付) 2.0.1.

The envelope codec signs with SM2 (SM3withSM2) and encrypts with SM4, byte for byte as
the payment center does:

>>> import medpay_core as mp
>>> inst, center = mp.SM2PrivateKey.generate(), mp.SM2PrivateKey.generate()
>>> app_id, secret = "43AF047BBA47FC8A1AE8EFB232BDBBCB", "4117E877F5FA0A0188891283E4B617D5"
>>> ours = mp.EnvelopeCodec(mp.Credentials(app_id, secret, inst, center.public_key()))
>>> theirs = mp.EnvelopeCodec(mp.Credentials(app_id, secret, center, inst.public_key()))
>>> theirs.unpack(ours.pack_json({"payOrdId": "ORD1"})).data
{'payOrdId': 'ORD1'}
"""

from importlib.metadata import version as _installed_version
from typing import Any

from ._native import (
    PROTOCOL_VERSION,
    Credentials,
    Diagnosis,
    EnvelopeCodec,
    Message,
    SM2PrivateKey,
    SM2PublicKey,
    derive_sm4_key,
    diagnose,
    sign_many,
    sign_text,
    sm3,
    sm4_ecb_decrypt,
    sm4_ecb_encrypt,
    verify_many,
)
from .errors import (
    BusinessError,
    DecryptError,
    EnvelopeError,
    FieldError,
    InvalidVoucher,
    KeyFormatError,
    MedpayError,
    OutcomeUnknown,
    SettlementPending,
    SignatureError,
    StoreError,
    TransportError,
    UnknownAppIdError,
    UnsignedRefusal,
    ValidationError,
)

# Client, callbacks, cashier, voucher, ids (issue 3). The ASGI app needs Starlette (the
# "server" extra), so create_app is imported only when asked for (see __getattr__).
from .callbacks import (
    MemoryNoticeStore,
    NoticeKey,
    NoticeStore,
    SQLiteNoticeStore,
    decode_order_sync,
    handle_settlement_notice,
    settlement_reply,
)
from .cashier import CashierParams, cashier_url, decode_cashier_params
from .client import (
    FINAL_ORD_STAS,
    ORD_STAS,
    AsyncMedpayClient,
    Exchange,
    MedpayClient,
    is_final_ord_stas,
    ord_stas_label,
)
from .credentials import Institutions
from .transport import AiohttpTransport, AsyncHttpxTransport, AsyncioTransport, HttpTransport, HttpxTransport
from .ids import new_app_refd_sn, new_org_biz_ser
from .voucher import SandboxVoucherDecoder, VoucherDecoder, issue_sandbox_qr


def __getattr__(name: str) -> Any:
    if name == "create_app":
        from .asgi import create_app

        return create_app
    raise AttributeError(f"module 'medpay_core' has no attribute {name!r}")


#: The installed package's version (its wheel's metadata), e.g. ``"0.1.0"``.
__version__: str = _installed_version("medpay-core")

__all__ = [
    "__version__",
    "PROTOCOL_VERSION",
    "Credentials",
    "Institutions",
    "Diagnosis",
    "EnvelopeCodec",
    "Message",
    "SM2PrivateKey",
    "SM2PublicKey",
    "derive_sm4_key",
    "diagnose",
    "sign_many",
    "sign_text",
    "sm3",
    "sm4_ecb_decrypt",
    "sm4_ecb_encrypt",
    "verify_many",
    "MedpayError",
    "KeyFormatError",
    "SignatureError",
    "DecryptError",
    "EnvelopeError",
    "ValidationError",
    "UnsignedRefusal",
    "FieldError",
    "TransportError",
    "BusinessError",
    "OutcomeUnknown",
    "SettlementPending",
    "MedpayClient",
    "Exchange",
    "AsyncMedpayClient",
    "HttpTransport",
    "AsyncioTransport",
    "AiohttpTransport",
    "HttpxTransport",
    "AsyncHttpxTransport",
    "ORD_STAS",
    "FINAL_ORD_STAS",
    "is_final_ord_stas",
    "ord_stas_label",
    "new_org_biz_ser",
    "new_app_refd_sn",
    "handle_settlement_notice",
    "settlement_reply",
    "decode_order_sync",
    "NoticeStore",
    "MemoryNoticeStore",
    "SQLiteNoticeStore",
    "NoticeKey",
    "UnknownAppIdError",
    "create_app",
    "cashier_url",
    "decode_cashier_params",
    "CashierParams",
    "VoucherDecoder",
    "SandboxVoucherDecoder",
    "issue_sandbox_qr",
    "InvalidVoucher",
    "StoreError",
]
