"""Calling the payment center: 6201, 6202, 6203, 6205, 6301, 6401.

Each call validates the request (a model, or a dict of wire names read with
``Model.from_wire``), signs and encrypts it, POSTs it to
``{base_url}/org/local/api/hos/<name>`` and reads the answer in the spec's order
(2.2.1 判断逻辑): protocol first, then the business result; the transaction state
(``ordStas``, ``refStatus``) is left to the caller.

1. HTTP: a connection failure or a non-2xx status is a :class:`TransportError`.
2. Envelope: the body must be a JSON object. A signed answer is verified and decrypted
   (:class:`SignatureError`, :class:`DecryptError`, :class:`EnvelopeError`).
3. Business: ``code`` != 0 or ``success`` false is a :class:`BusinessError` keeping the
   response; so is ``data.success`` false (6401 answers that way).

**Unsigned answers.** Centers answer some errors (bad signature on *our* side, unknown
appId, gateway errors) with a bare ``{"code":..., "message":...}``: no ``signData``, no
``encData``. Such an answer can never be taken as success (anyone on the path could have
written it), so an unsigned answer with code 0 is a :class:`SignatureError`. An unsigned
answer with a non-zero code is raised as :class:`BusinessError` so the center's message
reaches the operator, with ``error.signed = False`` and a note in its text: its code and
message are *not* verified.

**Answers we cannot trust after a non-idempotent call.** For 6201, 6202, 6203, 6205 and
6401 the center got the request and may have acted on it, so an answer that fails the
protocol checks (bad signature, undecryptable, not JSON, too large) or an *unsigned*
refusal raises an exception that is an instance of both its own class and
:class:`OutcomeUnknown`: ``except OutcomeUnknown`` (query the order) catches every case
where the outcome is open; only a *signed* BusinessError is a definite refusal.

**Retries.** Only 6301 (a read) is retried, on transport failures and 5xx/429, with
exponential backoff and jitter. 6202, 6203 and 6205 move money and are never re-posted;
6201 and 6401 are not idempotent either (the spec does not say a second upload or
revoke is harmless), so they are not retried. For these, a failure *before* the
request left (connection refused, connect timeout) is a :class:`TransportError` (safe to
send again), and a failure *after* it may have been delivered (read timeout, dropped
connection, 5xx) is :class:`OutcomeUnknown`: query with 6301 or
:meth:`MedpayClient.wait_for_settlement`.

The client never logs request or response bodies, keys or the appSecret.

>>> import medpay_core as mp
>>> creds = mp.Credentials("APPID00000000000", "S" * 32, mp.SM2PrivateKey.generate(), mp.SM2PrivateKey.generate().public_key())
>>> with mp.MedpayClient("https://mpc.example/", creds) as client:
...     client.url_for("6301")
'https://mpc.example/org/local/api/hos/query_order_info'
"""

from __future__ import annotations

import json
import logging
import random
import time
from dataclasses import dataclass
from decimal import Decimal
from typing import Any, Container, Iterable, Mapping, Optional, Union

import httpx

from ._native import Credentials, EnvelopeCodec
from .errors import (
    BusinessError,
    DecryptError,
    EnvelopeError,
    MedpayError,
    OutcomeUnknown,
    SettlementPending,
    SignatureError,
    TransportError,
    ValidationError,
)

__all__ = [
    "MedpayClient",
    "AsyncMedpayClient",
    "Endpoint",
    "ENDPOINTS",
    "ORD_STAS",
    "FINAL_ORD_STAS",
    "is_final_ord_stas",
    "ord_stas_label",
]

log = logging.getLogger("medpay_core.client")

API_PREFIX = "org/local/api/hos/"


@dataclass(frozen=True)
class Endpoint:
    """One transaction the institution sends: its code, endpoint name, model names and
    whether it is safe to send twice."""

    code: str
    name: str
    request: str
    response: str
    idempotent: bool


