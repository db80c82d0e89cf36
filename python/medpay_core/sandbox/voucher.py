"""The e-voucher QR text the sandbox issues with a payAuthNo.

The QR format belongs to the client (``medpay_core.voucher.issue_sandbox_qr``; its
``SandboxVoucherDecoder`` is the 6101 stand-in). This is the one place the sandbox
calls it. The text is sealed with an institution's appId/appSecret, the secret the
sandbox shares with it, so that institution decodes it with
``SandboxVoucherDecoder(Credentials(appId, appSecret))``.
"""

from __future__ import annotations

import secrets
from typing import Any, Mapping

from .._native import Credentials
from ..voucher import issue_sandbox_qr
from .config import Institution


def make_qr(inst: Institution, person: Mapping[str, str], pay_auth_no: str) -> dict[str, Any]:
    """``{"qrText", "ecToken", "appId"}`` for ``person`` (userName, idNo, idType,
    insuOrg) and the payAuthNo just issued; a
    :class:`~medpay_core.errors.ValidationError` when the person does not make a valid
    6101 answer.

    >>> from medpay_core import SM2PrivateKey
    >>> inst = Institution("SANDBOXAPP000001", "S" * 32, SM2PrivateKey.generate().public_key(),
    ...                    "http://127.0.0.1/n", "http://127.0.0.1/r")
    >>> make_qr(inst, {"userName": "张三", "idNo": "350181199011193519"}, "AUTH1")["qrText"][:17]
    'MEDPAY-SANDBOX:1:'
    """
    insu_org = person.get("insuOrg") or "350100"
    ec_token = (insu_org + "ec" + secrets.token_hex(16))[:40]
    qr = issue_sandbox_qr(
        Credentials(inst.app_id, inst.app_secret),
        user_name=person.get("userName", ""),
        id_no=person.get("idNo", ""),
        id_type=person.get("idType") or "01",
        insu_org=insu_org,
        pay_auth_no=pay_auth_no,
        ec_token=ec_token,
    )
    return {"qrText": qr, "ecToken": ec_token, "appId": inst.app_id}
