"""Calling the payment center: 6201, 6202, 6203, 6205, 6301, 6401.

Each call validates the request (its model, or a mapping of wire names, through
:func:`medpay_core.models.validate`: a typo'd field is refused before anything is sent),
signs and encrypts it, POSTs it to ``{base_url}/org/local/api/hos/<path>`` (the path, the
models and whether a transaction is safe to send twice come from
:data:`medpay_core.models.TRANSACTIONS`) and reads the answer in the spec's order (2.2.1
判断逻辑). docs/en/client.md has the whole flow and every error; in short:

1. HTTP (through a :mod:`medpay_core.transport`): no answer, or a non-2xx status, is a
   :class:`TransportError`.
2. Envelope: the body is read once, by the codec (``unpack(body, require_signature=False)``),
   whose ``code``, ``success`` and ``message`` are the protocol fields; a body that is not an
   envelope, does not decrypt or does not verify is an :class:`EnvelopeError`,
   :class:`DecryptError` or :class:`SignatureError`.
3. An unsigned answer is never success: with code 0 it is a :class:`SignatureError`; a
   refusal is an :class:`UnsignedRefusal` (not verified, not proof the request was not
   processed).
4. A signed answer with ``code`` != 0 or ``success`` false is a :class:`BusinessError`; so is
   a business result that is false (6401's ``data.success``).
5. ``data`` is validated as the answer model; the transaction state (``ordStas``,
   ``refStatus``) is left to the caller.

Only 6301 (``retry_safe`` in TRANSACTIONS) is retried. For the others a failure after the
request may have reached the center (a timeout, a dropped connection, a 5xx, an answer that
cannot be trusted) is an :class:`OutcomeUnknown` whose ``failure`` says what went wrong:
query the order, never re-post blindly.

The sync and async clients share one flow (:class:`_Flows`): generators that yield "POST
this" and "sleep this long" steps, driven by a thin sync driver (a :class:`Transport`,
``time.sleep``) and a thin async one (an :class:`AsyncTransport`, ``anyio.sleep``). The
attempt loop, the retry decision, the reading of answers and the wait-for-settlement loop
exist once.

The client never logs request or response bodies, keys or the appSecret. It logs one INFO
line per call on the ``medpay.client`` logger (code, path, outcome, milliseconds); every
medpay logger is under ``medpay``. For archiving (报文留存), ``audit=`` is called with an
:class:`Exchange` for every attempt: the exact signed request bytes and the answer bytes.

>>> import medpay_core as mp
>>> creds = mp.Credentials("APPID00000000000", "S" * 32, mp.SM2PrivateKey.generate(), mp.SM2PrivateKey.generate().public_key())
>>> with mp.MedpayClient("https://mpc.example/", creds) as client:
...     client.url_for("6301")
'https://mpc.example/org/local/api/hos/query_order_info'
"""

from __future__ import annotations

import copy
import logging
import random
import ssl
import time
from dataclasses import dataclass
from types import TracebackType
from typing import (Any, Callable, Container, Generator, Iterable, List, Literal, Mapping, NamedTuple, Optional,
                    Type, TypeVar, Union, overload)

import anyio

from ._native import EnvelopeCodec
from .credentials import CredentialsLike, as_codec
from .errors import (
    BusinessError,
    DecryptError,
    EnvelopeError,
    OutcomeUnknown,
    SettlementPending,
    SignatureError,
    TransportError,
    UnsignedRefusal,
    ValidationError,
)
from .models import (
    TRANSACTIONS,
    BankCardPayRequest,
    BankCardPayResponse,
    FeeUploadRequest,
    FeeUploadResponse,
    PayOrderRequest,
    PayOrderResponse,
    QueryOrderRequest,
    QueryOrderResponse,
    RefundRequest,
    RefundResponse,
    RevokeRequest,
    RevokeResponse,
    WireModel,
    validate,
)
from .transport import (Answer, AsyncTransport, DefaultAsyncTransport, Failed, HttpTransport, Reply, Transport,
                        timeout_seconds)

__all__ = [
    "MedpayClient",
    "Exchange",
    "AsyncMedpayClient",
    "TransactionCode",
    "ORD_STAS",
    "FINAL_ORD_STAS",
    "is_final_ord_stas",
    "ord_stas_label",
]

log = logging.getLogger("medpay.client")

API_PREFIX = "org/local/api/hos/"

#: The codes the client sends (those of TRANSACTIONS with a client method).
TransactionCode = Literal["6201", "6202", "6203", "6205", "6301", "6401"]

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


def _ord_stas_key(ord_stas: Union[str, int, None]) -> Optional[str]:
    # Centers send the code as a string, some as a number, now and then padded.
    return None if ord_stas is None else str(ord_stas).strip()


def is_final_ord_stas(ord_stas: Union[str, int, None], final_states: Container[str] = FINAL_ORD_STAS) -> bool:
    """Whether an ``ordStas`` value is final (see :data:`FINAL_ORD_STAS`); an unknown
    value is not.

    >>> is_final_ord_stas("6"), is_final_ord_stas("0"), is_final_ord_stas("17")
    (True, False, False)
    """
    return _ord_stas_key(ord_stas) in final_states