#: The transactions the client sends (docs/protocol.md §1). Only 6301 is idempotent.
ENDPOINTS: dict[str, Endpoint] = {
    e.code: e
    for e in (
        Endpoint("6201", "uldFeeInfo", "FeeUploadRequest", "FeeUploadResponse", False),
        Endpoint("6202", "pay_order", "PayOrderRequest", "PayOrderResponse", False),
        Endpoint("6203", "refund_Order", "RefundRequest", "RefundResponse", False),
        Endpoint("6205", "medBankPay", "BankCardPayRequest", "BankCardPayResponse", False),
        Endpoint("6301", "query_order_info", "QueryOrderRequest", "QueryOrderResponse", True),
        Endpoint("6401", "revoke_order", "RevokeRequest", "RevokeResponse", False),
    )
}

#: The ordStas dictionary (字典订单状态), the one place medpay keeps it. The spec's tables
#: (8, 10, 275) refer to it but the 2.0.1 text does not print it; these are the values
#: centers use. Check them against your center's documentation. Read them as:
#: 0-5 in progress (0 is "saved": uploaded, not paid yet, not "unpaid" as a failure;
#: 3-5 are parts done on the way to 6), 6 settled, 7-13 refunded or revoked, 14-16
#: failed. Later versions add values (17 退款中): labelled here, not final.
ORD_STAS: dict[str, str] = {
    "0": "已保存",
    "1": "预结算完成",
    "2": "待支付（结算中）",
    "3": "自费完成",
    "4": "医保支付完成",
    "5": "院内结算完成",
    "6": "结算完成",
    "7": "已退款",
    "8": "已医保全部退款",
    "9": "仅自费全部退款",
    "10": "仅自费部分退款",
    "11": "医保全部退自费部分退款",
    "12": "已撤销",
    "13": "医保已撤销",
    "14": "异常",
    "15": "结算失败",
    "16": "医保结算失败自费冲正失败",
    "17": "退款中",
}

#: States that waiting will not change: settled (6), refunded or revoked (7-13), failed
#: (14-16; 14 "abnormal" needs a person, not more polling). Everything else, 0-5 and any
#: value not listed here (17 退款中 and whatever later versions add), is not final.
FINAL_ORD_STAS: frozenset[str] = frozenset({"6", "7", "8", "9", "10", "11", "12", "13", "14", "15", "16"})


def _ord_stas_key(ord_stas: Any) -> Optional[str]:
    # Centers send the code as a string, some as a number, now and then padded.
    return None if ord_stas is None else str(ord_stas).strip()


def is_final_ord_stas(ord_stas: Any, final_states: Container[str] = FINAL_ORD_STAS) -> bool:
    """Whether an ``ordStas`` value is final (see :data:`FINAL_ORD_STAS`); an unknown
    value is not.

    >>> is_final_ord_stas("6"), is_final_ord_stas("0"), is_final_ord_stas("17")
    (True, False, False)
    """
    return _ord_stas_key(ord_stas) in final_states


def ord_stas_label(ord_stas: Any) -> str:
    """The dictionary label of an ``ordStas`` value, ``未知状态`` for one not listed.

    >>> ord_stas_label("0"), ord_stas_label(6), ord_stas_label("99")
    ('已保存', '结算完成', '未知状态')
    """
    return ORD_STAS.get(_ord_stas_key(ord_stas) or "", "未知状态")


# httpx errors raised before any byte of the request was written: safe to send again.
_NOT_SENT = (httpx.ConnectError, httpx.ConnectTimeout, httpx.PoolTimeout, httpx.UnsupportedProtocol)
_RETRY_STATUS = frozenset({429, 500, 502, 503, 504})
_SNIPPET = 300


def _models():
    # Imported late so the client module loads (and its errors can be caught) even
    # where the models package is being changed.
    from . import models

    return models


def _coerce(model_cls: type, value: Any) -> Any:
    if isinstance(value, model_cls):
        return value
    if isinstance(value, Mapping):
        return model_cls.from_wire(dict(value))
    raise TypeError(f"expected {model_cls.__name__} or a dict of wire names, not {type(value).__name__}")


