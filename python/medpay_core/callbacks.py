"""Receiving from the center: the 6302 settlement notice and the 6204 redirect.

**6302.** :func:`handle_settlement_notice` takes the POSTed body and returns the reply
bytes. Centers differ in the form they read (``reply_form``): ``"nested"`` (the default,
docs/protocol.md §6) is ``{"code":"0","msg":...,"data":{"success":...,"message":...}}``,
``"flat"`` (as some provincial centers' own SDKs answer) is table 277 alone,
``{"success":...,"message":...}``. In both, ``success`` false means "deliver again".
Only ``callType`` ``02`` (payment succeeded, the only callback the spec defines) is
accepted; any other or none is refused with success=false before ``on_notice``.
A signed notice is verified and decrypted; an unsigned one is accepted only with
``allow_plain=True`` (the spec lets the institution choose plain notices; choose that
only behind a network boundary you trust). The center delivers the same notice more
than once, possibly at the same moment to different workers, so each notice is
*claimed* in a :class:`NoticeStore` before ``on_notice`` runs:

- ``claimed``: this worker runs ``on_notice``; on success the claim becomes ``done``
  and the reply is success=true; if ``on_notice`` raises (or returns ``False``) the claim
  is released and the reply is success=false, so the center delivers again;
- ``done``: already processed: acknowledged without calling ``on_notice``;
- ``busy``: another worker is processing it right now: success=false, the center will
  deliver again and then find it ``done``. A claim older than ``lease`` seconds (its
  worker crashed) is taken over, so a crash mid-callback is retried, never lost. Keep
  ``lease`` (default 300 s) above the longest ``on_notice`` run, or a slow run may be
  taken over and run twice.

The key is ``payOrdId`` + ``callType`` (the spec has only callType 02, payment success,
today; a future refund notice for the same order must not be swallowed as a duplicate).

:class:`SQLiteNoticeStore` is safe across threads *and* processes (one SQLite file, WAL,
claims in ``BEGIN IMMEDIATE`` transactions on a primary key). :class:`MemoryNoticeStore`
(the default) covers one process only.

Bodies are read by :func:`read_json_object`, the native core's JSON parser (duplicate
keys, NaN and deep nesting refused), and envelopes opened by the codec, never by the
stdlib json module.

**6204.** :func:`decode_order_sync` decrypts the ``encData`` of the redirect with the key
of ``mpcAppId``. It is encrypted but not signed: use it to show the order and start the
third-party payment, never to mark an order paid (that is 6302 or 6301).

>>> import medpay_core as mp
>>> inst, center = mp.SM2PrivateKey.generate(), mp.SM2PrivateKey.generate()
>>> ours = mp.EnvelopeCodec(mp.Credentials("APP1000000000000", "S" * 32, inst, center.public_key()))
>>> theirs = mp.EnvelopeCodec(mp.Credentials("APP1000000000000", "S" * 32, center, inst.public_key()))
>>> body = theirs.pack_json({"payOrdId": "ORD1", "callType": "02"})  # what the center POSTs
>>> json.loads(settlement_reply(True, "ok"))["data"]
{'success': True, 'message': 'ok'}
>>> settlement_reply(True, "ok", reply_form="flat")
b'{"success":true,"message":"ok"}'
"""

from __future__ import annotations

import json
import logging
import os
import sqlite3
import threading
import time
import uuid
from dataclasses import dataclass
from typing import Any, Callable, Literal, Mapping, Optional, Protocol, Union, cast, get_args, runtime_checkable

from ._native import Credentials, EnvelopeCodec, parse_json
from .credentials import CredentialsLike, as_codec
from .errors import DecryptError, EnvelopeError, MedpayError, SignatureError, UnknownAppIdError, ValidationError
from .models import OrderSyncNotice, SettlementNotice, SettlementNoticeReply, validate