def ord_stas_label(ord_stas: Union[str, int, None]) -> str:
    """The dictionary label of an ``ordStas`` value, ``未知状态`` for one not listed.

    >>> ord_stas_label("0"), ord_stas_label(6), ord_stas_label("99")
    ('已保存', '结算完成', '未知状态')
    """
    return ORD_STAS.get(_ord_stas_key(ord_stas) or "", "未知状态")


# Statuses worth another try of a retry-safe transaction: the center or a gateway was
# busy or failed; any other status will not change by asking again.
_RETRY_STATUS = frozenset({429, 500, 502, 503, 504})
_SNIPPET = 300
_HEADERS = {"Content-Type": "application/json;charset=UTF-8", "Accept": "application/json",
            "User-Agent": "medpay-core"}

M = TypeVar("M", bound=WireModel)
R = TypeVar("R")

_Request = Union[WireModel, Mapping[str, Any]]


# -- the steps a flow asks its driver for -------------------------------------------------


class _Post(NamedTuple):
    """POST ``body`` to ``url`` with ``headers``; read at most ``max_bytes`` of the answer."""

    url: str
    body: bytes
    max_bytes: int
    headers: Mapping[str, str]


class _Sleep(NamedTuple):
    seconds: float


_Step = Union[_Post, _Sleep]
# A flow: yields steps, is sent the transport's reply to each _Post (a _Sleep gets none),
# returns R.
_Flow = Generator[_Step, Reply, R]


@dataclass(frozen=True)
class _Failure:
    """A failed exchange, as the attempt loop weighs it."""

    text: str  # what happened, and its likely cause
    what: str  # for the log: "ReadTimeout", "HTTP 503"
    retryable: bool  # worth another try, for a transaction that is retry-safe
    delivered: bool  # the center may have acted on it
    advice: str = ""  # what to do, when it was not delivered
    status: Optional[int] = None
    body: Optional[str] = None
    cause: Optional[BaseException] = None

    def error(self, advice: str) -> TransportError:
        err = TransportError(f"{self.text} {advice}".rstrip(), status_code=self.status, body=self.body)
        err.__cause__ = self.cause  # as `raise err from cause` does, also for an error carried as a failure
        return err


@dataclass(frozen=True)
class Exchange:
    """One attempt of a call as it was on the wire, for the ``audit`` hook (报文留存):
    ``request`` the exact signed bytes sent, ``response`` the answer's bytes (``None``
    when no complete answer came: ``error`` says why), ``started`` the Unix time it was
    sent, ``duration`` seconds until the answer. Bodies hold personal data: archive them
    as such.

    >>> archive = []
    >>> # client = mp.MedpayClient(url, creds, audit=archive.append)
    >>> # client.query_order(query); archive[0].code, archive[0].status  -> ('6301', 200)
    """

    code: str
    url: str
    request: bytes
    status: Optional[int]
    response: Optional[bytes]
    error: Optional[str]
    started: float
    duration: float

    def __repr__(self) -> str:  # the bodies stay out of reprs and logs
        return (f"Exchange(code={self.code!r}, status={self.status!r}, request=<{len(self.request)} bytes>, "
                f"response={'None' if self.response is None else f'<{len(self.response)} bytes>'}, "
                f"error={self.error!r}, duration={self.duration:.3f})")


#: The audit hook: called with every exchange (the response hook, for tracing too).
AuditHook = Callable[[Exchange], None]

#: The request hook: ``on_request(code, headers)`` before each attempt is sent; headers it
#: puts in the dict are sent with that attempt (a trace id, ``traceparent``).
RequestHook = Callable[[str, dict[str, str]], None]


def _keep(flow: _Flow[R], out: List[R]) -> Generator[_Step, Reply, None]:
    # The drivers run this wrapper so the flow's result comes back typed (a StopIteration
    # value is Any).
    out.append((yield from flow))


def _snippet(body: bytes) -> str:
    text = body[:_SNIPPET].decode("utf-8", "replace")
    return text + ("…" if len(body) > _SNIPPET else "")


class _Sent(NamedTuple):
    """A transaction the client sends, as read from TRANSACTIONS (its path and answer
    model known to be there)."""

    code: str
    path: str
    request: Type[WireModel]
    response: Type[WireModel]
    retry_safe: bool


def _transaction(code: str) -> _Sent:
    t = TRANSACTIONS.get(code)
    if t is None or t.method is None or t.path is None or t.response is None:
        sent = sorted(c for c, x in TRANSACTIONS.items() if x.method)
        raise ValueError(f"unknown transaction {code!r}: the client sends {', '.join(sent)}")
    return _Sent(t.code, t.path, t.request, t.response, t.retry_safe)


def _where(t: _Sent) -> str:
    return f"{t.code} {t.path}"


def _settlement_args(deadline: float, interval: float, final_states: Iterable[str]) -> frozenset[str]:
    """Check wait_for_settlement's arguments; the final states as a set of codes."""
    if deadline <= 0 or interval <= 0:
        raise ValueError("deadline and interval are positive seconds")
    return frozenset(k for k in map(_ord_stas_key, final_states) if k)


