"""The payment center's business rules, independent of HTTP.

``Center.handle(code, institution, data)`` takes a verified, decrypted request and
returns the response's ``data`` or raises :class:`~.codes.SandboxError`. Each state
change (upload, payment, refund, revocation) is one SQLite transaction that also
writes the event log and, for a payment, the 6302 notice to send (the outbox).

Order states (column ``status``) and the ``ordStas`` the sandbox reports (the labels
are those of :data:`medpay_core.client.ORD_STAS`, the one copy of the dictionary):

=========  ========  ===========================================================
status     ordStas   when
=========  ========  ===========================================================
UNPAID     0         uploaded (6201), not paid yet: "saved", in progress
PAID       6         paid (6202 or the cashier page): settled
PAID       7         everything refunded
PAID       8         insurance parts refunded in full, cash not
PAID       9         cash refunded in full, insurance not
PAID       10        cash refunded in part, insurance not
PAID       11        insurance in full and cash in part
REVOKED    12        revoked by 6401 (only an order not paid yet can be)
=========  ========  ===========================================================

A partial refund of the insurance parts keeps ``6``: the dictionary has no value for it.
The sandbox pays in one step and its payments do not fail, so it never reports 1-5 (the
parts on the way to 6), 13 or the failures 14-16.
"""

from __future__ import annotations

import datetime as _dt
import hashlib
import json
import logging
import secrets
import threading
from dataclasses import dataclass
from decimal import Decimal
from typing import Any, Callable, Optional, cast
from urllib.parse import quote, urlencode

from .codes import (
    ALREADY_PAID,
    AUTH_REFUSED,
    DUPLICATE_KEY,
    FIELD_MISMATCH,
    NOT_PAID,
    ORDER_EXPIRED,
    ORDER_NOT_FOUND,
    OTHER_INSTITUTION,
    OVER_REFUND,
    PAID_CANNOT_REVOKE,
    REFUND_INCONSISTENT,
    REVOKED,
    TOKEN_MISMATCH,
    UNKNOWN_ENDPOINT,
    SandboxError,
)
from ..models import OrderSyncNotice, SettlementNotice, Transaction
from .config import Institution, SandboxConfig
from .split import ZERO, Split, split_amount, to_cents
from ..ids import BEIJING, beijing_now, compact_date_text, compact_time_text, datetime_text
from ..masking import masked
from .store import Store, dumps
from .validation import outgoing, validate_request

log = logging.getLogger("medpay.sandbox")

CALL_TYPE_PAID = "02"  # 6302/6301 callType: "固定传 02，目前仅支付成功回调"
# 6301 needs a callType for an order not paid yet; the dictionary is not printed in the
# spec, so the sandbox says "00": no callback has happened.
CALL_TYPE_NONE = "00"

#: Event callback: (kind, payOrdId or None, detail dict).
EventHook = Callable[[str, Optional[str], dict[str, Any]], None]
#: An event of the log, fired after its commit: (kind, payOrdId or None, detail).
Event = tuple[str, Optional[str], dict[str, Any]]
#: A Center method serving one transaction: (institution, validated wire data) -> answer data.
Handler = Callable[..., dict[str, Any]]


#: The request fields that must repeat the fee upload's, per transaction: the notes of the
#: tables say "与费用上传一致" (6202 table 8: chrgBchno, feeType, mdtrtId); orgCodg and the
#: person (idNo, userName, idType) name the order's institution and patient. payOrdId and
#: payToken ("费用上传返回", 6301 "与费用上传时一致") are checked when the order is loaded.
AS_UPLOADED: dict[str, tuple[str, ...]] = {
    "6202": ("orgCodg", "chrgBchno", "feeType", "mdtrtId"),
    "6205": ("orgCodg",),
    "6301": ("orgCodg", "idNo", "userName", "idType"),
    "6401": ("orgCodg", "idNo", "userName", "idType"),
}


def now_china() -> _dt.datetime:
    """The center's clock: Beijing time, as the spec's times are, whatever the machine's
    time zone (:func:`medpay_core.ids.beijing_now`)."""
    return beijing_now()


def _stamp(t: _dt.datetime) -> str:
    return datetime_text(t)


def request_hash(data: dict[str, Any]) -> str:
    """A digest of a request's content, for "same key, same payload?" checks."""
    return hashlib.sha256(dumps(data).encode()).hexdigest()