def _codec(credentials: Union[Credentials, EnvelopeCodec]) -> EnvelopeCodec:
    if isinstance(credentials, EnvelopeCodec):
        return credentials
    if isinstance(credentials, Credentials):
        return EnvelopeCodec(credentials)
    raise TypeError(f"expected Credentials or EnvelopeCodec, not {type(credentials).__name__}")


def _code_value(code: Any) -> Any:
    """``code`` as an int when it is one (``0`` or ``"0"``), else as sent."""
    if isinstance(code, bool):
        return code
    if isinstance(code, int):
        return code
    if isinstance(code, str):
        try:
            return int(code.strip())
        except ValueError:
            return code
    if isinstance(code, Decimal) and code == code.to_integral_value():
        return int(code)
    return code


def _success_value(v: Any) -> Optional[bool]:
    if v is None:
        return None
    if isinstance(v, bool):
        return v
    s = str(v).strip().lower()
    return True if s == "true" else False if s == "false" else None


def _snippet(body: bytes) -> str:
    text = body[:_SNIPPET].decode("utf-8", "replace")
    return text + ("…" if len(body) > _SNIPPET else "")


_ALSO_UNKNOWN: dict[type, type] = {}


def _also_outcome_unknown(err: MedpayError, request: Any) -> MedpayError:
    """``err`` re-made as an instance of both its class and OutcomeUnknown.

    For a transaction that is not idempotent, an answer we cannot trust (bad signature,
    undecryptable, not JSON, unsigned refusal) leaves the outcome unknown: the center
    got the request and may have acted on it. Catching either class works:
    ``except OutcomeUnknown`` (query the order) or ``except SignatureError``.
    """
    base = type(err)
    cls = _ALSO_UNKNOWN.get(base)
    if cls is None:
        cls = type(base.__name__, (base, OutcomeUnknown), {"__module__": base.__module__, "__doc__": base.__doc__})
        _ALSO_UNKNOWN[base] = cls
    new = cls.__new__(cls, *err.args)
    new.__dict__.update(err.__dict__)
    new.args = (f"{err} — the request was delivered, so its outcome is unknown: query the order (6301)",)
    new.request = request
    return new