class _Flows:
    """What the sync and async clients share: everything except the I/O."""

    def __init__(
        self,
        base_url: str,
        credentials: CredentialsLike,
        *,
        retries: int,
        backoff: float,
        max_backoff: float,
        max_response_bytes: int,
        audit: Optional[AuditHook] = None,
        on_request: Optional[RequestHook] = None,
    ) -> None:
        if audit is not None and not callable(audit):
            raise TypeError("audit is a callable taking an Exchange")
        if on_request is not None and not callable(on_request):
            raise TypeError("on_request is a callable taking (code, headers)")
        self.audit = audit
        self.on_request = on_request
        if not base_url.startswith(("http://", "https://")):
            raise ValueError("base_url is http(s)://host[:port][/prefix]")
        self.base_url = base_url if base_url.endswith("/") else base_url + "/"
        self.codec = self._codec_of(credentials)
        if retries < 0:
            raise ValueError("retries >= 0")
        self.retries = retries
        self.backoff = backoff
        self.max_backoff = max_backoff
        self.max_response_bytes = max_response_bytes

    @staticmethod
    def _codec_of(credentials: CredentialsLike) -> EnvelopeCodec:
        codec = as_codec(credentials)
        if codec.credentials.private_key is None or codec.credentials.peer_public_key is None:
            raise ValueError("the client needs credentials with our private key and the center's public key")
        return codec

    def using(self, credentials: CredentialsLike) -> _Flows:
        """The same flows for another institution's credentials."""
        other = copy.copy(self)
        other.codec = self._codec_of(credentials)
        return other

    def url_for(self, code: str) -> str:
        return self.base_url + API_PREFIX + _transaction(code).path

    def delay(self, attempt: int) -> float:
        # Exponential backoff with "equal jitter": half fixed, half random, so that
        # clients that failed together do not retry together.
        d = min(self.max_backoff, self.backoff * 2.0**attempt)
        return d / 2 + random.uniform(0, d / 2)

    # -- one transaction ----------------------------------------------------------------
    def call(self, code: str, request: _Request, answer: Type[M]) -> _Flow[M]:
        """Send transaction ``code`` until it has an answer or may not be sent again;
        return the answer as ``answer``. Logs one INFO line: code, path, outcome, time."""
        t = _transaction(code)
        start = time.perf_counter()
        try:
            result = yield from self._call(t, request, answer)
        except BaseException as e:
            log.info("%s %s: %s in %.1f ms", t.code, t.path, type(e).__name__, (time.perf_counter() - start) * 1e3)
            raise
        log.info("%s %s: ok in %.1f ms", t.code, t.path, (time.perf_counter() - start) * 1e3)
        return result

    def _exchanged(self, t: _Sent, url: str, body: bytes, reply: Reply, started: float, elapsed: float) -> None:
        """Hand the attempt to the audit hook; a failing hook is logged, never allowed to
        lose the answer of a request that was sent."""
        if self.audit is None:
            return
        if isinstance(reply, Answer):
            ex = Exchange(t.code, url, body, reply.status, None if reply.too_large else reply.body,
                          "answer larger than max_response_bytes" if reply.too_large else None, started, elapsed)
        else:
            ex = Exchange(t.code, url, body, None, None, reply.what, started, elapsed)
        try:
            self.audit(ex)
        except Exception:
            log.exception("%s: the audit hook failed; the exchange was not archived", t.code)

    def _call(self, t: _Sent, request: _Request, answer: Type[M]) -> _Flow[M]:
        model = validate(t.request, request)
        url = self.url_for(t.code)
        attempt = 0
        while True:
            # Packed per attempt: every attempt gets a fresh timestamp and signature.
            body = self.codec.pack_json(model.to_wire())
            log.debug("POST %s (%s)", url, t.code)
            started, t0 = time.time(), time.perf_counter()
            headers: Mapping[str, str] = _HEADERS
            if self.on_request is not None:
                extra: dict[str, str] = {}
                self.on_request(t.code, extra)
                headers = {**_HEADERS, **extra}
            reply = yield _Post(url, body, self.max_response_bytes, headers)
            self._exchanged(t, url, body, reply, started, time.perf_counter() - t0)
            if isinstance(reply, Answer):
                log.debug("%s answered HTTP %d", t.code, reply.status)
                if 200 <= reply.status < 300:
                    return self._answer(t, reply, model, answer)
            failure = self._failure(t, reply)
            if t.retry_safe and failure.retryable and attempt < self.retries:
                d = self.delay(attempt)
                attempt += 1
                log.warning("%s: %s; retry %d/%d in %.2fs", t.code, failure.what, attempt, self.retries, d)
                yield _Sleep(d)
                continue
            if not failure.delivered:
                raise failure.error(failure.advice)
            if t.retry_safe:
                raise failure.error(f"Gave up after {attempt + 1} attempt(s); {t.code} is safe to send again later.")
            error = failure.error("")
            raise OutcomeUnknown(
                f"{failure.text} The request may have reached the center, so whether it was carried out is "
                "unknown: do not send it again; query the order (6301) or wait_for_settlement first",
                request=model, failure=error,
            ) from error

    def _failure(self, t: _Sent, reply: Reply) -> _Failure:
        where = _where(t)
        if isinstance(reply, Failed):
            what = reply.what
            said = f"{what}: {reply.detail}" if reply.detail else what
            if not reply.sent:
                return _Failure(
                    f"{where}: could not reach the center ({said}): check base_url, the network and the "
                    "center's status.", what, retryable=True, delivered=False,
                    advice="Nothing was sent, so the request may be sent again.", cause=reply.cause)
            return _Failure(
                f"{where}: no complete answer from the center ({said}): the center or the network was slower "
                "than the client's timeout, or dropped the connection.", what, retryable=True, delivered=True,
                cause=reply.cause)
        status = reply.status
        if status >= 500 or status == 429:
            text = f"{where}: HTTP {status} from the center or a gateway before it: the center failed or is busy."
        else:
            text = (f"{where}: HTTP {status} from the center or a gateway before it: probably a wrong base_url "
                    "or path prefix, or a gateway refused the request.")
        return _Failure(text, f"HTTP {status}", retryable=status in _RETRY_STATUS, delivered=status >= 500,
                        advice="It was not carried out: fix the cause, then send it again.",
                        status=status, body=_snippet(reply.body))

    def _answer(self, t: _Sent, reply: Answer, request: WireModel, answer: Type[M]) -> M:
        """A 2xx answer read in the spec's order; a protocol failure of a transaction that
        is not retry-safe leaves its outcome unknown."""
        try:
            return self._read(t, reply, request, answer)
        except (SignatureError, DecryptError, EnvelopeError) as e:
            if t.retry_safe:
                raise
            then = ("fix the credentials, then query the order (6301): a query with the same credentials "
                    "cannot be read either" if isinstance(e, DecryptError)
                    else "query the order (6301) or wait_for_settlement first")
            raise OutcomeUnknown(
                f"{e}. The request was delivered, so whether it was carried out is unknown: do not send it "
                f"again; {then}",
                request=request, failure=e,
            ) from e

    def _read(self, t: _Sent, reply: Answer, request: WireModel, answer: Type[M]) -> M:
        where = _where(t)
        if reply.too_large:
            raise EnvelopeError(
                f"{where}: the answer is larger than {self.max_response_bytes} bytes (max_response_bytes): "
                "probably not the center's answer; raise max_response_bytes only if the center's answers "
                "are that large"
            )
        try:
            # The one reading of the envelope: code, success and message are the Message's.
            msg = self.codec.unpack(reply.body, require_signature=False)
        except DecryptError as e:
            said = "" if e.center_code is None and e.center_message is None else (
                f" (the center answered code {e.center_code}" + (f", {e.center_message}" if e.center_message else "")
                + ")")
            raise DecryptError(
                f"{where}: the answer does not decrypt: the appSecret (or appId) is probably wrong{said}. "
                f"Fix the credentials with the center; no answer can be read until then ({e})",
                center_code=e.center_code, center_message=e.center_message,
            ) from e
        except SignatureError as e:
            raise SignatureError(
                f"{where}: the answer's signature does not verify: the center's public key in the credentials "
                f"is probably wrong, or the answer was altered on the way; check the key with the center "
                f"(`medpay doctor` names the cause) ({e})"
            ) from e
        except EnvelopeError as e:
            # No member named: the body is no envelope at all (HTML, an array, broken JSON),
            # which the center never sends; a member named: the center's envelope is wrong.
            cause = ("probably a gateway or proxy answered instead of the center; check base_url and the "
                     "network path" if e.field is None else
                     f"the center's envelope is malformed at {e.field}; report it to the center")
            raise EnvelopeError(f"{where}: the answer is not a valid envelope: {cause} ({e})", field=e.field) from e
        if not msg.signed:
            if (msg.code is not None and msg.code != 0) or msg.success is False:
                raise UnsignedRefusal(msg.code, msg.message, response=dict(msg.fields), request=request,
                                      transaction=t.code)
            raise SignatureError(
                f"{where}: the answer is not signed, and an unsigned answer is never taken as success (anyone "
                "on the way could have written it): probably a gateway or proxy answered, not the center"
            )
        def response() -> dict[str, Any]:  # built only for an error, which keeps the answer
            return {**msg.fields, "data": msg.data}

        if msg.code is None:
            raise EnvelopeError(f"{where}: the signed answer has no code: the center's answer is incomplete; "
                                "report it to the center", field="code")
        if msg.code != 0 or msg.success is False:
            raise BusinessError(msg.code, msg.message, response=response(), transaction=t.code)
        try:
            result = validate(answer, {} if msg.data is None else msg.data)
        except ValidationError as e:
            raise ValidationError(e.errors, model=e.model, response=response()) from e
        # A business result inside data (6401 answers {"success": false}): the model reads
        # it; its reason, when the center gives one, is an extra field of the answer.
        if "success" in type(result).model_fields and getattr(result, "success") is False:  # noqa: B009 (M is any model: mypy knows no .success)
            extra = result.model_extra or {}
            reason = extra.get("message")
            raise BusinessError(msg.code, reason if isinstance(reason, str) else (msg.message or "data.success is false"),
                                response=response(), transaction=t.code)
        return result

    # -- waiting for the outcome ----------------------------------------------------------
    def settle(self, query: Union[QueryOrderRequest, Mapping[str, Any]], deadline: float, interval: float,
               final_states: Iterable[str]) -> _Flow[QueryOrderResponse]:
        """Poll 6301 until the order is final or ``deadline`` seconds have passed."""
        final = _settlement_args(deadline, interval, final_states)
        model = validate(QueryOrderRequest, query)
        end = time.monotonic() + deadline
        last: Optional[QueryOrderResponse] = None
        last_error: Optional[TransportError] = None
        while True:
            try:
                last = yield from self.call("6301", model, QueryOrderResponse)
                if is_final_ord_stas(last.ord_stas, final):
                    return last
            except TransportError as e:
                last_error = e  # ridden out until the deadline; anything else is raised
            left = end - time.monotonic()
            if left <= 0:
                break
            yield _Sleep(min(interval, left))
        if last is None:
            # Not one answer: we cannot say what the order is in.
            raise OutcomeUnknown(
                f"6301: no answer from the center within {deadline:g}s ({last_error}); the order's state is "
                "unknown: query it again later, and do not send the payment again before you know it",
                request=model, failure=last_error,
            ) from last_error
        # The center answered: the state is known, it is just not final (for 0-5 the patient
        # has not paid or the settlement is not done), so this is not an unknown outcome.
        code, label = _ord_stas_key(last.ord_stas), ord_stas_label(last.ord_stas)
        raise SettlementPending(
            f"6301: after {deadline:g}s the order is still in state {code} ({label}), not a final state: "
            "the patient has not paid or the settlement is not done yet; query it again later",
            ord_stas=code, label=label, last_response=last, request=model,
        )


