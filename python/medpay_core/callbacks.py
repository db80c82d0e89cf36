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
- ``busy``: another live worker is processing it right now: success=false, the center
  will deliver again and then find it ``done``. A claim whose holder is gone (its
  process crashed or was killed, its database session ended) is taken over by the next
  delivery, at once: a crash mid-callback is retried, never lost, and never waits on a
  clock (the center stops retrying after a couple of minutes);
- ``stale``: older than what the store has purged: a replay, refused.

The key is ``appId`` + ``payOrdId`` + ``callType`` (:class:`NoticeKey`): two
institutions served by one store may be given the same payOrdId, and a future refund
notice for an order must not be swallowed as a duplicate of its payment notice.

A store is required. :class:`SQLiteNoticeStore` is safe across threads and processes
of one machine (one SQLite file, WAL, claims in ``BEGIN IMMEDIATE`` transactions; the
holder of a claim is named by host, boot, pid and thread, so a dead one is seen).
:class:`~medpay_core.notice_store_pg.PostgresNoticeStore` serves several machines and
runs ``on_notice(notice, conn)`` inside the transaction that marks the notice done, so
the institution's own update and the mark commit together or not at all (the inbox
pattern). :class:`MemoryNoticeStore` covers one process and forgets at restart: for
tests. A message that is not a 6302 notice (an answer envelope, with
code/message/success, e.g. the center's signed 6301 answer, which carries the same
fields) is refused.

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
import re
import socket
import sqlite3
import threading
import time
import uuid
from dataclasses import dataclass, field
from typing import Any, Callable, Literal, Mapping, Optional, Protocol, Union, cast, get_args, runtime_checkable

from ._native import Credentials, EnvelopeCodec, parse_json
from .credentials import CredentialsLike, Institutions, as_codec
from .errors import DecryptError, EnvelopeError, SignatureError, UnknownAppIdError, ValidationError
from .models import OrderSyncNotice, SettlementNotice, SettlementNoticeReply, validate
from .sqlite_schema import Migration, VersionTable, migrate

__all__ = [
    "read_json_object",
    "handle_settlement_notice",
    "settlement_reply",
    "ReplyForm",
    "decode_order_sync",
    "NoticeStore",
    "NoticeKey",
    "Claim",
    "MemoryNoticeStore",
    "SQLiteNoticeStore",
    "UnknownAppIdError",
]

log = logging.getLogger("medpay.callbacks")

CLAIMED, DONE, BUSY, STALE = "claimed", "done", "busy", "stale"


# -- the store ---------------------------------------------------------------------------

#: What a notice is remembered by. ``appId`` is part of it: two institutions served by one
#: store may be given the same ``payOrdId`` by their centers. ``callType`` too: the spec
#: has only 02 (payment succeeded) today, and a future refund notice for the same order
#: must not be swallowed as a duplicate.


@dataclass(frozen=True)
class NoticeKey:
    """The identity of a notice: ``app_id`` + ``pay_ord_id`` + ``call_type``.
    ``trace_time`` (the notice's signed ``traceTime``) is carried along, not compared: a
    store that has purged old notices refuses one whose time is at or before what it
    purged (a replay), see :meth:`SQLiteNoticeStore.purge`.

    >>> NoticeKey("APP1", "ORD1", "02") == NoticeKey("APP1", "ORD1", "02", "2026-11-25 10:00:00")
    True
    >>> str(NoticeKey("APP1", "ORD1", "02"))
    'APP1/ORD1/02'
    """

    app_id: str
    pay_ord_id: str
    call_type: str
    trace_time: str = field(default="", compare=False)

    def __str__(self) -> str:
        # For logs: ids only, never amounts or names.
        return f"{self.app_id}/{self.pay_ord_id}/{self.call_type}"


@dataclass(frozen=True)
class Claim:
    """The outcome of :meth:`NoticeStore.claim`: ``state`` is ``"claimed"`` (``token``
    identifies this claim), ``"done"``, ``"busy"`` or ``"stale"`` (older than what the
    store purged: a replay). ``tx`` is the open transaction of a store that lets
    ``on_notice`` write in it (:class:`~medpay_core.notice_store_pg.PostgresNoticeStore`:
    a psycopg connection), else None."""

    state: str
    key: Optional[NoticeKey] = None
    token: Optional[str] = None
    tx: Any = field(default=None, compare=False, repr=False)


