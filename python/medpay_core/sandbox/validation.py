"""The sandbox checks what it receives and what it sends with the client's own models.

There is no second copy of the spec's rules here: a request is valid when
``medpay_core.models.validate`` of its transaction's request model says so (required
fields, lengths, amounts, dates, value sets and the notes' cross-field rules), so the
sandbox and the client can never disagree about the spec. What the sandbox checks
beyond the models are its own business rules (an order's state, amounts already
refunded, the fields a payment must repeat from the upload: ``center.py``), answered
with their own codes (``codes.py``).
"""

from __future__ import annotations

from typing import Any

from ..errors import ValidationError
from ..models import BY_PATH, TRANSACTIONS, Transaction, WireModel, validate
from . import codes
from .codes import SandboxError


def transaction(path: str) -> Transaction:
    """The transaction posted to ``/org/local/api/hos/<path>`` (``models.BY_PATH``);
    :class:`SandboxError` 1005 for a path the spec does not have.

    >>> transaction("refund_Order").code
    '6203'
    """
    tx = BY_PATH.get(path)
    if tx is None:
        raise SandboxError(codes.UNKNOWN_ENDPOINT, f"unknown endpoint {path!r}; one of {sorted(BY_PATH)}")
    return tx


def _field_errors(e: ValidationError) -> str:
    return "; ".join(f"{x['field']}: {x['message']}" for x in e.errors)


def validate_request(code: str, data: Any) -> dict[str, Any]:
    """The decrypted ``data`` of a ``code`` request checked by its request model; returns
    the model's wire dict (only the fields the spec has: the model refuses any other).
    :class:`SandboxError` 2001 lists every bad field.

    >>> try:
    ...     validate_request("6301", {"payOrdId": "ORD1", "payToken": "T1"})
    ... except SandboxError as e:
    ...     e.code, sorted(x["field"] for x in e.errors)
    (2001, ['idNo', 'idType', 'orgCodg', 'userName'])
    """
    if not isinstance(data, dict):
        raise SandboxError(codes.INVALID_DATA, f"{code}: data must be a JSON object")
    try:
        model = validate(TRANSACTIONS[code].request, data)
    except ValidationError as e:
        raise SandboxError(codes.INVALID_DATA, f"{code}: {_field_errors(e)}", errors=e.errors) from None
    return model.to_wire()


def outgoing(model: type[WireModel], wire: dict[str, Any]) -> dict[str, Any]:
    """What the sandbox sends (an answer, a notice, a redirect's data) passed through the
    client's model of it: a sandbox bug is refused here, as a
    :class:`~medpay_core.errors.ValidationError` the sandbox answers with 5000, and never
    reaches a client that would refuse it.

    >>> from medpay_core.models import RevokeResponse
    >>> outgoing(RevokeResponse, {"success": True})
    {'success': True}
    """
    return validate(model, wire).to_wire()