def _transport_of(transport: Any, kind: type, timeout: Optional[float], ssl_context: Optional[ssl.SSLContext],
                  proxy: Optional[str], default: Callable[..., Any]) -> Any:
    """The transport a client was given, or its default built with the timeout, TLS and
    proxy settings; a given transport owns TLS and proxies itself (refused beside it, not
    ignored), while a timeout given with it applies to every call."""
    if transport is None:
        return default(timeout=30.0 if timeout is None else timeout, ssl_context=ssl_context, proxy=proxy)
    if ssl_context is not None or proxy is not None:
        raise ValueError("ssl_context= and proxy= configure the default transport: with transport= give them "
                         "to the transport (e.g. HttpTransport(ssl_context=..., proxy=...))")
    if not callable(getattr(transport, "post", None)):
        raise TypeError(f"transport is a medpay_core.transport.{kind.__name__} (an httpx client goes in "
                        f"HttpxTransport(client) or AsyncHttpxTransport(client)), not {type(transport).__name__}")
    return transport


def _raised(e: Exception) -> Failed:
    log.warning("the transport raised %s instead of returning a reply", type(e).__name__)
    return Failed(type(e).__name__, str(e), sent=True, cause=e)


C = TypeVar("C", "MedpayClient", "AsyncMedpayClient")