@runtime_checkable
class NoticeStore(Protocol):
    """Where processed notices are remembered. ``claim`` must be atomic across every
    worker that can receive the same notice, and a claim whose holder died (its thread,
    process or database session is gone) must be taken over by the next ``claim``; a
    claim whose holder is alive is ``busy``, however long it runs. ``tests/store_kit.py``
    checks a store against this contract (docs/en/notices.md)."""

    def claim(self, key: NoticeKey) -> Claim:
        """Claim ``key``: ``claimed`` if nobody holds it (or its holder died), ``done`` if
        it was completed, ``busy`` if a live holder has it, ``stale`` if it is older than
        what was purged."""
        ...

    def complete(self, claim: Claim) -> None:
        """Mark the claimed notice done (the work is finished)."""
        ...

    def release(self, claim: Claim) -> None:
        """Give up a claim (the work failed) so the next delivery can claim it."""
        ...


def _live_thread_ids() -> set[int]:
    return {t.ident for t in threading.enumerate() if t.ident is not None}


class MemoryNoticeStore:
    """A :class:`NoticeStore` in this process's memory: safe across threads, not across
    processes, **forgotten at restart** (a restarted server processes old notices
    again). For tests and throwaway servers; :func:`~medpay_core.asgi.create_app` never
    picks it by itself. A claim whose thread has ended without completing or releasing
    it is taken over.

    >>> s = MemoryNoticeStore()
    >>> k = NoticeKey("APP1", "ORD1", "02")
    >>> c = s.claim(k); c.state
    'claimed'
    >>> s.claim(k).state
    'busy'
    >>> s.complete(c); s.claim(k).state
    'done'
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        # key -> (state, token, owning thread ident)
        self._rows: dict[NoticeKey, tuple[str, str, int]] = {}
        self._purged_through = ""

    def claim(self, key: NoticeKey) -> Claim:
        me = threading.get_ident()
        with self._lock:
            row = self._rows.get(key)
            if row is not None:
                state, _, owner = row
                if state == "done":
                    return Claim(DONE, key)
                if owner in _live_thread_ids():
                    return Claim(BUSY, key)
                log.warning("6302 %s: taking over the claim of an ended thread", key)
            elif _is_stale(key, self._purged_through):
                return Claim(STALE, key)
            token = uuid.uuid4().hex
            self._rows[key] = ("processing", token, me)
            return Claim(CLAIMED, key, token)

    def complete(self, claim: Claim) -> None:
        assert claim.key is not None and claim.token is not None
        with self._lock:
            self._rows[claim.key] = ("done", claim.token, 0)

    def release(self, claim: Claim) -> None:
        assert claim.key is not None
        with self._lock:
            row = self._rows.get(claim.key)
            if row is not None and row[0] == "processing" and row[1] == claim.token:
                del self._rows[claim.key]

    def purge(self, trace_time_before: str) -> int:
        """Forget done notices whose ``traceTime`` is before ``trace_time_before``
        (``"yyyy-MM-dd HH:mm:ss"``, as the center writes it) and refuse, from now on,
        any notice at or before the newest one forgotten; returns how many.

        >>> s = MemoryNoticeStore(); k = NoticeKey("A", "O", "02", "2026-01-01 00:00:00")
        >>> s.complete(s.claim(k)); s.purge("2026-02-01 00:00:00")
        1
        >>> s.claim(k).state
        'stale'
        """
        cutoff = _check_trace_time(trace_time_before)
        with self._lock:
            gone = [k for k, r in self._rows.items() if r[0] == "done" and _TRACE_TIME.fullmatch(k.trace_time)
                    and k.trace_time < cutoff]
            for k in gone:
                del self._rows[k]
                self._purged_through = max(self._purged_through, k.trace_time)
            return len(gone)


def _bad(name: str, rule: str, message: str) -> ValidationError:
    """A typed error for a bad argument (the value itself is not repeated)."""
    return ValidationError([{"field": name, "rule": rule, "message": message}])


# ``traceTime`` as the center writes it; only then are two of them ordered as text.
_TRACE_TIME = re.compile(r"\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}")


def _check_trace_time(value: str) -> str:
    if not isinstance(value, str) or not _TRACE_TIME.fullmatch(value):
        raise _bad("trace_time_before", "format", "is 'yyyy-MM-dd HH:mm:ss'")
    return value


def _is_stale(key: NoticeKey, purged_through: str) -> bool:
    """Whether ``key`` is at or before what a purge forgot. A notice whose traceTime is
    not in the center's format cannot be ordered; it is never called stale (it is signed,
    so a replay carries the same text as the original, which was then kept: purge keeps
    what it cannot order)."""
    return bool(purged_through) and bool(_TRACE_TIME.fullmatch(key.trace_time)) and key.trace_time <= purged_through


def _boot_id() -> str:
    try:
        with open("/proc/sys/kernel/random/boot_id", encoding="ascii") as f:
            return f.read().strip()
    except OSError:
        return ""


def _process_start(pid: int) -> Optional[str]:
    """The start time of process ``pid`` (clock ticks since boot, /proc), to tell it from
    a later process that reused the pid; "" where /proc is absent, None if no such pid."""
    try:
        with open(f"/proc/{pid}/stat", encoding="ascii", errors="replace") as f:
            stat = f.read()
    except FileNotFoundError:
        return None
    except OSError:
        return ""
    # The command name (field 2) may hold spaces and parentheses: split after its last ')'.
    return stat.rsplit(")", 1)[1].split()[19]


def _pid_exists(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True  # someone else's process: it exists
    return True


_HOST = socket.gethostname()


def _pid_namespace() -> str:
    """This process's pid namespace (containers have their own): pids mean something
    only inside one."""
    try:
        return os.readlink("/proc/self/ns/pid")
    except OSError:
        return ""


def _owner() -> str:
    """Who holds a claim: host, boot, pid namespace, pid, the process's start time and
    the thread."""
    pid = os.getpid()
    return "|".join((_HOST, _boot_id(), _pid_namespace(), str(pid), _process_start(pid) or "",
                     str(threading.get_ident())))


def _owner_alive(owner: str) -> bool:
    """Whether the holder ``owner`` (see :func:`_owner`) can still be working. This is
    the notion of a live session for a file store, read from the operating system, never
    from a clock: another host's holder cannot be checked and counts as alive (an SQLite
    file serves one machine); the same host after a reboot, an ended process (or a
    reused pid) or, in this process, an ended thread are dead. A holder in another pid
    namespace (another container on the same host) cannot be checked either: share an
    SQLite file only between processes that see each other's pids."""
    try:
        host, boot, pidns, pid_text, start, thread = owner.split("|")
        pid, thread_id = int(pid_text), int(thread)
    except ValueError:
        return False  # not written by this code: nobody to wait for
    if host != _HOST:
        return True
    if boot and boot != _boot_id():
        return False
    if pidns != _pid_namespace():
        return True  # another container's pids cannot be looked up from here
    if pid == os.getpid():
        return start == (_process_start(pid) or "") and thread_id in _live_thread_ids()
    now_start = _process_start(pid)
    if now_start is None:
        return False
    if now_start == "":
        return _pid_exists(pid)
    return now_start == start


