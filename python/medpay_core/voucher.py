"""6101: decoding the e-voucher QR code (解析医保电子凭证二维码).

In production the QR code is decoded by the national e-voucher library (a native
library of the e-voucher center, 《国家医保电子凭证业务标准动态库交互规范》), not by this
package: wrap it in a class with the :class:`VoucherDecoder` shape.
:class:`SandboxVoucherDecoder` decodes the QR codes our sandbox issues with
:func:`issue_sandbox_qr`, so the whole flow (scan -> 6201 -> 6202/cashier -> 6301) can be
exercised without the real library.

Sandbox QR format (version 1), all ASCII::

    MEDPAY-SANDBOX:1:<appId>:<encHex>:<macHex>

- ``encHex``: uppercase hex of SM4 (the data key of ``appId``/``appSecret``, docs/protocol.md
  §4) over the compact JSON of the person: ``userName``, ``idNo``, ``idType``,
  ``ecToken``, ``insuOrg``, ``authNo`` (the payAuthNo the sandbox authorised), optional
  ``orgId`` (the only institution allowed to decode it), ``iat``/``exp`` (epoch
  seconds) and the reserved fields of table 2 when given;
- ``macHex``: HMAC-SM3 over ``1:<appId>:<encHex>`` under a key derived from the
  appSecret (SM4-ECB is not authenticated: without the MAC a tampered code could decode
  to garbage instead of failing cleanly).

>>> import medpay_core as mp
>>> creds = mp.Credentials("SANDBOXAPP0000000000000000000001", "S" * 32)
>>> qr = issue_sandbox_qr(creds, user_name="张三", id_no="350181199011193519",
...                       insu_org="350100", pay_auth_no="AUTH123")
>>> qr.startswith("MEDPAY-SANDBOX:1:")
True
"""

from __future__ import annotations

import hmac
import secrets
import time
from typing import Any, Callable, Mapping, Optional, Protocol, Union, runtime_checkable

from ._native import EnvelopeCodec, sm3
from .credentials import CredentialsLike, as_codec
from .errors import DecryptError, InvalidVoucher, ValidationError
from .models import VoucherDecodeRequest, VoucherDecodeResponse, validate

__all__ = [
    "VoucherDecoder",
    "SandboxVoucherDecoder",
    "issue_sandbox_qr",
    "InvalidVoucher",
    "SANDBOX_QR_PREFIX",
]

SANDBOX_QR_PREFIX = "MEDPAY-SANDBOX:"
_VERSION = "1"
_RESERVED = {"ec_index_no": "ecIndexNo", "gender": "gender", "birthday": "birthday",
             "nationality": "nationality", "email": "email"}


@runtime_checkable
class VoucherDecoder(Protocol):
    """Anything that turns a scanned QR text into the 6101 output (table 2)."""

    def decode(self, qr_text: str, request: Any) -> VoucherDecodeResponse:
        """Decode ``qr_text`` for ``request`` (VoucherDecodeRequest, table 1); return a
        VoucherDecodeResponse."""
        ...


def _hmac_sm3(key: bytes, msg: bytes) -> bytes:
    # RFC 2104 over SM3 (64-byte blocks); hashlib has no SM3 on most builds.
    if len(key) > 64:
        key = sm3(key)
    key = key.ljust(64, b"\x00")
    inner = sm3(bytes(b ^ 0x36 for b in key) + msg)
    return sm3(bytes(b ^ 0x5C for b in key) + inner)


def _mac(codec: EnvelopeCodec, signed_part: str) -> str:
    creds = codec.credentials
    # A key of its own (not the SM4 data key): one key, one purpose.
    key = sm3(b"medpay-sandbox-qr-mac\x00" + creds.app_id.encode() + b"\x00" + creds.app_secret.encode())
    return _hmac_sm3(key, signed_part.encode("ascii")).hex().upper()


