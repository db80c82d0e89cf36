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
from .config import Institution


def make_qr(inst: Institution, person: Mapping[str, str], pay_auth_no: str) -> dict[str, Any]:
    """``{"qrText", "ecToken", "appId"}`` for ``person`` (userName, idNo, idType,
    insuOrg) and the payAuthNo just issued."""
    insu_org = person.get("insuOrg") or "350100"
    ec_token = (insu_org + "ec" + secrets.token_hex(16))[:40]
    try:
        from ..voucher import issue_sandbox_qr
    except ImportError:  # pragma: no cover - the client's module is part of the package
        return {"qrText": "", "ecToken": ec_token, "appId": inst.app_id}
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