class _Core:
    """What the sync and async clients share: everything except the I/O."""

    def __init__(
        self,
        base_url: str,
        credentials: Union[Credentials, EnvelopeCodec],
        *,
        retries: int,
        backoff: float,
        max_backoff: float,
        max_response_bytes: int,
    ):
        if not base_url.startswith(("http://", "https://")):
            raise ValueError("base_url is http(s)://host[:port][/prefix]")
        self.base_url = base_url if base_url.endswith("/") else base_url + "/"
        self.codec = _codec(credentials)
        if self.codec.credentials.private_key is None or self.codec.credentials.peer_public_key is None:
            raise ValueError("the client needs credentials with our private key and the center's public key")
        if retries < 0:
            raise ValueError("retries >= 0")
        self.retries = retries
        self.backoff = backoff
        self.max_backoff = max_backoff
        self.max_response_bytes = max_response_bytes

    def url_for(self, code: str) -> str:
        return self.base_url + API_PREFIX + ENDPOINTS[code].name

    def prepare(self, code: str, request: Any) -> Any:
        models = _models()
        return _coerce(getattr(models, ENDPOINTS[code].request), request)

    def pack(self, request_model: Any) -> bytes:
        # Packed per attempt: every attempt gets a fresh timestamp and signature.
        return self.codec.pack_json(request_model.to_wire())

    def delay(self, attempt: int) -> float:
        # Exponential backoff with "equal jitter": half fixed, half random, so that
        # clients that failed together do not retry together.
        d = min(self.max_backoff, self.backoff * (2**attempt))
        return d / 2 + random.uniform(0, d / 2)

    # -- reading the answer ---------------------------------------------------------
    def interpret(self, code: str, status: int, body: bytes) -> Any:
        ep = ENDPOINTS[code]
        if not 200 <= status < 300:
            err = TransportError(f"{ep.code} {ep.name}: HTTP {status} from the center")
            err.status_code = status  # type: ignore[attr-defined]
            err.body = _snippet(body)  # type: ignore[attr-defined]
            raise err
        try:
            doc = json.loads(body, parse_float=Decimal)
        except (ValueError, UnicodeDecodeError):
            raise EnvelopeError(f"{ep.code}: the response is not JSON: {_snippet(body)!r}") from None
        if not isinstance(doc, dict):
            raise EnvelopeError(f"{ep.code}: the response is not a JSON object")
        if not doc.get("signData"):
            self._unsigned(ep, status, doc)  # always raises
        # Signature and decryption first: nothing in an unverified body is believed.
        msg = self.codec.unpack(body)
        fields = dict(msg.fields)
        response = {**fields, "data": msg.data}
        rcode = msg.code
        if rcode is None:
            raise EnvelopeError(f"{ep.code}: the response has no code")
        if rcode != 0 or msg.success is False:
            err = BusinessError(rcode, msg.message, response)
            err.signed = True  # type: ignore[attr-defined]
            raise err
        data = msg.data
        if data is None:
            data = {}
        if not isinstance(data, dict):
            raise EnvelopeError(f"{ep.code}: data is {type(data).__name__}, not an object")
        # 6401's data is {"success": bool}: a business result.
        if _success_value(data.get("success")) is False:
            err = BusinessError(rcode, data.get("message") or msg.message or "data.success is false", response)
            err.signed = True  # type: ignore[attr-defined]
            raise err
        models = _models()
        try:
            return getattr(models, ep.response).from_wire(data)
        except ValidationError as e:
            # The center accepted the request (code 0, signed): this is not a refusal.
            e.response = response  # type: ignore[attr-defined]
            raise

    def _unsigned(self, ep: Endpoint, status: int, doc: dict) -> None:
        rcode = _code_value(doc.get("code"))
        success = _success_value(doc.get("success"))
        if rcode is None or (rcode == 0 and success is not False):
            raise SignatureError(f"{ep.code}: the response is not signed; an unsigned answer is never taken as success")
        message = doc.get("message", doc.get("msg"))
        err = BusinessError(rcode, message if message is None else str(message), doc)
        err.signed = False  # type: ignore[attr-defined]
        err.args = (f"{err} (unsigned response: code and message not verified)",)
        raise err

    # -- failures -------------------------------------------------------------------
    def transport_failure(self, code: str, exc: BaseException) -> MedpayError:
        """The error for an httpx exception, and whether a retry may follow."""
        ep = ENDPOINTS[code]
        if ep.idempotent or isinstance(exc, _NOT_SENT):
            err: MedpayError = TransportError(f"{ep.code} {ep.name}: {type(exc).__name__}: {exc}")
            return err
        return self.unknown(code, f"{type(exc).__name__} after the request was sent")

    def unknown(self, code: str, why: str, request: Any = None) -> OutcomeUnknown:
        ep = ENDPOINTS[code]
        return OutcomeUnknown(
            f"{ep.code} {ep.name}: {why}; it may or may not have been processed. "
            "Do not send it again: query the order (6301).",
            request=request,
        )

    def protocol_failure(self, code: str, err: MedpayError, request: Any) -> MedpayError:
        """A response we could not accept. For a non-idempotent transaction anything but a
        *signed* refusal also means the outcome is unknown."""
        if ENDPOINTS[code].idempotent:
            return err
        if isinstance(err, BusinessError) and getattr(err, "signed", False):
            return err
        return _also_outcome_unknown(err, request)

    def retryable(self, code: str, err: BaseException) -> bool:
        if not ENDPOINTS[code].idempotent or not isinstance(err, TransportError):
            return False
        status = getattr(err, "status_code", None)
        return status is None or status in _RETRY_STATUS

    def after_status_error(self, code: str, err: TransportError, request: Any) -> MedpayError:
        """A non-2xx answer: for a non-idempotent transaction a 5xx means the center (or
        a gateway before it) may have processed the request."""
        status = getattr(err, "status_code", 0)
        if not ENDPOINTS[code].idempotent and status >= 500:
            u = self.unknown(code, f"HTTP {status}", request)
            u.__cause__ = err
            return u
        return err


