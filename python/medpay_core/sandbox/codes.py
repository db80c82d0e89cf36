"""The sandbox's answer codes. Every refusal is a signed, encrypted envelope (when the
appId is known) with ``success`` false, one of these ``code`` values and a message that
says what to fix.

======  ===========================================================================
code    meaning
======  ===========================================================================
0       success
1001    malformed envelope: not JSON, a protocol field missing or wrong
1002    unknown appId (the answer is unsigned: there is no secret to sign it with)
1003    the signature does not verify over the center SDK's sign text with the institution's
        public key (the message names the signer's variant), or the data holds what the SDK
        cannot sign (a null array element, an "" element followed by another)
1004    encData cannot be decrypted with the appId/appSecret data key
1005    unknown endpoint
2001    the request data breaks the interface spec (fields listed in the message)
2002    payAuthNo refused (strictAuth: not issued by this sandbox, or another person's)
2003    duplicate key: the same orgBizSer/appRefdSn was used with a different payload
3001    no such order (payOrdId unknown)
3002    the order belongs to another institution (appId)
3003    payToken does not match the order
3004    a field differs from the order's fee upload (center.AS_UPLOADED: orgCodg,
        chrgBchno, feeType, mdtrtId, the person); the message names the field
4001    the order is already paid
4002    the order is revoked
4003    the order is not paid (nothing to refund)
4004    the order is paid and cannot be revoked (refund it instead)
4005    the refund exceeds what was paid (and not yet refunded) in that part
4006    the refund's amounts are inconsistent with its refdType or totlRefdAmt
4007    the order expired unpaid (``orderTtlMinutes`` of the config; off by default)
5000    internal error of the sandbox
======  ===========================================================================
"""

from __future__ import annotations

from typing import Optional, Sequence

from ..errors import FieldError

OK = 0
BAD_ENVELOPE = 1001
UNKNOWN_APP = 1002
BAD_SIGNATURE = 1003
BAD_ENCRYPTION = 1004
UNKNOWN_ENDPOINT = 1005
INVALID_DATA = 2001
AUTH_REFUSED = 2002
DUPLICATE_KEY = 2003
ORDER_NOT_FOUND = 3001
OTHER_INSTITUTION = 3002
TOKEN_MISMATCH = 3003
FIELD_MISMATCH = 3004
ALREADY_PAID = 4001
REVOKED = 4002
NOT_PAID = 4003
PAID_CANNOT_REVOKE = 4004
OVER_REFUND = 4005
REFUND_INCONSISTENT = 4006
ORDER_EXPIRED = 4007
INTERNAL = 5000

CODES: dict[int, str] = {
    OK: "success",
    BAD_ENVELOPE: "malformed envelope",
    UNKNOWN_APP: "unknown appId",
    BAD_SIGNATURE: "signature does not verify",
    BAD_ENCRYPTION: "encData cannot be decrypted",
    UNKNOWN_ENDPOINT: "unknown endpoint",
    INVALID_DATA: "invalid request data",
    AUTH_REFUSED: "payAuthNo refused",
    DUPLICATE_KEY: "idempotency key reused with a different payload",
    ORDER_NOT_FOUND: "no such order",
    OTHER_INSTITUTION: "order of another institution",
    TOKEN_MISMATCH: "payToken does not match",
    FIELD_MISMATCH: "field differs from the fee upload",
    ALREADY_PAID: "order already paid",
    REVOKED: "order revoked",
    NOT_PAID: "order not paid",
    PAID_CANNOT_REVOKE: "paid order cannot be revoked",
    OVER_REFUND: "refund exceeds the amount paid",
    REFUND_INCONSISTENT: "refund amounts inconsistent",
    ORDER_EXPIRED: "order expired unpaid",
    INTERNAL: "internal error",
}


class SandboxError(Exception):
    """A refusal: ``code`` from the table above, ``message`` for the integrator, and
    ``errors`` (field problems, for 2001)."""

    def __init__(self, code: int, message: str, *, errors: Optional[Sequence[FieldError]] = None):
        self.code = code
        self.message = message
        self.errors: list[FieldError] = list(errors or ())
        super().__init__(f"{code}: {message}")