__all__ = [
    "read_json_object",
    "handle_settlement_notice",
    "settlement_reply",
    "ReplyForm",
    "decode_order_sync",
    "NoticeStore",
    "Claim",
    "MemoryNoticeStore",
    "SQLiteNoticeStore",
    "UnknownAppIdError",
]

log = logging.getLogger("medpay_core.callbacks")

CLAIMED, DONE, BUSY = "claimed", "done", "busy"

#: Seconds after which a ``processing`` claim is presumed abandoned (its worker died).
DEFAULT_LEASE = 300.0


# -- the store ---------------------------------------------------------------------------


@dataclass(frozen=True)
class Claim:
    """The outcome of :meth:`NoticeStore.claim`: ``state`` is ``"claimed"`` (``token``
    identifies this claim), ``"done"`` or ``"busy"``."""

    state: str
    token: Optional[str] = None


@runtime_checkable
class NoticeStore(Protocol):
    """Where processed notices are remembered. ``claim`` must be atomic across every
    worker that can receive the same notice."""

    def claim(self, key: str, *, lease: float = DEFAULT_LEASE) -> Claim:
        """Claim ``key``: ``claimed`` if nobody holds it (or the holder's lease
        expired), ``done`` if it was completed, ``busy`` if someone else holds it."""
        ...

    def complete(self, key: str, token: str) -> None:
        """Mark ``key`` done (the work is finished, whoever holds the claim now)."""
        ...

    def release(self, key: str, token: str) -> None:
        """Give up a claim (the work failed) so the next delivery can claim it."""
        ...