class SQLiteNoticeStore:
    """A :class:`NoticeStore` in an SQLite file, safe across threads and processes of one
    machine (SQLite's locks are not reliable across hosts, e.g. on NFS).

    Rows are ``(app_id, pay_ord_id, call_type, state processing|done, token, owner,
    trace_time, done_at)``. A claim is one ``BEGIN IMMEDIATE`` transaction (the write lock
    is taken before reading, so two workers cannot both see "absent"); the database is in
    WAL mode so readers never wait. A ``processing`` row names its holder (host, boot,
    pid and its start time, thread); a delivery that finds the holder gone (a crash, a
    restart, ``kill -9``) takes the claim over at once, and a live holder is ``busy`` as
    long as it runs: no lease, no clock.

    >>> import tempfile, os
    >>> path = os.path.join(tempfile.mkdtemp(), "notices.sqlite3")
    >>> store = SQLiteNoticeStore(path)
    >>> k = NoticeKey("APP1", "ORD1", "02")
    >>> store.complete(store.claim(k))
    >>> store.claim(k).state
    'done'
    >>> store.close()
    """

    def __init__(self, path: Union[str, "os.PathLike[str]"], *, timeout: float = 30.0,
                 table: str = "medpay_notice_claims"):
        self.path = os.fspath(path)
        if self.path == ":memory:" or self.path.startswith("file::memory:"):
            # Each connection would get its own database: no dedup at all.
            raise _bad("path", "file", "an in-memory SQLite database is per connection; use MemoryNoticeStore")
        if not table.replace("_", "").isalnum():
            raise _bad("table", "identifier", "is letters, digits and '_'")
        self.table = table
        self.timeout = timeout
        self._local = threading.local()
        self._lock = threading.Lock()
        self._conns: list[sqlite3.Connection] = []
        c = self._conn()
        c.execute("PRAGMA journal_mode=WAL")
        # The version lives in a table of its own, "<table>_schema", not in user_version:
        # the file may be the application's, with tables and a user_version of its own.
        self.schema_version = migrate(c, self._migrations(), VersionTable(f"{self.table}_schema"),
                                      path=self.path, what=f"the notice store (table {self.table})")
        # A file written by medpay before appId was part of the key keeps its done notices
        # in ``medpay_notices`` keyed "payOrdId:callType": still read, so a notice processed
        # just before the upgrade and delivered again after it is not processed twice.
        cols = {r[1] for r in c.execute("PRAGMA table_info(medpay_notices)")}
        self._legacy = table != "medpay_notices" and {"key", "state"} <= cols

    def _migrations(self) -> list[Migration]:
        """The schema's steps: step ``i`` takes version ``i`` to ``i + 1``. Version 1 is the
        claims table and the purge mark; a file from before versions were recorded
        (version 0) has them already (``IF NOT EXISTS``). A change of the schema is a new
        step appended here, never an edit of an old one."""
        table = self.table

        def v1(db: sqlite3.Connection) -> None:
            db.execute(
                f"CREATE TABLE IF NOT EXISTS {table} ("
                " app_id TEXT NOT NULL, pay_ord_id TEXT NOT NULL, call_type TEXT NOT NULL,"
                " state TEXT NOT NULL CHECK (state IN ('processing', 'done')),"
                " token TEXT NOT NULL, owner TEXT NOT NULL, trace_time TEXT NOT NULL,"
                " done_at REAL,"
                " PRIMARY KEY (app_id, pay_ord_id, call_type))"
            )
            # What purge forgot: notices at or before it are refused as replays.
            db.execute(f"CREATE TABLE IF NOT EXISTS {table}_purged (id INTEGER PRIMARY KEY CHECK (id = 1),"
                       " through TEXT NOT NULL)")

        return [v1]

    def _conn(self) -> sqlite3.Connection:
        c: Optional[sqlite3.Connection] = getattr(self._local, "conn", None)
        if c is None:
            # One connection per thread; autocommit mode so transactions are explicit.
            c = sqlite3.connect(self.path, timeout=self.timeout, isolation_level=None, check_same_thread=False)
            c.execute(f"PRAGMA busy_timeout={int(self.timeout * 1000)}")
            self._local.conn = c
            with self._lock:
                self._conns.append(c)
        return c

    def claim(self, key: NoticeKey) -> Claim:
        c = self._conn()
        token = uuid.uuid4().hex
        where = "app_id = ? AND pay_ord_id = ? AND call_type = ?"
        ids = (key.app_id, key.pay_ord_id, key.call_type)
        c.execute("BEGIN IMMEDIATE")
        try:
            row = c.execute(f"SELECT state, owner FROM {self.table} WHERE {where}", ids).fetchone()
            if row is None:
                purged = c.execute(f"SELECT through FROM {self.table}_purged").fetchone()
                if _is_stale(key, purged[0] if purged else ""):
                    result = Claim(STALE, key)
                elif self._legacy and c.execute(
                    "SELECT 1 FROM medpay_notices WHERE key = ? AND state = 'done'",
                    (f"{key.pay_ord_id}:{key.call_type}",),
                ).fetchone():
                    result = Claim(DONE, key)
                else:
                    c.execute(
                        f"INSERT INTO {self.table} (app_id, pay_ord_id, call_type, state, token, owner, trace_time)"
                        " VALUES (?, ?, ?, 'processing', ?, ?, ?)",
                        (*ids, token, _owner(), key.trace_time),
                    )
                    result = Claim(CLAIMED, key, token)
            elif row[0] == "done":
                result = Claim(DONE, key)
            elif _owner_alive(row[1]):
                result = Claim(BUSY, key)
            else:
                log.warning("6302 %s: taking over the claim of a worker that is gone", key)
                c.execute(f"UPDATE {self.table} SET token = ?, owner = ? WHERE {where} AND state = 'processing'",
                          (token, _owner(), *ids))
                result = Claim(CLAIMED, key, token)
            c.execute("COMMIT")
            return result
        except BaseException:
            c.execute("ROLLBACK")
            raise

    def complete(self, claim: Claim) -> None:
        key = claim.key
        assert key is not None and claim.token is not None
        # An upsert: the work is done, whoever holds the row now.
        self._conn().execute(
            f"INSERT INTO {self.table} (app_id, pay_ord_id, call_type, state, token, owner, trace_time, done_at)"
            " VALUES (?, ?, ?, 'done', ?, '', ?, ?)"
            " ON CONFLICT(app_id, pay_ord_id, call_type) DO UPDATE SET state = 'done', done_at = excluded.done_at",
            (key.app_id, key.pay_ord_id, key.call_type, claim.token, key.trace_time, time.time()),
        )

    def release(self, claim: Claim) -> None:
        key = claim.key
        assert key is not None
        self._conn().execute(
            f"DELETE FROM {self.table} WHERE app_id = ? AND pay_ord_id = ? AND call_type = ?"
            " AND state = 'processing' AND token = ?",
            (key.app_id, key.pay_ord_id, key.call_type, claim.token),
        )

    def purge(self, trace_time_before: str) -> int:
        """Forget done notices whose ``traceTime`` is before ``trace_time_before``
        (``"yyyy-MM-dd HH:mm:ss"``) and remember the newest one forgotten: from then on a
        notice at or before it is refused (``stale``, never passed to ``on_notice``), so
        a replayed old notice is not processed again. Notices whose traceTime is not in
        that format are kept. Returns how many were forgotten.

        >>> # store.purge("2026-08-01 00:00:00")   # keep the last few months
        """
        cutoff = _check_trace_time(trace_time_before)
        c = self._conn()
        fmt = "[0-9][0-9][0-9][0-9]-[0-9][0-9]-[0-9][0-9] [0-9][0-9]:[0-9][0-9]:[0-9][0-9]"
        c.execute("BEGIN IMMEDIATE")
        try:
            newest = c.execute(
                f"SELECT max(trace_time), count(*) FROM {self.table}"
                " WHERE state = 'done' AND trace_time GLOB ? AND trace_time < ?", (fmt, cutoff)).fetchone()
            if newest[1]:
                c.execute(f"INSERT INTO {self.table}_purged (id, through) VALUES (1, ?)"
                          " ON CONFLICT(id) DO UPDATE SET through = max(through, excluded.through)", (newest[0],))
                c.execute(f"DELETE FROM {self.table} WHERE state = 'done' AND trace_time GLOB ? AND trace_time < ?",
                          (fmt, cutoff))
            c.execute("COMMIT")
        except BaseException:
            c.execute("ROLLBACK")
            raise
        return int(newest[1])

    def close(self) -> None:
        with self._lock:
            conns, self._conns = self._conns, []
        for c in conns:
            c.close()
        self._local = threading.local()


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

