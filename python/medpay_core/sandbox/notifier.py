"""Delivery of the 6302 settlement notices from the outbox table.

One thread posts each PENDING notice to the institution's ``notifyUrl`` until the reply
says ``success`` true (``data.success`` in the nested form, ``success`` in the flat one;
both are read), waiting ``NotifyPolicy.delay_after(n)`` between attempts; after
``maxAttempts`` posts the notice is FAILED (shown by 6301's ``extData.notice`` and the
event log). A notice is marked DELIVERED only after the institution said so, so after a
crash between its "yes" and our commit it is posted again: delivery is at least once,
as the spec warns institutions ("the same notification can arrive more than once").
Only one sandbox may serve a database, which the store enforces (a lock on ``<db>.lock``),
so two workers never post the same notice.
"""

from __future__ import annotations

import json
import logging
import threading
import time
from decimal import Decimal
from typing import Any, Optional

import httpx

from .._native import EnvelopeCodec
from ..callbacks import read_json_object
from ..errors import MedpayError
from .center import Center, Event, _stamp, now_china

log = logging.getLogger("medpay.sandbox")

# The longest a sleeping notifier goes without looking at the table (in case a row
# appeared without a wake-up, e.g. written by an earlier process).
_MAX_IDLE = 1.0


def reply_success(body: bytes, codec: Optional[EnvelopeCodec] = None) -> tuple[bool, str]:
    """Read the institution's answer to a notice, in either form institutions use:
    nested ``{"code":"0","msg":...,"data":{"success":true,"message":...}}`` or flat
    ``{"success":true,"message":...}`` (table 277 alone). An answer sent as a signed
    envelope (``encData``) is opened by ``codec`` (the center's codec for that
    institution; without one it is not acknowledged). The body is read by the native
    core's parser, so duplicate keys, NaN or deep nesting are "not acknowledged" too.
    Anything but ``success`` true, in any form, means "deliver again".

    >>> reply_success(b'{"success":false,"message":"busy"}')
    (False, 'institution answered success=False: busy')
    >>> reply_success(b'{"success":false,"success":true}')[0]
    False
    """
    try:
        doc = read_json_object(body)
    except MedpayError as e:
        return False, f"reply is not a JSON object: {e}"
    data = doc.get("data")
    if data is None and "encData" in doc:
        if codec is None:
            return False, "reply is an envelope, and no codec was given to open it"
        try:
            data = codec.unpack(body).data
        except MedpayError as e:
            return False, f"reply envelope rejected: {type(e).__name__}: {e}"
    elif data is None and "success" in doc:
        data = doc  # the flat form
    if not isinstance(data, dict):
        return False, "reply has no data object and no success field"
    ok = data.get("success")
    if ok is True or (isinstance(ok, str) and ok.strip().lower() == "true"):
        return True, str(data.get("message") or "")
    return False, f"institution answered success={ok!r}: {data.get('message') or doc.get('msg') or ''}"


