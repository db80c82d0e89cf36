"""The exceptions medpay raises, the one module that declares them. Catch
:class:`MedpayError` for all of them.

Every class declares its attributes (class-level annotations, documented below each
class) and sets them in its constructor: nothing is added to an error after it is made,
and no class is made on the fly. Arguments after the first are keyword-only. Every error
pickles with its attributes (a worker pool passes errors between processes).

Each situation has one class: a request refused by a *signed* answer is a
:class:`BusinessError`, one refused by an *unsigned* answer an :class:`UnsignedRefusal`,
and a request whose fate cannot be known (sent, then no trustworthy answer) an
:class:`OutcomeUnknown` that carries what went wrong in ``failure``. Messages give the
likely cause first, then what to do; they never hold keys, the appSecret or the
patient's data.

>>> import pickle
>>> import medpay_core as mp
>>> try:
...     mp.SM2PublicKey.from_string("not a key")
... except mp.KeyFormatError as e:
...     print(type(e).__name__)
KeyFormatError
>>> e = EnvelopeError("the envelope has no timestamp", field="timestamp")
>>> pickle.loads(pickle.dumps(e)).field
'timestamp'
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Dict, Iterable, List, Mapping, Optional, Tuple, Type, TypedDict, Union

if TYPE_CHECKING:
    from pydantic import BaseModel

    from .models import QueryOrderRequest, QueryOrderResponse

#: A ``code`` as the center sends it, normalised by the envelope reader: an ``int`` when
#: it is integral (``0``, ``"0"``), the text otherwise.
CenterCode = Union[int, str]


class FieldError(TypedDict):
    """One bad field of a :class:`ValidationError`: ``field`` is the wire name (dotted and
    indexed for nested fields, ``feedetailList[2].detItemFeeSumamt``), ``rule`` the rule
    id (``required``, ``max_length``, ...), ``message`` what is wrong.

    >>> FieldError(field="payToken", rule="required", message="is required")["rule"]
    'required'
    """

    field: str
    rule: str
    message: str


def _rebuild(cls: Type[MedpayError], args: Tuple[Any, ...], state: Dict[str, Any]) -> MedpayError:
    # Unpickling: the constructors build their text from their arguments, so calling one
    # again with the finished text would be wrong; restore the text and attributes as
    # they were instead.
    err = cls.__new__(cls)
    err.args = args
    err.__dict__.update(state)
    return err


class MedpayError(Exception):
    """Base class of every error medpay raises; ``str(error)`` is the message.

    >>> str(MedpayError("something failed"))
    'something failed'
    """

    def __init__(self, message: str) -> None:
        super().__init__(message)

    def __reduce__(self) -> Tuple[Any, Tuple[Type[MedpayError], Tuple[Any, ...], Dict[str, Any]]]:
        return _rebuild, (type(self), self.args, dict(self.__dict__))


class KeyFormatError(MedpayError, ValueError):
    """A key or credential could not be read, or is not a valid SM2 key.

    >>> isinstance(KeyFormatError("not a key"), ValueError)
    True
    """


class SignatureError(MedpayError):
    """A signature is missing, malformed, or does not verify; or an answer that had to be
    signed was not (an unsigned answer is never taken as success).

    >>> isinstance(SignatureError("signData does not verify"), MedpayError)
    True
    """


class DecryptError(MedpayError):
    """``encData`` could not be decrypted: bad hex, length, padding or plaintext. Bad
    padding almost always means the appSecret (or appId) is wrong: the data key is derived
    from them.

    Attributes:
        center_code: the ``code`` the envelope carried in plain text (centers answer a
            request they could not read with a readable refusal code), None if none.
        center_message: the envelope's plain-text ``message``, None if none.

    >>> e = DecryptError("bad padding", center_code=1004, center_message="解密失败")
    >>> e.center_code, e.center_message
    (1004, '解密失败')
    """

    center_code: Optional[CenterCode]
    center_message: Optional[str]

    def __init__(self, message: str, *, center_code: Optional[CenterCode] = None,
                 center_message: Optional[str] = None) -> None:
        super().__init__(message)
        self.center_code = center_code
        self.center_message = center_message


class EnvelopeError(MedpayError, ValueError):
    """The envelope is malformed: not JSON, not an object, duplicate keys, over the size
    or depth limit, a missing or mistyped member, the wrong version.

    Attributes:
        field: the envelope member at fault (``"encData"``, ``"timestamp"``,
            ``"version"``, ``"code"``), None when it is not one member.

    >>> EnvelopeError("the envelope has no timestamp", field="timestamp").field
    'timestamp'
    """

    field: Optional[str]

    def __init__(self, message: str, *, field: Optional[str] = None) -> None:
        super().__init__(message)
        self.field = field


class ValidationError(MedpayError, ValueError):
    """A transaction's fields break the rules of the interface spec.

    Attributes:
        errors: every problem, as :class:`FieldError` dicts (``field``, ``rule``,
            ``message``).
        model: the name of the model checked (``"FeeUploadRequest"``), None if not given.
        response: set when the client checked an answer: the center's unpacked answer
            (envelope members and ``data``). The center *accepted* the request (signed,
            code 0); it is the answer's ``data`` that does not fit the model.

    >>> e = ValidationError([{"field": "payToken", "rule": "required", "message": "is required"}],
    ...                     model="QueryOrderRequest")
    >>> str(e)
    'QueryOrderRequest: 1 invalid field(s): payToken: is required'
    >>> e.errors[0]["field"]
    'payToken'
    """

    errors: List[FieldError]
    model: Optional[str]
    response: Optional[Mapping[str, Any]]

    def __init__(self, errors: Iterable[FieldError], *, model: Optional[str] = None,
                 response: Optional[Mapping[str, Any]] = None) -> None:
        self.errors = list(errors)
        self.model = model
        self.response = response
        lines = "; ".join(f"{e['field']}: {e['message']}" for e in self.errors)
        if response is None:
            head = f"{model}: " if model else ""
            text = f"{head}{len(self.errors)} invalid field(s): {lines}"
        else:
            # The fields are not the likely cause here: the center did the transaction.
            text = (f"the center accepted the request (signed answer, code 0), but its data does not fit "
                    f"{model or 'the answer model'}: {len(self.errors)} invalid field(s): {lines}. "
                    "Do not send the request again; the answer is kept in .response for the center's support")
        super().__init__(text)


class TransportError(MedpayError):
    """The HTTP exchange failed: the connection could not be made, the request timed out,
    or the center (or a gateway before it) answered with a non-2xx status. Raised for a
    transaction that moves money or changes an order only when the request cannot have
    been carried out (it was not sent, or a 4xx refused it); otherwise that is
    :class:`OutcomeUnknown`.

    Attributes:
        status_code: the HTTP status of a non-2xx answer, None when there was no answer.
        body: the start of that answer's body (at most 300 characters), None when there
            was no answer.

    >>> TransportError("HTTP 503 from the center", status_code=503, body="busy").status_code
    503
    """

    status_code: Optional[int]
    body: Optional[str]

    def __init__(self, message: str, *, status_code: Optional[int] = None, body: Optional[str] = None) -> None:
        super().__init__(message)
        self.status_code = status_code
        self.body = body


class BusinessError(MedpayError):
    """The center refused the request in a *signed* answer: ``code`` non-zero,
    ``success`` false, or a business result that is false (``data.success`` of 6401).
    The signature makes it the center's definite answer.

    Attributes:
        code: the center's code (an ``int`` when integral), None if it sent none.
        message: the center's message, None if it sent none.
        response: the unpacked answer (envelope members and ``data``), for the log.
        transaction: the transaction code (``"6202"``), None when not given.

    >>> e = BusinessError(30001, "余额不足", transaction="6202")
    >>> e.code, e.message
    (30001, '余额不足')
    >>> str(e).startswith("6202: the center refused the request: code 30001, 余额不足.")
    True
    """

    code: Optional[CenterCode]
    message: Optional[str]
    response: Optional[Mapping[str, Any]]
    transaction: Optional[str]

    def __init__(self, code: Optional[CenterCode], message: Optional[str], *,
                 response: Optional[Mapping[str, Any]] = None, transaction: Optional[str] = None) -> None:
        self.code = code
        self.message = message
        self.response = response
        self.transaction = transaction
        head = f"{transaction}: " if transaction else ""
        said = f"code {code}" + (f", {message}" if message else "")
        super().__init__(
            f"{head}the center refused the request: {said}. The answer is signed, so this is "
            "the center's definite refusal: act on its message before sending a new request"
        )


class UnsignedRefusal(MedpayError):
    """The center refused the request in an answer it did not sign (a bare
    ``{"code": -1, "message": "appId不存在"}``): centers answer that way when they cannot
    tell who is calling, most often because the appId, the appSecret or our key is not
    the one registered. The code and message are not verified (anyone on the way could
    have written them), so this is neither a definite refusal (:class:`BusinessError`)
    nor proof the request was not processed: after a payment, refund, upload or revoke,
    query the order (6301) before sending it again.

    Attributes:
        code: the answer's code, None if it had none.
        message: the answer's message, None if it had none.
        response: the answer's members as received, for the log.
        request: the request that was sent (its model), for the query that follows.
        transaction: the transaction code (``"6202"``), None when not given.

    >>> e = UnsignedRefusal(-1, "appId不存在", transaction="6202")
    >>> e.code, isinstance(e, BusinessError), isinstance(e, OutcomeUnknown)
    (-1, False, False)
    """

    code: Optional[CenterCode]
    message: Optional[str]
    response: Optional[Mapping[str, Any]]
    request: Optional[BaseModel]
    transaction: Optional[str]

    def __init__(self, code: Optional[CenterCode], message: Optional[str], *,
                 response: Optional[Mapping[str, Any]] = None, request: Optional[BaseModel] = None,
                 transaction: Optional[str] = None) -> None:
        self.code = code
        self.message = message
        self.response = response
        self.request = request
        self.transaction = transaction
        head = f"{transaction}: " if transaction else ""
        said = f"code {code}" + (f", {message}" if message else "")
        super().__init__(
            f"{head}the center refused without signing its answer ({said}; not verified). Likely cause: "
            "a wrong appId or credentials (appSecret, our key as registered with the center); check them "
            "with the center. An unsigned answer is not proof the request was not processed: query the "
            "order (6301) before sending a payment, refund, upload or revoke again"
        )


class OutcomeUnknown(MedpayError):
    """A request that moves money or changes an order was sent, and no answer that can be
    trusted came back (a timeout or dropped connection after sending, a 5xx, an answer
    that is not signed, does not verify, or does not decrypt): it may or may not have
    been carried out. Never send it again blindly; query the order first
    (``query_order`` / ``wait_for_settlement``).

    Attributes:
        request: the request that was sent (its model), for the query.
        failure: what went wrong: the :class:`TransportError`, :class:`SignatureError`,
            :class:`DecryptError` or :class:`EnvelopeError` (None when there is no one
            failure to show).

    >>> e = OutcomeUnknown("6202: no answer", failure=TransportError("read timeout"))
    >>> type(e.failure).__name__
    'TransportError'
    """

    request: Optional[BaseModel]
    failure: Optional[MedpayError]

    def __init__(self, message: str, *, request: Optional[BaseModel] = None,
                 failure: Optional[MedpayError] = None) -> None:
        super().__init__(message)
        self.request = request
        self.failure = failure


class SettlementPending(MedpayError):
    """``wait_for_settlement`` reached its deadline while the center kept answering that
    the order is not final yet (ordStas 0-5: saved, not paid or settled so far; or a
    value this version does not know). The outcome is known, it is just not there yet:
    nothing was lost, query again later.

    Attributes:
        ord_stas: the last ``ordStas`` the center answered.
        label: its dictionary label (``已保存``).
        last_response: the last QueryOrderResponse.
        request: the 6301 request.

    >>> e = SettlementPending("6301: still in state 0", ord_stas="0", label="已保存")
    >>> e.ord_stas, isinstance(e, OutcomeUnknown)
    ('0', False)
    """

    ord_stas: Optional[str]
    label: Optional[str]
    last_response: Optional[QueryOrderResponse]
    request: Optional[QueryOrderRequest]

    def __init__(self, message: str, *, ord_stas: Optional[str] = None, label: Optional[str] = None,
                 last_response: Optional[QueryOrderResponse] = None,
                 request: Optional[QueryOrderRequest] = None) -> None:
        super().__init__(message)
        self.ord_stas = ord_stas
        self.label = label
        self.last_response = last_response
        self.request = request


class UnknownAppIdError(EnvelopeError):
    """A notice or redirect names an appId we hold no credentials for: most often the
    credentials of that institution were not configured in this HIS.

    Attributes:
        app_id: the appId the message named.
        field: always ``"appId"``.

    >>> e = UnknownAppIdError("no credentials for appId 'APP9'", app_id="APP9")
    >>> e.app_id, isinstance(e, EnvelopeError)
    ('APP9', True)
    """

    app_id: Optional[str]

    def __init__(self, message: str, *, app_id: Optional[str] = None) -> None:
        super().__init__(message, field="appId")
        self.app_id = app_id


class InvalidVoucher(MedpayError, ValueError):
    """A scanned e-voucher QR code that cannot be decoded.

    Attributes:
        reason: ``format`` (not a code this decoder reads), ``issuer`` (unknown appId),
            ``mac`` (altered), ``expired`` (ask the patient to refresh it), ``org``
            (issued for another institution) or ``fields`` (not a valid 6101 answer).

    >>> InvalidVoucher("the QR code has expired", reason="expired").reason
    'expired'
    """

    reason: str

    def __init__(self, message: str, *, reason: str) -> None:
        super().__init__(message)
        self.reason = reason


class StoreError(MedpayError):
    """A database file medpay keeps its state in cannot be used as it is.

    Attributes:
        path: the database file.
        reason: ``in_use`` (another sandbox is running on this file: one process per
            database), ``newer_schema`` (written by a newer medpay: its schema version is
            above the one this version knows; upgrade medpay, do not downgrade a database)
            or ``schema`` (a migration of an older schema failed).

    >>> StoreError("sandbox.db is in use by another sandbox", path="sandbox.db", reason="in_use").reason
    'in_use'
    """

    path: str
    reason: str

    def __init__(self, message: str, *, path: str, reason: str) -> None:
        super().__init__(message)
        self.path = path
        self.reason = reason


__all__ = [
    "CenterCode",
    "FieldError",
    "MedpayError",
    "KeyFormatError",
    "SignatureError",
    "DecryptError",
    "EnvelopeError",
    "ValidationError",
    "TransportError",
    "BusinessError",
    "UnsignedRefusal",
    "OutcomeUnknown",
    "SettlementPending",
    "UnknownAppIdError",
    "InvalidVoucher",
    "StoreError",
]