CodecArg = Union[EnvelopeCodec, Credentials, Mapping[str, Union[EnvelopeCodec, Credentials]], Institutions]


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
    found = _codecs_by_app_id(codecs)
    only = found.only()
    if app_id is None and only is not None:
        return only
    return found.codec(app_id)


#: Members that make a body an envelope; a plain notice may also be the table-20 fields
#: alone, at the top level.
_ENVELOPE_DATA = ("encData", "data", "signData")

#: Members only an *answer* envelope carries (the center's reply to one of our requests,
#: e.g. 6301's, is packed with code/message/success; the 6302 notice is a request and has
#: none). A signed 6301 answer of a paid order holds every table-20 field, callType 02
#: included, so without this check it would pass for a notice: anyone who saw one could
#: post it to us.
_ANSWER_MEMBERS = ("code", "message", "success", "msg")

#: Fields of the 6301 answer (table 275) that table 20 does not have.
_ANSWER_DATA = ("ordStas",)


def _open_notice(body: bytes, codecs: CodecArg, allow_plain: bool) -> tuple[Any, bool, str]:
    """The notice's data, whether it was signed, and its appId."""
    doc = read_json_object(body)
    if any(k in doc for k in _ANSWER_MEMBERS):
        raise _NotANotice("an answer envelope (code/message/success), not a 6302 notice")
    if not any(k in doc for k in _ENVELOPE_DATA):
        if not allow_plain:
            raise SignatureError("unsigned notice refused (plain notices are not allowed)")
        return doc, False, _app_id_of(doc, codecs)  # the table-20 fields at the top level
    # A signature that is there is always verified, even when plain notices are allowed.
    codec = _pick_codec(codecs, doc.get("appId"))
    msg = codec.unpack(body, require_signature=not allow_plain)
    # Signed: the appId whose key verified it; the sender cannot choose another's.
    return msg.data, msg.signed, codec.credentials.app_id


