"""Validation of the sandbox's requests and responses with the client's own models.

The sandbox checks what it receives with exactly the models the client uses
(``medpay_core.models``), so the two can never disagree about the spec. The models are
imported lazily: if the package is not there, a minimal check of required fields
stands in (and says so in its message).
"""

from __future__ import annotations

import importlib
import logging
from typing import Any, Optional

from ..errors import ValidationError
from . import codes
from .codes import SandboxError

log = logging.getLogger("medpay.sandbox")

# Used only when medpay_core.models cannot be imported: the spec's required fields.
_REQUIRED = {
    "6201": ("orgCodg", "psnNo", "insutype", "medOrgOrd", "begntime", "idNo", "userName", "idType",
             "ecToken", "iptOtpNo", "deptName", "caty", "medType", "feeType", "medfeeSumamt",
             "acctUsedFlag", "diseCodg", "psnSetlway", "chrgBchno", "pubHospRfomFlag",
             "diseinfoList", "feedetailList"),
    "6202": ("payAuthNo", "payOrdId", "payToken", "orgCodg", "orgBizSer", "chrgBchno", "feeType", "mdtrtId"),
    "6203": ("payOrdId", "appRefdSn", "appRefdTime", "totlRefdAmt", "cashRefdAmt", "refdType"),
    "6205": ("payAuthNo", "payOrdId", "payToken", "orgCodg", "orgBizSer"),
    "6301": ("payOrdId", "orgCodg", "payToken", "idNo", "userName", "idType"),
    "6401": ("payOrdId", "orgCodg", "payToken", "idNo", "userName", "idType"),
}


def models_module() -> Optional[Any]:
    """``medpay_core.models`` or None when it is not installed."""
    try:
        return importlib.import_module("medpay_core.models")
    except ImportError as e:
        if e.name not in ("medpay_core.models",):
            raise
        return None


def transaction(code: str) -> Optional[Any]:
    """The ``Transaction`` of ``code`` from the models, or None."""
    m = models_module()
    if m is None:
        return None
    table = getattr(m, "TRANSACTIONS", {})
    return table.get(code) or table.get(int(code)) if code.isdigit() else table.get(code)


def _field_errors(e: ValidationError) -> str:
    return "; ".join(f"{x.get('field')}: {x.get('message')}" for x in e.errors)


def validate_request(code: str, data: Any) -> dict[str, Any]:
    """Check the decrypted ``data`` of a ``code`` request; return its wire dict.

    Raises :class:`SandboxError` 2001 listing every bad field.
    """
    if not isinstance(data, dict):
        raise SandboxError(codes.INVALID_DATA, "data must be a JSON object")
    tx = transaction(code)
    if tx is None:
        missing = [f for f in _REQUIRED.get(code, ()) if data.get(f) in (None, "", [])]
        if missing:
            errors = [{"field": f, "rule": "required", "message": "is required"} for f in missing]
            raise SandboxError(codes.INVALID_DATA, f"{code}: missing {', '.join(missing)}", errors=errors)
        return dict(data)
    try:
        model = tx.request.from_wire(data)
    except ValidationError as e:
        raise SandboxError(codes.INVALID_DATA, f"{code}: {_field_errors(e)}", errors=e.errors) from None
    wire = model.to_wire()
    # Keep fields the model does not know (e.g. orgBizSer on 6201): the sandbox may use them.
    return {**data, **wire}


def check_model(kind: str, code: str, wire: dict[str, Any]) -> dict[str, Any]:
    """Pass what the sandbox sends (``kind`` "response", or a model class name) through
    the client's model, so a sandbox bug shows up here and not in the client. On a
    mismatch the dict goes out unchanged and the problem is logged."""
    m = models_module()
    if m is None:
        return wire
    if kind == "response":
        tx = transaction(code)
        cls = getattr(tx, "response", None) if tx is not None else None
    else:
        cls = getattr(m, kind, None)
    if cls is None:
        return wire
    try:
        out = cls.from_wire(wire).to_wire()
    except ValidationError as e:
        log.error("sandbox %s %s does not pass the client's model: %s", code, kind, _field_errors(e))
        return wire
    return out