def issue_sandbox_qr(
    credentials: CredentialsLike,
    *,
    user_name: str,
    id_no: str,
    insu_org: str,
    id_type: str = "01",
    pay_auth_no: Optional[str] = None,
    ec_token: Optional[str] = None,
    org_id: Optional[str] = None,
    ttl: float = 600,
    now: Optional[float] = None,
    **reserved: str,
) -> str:
    """Issue a sandbox e-voucher QR text for a test person (see the module doc).

    ``credentials`` are the sandbox's (appId and appSecret are used); ``pay_auth_no``
    and ``ec_token`` are made up when not given; ``org_id`` limits decoding to one
    institution; ``ttl`` seconds of validity; ``reserved`` may hold ``gender``,
    ``birthday``, ``nationality``, ``email``, ``ec_index_no``.

    >>> import medpay_core as mp
    >>> creds = mp.Credentials("SANDBOXAPP0000000000000000000001", "S" * 32)
    >>> qr = issue_sandbox_qr(creds, user_name="李四", id_no="110101199003074514", insu_org="110100")
    >>> len(qr) < 1000
    True
    """
    unknown = set(reserved) - set(_RESERVED)
    if unknown:
        raise TypeError(f"unknown voucher fields: {sorted(unknown)}")
    codec = as_codec(credentials)
    issued = int(time.time() if now is None else now)
    person: dict[str, Any] = {
        "userName": user_name,
        "idNo": id_no,
        "idType": id_type,
        "ecToken": ec_token or (insu_org + "ec" + secrets.token_hex(16))[:40],
        "insuOrg": insu_org,
        "authNo": pay_auth_no or "AUTH" + secrets.token_hex(12).upper(),
        "iat": issued,
        "exp": issued + int(ttl),
    }
    if org_id:
        person["orgId"] = org_id
    for attr, wire in _RESERVED.items():
        if reserved.get(attr) is not None:
            person[wire] = reserved[attr]
    # Validate now, so a bad test person fails at issue time, not at the scanner.
    validate(VoucherDecodeResponse, {k: v for k, v in person.items() if k not in ("iat", "exp", "orgId")})
    enc = codec.encrypt_data(person)
    signed_part = f"{_VERSION}:{codec.credentials.app_id}:{enc}"
    return f"{SANDBOX_QR_PREFIX}{signed_part}:{_mac(codec, signed_part)}"


class SandboxVoucherDecoder:
    """A :class:`VoucherDecoder` for QR codes from :func:`issue_sandbox_qr`.

    ``credentials`` are the sandbox's (one, or a mapping appId -> credentials);
    ``clock`` returns epoch seconds (for tests).

    >>> import medpay_core as mp
    >>> creds = mp.Credentials("SANDBOXAPP0000000000000000000001", "S" * 32)
    >>> qr = issue_sandbox_qr(creds, user_name="张三", id_no="350181199011193519",
    ...                       insu_org="350100", pay_auth_no="AUTH123")
    >>> request = {"orgId": "H35010200001", "businessType": "01101", "operatorId": "0001",
    ...            "operatorName": "收费员", "officeId": "0101", "officeName": "门诊"}
    >>> out = SandboxVoucherDecoder(creds).decode(qr, request)
    >>> out.user_name, out.auth_no
    ('张三', 'AUTH123')
    """

    def __init__(
        self,
        credentials: Union[CredentialsLike, Mapping[str, CredentialsLike]],
        *,
        clock: Callable[[], float] = time.time,
    ):
        if isinstance(credentials, Mapping):
            self._codecs = {k: as_codec(v) for k, v in credentials.items()}
        else:
            c = as_codec(credentials)
            self._codecs = {c.credentials.app_id: c}
        self._clock = clock

    def decode(self, qr_text: str, request: Union[VoucherDecodeRequest, Mapping[str, Any]]) -> VoucherDecodeResponse:
        """The person of a sandbox QR code, for ``request`` (table 1: a model or its wire
        dict); :class:`InvalidVoucher` says why a code cannot be decoded,
        :class:`~medpay_core.errors.ValidationError` that the request is invalid."""
        req = validate(VoucherDecodeRequest, request)
        text = (qr_text or "").strip()
        if not text.startswith(SANDBOX_QR_PREFIX):
            raise InvalidVoucher(reason="format", message="not a sandbox e-voucher QR code")
        parts = text[len(SANDBOX_QR_PREFIX):].split(":")
        if len(parts) != 4 or parts[0] != _VERSION:
            raise InvalidVoucher(reason="format", message="malformed sandbox QR code (expected version 1 with 4 parts)")
        _, app_id, enc, mac = parts
        codec = self._codecs.get(app_id)
        if codec is None:
            raise InvalidVoucher(reason="issuer", message=f"QR code issued by an unknown sandbox appId {app_id!r}")
        signed_part = f"{_VERSION}:{app_id}:{enc}"
        if not hmac.compare_digest(_mac(codec, signed_part), mac.upper()):
            raise InvalidVoucher(reason="mac", message="the QR code was altered (MAC mismatch)")
        try:
            person = codec.decrypt_data(enc)
        except DecryptError as e:
            raise InvalidVoucher(reason="format", message=f"the QR code does not decrypt: {e}") from None
        if not isinstance(person, dict):
            raise InvalidVoucher(reason="format", message="the QR payload is not an object")
        exp = person.pop("exp", None)
        person.pop("iat", None)
        if not isinstance(exp, int) or self._clock() > exp:
            raise InvalidVoucher(reason="expired", message="the QR code has expired; ask the patient to refresh it")
        org_id = person.pop("orgId", None)
        if org_id is not None and org_id != req.org_id:
            raise InvalidVoucher(reason="org", message="the QR code was issued for another institution")
        try:
            return validate(VoucherDecodeResponse, person)
        except ValidationError as e:
            raise InvalidVoucher(reason="fields", message=f"the QR payload is not a valid 6101 answer: {e}") from e