def _app_id_of(doc: Mapping[str, Any], codecs: CodecArg) -> str:
    app_id = doc.get("appId")
    if isinstance(app_id, str) and app_id:
        return app_id
    only = _codecs_by_app_id(codecs).only()
    return only.credentials.app_id if only is not None else ""


class _NotANotice(EnvelopeError):
    """A well-formed message of another kind (an answer), refused as a notice."""


def _release(store: NoticeStore, claim: Claim) -> None:
    try:
        store.release(claim)
    except Exception:
        # The claim then stays 'processing' while this worker lives; once it is gone the
        # next delivery takes the claim over. Nothing is lost, only delayed.
        log.exception("6302 %s: could not release the claim", claim.key)


#: What ``on_notice`` is: ``on_notice(notice)``, or with a transactional store
#: (``store.passes_transaction``) ``on_notice(notice, tx)``.
OnNotice = Callable[..., object]


def handle_settlement_notice(
    body: bytes,
    codec: CodecArg,
    on_notice: OnNotice,
    *,
    store: NoticeStore,
    allow_plain: bool = False,
    reply_form: ReplyForm = "nested",
) -> bytes:
    """Handle one 6302 delivery; returns the reply body to send back (HTTP 200).

    ``codec`` is ours: an EnvelopeCodec or Credentials, a list or a mapping appId -> codec
    of them, or a resolver (as :func:`~medpay_core.asgi.create_app` takes); ``on_notice`` gets the
    validated SettlementNotice and records the settlement; it should return normally
    (``False`` or an exception means "not processed, deliver again"). ``store``
    remembers processed notices, keyed by appId + payOrdId + callType (required: a
    default in memory would process every old notice again after a restart):
    :class:`SQLiteNoticeStore` for one machine,
    :class:`~medpay_core.notice_store_pg.PostgresNoticeStore` for several, where
    ``on_notice(notice, conn)`` writes in the transaction that marks the notice done.
    ``reply_form`` is the form your center reads, ``"nested"`` (default) or ``"flat"``
    (see :func:`settlement_reply`). A notice whose ``callType`` is not ``02``, or a
    message that is not a notice (a center's answer to 6301, signed or not), is answered
    success=false and never reaches ``on_notice``.

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
    if store is None:
        raise _bad("store", "required", "a NoticeStore is required (SQLiteNoticeStore, PostgresNoticeStore)")
    check_reply_form(reply_form)
    transactional = bool(getattr(store, "passes_transaction", False))

    def reply(success: bool, message: str) -> bytes:
        return settlement_reply(success, message, reply_form=reply_form)

    try:
        data, signed, app_id = _open_notice(body, codec, allow_plain)
        if not isinstance(data, dict):
            raise EnvelopeError("the notice carries no data object")
        if any(k in data for k in _ANSWER_DATA):
            raise _NotANotice("6301 answer data (ordStas), not a 6302 notice")
        notice = validate(SettlementNotice, data)
    except ValidationError as e:
        # Field names and rules only: the values are a patient's data.
        log.warning("6302 notice refused: invalid %s", [(x.get("field"), x.get("rule")) for x in e.errors])
        if any(x.get("field") == "callType" for x in e.errors):
            # The model holds the rule (callType 02 only); say plainly which one failed.
            return reply(False, "callType 须为 02（仅支付成功回调），此通知未处理")
        return reply(False, "通知数据不合规")
    except _NotANotice as e:
        log.warning("6302 notice refused: %s", e)
        return reply(False, "报文不是结算通知")
    except (SignatureError, DecryptError, EnvelopeError) as e:
        log.warning("6302 notice refused: %s: %s", type(e).__name__, e)
        return reply(False, "验签或解密失败" if not isinstance(e, EnvelopeError) else "报文格式错误")
    key = NoticeKey(app_id, notice.pay_ord_id, notice.call_type, notice.trace_time)
    try:
        claim = store.claim(key)
    except Exception:
        # The store is down or locked: not processed, so ask for the notice again.
        log.exception("6302 %s: the notice store failed", key)
        return reply(False, "系统繁忙，请稍后重发")
    if claim.state == DONE:
        log.info("6302 %s: duplicate, already processed", key)
        return reply(True, "已处理")
    if claim.state == BUSY:
        log.info("6302 %s: being processed by another worker", key)
        return reply(False, "处理中，请稍后重发")
    if claim.state == STALE:
        # Older than what the store purged: a replay (the center stopped retrying long ago).
        log.warning("6302 %s: older than the purged notices, refused as a replay", key)
        return reply(False, "通知已过期，未处理")
    try:
        result = on_notice(notice, claim.tx) if transactional else on_notice(notice)
    except Exception:
        log.exception("6302 %s: on_notice failed; released for redelivery", key)
        _release(store, claim)
        return reply(False, "院内处理回调失败")
    if result is False:
        _release(store, claim)
        return reply(False, "院内处理回调失败")
    try:
        store.complete(claim)
    except Exception:
        if transactional:
            # The effect was in the same transaction: it did not commit either, so
            # asking for the notice again is right.
            log.exception("6302 %s: the transaction did not commit; asking for redelivery", key)
            _release(store, claim)
            return reply(False, "系统繁忙，请稍后重发")
        # The work is done; answering false would make the center deliver it again
        # and run on_notice twice. The claim stays 'processing' until this worker is gone.
        log.exception("6302 %s: processed, but the store could not record it", key)
    log.info("6302 %s processed (signed=%s)", key, signed)
    return reply(True, "院内处理回调成功")


# -- 6204 ------------------------------------------------------------------------------------

#: What the receiving side, the cashier and the voucher take for "our keys".
def decode_order_sync(
    query: Mapping[str, str],
    credentials_by_app_id: Union[CredentialsLike, Mapping[str, CredentialsLike], Institutions],
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
    codec = _codecs_by_app_id(credentials_by_app_id).codec(app_id)
    data = codec.decrypt_data(enc.strip())
    if not isinstance(data, dict):
        raise DecryptError("encData is not a JSON object")
    return validate(OrderSyncNotice, data)


def _codecs_by_app_id(codec_or_codecs: Any) -> Institutions:
    """One codec/credentials, a list or a mapping of them, a resolver function
    (appId -> credentials or None) or Institutions -> Institutions."""
    if isinstance(codec_or_codecs, Institutions):
        return codec_or_codecs
    if isinstance(codec_or_codecs, (EnvelopeCodec, Credentials)):
        items = [as_codec(codec_or_codecs)]
    elif isinstance(codec_or_codecs, Mapping):
        items = [as_codec(c) for c in codec_or_codecs.values()]
    elif callable(codec_or_codecs):
        return Institutions(codec_or_codecs)
    else:
        items = [as_codec(c) for c in codec_or_codecs]
    if not items:
        raise ValueError("at least one codec")
    return Institutions({c.credentials.app_id: c for c in items})