class MemoryNoticeStore:
    """A :class:`NoticeStore` in this process's memory: safe across threads, not across
    processes, forgotten at restart. For tests and single-process servers.

    >>> s = MemoryNoticeStore()
    >>> c = s.claim("ORD1:02"); c.state
    'claimed'
    >>> s.claim("ORD1:02").state
    'busy'
    >>> s.complete("ORD1:02", c.token); s.claim("ORD1:02").state
    'done'
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._rows: dict[str, tuple[str, str, float]] = {}

    def claim(self, key: str, *, lease: float = DEFAULT_LEASE) -> Claim:
        now = time.monotonic()
        with self._lock:
            row = self._rows.get(key)
            if row is not None:
                state, _, at = row
                if state == "done":
                    return Claim(DONE)
                if now - at < lease:
                    return Claim(BUSY)
            token = uuid.uuid4().hex
            self._rows[key] = ("processing", token, now)
            return Claim(CLAIMED, token)

    def complete(self, key: str, token: str) -> None:
        with self._lock:
            self._rows[key] = ("done", token, time.monotonic())

    def release(self, key: str, token: str) -> None:
        with self._lock:
            row = self._rows.get(key)
            if row is not None and row[0] == "processing" and row[1] == token:
                del self._rows[key]


class SQLiteNoticeStore:
    """A :class:`NoticeStore` in an SQLite file, safe across threads and processes.

    Rows are ``(key, state processing|done, token, claimed_at, done_at)``. A claim is one
    ``BEGIN IMMEDIATE`` transaction (the write lock is taken before reading, so two
    workers cannot both see "absent"); the database is in WAL mode so readers never wait.

    >>> import tempfile, os
    >>> path = os.path.join(tempfile.mkdtemp(), "notices.sqlite3")
    >>> store = SQLiteNoticeStore(path)
    >>> c = store.claim("ORD1:02"); store.complete("ORD1:02", c.token)
    >>> store.claim("ORD1:02").state
    'done'
    >>> store.close()
    """

    def __init__(self, path: Union[str, "os.PathLike[str]"], *, timeout: float = 30.0, table: str = "medpay_notices"):
        self.path = os.fspath(path)
        if self.path == ":memory:" or self.path.startswith("file::memory:"):
            # Each connection would get its own database: no dedup at all.
            raise ValueError("an in-memory SQLite database is per connection; use MemoryNoticeStore")
        if not table.replace("_", "").isalnum():
            raise ValueError("table is letters, digits and '_'")
        self.table = table
        self.timeout = timeout
        self._local = threading.local()
        self._lock = threading.Lock()
        self._conns: list[sqlite3.Connection] = []
        c = self._conn()
        c.execute("PRAGMA journal_mode=WAL")
        c.execute(
            f"CREATE TABLE IF NOT EXISTS {self.table} ("
            " key TEXT PRIMARY KEY,"
            " state TEXT NOT NULL CHECK (state IN ('processing', 'done')),"
            " token TEXT NOT NULL,"
            " claimed_at REAL NOT NULL,"
            " done_at REAL)"
        )

    def _conn(self) -> sqlite3.Connection:
        c = getattr(self._local, "conn", None)
        if c is None:
            # One connection per thread; autocommit mode so transactions are explicit.
            c = sqlite3.connect(self.path, timeout=self.timeout, isolation_level=None, check_same_thread=False)
            c.execute(f"PRAGMA busy_timeout={int(self.timeout * 1000)}")
            self._local.conn = c
            with self._lock:
                self._conns.append(c)
        return c

    def claim(self, key: str, *, lease: float = DEFAULT_LEASE) -> Claim:
        c = self._conn()
        token = uuid.uuid4().hex
        c.execute("BEGIN IMMEDIATE")
        try:
            now = time.time()
            row = c.execute(f"SELECT state, claimed_at FROM {self.table} WHERE key = ?", (key,)).fetchone()
            if row is None:
                c.execute(
                    f"INSERT INTO {self.table} (key, state, token, claimed_at) VALUES (?, 'processing', ?, ?)",
                    (key, token, now),
                )
                result = Claim(CLAIMED, token)
            elif row[0] == "done":
                result = Claim(DONE)
            elif now - row[1] < lease:
                result = Claim(BUSY)
            else:
                c.execute(
                    f"UPDATE {self.table} SET token = ?, claimed_at = ? WHERE key = ? AND state = 'processing'",
                    (token, now, key),
                )
                result = Claim(CLAIMED, token)
            c.execute("COMMIT")
            return result
        except BaseException:
            c.execute("ROLLBACK")
            raise

    def complete(self, key: str, token: str) -> None:
        c = self._conn()
        now = time.time()
        c.execute(
            f"INSERT INTO {self.table} (key, state, token, claimed_at, done_at) VALUES (?, 'done', ?, ?, ?)"
            " ON CONFLICT(key) DO UPDATE SET state = 'done', done_at = excluded.done_at",
            (key, token, now, now),
        )

    def release(self, key: str, token: str) -> None:
        c = self._conn()
        c.execute(f"DELETE FROM {self.table} WHERE key = ? AND state = 'processing' AND token = ?", (key, token))

    def purge(self, older_than: float) -> int:
        """Forget notices completed more than ``older_than`` seconds ago; returns how many.

        >>> # store.purge(90 * 86400)
        """
        cur = self._conn().execute(
            f"DELETE FROM {self.table} WHERE state = 'done' AND done_at < ?", (time.time() - older_than,)
        )
        return cur.rowcount

    def close(self) -> None:
        with self._lock:
            conns, self._conns = self._conns, []
        for c in conns:
            c.close()
        self._local = threading.local()


_DEFAULT_STORE = MemoryNoticeStore()

# -- reading a body --------------------------------------------------------------------

# Every JSON body medpay receives is read by the one parser of the native core (its
# grammar, its size and depth limits, its duplicate-key rule), never by the stdlib json
# module, which takes the last of two duplicate keys, reads NaN and crashes with
# RecursionError on deep nesting.


def read_json_object(body: Union[bytes, str]) -> dict[str, Any]:
    """``body``, a JSON object, as a dict (numbers as ``int`` or ``Decimal`` with their
    literal), read by the native core's parser: duplicate keys, ``NaN``, nesting deeper
    than 64 levels, more than 8 MiB, invalid UTF-8 or anything but one object are an
    :class:`~medpay_core.errors.EnvelopeError`. It is how the callbacks and the sandbox
    read what they receive before they know whose envelope it is.

    >>> read_json_object(b'{"appId":"APP1","n":12.30}')
    {'appId': 'APP1', 'n': Decimal('12.30')}
    >>> read_json_object(b'{"a":1,"a":2}')
    Traceback (most recent call last):
    ...
    medpay_core.errors.EnvelopeError: body: duplicate JSON key "a"
    """
    value = parse_json(body if isinstance(body, str) else bytes(body))
    if not isinstance(value, dict):
        raise EnvelopeError("the body is not a JSON object")
    return value


# -- 6302 ----------------------------------------------------------------------------------

CodecArg = Union[EnvelopeCodec, Mapping[str, EnvelopeCodec]]


#: The form of the 6302 reply: ``"nested"`` (``{"code":"0","msg":...,"data":{...}}``,
#: docs/protocol.md §6) or ``"flat"`` (the table-277 object alone).
ReplyForm = Literal["nested", "flat"]
REPLY_FORMS: tuple[str, ...] = get_args(ReplyForm)


def check_reply_form(reply_form: Any) -> ReplyForm:
    """``reply_form`` if it is one of :data:`REPLY_FORMS`, else ValueError (at start-up,
    not at the first notice).

    >>> check_reply_form("flat")
    'flat'
    """
    if reply_form not in REPLY_FORMS:
        raise ValueError(f"reply_form is one of {', '.join(REPLY_FORMS)}, not {reply_form!r}")
    return cast(ReplyForm, reply_form)


def settlement_reply(success: bool, message: str, *, reply_form: ReplyForm = "nested") -> bytes:
    """The reply body of 6302: ``success`` whether the notice was processed (false: deliver
    again). ``reply_form`` ``"nested"`` (default) wraps it as ``data`` with ``code`` "0"
    (the call itself worked); ``"flat"`` sends the table-277 object alone.

    >>> json.loads(settlement_reply(False, "retry"))["data"]
    {'success': False, 'message': 'retry'}
    >>> json.loads(settlement_reply(False, "retry", reply_form="flat"))
    {'success': False, 'message': 'retry'}
    """
    check_reply_form(reply_form)
    data = validate(SettlementNoticeReply, {"success": bool(success), "message": message}).to_wire()  # table 277
    doc = data if reply_form == "flat" else {"code": "0", "msg": "接口调用成功", "data": data}
    return json.dumps(doc, ensure_ascii=False, separators=(",", ":")).encode("utf-8")


def _pick_codec(codecs: CodecArg, app_id: Any) -> EnvelopeCodec:
    if isinstance(codecs, EnvelopeCodec):
        return codecs
    if app_id is None and len(codecs) == 1:
        return next(iter(codecs.values()))
    codec = codecs.get(app_id) if isinstance(app_id, str) else None
    if codec is None:
        raise UnknownAppIdError(f"no credentials for appId {app_id!r}: configure that institution's credentials", app_id=None if app_id is None else str(app_id))
    return codec


#: Members that make a body an envelope; a plain notice may also be the table-20 fields
#: alone, at the top level.
_ENVELOPE_DATA = ("encData", "data", "signData")


def _open_notice(body: bytes, codecs: CodecArg, allow_plain: bool) -> tuple[Any, bool]:
    """The notice's data and whether it was signed."""
    doc = read_json_object(body)
    if not any(k in doc for k in _ENVELOPE_DATA):
        if not allow_plain:
            raise SignatureError("unsigned notice refused (plain notices are not allowed)")
        return doc, False  # the table-20 fields at the top level
    # A signature that is there is always verified, even when plain notices are allowed.
    msg = _pick_codec(codecs, doc.get("appId")).unpack(body, require_signature=not allow_plain)
    return msg.data, msg.signed