class Notifier:
    """The outbox worker. ``start()`` runs it in a daemon thread; ``wake()`` makes it
    look at the table now (called after each payment)."""

    def __init__(self, center: Center, *, client: Optional[httpx.Client] = None):
        self.center = center
        self.policy = center.config.notify
        self._client = client
        self._wake = threading.Event()
        self._stop = threading.Event()
        self._thread: Optional[threading.Thread] = None

    def start(self) -> None:
        """Start the thread; PENDING notices left by an earlier process are due at once."""
        if self._thread is not None:
            return
        with self.center.store.transaction() as db:
            db.execute("UPDATE notices SET next_attempt_at = 0 WHERE status = 'PENDING'")
        self._stop.clear()
        self._thread = threading.Thread(target=self._run, name="medpay-sandbox-notifier", daemon=True)
        self._thread.start()

    def wake(self) -> None:
        """Look at the outbox now (a notice was just queued)."""
        self._wake.set()

    def stop(self, timeout: float = 10.0) -> None:
        """Stop after the post in progress, if any."""
        self._stop.set()
        self._wake.set()
        if self._thread is not None:
            self._thread.join(timeout)
            self._thread = None

    def _run(self) -> None:
        client = self._client or httpx.Client(timeout=self.policy.timeout, trust_env=False)
        try:
            while not self._stop.is_set():
                self._wake.clear()
                try:
                    wait = self.run_due(client)
                except Exception:  # keep the worker alive; the row stays PENDING
                    log.exception("notifier pass failed")
                    wait = _MAX_IDLE
                self._wake.wait(min(wait, _MAX_IDLE))
        finally:
            if self._client is None:
                client.close()

    def run_due(self, client: httpx.Client) -> float:
        """Post every due notice once; return seconds until the next one is due."""
        db = self.center.store.read()
        now = time.time()
        rows = db.execute(
            "SELECT pay_ord_id, app_id, payload_json, attempts FROM notices "
            "WHERE status = 'PENDING' AND next_attempt_at <= ? ORDER BY next_attempt_at, pay_ord_id",
            (now,),
        ).fetchall()
        for r in rows:
            if self._stop.is_set():
                break
            self.deliver(client, r["pay_ord_id"], r["app_id"], r["payload_json"], r["attempts"])
        nxt = db.execute("SELECT MIN(next_attempt_at) FROM notices WHERE status = 'PENDING'").fetchone()[0]
        return _MAX_IDLE if nxt is None else max(0.0, nxt - time.time())

    def deliver(self, client: httpx.Client, pay_ord_id: str, app_id: str, payload_json: str, attempts: int) -> bool:
        """One post of one notice, and its outcome recorded."""
        center = self.center
        inst = center.config.institution(app_id)
        attempt = attempts + 1
        if inst is None:
            ok, why = False, f"appId {app_id} is no longer configured"
        else:
            notice = center.notice_from_row(payload_json)
            try:
                if inst.plain_notify:
                    body = dumps_plain(notice)
                else:
                    body = inst.codec(center.config.private_key).pack_json(notice)
                center.emit("6302.sent", pay_ord_id, attempt=attempt, url=inst.notify_url,
                            form="plain" if inst.plain_notify else "signed+encrypted")
                resp = client.post(inst.notify_url, content=body,
                                   headers={"Content-Type": "application/json; charset=utf-8"})
                if resp.status_code // 100 != 2:
                    ok, why = False, f"HTTP {resp.status_code}"
                else:
                    ok, why = reply_success(resp.content, inst.codec(center.config.private_key))
            except httpx.HTTPError as e:
                ok, why = False, f"{type(e).__name__}: {e}"
        pending: list[Event] = []
        with center.store.transaction() as db:
            if ok:
                db.execute(
                    "UPDATE notices SET status = 'DELIVERED', attempts = ?, delivered_at = ?, last_error = NULL "
                    "WHERE pay_ord_id = ? AND status = 'PENDING'",
                    (attempt, _stamp(now_china()), pay_ord_id),
                )
                center._event(db, pending, "6302.acknowledged", pay_ord_id, attempt=attempt, message=why)
            elif attempt >= self.policy.max_attempts:
                db.execute(
                    "UPDATE notices SET status = 'FAILED', attempts = ?, last_error = ? "
                    "WHERE pay_ord_id = ? AND status = 'PENDING'",
                    (attempt, why, pay_ord_id),
                )
                center._event(db, pending, "6302.failed", pay_ord_id, attempt=attempt, error=why)
            else:
                delay = self.policy.delay_after(attempt)
                db.execute(
                    "UPDATE notices SET attempts = ?, last_error = ?, next_attempt_at = ? "
                    "WHERE pay_ord_id = ? AND status = 'PENDING'",
                    (attempt, why, time.time() + delay, pay_ord_id),
                )
                center._event(db, pending, "6302.retry", pay_ord_id, attempt=attempt, error=why, delay=delay)
        center._fire(pending)
        return ok

    def retry(self, pay_ord_id: str) -> bool:
        """Put a FAILED notice back in the queue (attempts restart). True if there was one."""
        with self.center.store.transaction() as db:
            n = db.execute(
                "UPDATE notices SET status = 'PENDING', attempts = 0, next_attempt_at = 0 "
                "WHERE pay_ord_id = ? AND status = 'FAILED'",
                (pay_ord_id,),
            ).rowcount
        self.wake()
        return n == 1


def dumps_plain(notice: dict[str, Any]) -> bytes:
    """The plain (unsigned, unencrypted) form of a notice: its fields as compact JSON,
    amounts (the ``Decimal`` values) as JSON numbers with their 2 decimals.

    >>> dumps_plain({"payOrdId": "ORD1", "feeSumamt": Decimal("12.30")})
    b'{"payOrdId":"ORD1","feeSumamt":12.30}'
    """
    # json cannot write a Decimal as a number; write each as a placeholder string and
    # swap the quotes away, so "12.30" stays 12.30 and never passes through a float.
    marked = {k: (f"\x00{v}\x00" if isinstance(v, Decimal) else v) for k, v in notice.items()}
    text = json.dumps(marked, ensure_ascii=False, separators=(",", ":"))
    return text.replace('"\\u0000', "").replace('\\u0000"', "").encode("utf-8")