def _dec(v: Any) -> Decimal:
    if v is None or v == "":
        return ZERO
    return to_cents(v)


def _paid_amounts(order: "Order") -> dict[str, Any]:
    """The split of a paid order as 6202's answer (table 10) and 6204 (table 13) give it."""
    s = order.split
    out: dict[str, Any] = {"feeSumamt": order.total, "ownPayAmt": s.cash, "psnAcctPay": s.acct,
                           "fundPay": s.fund, "othFeeAmt": s.other}
    if order.deposit is not None:
        out["deposit"] = order.deposit
    return out


@dataclass
class Order:
    """A row of ``orders``, amounts as Decimal."""

    pay_ord_id: str
    app_id: str
    pay_token: str
    status: str
    upload: dict[str, Any]
    split: Split
    deposit: Optional[Decimal]
    created_at: str
    paid_at: Optional[str]
    payment: Optional[dict[str, Any]]
    revoked_at: Optional[str]
    refunded: dict[str, Decimal]

    @classmethod
    def from_row(cls, r: Any) -> "Order":
        """An order from its ``orders`` row."""
        return cls(
            pay_ord_id=r["pay_ord_id"],
            app_id=r["app_id"],
            pay_token=r["pay_token"],
            status=r["status"],
            upload=json.loads(r["upload_json"]),
            split=Split(Decimal(r["fund"]), Decimal(r["acct"]), Decimal(r["other"]), Decimal(r["cash"])),
            deposit=Decimal(r["deposit"]) if r["deposit"] is not None else None,
            created_at=r["created_at"],
            paid_at=r["paid_at"],
            payment=json.loads(r["payment_json"]) if r["payment_json"] else None,
            revoked_at=r["revoked_at"],
            refunded={
                "fund": Decimal(r["refunded_fund"]),
                "acct": Decimal(r["refunded_acct"]),
                "cash": Decimal(r["refunded_cash"]),
            },
        )

    @property
    def total(self) -> Decimal:
        """The order's total (medfeeSumamt)."""
        return self.split.total

    def ord_stas(self) -> str:
        """The ``ordStas`` dictionary value of this order (see the module doc)."""
        if self.status == "UNPAID":
            return "0"
        if self.status == "REVOKED":
            return "12"
        s, r = self.split, self.refunded
        hi_paid, hi_back = s.fund + s.acct, r["fund"] + r["acct"]
        if hi_back + r["cash"] == 0:
            return "6"
        if hi_back == hi_paid and r["cash"] == s.cash:
            return "7"
        hi_full = hi_paid > 0 and hi_back == hi_paid
        cash_part = 0 < r["cash"] < s.cash
        if hi_full and r["cash"] == 0:
            return "8"
        if hi_back == 0 and s.cash > 0 and r["cash"] == s.cash:
            return "9"
        if hi_back == 0 and cash_part:
            return "10"
        if hi_full and cash_part:
            return "11"
        return "6"