def _view(client: C, credentials: Optional[CredentialsLike], timeout: Optional[float]) -> C:
    """``with_options`` of both clients: a shallow copy sharing the transport and its
    pool, which it does not own (closing the view leaves the pool open)."""
    view = copy.copy(client)
    view._owns_transport = False
    if credentials is not None:
        view._flows = client._flows.using(credentials)
    if timeout is not None:
        view._call_timeout = timeout_seconds(timeout)
    return view


class MedpayClient:
    """A synchronous client of the payment center.

    ``base_url`` is ``http(s)://host:port`` (with or without a trailing ``/`` or a path
    prefix); ``credentials`` are ours (our private key, the center's public key), or an
    EnvelopeCodec. ``timeout`` is seconds for connecting and for each read (30 unless
    given; given with ``transport``, it applies to every call);
    ``ssl_context`` replaces the system's TLS verification (a private CA, a client
    certificate for mTLS) and ``proxy`` is an ``http://[user:pass@]host:port`` URL, both for
    the default transport (:class:`~medpay_core.transport.HttpTransport`: ``http.client``
    with a keep-alive pool); ``transport`` is another
    :class:`~medpay_core.transport.Transport` (``HttpxTransport(httpx.Client(...))`` for an
    httpx client of yours), which then owns TLS and proxies. ``retries`` is how many times
    6301 is sent again after a transport failure; answers larger than
    ``max_response_bytes`` are refused; ``audit`` is called with an :class:`Exchange` (the
    signed bytes both ways) for every attempt, and ``on_request(code, headers)`` before
    each attempt (headers it adds are sent: tracing). One client is safe to share between
    threads.

    >>> import medpay_core as mp
    >>> creds = mp.Credentials("APPID00000000000", "S" * 32, mp.SM2PrivateKey.generate(), mp.SM2PrivateKey.generate().public_key())
    >>> client = mp.MedpayClient("https://mpc.example", creds, timeout=10)
    >>> # order = client.query_order({"payOrdId": ..., "orgCodg": ..., ...})
    >>> client.close()
    """

    def __init__(
        self,
        base_url: str,
        credentials: CredentialsLike,
        *,
        timeout: Optional[float] = None,
        transport: Optional[Transport] = None,
        ssl_context: Optional[ssl.SSLContext] = None,
        proxy: Optional[str] = None,
        retries: int = 2,
        backoff: float = 0.5,
        max_backoff: float = 8.0,
        max_response_bytes: int = 8 * 1024 * 1024,
        audit: Optional[AuditHook] = None,
        on_request: Optional[RequestHook] = None,
    ) -> None:
        self._flows = _Flows(base_url, credentials, retries=retries, backoff=backoff, max_backoff=max_backoff,
                             max_response_bytes=max_response_bytes, audit=audit, on_request=on_request)
        self._call_timeout = timeout_seconds(timeout)  # None: the transport's own
        self._transport: Transport = _transport_of(transport, Transport, self._call_timeout, ssl_context, proxy,
                                                   HttpTransport)
        self._owns_transport = True

    def with_options(self, *, credentials: Optional[CredentialsLike] = None,
                     timeout: Optional[float] = None) -> MedpayClient:
        """A view of this client with other credentials (another institution behind a
        gateway) and/or another timeout, sharing its connection pool; closing the view
        leaves the pool open.

        >>> # client.with_options(credentials=codec_of(app_id), timeout=5).query_order(query)
        """
        return _view(self, credentials, timeout)

    @property
    def codec(self) -> EnvelopeCodec:
        """The envelope codec of these credentials.

        >>> # client.codec.credentials.app_id
        """
        return self._flows.codec

    def url_for(self, code: TransactionCode) -> str:
        """The endpoint URL of a transaction code.

        >>> # client.url_for("6202") -> 'https://mpc.example/org/local/api/hos/pay_order'
        """
        return self._flows.url_for(code)

    # -- the driver ---------------------------------------------------------------------
    def _run(self, flow: _Flow[R]) -> R:
        out: List[R] = []
        steps = _keep(flow, out)
        try:
            step = next(steps)
            while True:
                if isinstance(step, _Sleep):
                    time.sleep(step.seconds)
                    step = next(steps)
                else:
                    step = steps.send(self._post(step))
        except StopIteration:
            return out[0]
        finally:
            steps.close()

    def _post(self, post: _Post) -> Reply:
        try:
            return self._transport.post(post.url, post.body, post.headers, self._call_timeout, post.max_bytes)
        except Exception as e:  # a transport that raised: as if the request may have gone out
            return _raised(e)

    # -- context manager ---------------------------------------------------------------
    def close(self) -> None:
        """Close the HTTP connections (``with MedpayClient(...) as client:`` does it).

        >>> # client.close()
        """
        if self._owns_transport:
            self._transport.close()

    def __enter__(self) -> MedpayClient:
        return self

    def __exit__(self, exc_type: Optional[Type[BaseException]], exc: Optional[BaseException],
                 tb: Optional[TracebackType]) -> None:
        self.close()

    def __repr__(self) -> str:
        return f"<MedpayClient {self._flows.base_url} app_id={self.codec.credentials.app_id!r}>"

    # -- the transactions --------------------------------------------------------------
    def upload_fees(self, request: Union[FeeUploadRequest, Mapping[str, Any]]) -> FeeUploadResponse:
        """6201: upload the fee details; returns payOrdId, payToken, cashierUrl. Not retried.

        >>> # resp = client.upload_fees(upload); resp.pay_ord_id, resp.pay_token
        """
        return self._run(self._flows.call("6201", request, FeeUploadResponse))

    def pay_order(self, request: Union[PayOrderRequest, Mapping[str, Any]]) -> PayOrderResponse:
        """6202: place the payment. Never re-posted; OutcomeUnknown when no trustworthy
        answer came.

        >>> # resp = client.pay_order({**order, "orgBizSer": mp.new_org_biz_ser()}); resp.ord_stas
        """
        return self._run(self._flows.call("6202", request, PayOrderResponse))

    def refund(self, request: Union[RefundRequest, Mapping[str, Any]]) -> RefundResponse:
        """6203: refund. Never re-posted; check ``ref_status`` (SUCC/FAIL/EXP).

        >>> # resp = client.refund({"payOrdId": ..., "appRefdSn": mp.new_app_refd_sn(), ...}); resp.ref_status
        """
        return self._run(self._flows.call("6203", request, RefundResponse))

    def bank_card_pay(self, request: Union[BankCardPayRequest, Mapping[str, Any]]) -> BankCardPayResponse:
        """6205: bank-card mixed payment; returns medBankPayUrl. Never re-posted.

        >>> # url = client.bank_card_pay(order).med_bank_pay_url
        """
        return self._run(self._flows.call("6205", request, BankCardPayResponse))

    def query_order(self, request: Union[QueryOrderRequest, Mapping[str, Any]]) -> QueryOrderResponse:
        """6301: the order's settlement state; retried on transport failures, 5xx and 429.

        >>> # client.query_order(query).ord_stas
        """
        return self._run(self._flows.call("6301", request, QueryOrderResponse))

    def revoke_upload(self, request: Union[RevokeRequest, Mapping[str, Any]]) -> RevokeResponse:
        """6401: revoke an uploaded, unsettled order. Not retried (the spec does not say a
        second revoke is harmless); ``data.success`` false is a BusinessError.

        >>> # client.revoke_upload({"payOrdId": ..., ...}).success
        """
        return self._run(self._flows.call("6401", request, RevokeResponse))

    @overload
    def call(self, code: Literal["6201"], request: Union[FeeUploadRequest, Mapping[str, Any]]) -> FeeUploadResponse: ...
    @overload
    def call(self, code: Literal["6202"], request: Union[PayOrderRequest, Mapping[str, Any]]) -> PayOrderResponse: ...
    @overload
    def call(self, code: Literal["6203"], request: Union[RefundRequest, Mapping[str, Any]]) -> RefundResponse: ...
    @overload
    def call(self, code: Literal["6205"], request: Union[BankCardPayRequest, Mapping[str, Any]]) -> BankCardPayResponse: ...
    @overload
    def call(self, code: Literal["6301"], request: Union[QueryOrderRequest, Mapping[str, Any]]) -> QueryOrderResponse: ...
    @overload
    def call(self, code: Literal["6401"], request: Union[RevokeRequest, Mapping[str, Any]]) -> RevokeResponse: ...

    def call(self, code: str, request: _Request) -> WireModel:
        """Send any of the six transactions by code; returns its answer model (typed per code).

        >>> # client.call("6301", query).ord_stas
        """
        return self._run(self._flows.call(code, request, _transaction(code).response))

    # -- waiting for the outcome ----------------------------------------------------------
    def wait_for_settlement(
        self,
        query: Union[QueryOrderRequest, Mapping[str, Any]],
        *,
        deadline: float = 60.0,
        interval: float = 2.0,
        final_states: Iterable[str] = FINAL_ORD_STAS,
    ) -> QueryOrderResponse:
        """Poll 6301 until ``ordStas`` is final (:data:`FINAL_ORD_STAS`) or ``deadline``
        seconds have passed; returns the final QueryOrderResponse.

        ``query`` is the 6301 request (QueryOrderRequest or mapping: payOrdId, orgCodg,
        payToken, idNo, userName, idType): the center needs all of them, the payOrdId
        alone is not enough. Transport failures while polling are ridden out until the
        deadline; every other error is raised at once. At the deadline:

        - the center answered, the order is not final (0-5: the patient has not paid or
          it is not settled yet; or a value this version does not know):
          :class:`SettlementPending` with ``ord_stas``, ``label`` and ``last_response``;
        - no answer came at all: :class:`OutcomeUnknown` (``failure`` the last
          TransportError).

        >>> # try:
        >>> #     final = client.wait_for_settlement(query, deadline=120, interval=3)
        >>> # except SettlementPending as e:
        >>> #     e.ord_stas, e.label          # ('0', '已保存'): not paid yet
        """
        return self._run(self._flows.settle(query, deadline, interval, final_states))