def _settlement_args(deadline: float, interval: float, final_states: Iterable[str]) -> frozenset[str]:
    """Check wait_for_settlement's arguments; the final states as a set of codes."""
    if deadline <= 0 or interval <= 0:
        raise ValueError("deadline and interval are positive seconds")
    return frozenset(k for k in map(_ord_stas_key, final_states) if k)


class MedpayClient:
    """A synchronous client of the payment center.

    ``base_url`` is ``http(s)://host:port`` (with or without a trailing ``/`` or a path
    prefix); ``credentials`` are ours (our private key, the center's public key), or an
    EnvelopeCodec. ``timeout`` is seconds (or an ``httpx.Timeout``); ``transport`` an
    ``httpx.BaseTransport`` (proxies, tests); ``retries`` how many times 6301 is sent
    again after a transport failure.

    >>> import medpay_core as mp
    >>> creds = mp.Credentials("APPID00000000000", "S" * 32, mp.SM2PrivateKey.generate(), mp.SM2PrivateKey.generate().public_key())
    >>> client = mp.MedpayClient("https://mpc.example", creds, timeout=10)
    >>> # order = client.query_order({"payOrdId": ..., "orgCodg": ..., ...})
    >>> client.close()
    """

    def __init__(
        self,
        base_url: str,
        credentials: Union[Credentials, EnvelopeCodec],
        *,
        timeout: Union[float, httpx.Timeout] = 30.0,
        transport: Optional[httpx.BaseTransport] = None,
        retries: int = 2,
        backoff: float = 0.5,
        max_backoff: float = 8.0,
        verify: Any = True,
        max_response_bytes: int = 8 * 1024 * 1024,
    ):
        self._core = _Core(
            base_url, credentials, retries=retries, backoff=backoff, max_backoff=max_backoff,
            max_response_bytes=max_response_bytes,
        )
        self._http = httpx.Client(
            timeout=timeout if isinstance(timeout, httpx.Timeout) else httpx.Timeout(timeout),
            transport=transport,
            verify=verify,
            headers={"Content-Type": "application/json;charset=UTF-8", "Accept": "application/json"},
            follow_redirects=False,
        )

    @property
    def codec(self) -> EnvelopeCodec:
        return self._core.codec

    def url_for(self, code: str) -> str:
        """The endpoint URL of a transaction code."""
        return self._core.url_for(code)

    # -- context manager ---------------------------------------------------------------
    def close(self) -> None:
        self._http.close()

    def __enter__(self) -> "MedpayClient":
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()

    def __repr__(self) -> str:
        return f"<MedpayClient {self._core.base_url} app_id={self.codec.credentials.app_id!r}>"

    # -- the transactions --------------------------------------------------------------
    def upload_fees(self, request: Any) -> Any:
        """6201: upload the fee details; returns FeeUploadResponse (payOrdId, payToken,
        cashierUrl). Not retried.

        >>> # resp = client.upload_fees(FeeUploadRequest(...)); resp.pay_ord_id
        """
        return self.call("6201", request)

    def pay_order(self, request: Any) -> Any:
        """6202: place the payment. Never re-posted; OutcomeUnknown when no answer came.

        >>> # resp = client.pay_order({"payAuthNo": ..., "orgBizSer": new_org_biz_ser(), ...})
        """
        return self.call("6202", request)

    def refund(self, request: Any) -> Any:
        """6203: refund. Never re-posted; check ``ref_status`` (SUCC/FAIL/EXP).

        >>> # resp = client.refund({"payOrdId": ..., "appRefdSn": new_app_refd_sn(), ...})
        """
        return self.call("6203", request)

    def bank_card_pay(self, request: Any) -> Any:
        """6205: bank-card mixed payment; returns medBankPayUrl. Never re-posted.

        >>> # url = client.bank_card_pay({...}).med_bank_pay_url
        """
        return self.call("6205", request)

    def query_order(self, request: Any) -> Any:
        """6301: the order's settlement state; retried on transport failures.

        >>> # client.query_order({...}).ord_stas
        """
        return self.call("6301", request)

    def revoke_upload(self, request: Any) -> Any:
        """6401: revoke an uploaded, unsettled order. Not retried (the spec does not say
        a second revoke is harmless).

        >>> # client.revoke_upload({"payOrdId": ..., ...})
        """
        return self.call("6401", request)

    def call(self, code: str, request: Any) -> Any:
        """Send any of the six transactions by code (``"6201"`` ...); returns its response model.

        >>> # client.call("6301", query)
        """
        core = self._core
        if code not in ENDPOINTS:
            raise ValueError(f"unknown transaction {code!r}; one of {sorted(ENDPOINTS)}")
        model = core.prepare(code, request)
        url = core.url_for(code)
        attempt = 0
        while True:
            try:
                return self._once(code, url, model)
            except TransportError as e:
                if attempt < core.retries and core.retryable(code, e):
                    d = core.delay(attempt)
                    log.warning("%s: %s; retry %d/%d in %.2fs", code, type(e).__name__, attempt + 1, core.retries, d)
                    attempt += 1
                    time.sleep(d)
                    continue
                final = core.after_status_error(code, e, model)
                if final is e:
                    raise
                raise final from e

    def _once(self, code: str, url: str, model: Any) -> Any:
        core = self._core
        body = core.pack(model)
        log.debug("POST %s (%s)", url, code)
        try:
            req = self._http.build_request("POST", url, content=body)
            resp = self._http.send(req, stream=True)
            try:
                chunks, size = [], 0
                for chunk in resp.iter_bytes():
                    size += len(chunk)
                    if size > core.max_response_bytes:
                        break  # refused below, after the connection is closed
                    chunks.append(chunk)
            finally:
                resp.close()
        except httpx.HTTPError as e:
            err = core.transport_failure(code, e)
            if isinstance(err, OutcomeUnknown):
                err.request = model
            raise err from e
        log.debug("%s answered HTTP %d", code, resp.status_code)
        try:
            if size > core.max_response_bytes:
                raise EnvelopeError(f"{code}: response larger than {core.max_response_bytes} bytes")
            return core.interpret(code, resp.status_code, b"".join(chunks))
        except (SignatureError, DecryptError, EnvelopeError, BusinessError) as e:
            final = core.protocol_failure(code, e, model)
            if final is e:
                raise
            raise final from e

    # -- waiting for the outcome ----------------------------------------------------------
    def wait_for_settlement(
        self,
        query: Any,
        *,
        deadline: float = 60.0,
        interval: float = 2.0,
        final_states: Iterable[str] = FINAL_ORD_STAS,
    ) -> Any:
        """Poll 6301 until ``ordStas`` is final (:data:`FINAL_ORD_STAS`) or ``deadline``
        seconds have passed; returns the final QueryOrderResponse.

        ``query`` is the 6301 request (QueryOrderRequest or dict: payOrdId, orgCodg,
        payToken, idNo, userName, idType): the center needs all of them, the payOrdId
        alone is not enough. Transport failures while polling are tolerated until the
        deadline; business and signature errors are raised at once. At the deadline:

        - the center answered, the order is not final (0-5: the patient has not paid
          or it is not settled yet; or a value this version does not know):
          :class:`SettlementPending` with ``ord_stas``, ``label`` and ``last_response``;
          its message says "still in state N (label)";
        - no answer came at all: :class:`OutcomeUnknown` (``last_response`` None).

        >>> # try:
        >>> #     final = client.wait_for_settlement(query, deadline=120, interval=3)
        >>> # except SettlementPending as e:
        >>> #     e.ord_stas, e.label          # ('0', '已保存'): not paid yet
        """
        final = _settlement_args(deadline, interval, final_states)
        model = self._core.prepare("6301", query)
        end = time.monotonic() + deadline
        last, last_error = None, None
        while True:
            try:
                last = self.call("6301", model)
                if is_final_ord_stas(last.ord_stas, final):
                    return last
            except TransportError as e:
                last_error = e
            left = end - time.monotonic()
            if left <= 0:
                raise _settlement_timeout(deadline, model, last, last_error)
            time.sleep(min(interval, left))