class Center:
    """The center's side of every transaction, on a :class:`Store`."""

    def __init__(self, config: SandboxConfig, store: Store, *, on_event: Optional[EventHook] = None):
        self.config = config
        self.store = store
        self.on_event = on_event
        self._hooks_lock = threading.Lock()
        #: Called after a commit that queued a notice (the notifier wakes up).
        self.on_notice_queued: Optional[Callable[[], None]] = None

    # ----------------------------------------------------------------------------- util

    def _event(self, db: Any, pending: list[Event], kind: str, pay_ord_id: Optional[str], **detail: Any) -> None:
        # Events are logged, stored and shown at /sandbox/events: personal data masked.
        detail = masked(detail)
        db.execute(
            "INSERT INTO events(at, kind, pay_ord_id, detail) VALUES (?, ?, ?, ?)",
            (_stamp(now_china()), kind, pay_ord_id, dumps(detail)),
        )
        pending.append((kind, pay_ord_id, detail))

    def _fire(self, pending: list[Event]) -> None:
        # Hooks run after the commit, so nobody hears of a change that was rolled back.
        for kind, pay_ord_id, detail in pending:
            log.info("%s %s %s", kind, pay_ord_id or "-", dumps(detail))
            if self.on_event is not None:
                try:
                    self.on_event(kind, pay_ord_id, detail)
                except Exception:  # a broken observer must not break the center
                    log.exception("event hook failed")

    def emit(self, kind: str, pay_ord_id: Optional[str] = None, **detail: Any) -> None:
        """Log an event that changes no state (e.g. a refused request)."""
        pending: list[Event] = []
        with self.store.transaction() as db:
            self._event(db, pending, kind, pay_ord_id, **detail)
        self._fire(pending)

    def _new_id(self, db: Any, prefix: str, counter: str) -> str:
        n = self.store.next_number(db, counter)
        return f"{prefix}{now_china():%Y%m%d%H%M%S}{n:010d}"

    def get_order(self, pay_ord_id: str) -> Optional[Order]:
        """The order, or None."""
        r = self.store.read().execute("SELECT * FROM orders WHERE pay_ord_id = ?", (pay_ord_id,)).fetchone()
        return Order.from_row(r) if r else None

    def _load(self, db: Any, inst: Institution, pay_ord_id: Any, pay_token: Any = None) -> Order:
        r = db.execute("SELECT * FROM orders WHERE pay_ord_id = ?", (str(pay_ord_id),)).fetchone()
        if r is None:
            raise SandboxError(ORDER_NOT_FOUND, f"no order {pay_ord_id}")
        order = Order.from_row(r)
        if order.app_id != inst.app_id:
            raise SandboxError(OTHER_INSTITUTION, f"order {pay_ord_id} was not uploaded with appId {inst.app_id}")
        if pay_token is not None and not secrets.compare_digest(str(pay_token), order.pay_token):
            raise SandboxError(TOKEN_MISMATCH, f"payToken: must be the payToken the fee upload (6201) returned "
                                               f"for order {pay_ord_id} (与费用上传时一致)")
        return order

    def is_expired(self, order: Order) -> bool:
        """Whether ``order`` is unpaid past ``orderTtlMinutes`` after its fee upload."""
        ttl = self.config.order_ttl_minutes
        if not ttl or order.status != "UNPAID":
            return False
        created = _dt.datetime.strptime(order.created_at, "%Y-%m-%d %H:%M:%S").replace(tzinfo=BEIJING)
        return now_china() - created > _dt.timedelta(minutes=ttl)

    def _check_payable(self, order: Order) -> None:
        if self.is_expired(order):
            raise SandboxError(ORDER_EXPIRED, f"order {order.pay_ord_id} expired unpaid: uploaded {order.created_at}, "
                                              f"orderTtlMinutes is {self.config.order_ttl_minutes:g}")

    @staticmethod
    def _same(order: Order, data: dict[str, Any], code: str) -> None:
        """The fields of ``AS_UPLOADED[code]`` equal to the fee upload's; a refusal names
        the field and the rule. A field the upload did not carry (mdtrtId is optional in
        6201) has no value to repeat and is not compared."""
        for f in AS_UPLOADED[code]:
            if f not in order.upload or order.upload[f] in (None, ""):
                continue
            if data.get(f) in (None, "") or str(data[f]) != str(order.upload[f]):
                # Neither value is repeated: one is the stored idNo or name of a patient.
                raise SandboxError(FIELD_MISMATCH, f"{f}: differs from the fee upload's {f} of order "
                                                   f"{order.pay_ord_id} ({code}: must be as uploaded, 与费用上传一致)")

    def _check_auth(self, db: Any, pay_auth_no: Any, order: Optional[Order]) -> None:
        if pay_auth_no is None or str(pay_auth_no).strip() == "":
            raise SandboxError(AUTH_REFUSED, "payAuthNo is empty")
        if not self.config.strict_auth:
            return
        r = db.execute("SELECT person_json FROM vouchers WHERE pay_auth_no = ?", (str(pay_auth_no),)).fetchone()
        if r is None:
            raise SandboxError(
                AUTH_REFUSED, "payAuthNo was not issued by this sandbox (strictAuth: get one from /sandbox/voucher)"
            )
        person = json.loads(r["person_json"])
        if order is not None and person.get("idNo") and person["idNo"] != order.upload.get("idNo"):
            raise SandboxError(AUTH_REFUSED, "payAuthNo belongs to another person than the order's")

    def cashier_url(self, base_url: str, pay_ord_id: str) -> str:
        """The cashier page of an order: the institution appends ``&chnlAppId=…&chnlEncData=…``."""
        base = (self.config.public_url or base_url).rstrip("/")
        return f"{base}/sandbox/cashier?{urlencode({'payOrdId': pay_ord_id})}"

    # ------------------------------------------------------------------------ dispatch

    def handler(self, tx: Transaction) -> Handler:
        """The method serving ``tx``: the one named like the client's method that sends it
        (``models.TRANSACTIONS[code].method``: ``upload_fees`` serves 6201), so the
        transaction table is the only list of what the sandbox serves."""
        method = getattr(self, tx.method or "", None) if tx.response is not None else None
        if not callable(method):
            raise SandboxError(UNKNOWN_ENDPOINT, f"{tx.code} {tx.path} is not served by the sandbox")
        return cast(Handler, method)

    def handle(self, tx: Transaction, inst: Institution, data: Any, *, base_url: str) -> dict[str, Any]:
        """Serve one request; ``data`` is the decrypted request data."""
        handler = self.handler(tx)
        out = handler(inst, validate_request(tx.code, data), base_url=base_url)
        assert tx.response is not None  # handler() serves only transactions with an answer
        return outgoing(tx.response, out)

    # ------------------------------------------------------------------------- 6201

    def upload_fees(self, inst: Institution, d: dict[str, Any], *, base_url: str) -> dict[str, Any]:
        """6201: create an unpaid order, or return the one already made for this key."""
        if inst.org_codg and str(d.get("orgCodg")) != inst.org_codg:
            raise SandboxError(FIELD_MISMATCH, f"orgCodg {d.get('orgCodg')!r} is not this appId's institution")
        total = _dec(d.get("medfeeSumamt"))
        if d.get("payAuthNo") and self.config.strict_auth:
            with self.store.transaction() as db:
                self._check_auth(db, d["payAuthNo"], None)
        # The spec gives 6201 no request serial: the hospital's own order number keys the
        # upload (one live order per medOrgOrd and institution).
        biz_key = str(d["medOrgOrd"])
        digest = request_hash(d)
        split = split_amount(total, self.config.ratios, acct_used=str(d.get("acctUsedFlag", "1")) != "0")
        pending: list[Event] = []
        with self.store.transaction() as db:
            key = db.execute(
                "SELECT pay_ord_id, req_hash FROM upload_keys WHERE app_id = ? AND biz_key = ?",
                (inst.app_id, biz_key),
            ).fetchone()
            order = None
            if key is not None:
                order = self._load(db, inst, key["pay_ord_id"])
                if order.status == "REVOKED":
                    # The spec's way to change a prescription: revoke, then upload again.
                    db.execute("DELETE FROM upload_keys WHERE app_id = ? AND biz_key = ?", (inst.app_id, biz_key))
                    order = None
                elif key["req_hash"] != digest:
                    raise SandboxError(
                        DUPLICATE_KEY,
                        f"upload {biz_key} was already made with other content (order {order.pay_ord_id}); "
                        "revoke it (6401) before uploading a changed one",
                    )
                else:
                    self._event(db, pending, "6201.replayed", order.pay_ord_id, key=biz_key)
            if order is None:
                pay_ord_id = self._new_id(db, "ord", "order")
                token = secrets.token_hex(16)
                db.execute(
                    "INSERT INTO orders(pay_ord_id, app_id, pay_token, status, upload_json, total, fund, acct, "
                    "other, cash, created_at) VALUES (?, ?, ?, 'UNPAID', ?, ?, ?, ?, ?, ?, ?)",
                    (pay_ord_id, inst.app_id, token, dumps(d), str(total), str(split.fund), str(split.acct),
                     str(split.other), str(split.cash), _stamp(now_china())),
                )
                db.execute(
                    "INSERT INTO upload_keys(app_id, biz_key, pay_ord_id, req_hash) VALUES (?, ?, ?, ?)",
                    (inst.app_id, biz_key, pay_ord_id, digest),
                )
                self._event(db, pending, "6201.uploaded", pay_ord_id, medOrgOrd=d.get("medOrgOrd"),
                            total=str(total), appId=inst.app_id)
                order = self._load(db, inst, pay_ord_id)
        self._fire(pending)
        return {
            "payOrdId": order.pay_ord_id,
            "payToken": order.pay_token,
            "cashierUrl": self.cashier_url(base_url, order.pay_ord_id),
        }

    # ------------------------------------------------------------------------- 6202

    def _settle(self, db: Any, pending: list[Event], inst: Institution, order: Order, *, pay_auth_no: str,
                deposit: Any, acct_used_flag: Any, org_biz_ser: str, channel: str) -> Order:
        """Pay an UNPAID order and queue its 6302 notice, inside the caller's transaction."""
        acct_flag = acct_used_flag if acct_used_flag not in (None, "") else order.upload.get("acctUsedFlag", "1")
        split = split_amount(order.total, self.config.ratios, acct_used=str(acct_flag) != "0")
        dep = None
        if deposit not in (None, ""):
            # "根据下单传入计算，最大值不超过自费现金需要支付金额"
            dep = min(_dec(deposit), split.cash)
        t = now_china()
        payment = {
            "channel": channel,
            "orgBizSer": org_biz_ser,
            "payAuthNo": str(pay_auth_no),
            "traceTime": _stamp(t),
            "hiChrgTime": compact_time_text(t),
            "hiDocSn": self._new_id(db, "HIDOC", "hidoc"),
            "hiRgstSn": self._new_id(db, "HIRG", "hirgst"),
            "revsToken": secrets.token_hex(16),
            "setlType": "ALL",
        }
        changed = db.execute(
            "UPDATE orders SET status = 'PAID', fund = ?, acct = ?, other = ?, cash = ?, deposit = ?, "
            "paid_at = ?, payment_json = ? WHERE pay_ord_id = ? AND status = 'UNPAID'",
            (str(split.fund), str(split.acct), str(split.other), str(split.cash),
             None if dep is None else str(dep), _stamp(t), dumps(payment), order.pay_ord_id),
        ).rowcount
        if changed != 1:  # cannot happen under BEGIN IMMEDIATE; refuse rather than pay twice
            raise SandboxError(ALREADY_PAID, f"order {order.pay_ord_id} is not unpaid")
        order = self._load(db, inst, order.pay_ord_id)
        notice = self.settlement_notice(inst, order)
        db.execute(
            "INSERT INTO notices(pay_ord_id, app_id, payload_json, status, attempts, next_attempt_at, created_at) "
            "VALUES (?, ?, ?, 'PENDING', 0, 0, ?)",
            (order.pay_ord_id, inst.app_id, dumps(notice), _stamp(t)),
        )
        self._event(db, pending, "paid", order.pay_ord_id, channel=channel, total=str(order.total),
                    fund=str(split.fund), acct=str(split.acct), other=str(split.other), cash=str(split.cash))
        self._event(db, pending, "6302.queued", order.pay_ord_id, notifyUrl=inst.notify_url)
        return order

    def pay_order(self, inst: Institution, d: dict[str, Any], *, base_url: str) -> dict[str, Any]:
        """6202: pay an uploaded order (no cashier)."""
        pending: list[Event] = []
        with self.store.transaction() as db:
            order = self._load(db, inst, d["payOrdId"], d["payToken"])
            self._same(order, d, "6202")
            self._check_auth(db, d.get("payAuthNo"), order)
            if order.status == "REVOKED":
                raise SandboxError(REVOKED, f"order {order.pay_ord_id} was revoked")
            if order.status == "PAID":
                p = order.payment or {}
                if p.get("orgBizSer") == str(d.get("orgBizSer")) and p.get("payAuthNo") == str(d.get("payAuthNo")):
                    # The same request again (a retry): the same answer, nothing paid twice.
                    self._event(db, pending, "6202.replayed", order.pay_ord_id, orgBizSer=d.get("orgBizSer"))
                else:
                    raise SandboxError(ALREADY_PAID, f"order {order.pay_ord_id} is already paid ({p.get('channel')})")
            else:
                self._check_payable(order)
                order = self._settle(db, pending, inst, order, pay_auth_no=d["payAuthNo"], deposit=d.get("deposit"),
                                     acct_used_flag=d.get("acctUsedFlag"), org_biz_ser=str(d["orgBizSer"]),
                                     channel="6202")
        self._fire(pending)
        self._queued()
        return self.pay_response(order)

    def _queued(self) -> None:
        if self.on_notice_queued is not None:
            self.on_notice_queued()

    @staticmethod
    def pay_response(order: Order) -> dict[str, Any]:
        """Table 10 (6202's answer) for a paid order."""
        return {"payOrdId": order.pay_ord_id, "ordStas": order.ord_stas(), **_paid_amounts(order)}

    def pay_via_cashier(self, inst: Institution, pay_ord_id: str, *, pay_auth_no: str, deposit: Any,
                        channel: str) -> tuple[Order, bool]:
        """The cashier page's "pay" button: pays as 6202 would. Returns the order and
        whether this call paid it (False: it was already paid by this same payAuthNo
        through the cashier, e.g. a double click, and nothing changed)."""
        pending: list[Event] = []
        paid_now = False
        with self.store.transaction() as db:
            order = self._load(db, inst, pay_ord_id)
            self._check_auth(db, pay_auth_no, order)
            if order.status == "REVOKED":
                raise SandboxError(REVOKED, f"order {pay_ord_id} was revoked")
            if order.status == "PAID":
                p = order.payment or {}
                if not (p.get("channel", "").startswith("cashier") and p.get("payAuthNo") == str(pay_auth_no)):
                    raise SandboxError(ALREADY_PAID, f"order {pay_ord_id} is already paid ({p.get('channel')})")
            else:
                self._check_payable(order)
                order = self._settle(db, pending, inst, order, pay_auth_no=pay_auth_no, deposit=deposit,
                                     acct_used_flag=None, org_biz_ser=f"CASHIER{pay_ord_id}"[:40],
                                     channel=f"cashier:{channel}")
                paid_now = True
        self._fire(pending)
        if paid_now:
            self._queued()
        return order, paid_now

    def order_sync(self, order: Order) -> dict[str, Any]:
        """Table 13: what the 6204 redirect carries in ``encData``."""
        return outgoing(OrderSyncNotice, {"payOrdId": order.pay_ord_id, "medOrgOrd": order.upload.get("medOrgOrd"),
                                          **_paid_amounts(order)})

    def return_url(self, inst: Institution, order: Order, chnl_type: str) -> str:
        """The institution's returnUrl with the 6204 query (mpcAppId, encData, chnlType)."""
        enc = inst.codec(self.config.private_key).encrypt_data(self.order_sync(order))
        sep = "&" if "?" in inst.return_url else "?"
        q = urlencode({"mpcAppId": inst.app_id, "encData": enc, "chnlType": chnl_type}, quote_via=quote)
        return f"{inst.return_url}{sep}{q}"

    # ------------------------------------------------------------------------- 6302

    def settlement_notice(self, inst: Institution, order: Order) -> dict[str, Any]:
        """Table 20: the 6302 notice of a paid order."""
        p = order.payment or {}
        s = order.split
        out: dict[str, Any] = {
            "payOrdId": order.pay_ord_id,
            "callType": CALL_TYPE_PAID,
            "medOrgOrd": order.upload.get("medOrgOrd"),
            "traceTime": p.get("traceTime"),
            "feeSumamt": order.total,
            "ownpayAmt": s.cash,
            "psnAcctPay": s.acct,
            "fundPay": s.fund,
            "hiChrgTime": p.get("hiChrgTime"),
            "hiDocSn": p.get("hiDocSn"),
            "hiRgstSn": p.get("hiRgstSn"),
            "orgName": inst.name,
            "setlType": p.get("setlType", "ALL"),
            "revsToken": p.get("revsToken"),
            "orgCodg": order.upload.get("orgCodg"),
        }
        if order.deposit is not None:
            out["deposit"] = order.deposit
        return outgoing(SettlementNotice, out)

    @staticmethod
    def notice_from_row(payload_json: str) -> dict[str, Any]:
        """A stored notice (its amounts were stored as text), back through its model:
        amounts are ``Decimal`` again."""
        return outgoing(SettlementNotice, json.loads(payload_json))

    # ------------------------------------------------------------------------- 6203

    def refund(self, inst: Institution, d: dict[str, Any], *, base_url: str) -> dict[str, Any]:
        """6203: refund part or all of a paid order, once per appRefdSn. The model has
        checked the fields (refdType ALL/CASH/HI, ecToken or payAuthNo); the rules below
        are the center's: the parts must match refdType and add up to totlRefdAmt, and
        no part may be refunded beyond what was paid."""
        sn = str(d["appRefdSn"])
        digest = request_hash(d)
        refd_type = str(d["refdType"])
        fund, acct, cash = _dec(d.get("fundRefdAmt")), _dec(d.get("psnAcctRefdAmt")), _dec(d.get("cashRefdAmt"))
        total = _dec(d.get("totlRefdAmt"))
        pending: list[Event] = []
        with self.store.transaction() as db:
            prior = db.execute(
                "SELECT req_hash, response_json, pay_ord_id FROM refunds WHERE app_id = ? AND app_refd_sn = ?",
                (inst.app_id, sn),
            ).fetchone()
            if prior is not None:
                if prior["req_hash"] != digest:
                    raise SandboxError(DUPLICATE_KEY, f"appRefdSn {sn} was already used for another refund")
                self._event(db, pending, "6203.replayed", prior["pay_ord_id"], appRefdSn=sn)
                out = dict(json.loads(prior["response_json"]))
            else:
                order = self._load(db, inst, d["payOrdId"])
                if order.status == "REVOKED":
                    raise SandboxError(REVOKED, f"order {order.pay_ord_id} was revoked: nothing to refund")
                if order.status != "PAID":
                    raise SandboxError(NOT_PAID, f"order {order.pay_ord_id} is not paid: nothing to refund")
                if refd_type == "CASH" and (fund or acct):
                    raise SandboxError(REFUND_INCONSISTENT, "refdType CASH refunds cash only: fund and account must be 0")
                if refd_type == "HI" and cash:
                    raise SandboxError(REFUND_INCONSISTENT, "refdType HI refunds insurance only: cashRefdAmt must be 0")
                if min(fund, acct, cash) < 0 or total <= 0:
                    raise SandboxError(REFUND_INCONSISTENT, "refund amounts must be positive")
                if fund + acct + cash != total:
                    raise SandboxError(
                        REFUND_INCONSISTENT,
                        f"totlRefdAmt {total} is not fundRefdAmt + psnAcctRefdAmt + cashRefdAmt ({fund + acct + cash})",
                    )
                s, r = order.split, order.refunded
                for part, asked, paid, done in (("fund", fund, s.fund, r["fund"]), ("acct", acct, s.acct, r["acct"]),
                                                ("cash", cash, s.cash, r["cash"])):
                    if done + asked > paid:
                        raise SandboxError(
                            OVER_REFUND,
                            f"{part}: {asked} asked, only {paid - done} of {paid} left to refund on {order.pay_ord_id}",
                        )
                t = now_china()
                out = {"refdSn": self._new_id(db, "RFD", "refund"), "refStatus": "SUCC"}
                if fund or acct:  # "现金退费不返回": the insurance ids only when insurance moved
                    out.update(hiFefdSn=self._new_id(db, "HIRF", "hirefund"), hiTrnsDate=compact_date_text(t),
                               hiTrnsTime=compact_time_text(t))
                db.execute(
                    "UPDATE orders SET refunded_fund = ?, refunded_acct = ?, refunded_cash = ? WHERE pay_ord_id = ?",
                    (str(r["fund"] + fund), str(r["acct"] + acct), str(r["cash"] + cash), order.pay_ord_id),
                )
                db.execute(
                    "INSERT INTO refunds(app_id, app_refd_sn, pay_ord_id, req_hash, refd_type, fund, acct, cash, "
                    "response_json, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                    (inst.app_id, sn, order.pay_ord_id, digest, refd_type, str(fund), str(acct), str(cash),
                     dumps(out), _stamp(t)),
                )
                self._event(db, pending, "refunded", order.pay_ord_id, appRefdSn=sn, refdType=refd_type,
                            fund=str(fund), acct=str(acct), cash=str(cash))
        self._fire(pending)
        return out

    # ------------------------------------------------------------------------- 6205

    def bank_card_pay(self, inst: Institution, d: dict[str, Any], *, base_url: str) -> dict[str, Any]:
        """6205: the address of a page where the person pays the order by bank card."""
        with self.store.transaction() as db:
            order = self._load(db, inst, d["payOrdId"], d["payToken"])
            self._same(order, d, "6205")
            self._check_auth(db, d.get("payAuthNo"), order)
        if order.status == "REVOKED":
            raise SandboxError(REVOKED, f"order {order.pay_ord_id} was revoked")
        if order.status == "PAID":
            raise SandboxError(ALREADY_PAID, f"order {order.pay_ord_id} is already paid")
        self._check_payable(order)
        from ..cashier import cashier_url

        # The bank-card page is the cashier with one channel; its link carries the
        # payAuthNo the way an institution's cashier link does (docs/protocol.md §6).
        base = self.cashier_url(base_url, order.pay_ord_id) + "&chnl=BANK"
        url = cashier_url(base, inst.codec(self.config.private_key), str(d["payAuthNo"]))
        self.emit("6205.bank_page", order.pay_ord_id, orgBizSer=d.get("orgBizSer"))
        return {"medBankPayUrl": url}

    # ------------------------------------------------------------------------- 6301

    def query_order(self, inst: Institution, d: dict[str, Any], *, base_url: str) -> dict[str, Any]:
        """6301: the order's state and, once paid, its settlement (table 275)."""
        db = self.store.read()
        order = self._load(db, inst, d["payOrdId"], d["payToken"])
        self._same(order, d, "6301")
        out: dict[str, Any] = {
            "payOrdId": order.pay_ord_id,
            "ordStas": order.ord_stas(),
            "callType": CALL_TYPE_NONE,
            "medOrgOrd": order.upload.get("medOrgOrd"),
            "orgCodg": order.upload.get("orgCodg"),
            "orgName": inst.name,
            "feeSumamt": order.total,
        }
        if order.status == "PAID":
            p = order.payment or {}
            s = order.split
            out.update(
                callType=CALL_TYPE_PAID,
                traceTime=p.get("traceTime"),
                setlType=p.get("setlType", "ALL"),
                ownPayAmt=s.cash,
                psnAcctPay=s.acct,
                fundPay=s.fund,
                revsToken=p.get("revsToken"),
                hiChrgTime=p.get("hiChrgTime"),
                hiDocSn=p.get("hiDocSn"),
                hiRgstSn=p.get("hiRgstSn"),
            )
            if order.deposit is not None:
                out["deposit"] = order.deposit
        n = db.execute("SELECT status, attempts, last_error FROM notices WHERE pay_ord_id = ?",
                       (order.pay_ord_id,)).fetchone()
        ext: dict[str, Any] = {
            "othFeeAmt": str(order.split.other),
            "refunded": {k: str(v) for k, v in order.refunded.items()},
        }
        if n is not None:
            # The sandbox's own addition: how the 6302 notice is doing.
            ext["notice"] = {"status": n["status"], "attempts": n["attempts"], "lastError": n["last_error"]}
        out["extData"] = ext
        return out

    # ------------------------------------------------------------------------- 6401

    def revoke_upload(self, inst: Institution, d: dict[str, Any], *, base_url: str) -> dict[str, Any]:
        """6401: revoke an unpaid order (again: still success, nothing changes)."""
        pending: list[Event] = []
        with self.store.transaction() as db:
            order = self._load(db, inst, d["payOrdId"], d["payToken"])
            self._same(order, d, "6401")
            if order.status == "PAID":
                raise SandboxError(PAID_CANNOT_REVOKE, f"order {order.pay_ord_id} is paid: refund it (6203) instead")
            if order.status == "UNPAID":
                db.execute(
                    "UPDATE orders SET status = 'REVOKED', revoked_at = ? WHERE pay_ord_id = ? AND status = 'UNPAID'",
                    (_stamp(now_china()), order.pay_ord_id),
                )
                self._event(db, pending, "revoked", order.pay_ord_id)
        self._fire(pending)
        return {"success": True}

    # ------------------------------------------------------------------ e-vouchers

    def issue_voucher(self, person: dict[str, Any], qr_text: str, pay_auth_no: str) -> None:
        """Record a payAuthNo issued by the voucher page (what strictAuth accepts)."""
        pending: list[Event] = []
        with self.store.transaction() as db:
            db.execute(
                "INSERT INTO vouchers(pay_auth_no, person_json, qr_text, created_at) VALUES (?, ?, ?, ?)",
                (pay_auth_no, dumps(person), qr_text, _stamp(now_china())),
            )
            self._event(db, pending, "voucher.issued", None, idNo=person.get("idNo"))
        self._fire(pending)
