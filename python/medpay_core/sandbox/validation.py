"""The sandbox checks what it receives and what it sends with the client's own models.

There is no second copy of the spec's rules here: a request is valid when
``medpay_core.models.validate`` of its transaction's request model says so (required
fields, lengths, amounts, dates, value sets and the notes' cross-field rules), so the
sandbox and the client can never disagree about the spec. What the sandbox checks
beyond the models are its own business rules (an order's state, amounts already
refunded, the fields a payment must repeat from the upload: ``center.py``), answered
with their own codes (``codes.py``).

Signatures are verified as the center's SDK verifies them (:func:`check_sdk_signature`):
over the SDK's sign text alone, and data the SDK cannot sign refused. The library's own
verification is lenient (it accepts the other nested key order and the other escaping,
docs/protocol.md §2); the sandbox is not, unless ``lenientSignature`` is set, so that
what passes here passes at the center.
"""

from __future__ import annotations

import re
from typing import Any, Union

from .._native import EnvelopeCodec, Message, diagnose, sign_text
from ..errors import EnvelopeError, MedpayError, ValidationError
from ..models import BY_PATH, TRANSACTIONS, Transaction, WireModel, validate
from . import codes
from .codes import SandboxError
from .config import Institution


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


# The library's diagnosis says "(accepted by medpay)" of the lenient texts: true of
# medpay's verification, not of the center's, so the sandbox leaves it out.
_ACCEPTED_BY_MEDPAY = re.compile(r"\s*\(accepted by medpay\)|accepted by medpay;\s*")


def _has_empty_element(v: Any) -> bool:
    # Only a filter, so that a request pays for no trial pack (an SM2 signature) unless an
    # array holds null or "": which of those the SDK throws on is pack's rule alone.
    if isinstance(v, dict):
        return any(_has_empty_element(x) for x in v.values())
    if isinstance(v, list):
        return any(x is None or x == "" or _has_empty_element(x) for x in v)
    return False


def _diagnosis(inst: Institution, body: Union[bytes, str]) -> Any:
    try:
        # Stripped as Credentials strip it (a pasted secret's newline is not part of it).
        return diagnose(body, inst.app_secret.strip(), inst.public_key)
    except MedpayError:
        return None


def explain_bad_signature(inst: Institution, body: Union[bytes, str]) -> str:
    """What the developer should fix when a request's signature does not verify at all:
    the known variant their signer used (from :func:`medpay_core.diagnose`), or what to
    check when none explains it. No sign text is repeated (it holds the patient's data).

    >>> from medpay_core.sandbox.config import generate_config, parse_config
    >>> cfg = parse_config(generate_config())
    >>> inst = next(iter(cfg.institutions.values()))
    >>> explain_bad_signature(inst, b'{"appId": "X"}')[:40]
    'the signature does not verify with this '
    """
    d = _diagnosis(inst, body)
    if d is not None and d.variant:
        return (f"the signature does not verify over the center's sign text; it verifies over a known variant: "
                f"{d.variant}. Build the sign text as the center's SDK does (`medpay doctor` shows both texts)")
    seen = f" (the diagnosis found: {'; '.join(d.findings)})" if d is not None and d.findings else ""
    return ("the signature does not verify with this appId's public key over the center's sign text, and no known "
            "variant explains it: check the key pair (is the sandbox configured with your public key?), the "
            f"appSecret and that the body sent is the body signed{seen} (`medpay doctor` explains a rejected "
            "envelope)")


def check_sdk_signature(codec: EnvelopeCodec, inst: Institution, body: Union[bytes, str], msg: Message) -> None:
    """Refuse (1003) a request ``codec.unpack`` accepted that the center's SDK would not:
    its signature verifies only over a text the library's lenient verification admits
    (the other nested key order, the other string escaping), or its data holds what the
    SDK throws on (a null element in an array, an ``""`` element followed by another).
    The refusal names the variant the signer used (from :func:`medpay_core.diagnose`).

    >>> import medpay_core as mp
    >>> from medpay_core.sandbox.config import generate_config, institution_credentials, parse_config
    >>> raw = generate_config()
    >>> creds = institution_credentials(raw)
    >>> cfg = parse_config(raw)
    >>> inst = cfg.institutions[creds.app_id]
    >>> center = inst.codec(cfg.private_key)
    >>> his = mp.EnvelopeCodec(mp.Credentials(creds.app_id, creds.app_secret, creds.private_key,
    ...     creds.peer_public_key, key_order="case_insensitive"))
    >>> body = his.pack_json({"feeType": "01", "feedetailList": [{"cnt": 1}]})
    >>> try:
    ...     check_sdk_signature(center, inst, body, center.unpack(body))
    ... except SandboxError as e:
    ...     e.code, "case-insensitive nested key order" in e.message
    (1003, True)
    """
    secret = codec.credentials.app_secret  # the codec's: without surrounding white space
    sdk_text = sign_text(body, secret)
    # Message.sign_text ends "&key=********": compare the SDK's text masked the same way.
    shown = sdk_text[: len(sdk_text) - len(secret)] + "********" if sdk_text.endswith(secret) else sdk_text
    if msg.sign_text != shown:
        d = _diagnosis(inst, body)
        found = [_ACCEPTED_BY_MEDPAY.sub("", f) for f in (d.findings if d is not None else [])]
        how = "; ".join(found) or "a variant the library's lenient verification accepts"
        raise SandboxError(
            codes.BAD_SIGNATURE,
            f"signature: verifies only over a sign text the center's SDK does not build ({how}). The center "
            "verifies its SDK's text alone: nested keys in ordinal order (Credentials key_order='ordinal', the "
            "default), strings escaped as fastjson 1.x. Sign that text, or set lenientSignature in the sandbox "
            "config if you knowingly target a center that accepts this one")
    if not _has_empty_element(msg.data):
        return
    try:
        codec.pack(msg.data)
    except EnvelopeError as e:
        # pack refuses exactly what the SDK cannot sign (rust/src/sign_text, Unsignable);
        # any other failure to pack is not the request's to answer for.
        if "cannot sign" in str(e):
            raise SandboxError(codes.BAD_SIGNATURE, f"data.{e}") from None