class AsyncMedpayClient:
    """The asyncio (anyio) twin of :class:`MedpayClient`: same arguments, same methods,
    as coroutines. The default transport is
    :class:`~medpay_core.transport.DefaultAsyncTransport` (aiohttp under asyncio, httpx
    under trio); ``transport`` is another
    :class:`~medpay_core.transport.AsyncTransport`, e.g.
    ``AsyncHttpxTransport(httpx.AsyncClient(...))``.

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
        credentials: CredentialsLike,
        *,
        timeout: Optional[float] = None,
        transport: Optional[AsyncTransport] = None,
        ssl_context: Optional[ssl.SSLContext] = None,
        proxy: Optional[str] = None,
        retries: int = 2,
        backoff: float = 0.5,
        max_backoff: float = 8.0,
        max_response_bytes: int = 8 * 1024 * 1024,
        audit: Optional[AuditHook] = None,
        on_request: Optional[RequestHook] = None,
    ) -> None:
        self._flows = _Flows(base_url, credentials, retries=retries, backoff=backoff, max_backoff=max_backoff,
                             max_response_bytes=max_response_bytes, audit=audit, on_request=on_request)
        self._call_timeout = timeout_seconds(timeout)  # None: the transport's own
        self._transport: AsyncTransport = _transport_of(transport, AsyncTransport, self._call_timeout, ssl_context,
                                                        proxy, DefaultAsyncTransport)
        self._owns_transport = True

    def with_options(self, *, credentials: Optional[CredentialsLike] = None,
                     timeout: Optional[float] = None) -> AsyncMedpayClient:
        """A view with other credentials and/or timeout sharing the connection pool (see
        :meth:`MedpayClient.with_options`).

        >>> # await client.with_options(credentials=codec_of(app_id)).query_order(query)
        """
        return _view(self, credentials, timeout)

    @property
    def codec(self) -> EnvelopeCodec:
        """The envelope codec of these credentials.

        >>> # client.codec.credentials.app_id
        """
        return self._flows.codec

    def url_for(self, code: TransactionCode) -> str:
        """The endpoint URL of a transaction code.

        >>> # client.url_for("6202") -> 'https://mpc.example/org/local/api/hos/pay_order'
        """
        return self._flows.url_for(code)

    # -- the driver ---------------------------------------------------------------------
    async def _run(self, flow: _Flow[R]) -> R:
        out: List[R] = []
        steps = _keep(flow, out)
        try:
            step = next(steps)
            while True:
                if isinstance(step, _Sleep):
                    await anyio.sleep(step.seconds)
                    step = next(steps)
                else:
                    step = steps.send(await self._post(step))
        except StopIteration:
            return out[0]
        finally:
            steps.close()

    async def _post(self, post: _Post) -> Reply:
        try:
            return await self._transport.post(post.url, post.body, post.headers, self._call_timeout,
                                              post.max_bytes)
        except Exception as e:  # a transport that raised: as if the request may have gone out
            return _raised(e)

    async def aclose(self) -> None:
        """Close the HTTP connections (``async with AsyncMedpayClient(...) as client:`` does it).

        >>> # await client.aclose()
        """
        if self._owns_transport:
            await self._transport.aclose()

    async def __aenter__(self) -> AsyncMedpayClient:
        return self

    async def __aexit__(self, exc_type: Optional[Type[BaseException]], exc: Optional[BaseException],
                        tb: Optional[TracebackType]) -> None:
        await self.aclose()

    def __repr__(self) -> str:
        return f"<AsyncMedpayClient {self._flows.base_url} app_id={self.codec.credentials.app_id!r}>"

    async def upload_fees(self, request: Union[FeeUploadRequest, Mapping[str, Any]]) -> FeeUploadResponse:
        """6201 (see :meth:`MedpayClient.upload_fees`).

        >>> # resp = await client.upload_fees(upload)
        """
        return await self._run(self._flows.call("6201", request, FeeUploadResponse))

    async def pay_order(self, request: Union[PayOrderRequest, Mapping[str, Any]]) -> PayOrderResponse:
        """6202 (see :meth:`MedpayClient.pay_order`).

        >>> # resp = await client.pay_order(order)
        """
        return await self._run(self._flows.call("6202", request, PayOrderResponse))

    async def refund(self, request: Union[RefundRequest, Mapping[str, Any]]) -> RefundResponse:
        """6203 (see :meth:`MedpayClient.refund`).

        >>> # resp = await client.refund(refund)
        """
        return await self._run(self._flows.call("6203", request, RefundResponse))

    async def bank_card_pay(self, request: Union[BankCardPayRequest, Mapping[str, Any]]) -> BankCardPayResponse:
        """6205 (see :meth:`MedpayClient.bank_card_pay`).

        >>> # resp = await client.bank_card_pay(order)
        """
        return await self._run(self._flows.call("6205", request, BankCardPayResponse))

    async def query_order(self, request: Union[QueryOrderRequest, Mapping[str, Any]]) -> QueryOrderResponse:
        """6301 (see :meth:`MedpayClient.query_order`).

        >>> # resp = await client.query_order(query)
        """
        return await self._run(self._flows.call("6301", request, QueryOrderResponse))

    async def revoke_upload(self, request: Union[RevokeRequest, Mapping[str, Any]]) -> RevokeResponse:
        """6401 (see :meth:`MedpayClient.revoke_upload`).

        >>> # resp = await client.revoke_upload(revoke)
        """
        return await self._run(self._flows.call("6401", request, RevokeResponse))

    @overload
    async def call(self, code: Literal["6201"], request: Union[FeeUploadRequest, Mapping[str, Any]]) -> FeeUploadResponse: ...
    @overload
    async def call(self, code: Literal["6202"], request: Union[PayOrderRequest, Mapping[str, Any]]) -> PayOrderResponse: ...
    @overload
    async def call(self, code: Literal["6203"], request: Union[RefundRequest, Mapping[str, Any]]) -> RefundResponse: ...
    @overload
    async def call(self, code: Literal["6205"], request: Union[BankCardPayRequest, Mapping[str, Any]]) -> BankCardPayResponse: ...
    @overload
    async def call(self, code: Literal["6301"], request: Union[QueryOrderRequest, Mapping[str, Any]]) -> QueryOrderResponse: ...
    @overload
    async def call(self, code: Literal["6401"], request: Union[RevokeRequest, Mapping[str, Any]]) -> RevokeResponse: ...

    async def call(self, code: str, request: _Request) -> WireModel:
        """Send a transaction by code (see :meth:`MedpayClient.call`).

        >>> # resp = await client.call("6301", query)
        """
        return await self._run(self._flows.call(code, request, _transaction(code).response))

    async def wait_for_settlement(
        self,
        query: Union[QueryOrderRequest, Mapping[str, Any]],
        *,
        deadline: float = 60.0,
        interval: float = 2.0,
        final_states: Iterable[str] = FINAL_ORD_STAS,
    ) -> QueryOrderResponse:
        """Poll 6301 until the order is final (see :meth:`MedpayClient.wait_for_settlement`).

        >>> # final = await client.wait_for_settlement(query, deadline=120)
        """
        return await self._run(self._flows.settle(query, deadline, interval, final_states))