def _settlement_timeout(deadline: float, model: Any, last: Any, last_error: Optional[BaseException]) -> MedpayError:
    if last is None:
        # Not one answer: we cannot say what the order is in.
        err: MedpayError = OutcomeUnknown(f"6301: no answer from the center within {deadline:g}s; "
                                          "the order's state is unknown: query it again", request=model)
        err.last_response = None  # type: ignore[attr-defined]
        err.__cause__ = last_error
        return err
    # The center answered: the state is known, it is just not final (for 0-5 the patient
    # has not paid or the settlement is not done), so this is not an unknown outcome.
    code, label = _ord_stas_key(last.ord_stas), ord_stas_label(last.ord_stas)
    return SettlementPending(
        f"6301: after {deadline:g}s the order is still in state {code} ({label}), not a final state; "
        "query it again later",
        ord_stas=code, label=label, last_response=last, request=model,
    )


class AsyncMedpayClient:
    """The asyncio (anyio) twin of :class:`MedpayClient`: same arguments, same methods,
    as coroutines; ``transport`` is an ``httpx.AsyncBaseTransport``.

    >>> import asyncio, medpay_core as mp
    >>> creds = mp.Credentials("APPID00000000000", "S" * 32, mp.SM2PrivateKey.generate(), mp.SM2PrivateKey.generate().public_key())
    >>> async def main():
    ...     async with mp.AsyncMedpayClient("https://mpc.example", creds) as client:
    ...         return client.url_for("6202")
    >>> asyncio.run(main())
    'https://mpc.example/org/local/api/hos/pay_order'
    """

    def __init__(
        self,
        base_url: str,
        credentials: Union[Credentials, EnvelopeCodec],
        *,
        timeout: Union[float, httpx.Timeout] = 30.0,
        transport: Optional[httpx.AsyncBaseTransport] = None,
        retries: int = 2,
        backoff: float = 0.5,
        max_backoff: float = 8.0,
        verify: Any = True,
        max_response_bytes: int = 8 * 1024 * 1024,
    ):
        self._core = _Core(
            base_url, credentials, retries=retries, backoff=backoff, max_backoff=max_backoff,
            max_response_bytes=max_response_bytes,
        )
        self._http = httpx.AsyncClient(
            timeout=timeout if isinstance(timeout, httpx.Timeout) else httpx.Timeout(timeout),
            transport=transport,
            verify=verify,
            headers={"Content-Type": "application/json;charset=UTF-8", "Accept": "application/json"},
            follow_redirects=False,
        )

    @property
    def codec(self) -> EnvelopeCodec:
        return self._core.codec

    def url_for(self, code: str) -> str:
        """The endpoint URL of a transaction code."""
        return self._core.url_for(code)

    async def aclose(self) -> None:
        await self._http.aclose()

    async def __aenter__(self) -> "AsyncMedpayClient":
        return self

    async def __aexit__(self, *exc: Any) -> None:
        await self.aclose()

    def __repr__(self) -> str:
        return f"<AsyncMedpayClient {self._core.base_url} app_id={self.codec.credentials.app_id!r}>"

    async def upload_fees(self, request: Any) -> Any:
        """6201 (see :meth:`MedpayClient.upload_fees`).

        >>> # resp = await client.upload_fees(upload)
        """
        return await self.call("6201", request)

    async def pay_order(self, request: Any) -> Any:
        """6202 (see :meth:`MedpayClient.pay_order`).

        >>> # resp = await client.pay_order(order)
        """
        return await self.call("6202", request)

    async def refund(self, request: Any) -> Any:
        """6203 (see :meth:`MedpayClient.refund`).

        >>> # resp = await client.refund(refund)
        """
        return await self.call("6203", request)

    async def bank_card_pay(self, request: Any) -> Any:
        """6205 (see :meth:`MedpayClient.bank_card_pay`).

        >>> # resp = await client.bank_card_pay(order)
        """
        return await self.call("6205", request)

    async def query_order(self, request: Any) -> Any:
        """6301 (see :meth:`MedpayClient.query_order`).

        >>> # resp = await client.query_order(query)
        """
        return await self.call("6301", request)

    async def revoke_upload(self, request: Any) -> Any:
        """6401 (see :meth:`MedpayClient.revoke_upload`).

        >>> # resp = await client.revoke_upload(revoke)
        """
        return await self.call("6401", request)

    async def call(self, code: str, request: Any) -> Any:
        """Send a transaction by code (see :meth:`MedpayClient.call`).

        >>> # resp = await client.call("6301", query)
        """
        import anyio

        core = self._core
        if code not in ENDPOINTS:
            raise ValueError(f"unknown transaction {code!r}; one of {sorted(ENDPOINTS)}")
        model = core.prepare(code, request)
        url = core.url_for(code)
        attempt = 0
        while True:
            try:
                return await self._once(code, url, model)
            except TransportError as e:
                if attempt < core.retries and core.retryable(code, e):
                    d = core.delay(attempt)
                    log.warning("%s: %s; retry %d/%d in %.2fs", code, type(e).__name__, attempt + 1, core.retries, d)
                    attempt += 1
                    await anyio.sleep(d)
                    continue
                final = core.after_status_error(code, e, model)
                if final is e:
                    raise
                raise final from e

    async def _once(self, code: str, url: str, model: Any) -> Any:
        core = self._core
        body = core.pack(model)
        log.debug("POST %s (%s)", url, code)
        try:
            req = self._http.build_request("POST", url, content=body)
            resp = await self._http.send(req, stream=True)
            try:
                chunks, size = [], 0
                async for chunk in resp.aiter_bytes():
                    size += len(chunk)
                    if size > core.max_response_bytes:
                        break  # refused below, after the connection is closed
                    chunks.append(chunk)
            finally:
                await resp.aclose()
        except httpx.HTTPError as e:
            err = core.transport_failure(code, e)
            if isinstance(err, OutcomeUnknown):
                err.request = model
            raise err from e
        log.debug("%s answered HTTP %d", code, resp.status_code)
        try:
            if size > core.max_response_bytes:
                raise EnvelopeError(f"{code}: response larger than {core.max_response_bytes} bytes")
            return core.interpret(code, resp.status_code, b"".join(chunks))
        except (SignatureError, DecryptError, EnvelopeError, BusinessError) as e:
            final = core.protocol_failure(code, e, model)
            if final is e:
                raise
            raise final from e

    async def wait_for_settlement(
        self,
        query: Any,
        *,
        deadline: float = 60.0,
        interval: float = 2.0,
        final_states: Iterable[str] = FINAL_ORD_STAS,
    ) -> Any:
        """Poll 6301 until the order is final (see :meth:`MedpayClient.wait_for_settlement`).

        >>> # final = await client.wait_for_settlement(query, deadline=120)
        """
        import anyio

        final = _settlement_args(deadline, interval, final_states)
        model = self._core.prepare("6301", query)
        end = time.monotonic() + deadline
        last, last_error = None, None
        while True:
            try:
                last = await self.call("6301", model)
                if is_final_ord_stas(last.ord_stas, final):
                    return last
            except TransportError as e:
                last_error = e
            left = end - time.monotonic()
            if left <= 0:
                raise _settlement_timeout(deadline, model, last, last_error)
            await anyio.sleep(min(interval, left))
