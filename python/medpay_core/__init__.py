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
    sign_text,
    sm3,
    sm4_ecb_decrypt,
    sm4_ecb_encrypt,
)
from .errors import (
    BusinessError,
    DecryptError,
    EnvelopeError,
    KeyFormatError,
    MedpayError,
    OutcomeUnknown,
    SignatureError,
    TransportError,
    ValidationError,
)

__all__ = [
    "PROTOCOL_VERSION",
    "Credentials",
    "Diagnosis",
    "EnvelopeCodec",
    "Message",
    "SM2PrivateKey",
    "SM2PublicKey",
    "derive_sm4_key",
    "diagnose",
    "sign_text",
    "sm3",
    "sm4_ecb_decrypt",
    "sm4_ecb_encrypt",
    "MedpayError",
    "KeyFormatError",
    "SignatureError",
    "DecryptError",
    "EnvelopeError",
    "ValidationError",
    "TransportError",
    "BusinessError",
    "OutcomeUnknown",
]