def _release(store: NoticeStore, key: str, token: str) -> None:
    try:
        store.release(key, token)
    except Exception:
        # The claim then stays 'processing' until its lease ends; redelivery after that
        # is processed. Nothing is lost, only delayed.
        log.exception("6302 %s: could not release the claim", key)


def handle_settlement_notice(
    body: bytes,
    codec: CodecArg,
    on_notice: Callable[[SettlementNotice], object],
    *,
    store: Optional[NoticeStore] = None,
    allow_plain: bool = False,
    lease: float = DEFAULT_LEASE,
    reply_form: ReplyForm = "nested",
) -> bytes:
    """Handle one 6302 delivery; returns the reply body to send back (HTTP 200).

    ``codec`` is our EnvelopeCodec (or a mapping appId -> codec); ``on_notice`` gets the
    validated SettlementNotice and records the settlement; it should return normally
    (``False`` or an exception means "not processed, deliver again"). ``store``
    remembers processed notices (default: a per-process :class:`MemoryNoticeStore`;
    use :class:`SQLiteNoticeStore` with several processes). ``reply_form`` is the form
    your center reads, ``"nested"`` (default) or ``"flat"`` (see :func:`settlement_reply`).
    A notice whose ``callType`` is not ``02`` is answered success=false and never
    reaches ``on_notice``.

    >>> import medpay_core as mp
    >>> inst, center = mp.SM2PrivateKey.generate(), mp.SM2PrivateKey.generate()
    >>> ours = mp.EnvelopeCodec(mp.Credentials("APP1000000000000", "S" * 32, inst, center.public_key()))
    >>> theirs = mp.EnvelopeCodec(mp.Credentials("APP1000000000000", "S" * 32, center, inst.public_key()))
    >>> body = theirs.pack_json({"payOrdId": "ORD1", "callType": "02", "medOrgOrd": "MO1",
    ...     "traceTime": "2026-11-25 10:00:00", "feeSumamt": "25.80", "ownpayAmt": "5.00",
    ...     "psnAcctPay": "20.80", "fundPay": "0.00", "hiChrgTime": "100000", "hiDocSn": "D1",
    ...     "hiRgstSn": "R1", "orgName": "福州市第一医院", "setlType": "ALL", "revsToken": "RV1",
    ...     "orgCodg": "H35010200001"})
    >>> json.loads(handle_settlement_notice(body, ours, lambda notice: None, store=MemoryNoticeStore()))
    {'code': '0', 'msg': '接口调用成功', 'data': {'success': True, 'message': '院内处理回调成功'}}
    """
    store = _DEFAULT_STORE if store is None else store
    check_reply_form(reply_form)

    def reply(success: bool, message: str) -> bytes:
        return settlement_reply(success, message, reply_form=reply_form)

    try:
        data, signed = _open_notice(body, codec, allow_plain)
        if not isinstance(data, dict):
            raise EnvelopeError("the notice carries no data object")
        notice = validate(SettlementNotice, data)
    except ValidationError as e:
        # Field names and rules only: the values are a patient's data.
        log.warning("6302 notice refused: invalid %s", [(x.get("field"), x.get("rule")) for x in e.errors])
        if any(x.get("field") == "callType" for x in e.errors):
            # The model holds the rule (callType 02 only); say plainly which one failed.
            return reply(False, "callType 须为 02（仅支付成功回调），此通知未处理")
        return reply(False, "通知数据不合规")
    except (SignatureError, DecryptError, EnvelopeError) as e:
        log.warning("6302 notice refused: %s: %s", type(e).__name__, e)
        return reply(False, "验签或解密失败" if not isinstance(e, EnvelopeError) else "报文格式错误")
    pay_ord_id = notice.pay_ord_id
    key = f"{pay_ord_id}:{notice.call_type}"
    try:
        claim = store.claim(key, lease=lease)
    except Exception:
        # The store is down or locked: not processed, so ask for the notice again.
        log.exception("6302 %s: the notice store failed", pay_ord_id)
        return reply(False, "系统繁忙，请稍后重发")
    if claim.state == DONE:
        log.info("6302 %s: duplicate, already processed", pay_ord_id)
        return reply(True, "已处理")
    if claim.state == BUSY:
        log.info("6302 %s: being processed by another worker", pay_ord_id)
        return reply(False, "处理中，请稍后重发")
    assert claim.token is not None
    try:
        result = on_notice(notice)
    except Exception:
        log.exception("6302 %s: on_notice failed; released for redelivery", pay_ord_id)
        _release(store, key, claim.token)
        return reply(False, "院内处理回调失败")
    if result is False:
        _release(store, key, claim.token)
        return reply(False, "院内处理回调失败")
    try:
        store.complete(key, claim.token)
    except Exception:
        # The work is done; answering false would make the center deliver it again
        # and run on_notice twice. The claim stays 'processing' until its lease ends.
        log.exception("6302 %s: processed, but the store could not record it", pay_ord_id)
    log.info("6302 %s processed (signed=%s)", pay_ord_id, signed)
    return reply(True, "院内处理回调成功")


# -- 6204 ------------------------------------------------------------------------------------

#: What the receiving side, the cashier and the voucher take for "our keys".
def decode_order_sync(
    query: Mapping[str, str],
    credentials_by_app_id: Union[CredentialsLike, Mapping[str, CredentialsLike]],
) -> OrderSyncNotice:
    """Decode the 6204 redirect's query (``mpcAppId``, ``encData``, ``chnlType``) into an
    OrderSyncNotice, with the credentials of ``mpcAppId``.

    Raises :class:`UnknownAppIdError` for an appId not in ``credentials_by_app_id``,
    EnvelopeError for missing parameters, DecryptError, ValidationError.

    >>> import medpay_core as mp
    >>> creds = mp.Credentials("APP1000000000000", "S" * 32)
    >>> enc = mp.EnvelopeCodec(creds).encrypt_data({"payOrdId": "ORD1", "medOrgOrd": "MO1",
    ...     "feeSumamt": "25.80", "ownPayAmt": "5.00", "psnAcctPay": "20.80", "fundPay": "0.00",
    ...     "othFeeAmt": "0.00"})
    >>> decode_order_sync({"mpcAppId": "APP1000000000000", "encData": enc, "chnlType": "WX"},
    ...                   {"APP1000000000000": creds}).pay_ord_id
    'ORD1'
    """
    app_id = query.get("mpcAppId")
    enc = query.get("encData")
    if not app_id or not enc:
        raise EnvelopeError("the redirect has no mpcAppId or encData")
    if isinstance(credentials_by_app_id, (Credentials, EnvelopeCodec)):
        codec = as_codec(credentials_by_app_id)
        if codec.credentials.app_id != app_id:
            raise UnknownAppIdError(f"no credentials for appId {app_id!r}: configure that institution's credentials", app_id=None if app_id is None else str(app_id))
    else:
        creds = credentials_by_app_id.get(app_id)
        if creds is None:
            raise UnknownAppIdError(f"no credentials for appId {app_id!r}: configure that institution's credentials", app_id=None if app_id is None else str(app_id))
        codec = as_codec(creds)
    data = codec.decrypt_data(enc.strip())
    if not isinstance(data, dict):
        raise DecryptError("encData is not a JSON object")
    return validate(OrderSyncNotice, data)


def _codecs_by_app_id(codec_or_codecs: Any) -> dict[str, EnvelopeCodec]:
    """One codec/credentials, a list of them, or a mapping -> {appId: codec}."""
    if isinstance(codec_or_codecs, (EnvelopeCodec, Credentials)):
        items = [as_codec(codec_or_codecs)]
    elif isinstance(codec_or_codecs, Mapping):
        items = [as_codec(c) for c in codec_or_codecs.values()]
    else:
        items = [as_codec(c) for c in codec_or_codecs]
    if not items:
        raise ValueError("at least one codec")
    return {c.credentials.app_id: c for c in items}

