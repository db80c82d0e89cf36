"""The sandbox as one object, independent of the web framework: the API endpoints, the
cashier page, the e-voucher page and the admin views. ``app.py`` maps HTTP onto it.

The endpoints are those of ``medpay_core.models.BY_PATH``, the one transaction table.
A body is read by the native core's parser (``callbacks.read_json_object``) to find its
appId, then opened by that institution's codec; a body that does not parse is refused
1001 unsigned, since no institution can be named to sign for.
"""

from __future__ import annotations

import json
import logging
import os
import secrets
from dataclasses import dataclass, field
from typing import Any, Mapping, Optional, Sequence, Union
from urllib.parse import parse_qsl, urlencode

from .._native import EnvelopeCodec
from ..callbacks import read_json_object
from ..cashier import CashierParams, decode_cashier_params
from ..errors import DecryptError, EnvelopeError, FieldError, KeyFormatError, SignatureError, ValidationError
from . import codes, page
from .center import Center, EventHook, Order
from .codes import SandboxError
from .config import Institution, SandboxConfig, load_config, parse_config
from .notifier import Notifier
from .store import Store, dumps
from .validation import check_sdk_signature, explain_bad_signature, transaction
from .voucher import make_qr

log = logging.getLogger("medpay.sandbox")

API_PREFIX = "/org/local/api/hos/"
CASHIER_PATH = "/sandbox/cashier"
CASHIER_PAY_PATH = "/sandbox/cashier/pay"
VOUCHER_PATH = "/sandbox/voucher"


@dataclass
class Reply:
    """An HTTP answer: status, body, content type and extra headers."""

    status: int
    body: bytes
    content_type: str = "application/json; charset=utf-8"
    headers: dict[str, str] = field(default_factory=dict)

    @classmethod
    def json(cls, obj: Any, status: int = 200) -> "Reply":
        """A JSON answer (Decimals as strings)."""
        return cls(status, dumps(obj).encode("utf-8"))

    @classmethod
    def html(cls, text: str, status: int = 200) -> "Reply":
        """An HTML page, never cached (it shows an order's live state)."""
        return cls(status, text.encode("utf-8"), "text/html; charset=utf-8", {"Cache-Control": "no-store"})

    @classmethod
    def redirect(cls, url: str) -> "Reply":
        # 303: the browser follows a POST's answer with a GET, as after a form.
        return cls(303, b"", "text/plain", {"Location": url, "Cache-Control": "no-store"})


def _coerce_config(config: Union[SandboxConfig, Mapping[str, Any], str, "os.PathLike[str]"]) -> SandboxConfig:
    if isinstance(config, SandboxConfig):
        return config
    if isinstance(config, Mapping):
        return parse_config(config)
    return load_config(config)


class Sandbox:
    """The payment center sandbox: the config, the store, the business rules and the
    notice outbox worker. ``start()``/``close()`` run and stop the worker."""

    def __init__(
        self,
        config: Union[SandboxConfig, Mapping[str, Any], str, "os.PathLike[str]"],
        db_path: str,
        *,
        on_event: Optional[EventHook] = None,
    ):
        self.config = _coerce_config(config)
        self.store = Store(db_path)
        self.center = Center(self.config, self.store, on_event=on_event)
        self.notifier = Notifier(self.center)
        self.center.on_notice_queued = self.notifier.wake
        self._codecs: dict[str, EnvelopeCodec] = {
            app_id: inst.codec(self.config.private_key) for app_id, inst in self.config.institutions.items()
        }

    def start(self) -> None:
        """Start delivering notices (also those left pending by an earlier run)."""
        self.notifier.start()

    def close(self) -> None:
        """Stop the worker and close the database."""
        self.notifier.stop()
        self.store.close()

    def codec(self, app_id: str) -> Optional[EnvelopeCodec]:
        """The center's codec for an institution (None for an unknown appId)."""
        return self._codecs.get(app_id)

    # ---------------------------------------------------------------- the API

    def _refusal(self, codec: Optional[EnvelopeCodec], code: int, message: str,
                 errors: Optional[Sequence[FieldError]] = None, *, endpoint: str = "",
                 pay_ord_id: Optional[str] = None) -> Reply:
        try:
            self.center.emit("refused", pay_ord_id, endpoint=endpoint, code=code, message=message)
        except Exception:  # noqa: BLE001 - the log must not hide the refusal itself
            log.exception("could not log a refusal")
        if codec is None:
            # No institution, no secret: nothing to sign with. An unsigned refusal.
            return Reply.json({"code": code, "message": message, "success": False})
        data: dict[str, Any] = {"errors": errors} if errors else {}
        return Reply(200, codec.pack_json(data, code=code, message=message, success=False))

    def handle_api(self, name: str, body: bytes, base_url: str) -> Reply:
        """One POST to ``/org/local/api/hos/<name>``: the institution's envelope, opened,
        served and answered signed (unsigned when no institution can be named)."""
        try:
            tx = transaction(name)
            self.center.handler(tx)  # 1005 before reading the body, for a path not served
        except SandboxError as e:
            return Reply.json({"code": e.code, "message": e.message, "success": False}, status=404)
        try:
            doc = read_json_object(body)
        except EnvelopeError as e:
            return self._refusal(None, codes.BAD_ENVELOPE, f"the body is not an envelope: {e}", endpoint=name)
        app_id = doc.get("appId")
        if not isinstance(app_id, str):
            return self._refusal(None, codes.BAD_ENVELOPE, "the envelope has no appId (a string)", endpoint=name)
        inst = self.config.institution(app_id)
        codec = self.codec(app_id)
        if inst is None or codec is None:
            return self._refusal(None, codes.UNKNOWN_APP, f"unknown appId {app_id!r}", endpoint=name)
        try:
            msg = codec.unpack(body)
            if not self.config.lenient_signature:
                check_sdk_signature(codec, inst, body, msg)
        except SignatureError as e:
            return self._refusal(codec, codes.BAD_SIGNATURE, f"signature: {e}: {explain_bad_signature(inst, body)}",
                                 endpoint=name)
        except SandboxError as e:
            return self._refusal(codec, e.code, e.message, endpoint=name)
        except DecryptError as e:
            return self._refusal(codec, codes.BAD_ENCRYPTION, f"encData: {e}", endpoint=name)
        except (EnvelopeError, KeyFormatError) as e:
            return self._refusal(codec, codes.BAD_ENVELOPE, f"envelope: {e}", endpoint=name)
        data = msg.data
        pay_ord_id = data.get("payOrdId") if isinstance(data, dict) else None
        try:
            out = self.center.handle(tx, inst, data, base_url=base_url)
        except SandboxError as e:
            return self._refusal(codec, e.code, e.message, e.errors, endpoint=name,
                                 pay_ord_id=pay_ord_id if isinstance(pay_ord_id, str) else None)
        except Exception:  # noqa: BLE001 - a sandbox bug: answer, log the trace
            log.exception("%s failed", tx.code)
            return self._refusal(codec, codes.INTERNAL, "internal error of the sandbox (see its log)", endpoint=name)
        try:
            return Reply(200, codec.pack_json(out, code=0, message="成功", success=True))
        except EnvelopeError:  # an answer the center's SDK could not sign: a sandbox bug
            log.exception("%s: the answer cannot be packed", tx.code)
            return self._refusal(codec, codes.INTERNAL, "internal error of the sandbox (see its log)", endpoint=name)

    # ---------------------------------------------------------- the cashier

    def _cashier_params(self, url: str) -> tuple[Institution, EnvelopeCodec, CashierParams]:
        try:
            p = decode_cashier_params(url, self._codecs)
        except (EnvelopeError, DecryptError, ValidationError) as e:
            raise SandboxError(codes.BAD_ENVELOPE, f"cashier link: {e}") from None
        inst = self.config.institution(p.app_id)
        assert inst is not None  # decode_cashier_params only knows configured appIds
        return inst, self._codecs[p.app_id], p

    def _order_for(self, inst: Institution, pay_ord_id: str) -> Order:
        order = self.center.get_order(pay_ord_id)
        if order is None:
            raise SandboxError(codes.ORDER_NOT_FOUND, f"no order {pay_ord_id}")
        if order.app_id != inst.app_id:
            raise SandboxError(codes.OTHER_INSTITUTION, f"order {pay_ord_id} is not {inst.name}'s")
        return order

    def cashier_page(self, url: str, query: Mapping[str, str]) -> Reply:
        """GET of a cashier URL: the order, its split and the pay button."""
        try:
            inst, _, params = self._cashier_params(url)
            order = self._order_for(inst, query.get("payOrdId", ""))
        except SandboxError as e:
            # The patient sees what to do; the integrator's reason goes to the log.
            log.info("cashier link refused (%d): %s", e.code, e.message)
            return Reply.html(page.refusal(e.code), status=400)
        if order.status == "REVOKED":
            return Reply.html(page.result("revoked", order_id=order.pay_ord_id), 409)
        if order.status == "PAID":
            return Reply.html(page.result("paid", order_id=order.pay_ord_id), 200)
        error = None
        try:
            with self.store.transaction() as db:
                self.center._check_auth(db, params.pay_auth_no, order)
        except SandboxError as e:
            log.info("cashier of %s: payAuthNo refused (%d): %s", order.pay_ord_id, e.code, e.message)
            error = page.patient_text(e.code)
        state = "open"
        if self.center.is_expired(order):
            state, error = "expired", page.patient_text(codes.ORDER_EXPIRED)
        bank = query.get("chnl") == "BANK"
        fields = {"payOrdId": order.pay_ord_id, "chnlAppId": inst.app_id, "chnlEncData": query.get("chnlEncData", "")}
        deposit = min(params.deposit, order.split.cash) if params.deposit is not None else None
        return Reply.html(page.cashier(inst, order, fields=fields, action=CASHIER_PAY_PATH, bank=bank,
                                       deposit=deposit, error=error, state=state))

    def cashier_pay(self, form_body: bytes) -> Reply:
        """POST of the cashier's pay button: pays as 6202 would, then sends the browser
        to the institution's returnUrl with the 6204 query."""
        form = dict(parse_qsl(form_body.decode("utf-8", "replace"), keep_blank_values=True))
        url = "?" + urlencode({k: form.get(k, "") for k in ("chnlAppId", "chnlEncData")})
        try:
            inst, _, params = self._cashier_params(url)
            order = self._order_for(inst, form.get("payOrdId", ""))
            chnl = (form.get("chnlType") or "WX").strip()[:10] or "WX"
            order, _ = self.center.pay_via_cashier(inst, order.pay_ord_id, pay_auth_no=params.pay_auth_no,
                                                   deposit=params.deposit, channel=chnl)
        except SandboxError as e:
            self.center.emit("refused", form.get("payOrdId") or None, endpoint="cashier", code=e.code, message=e.message)
            return Reply.html(page.refusal(e.code, order_id=form.get("payOrdId", "")[:40]), status=409)
        target = self.center.return_url(inst, order, chnl)
        self.center.emit("6204.redirect", order.pay_ord_id, chnlType=chnl, returnUrl=inst.return_url)
        return Reply.redirect(target)

    # ---------------------------------------------------------- the e-voucher

    def issue_voucher(self, person: Mapping[str, Any]) -> dict[str, Any]:
        """Issue a payAuthNo (and its e-voucher QR text) for ``person`` (userName, idNo,
        idType, insuOrg; ``appId`` picks whose secret seals the QR, default the first
        institution). strictAuth accepts only payAuthNo issued here."""
        app_id = str(person.get("appId") or next(iter(self.config.institutions)))
        inst = self.config.institution(app_id)
        if inst is None:
            raise SandboxError(codes.UNKNOWN_APP, f"unknown appId {app_id!r}")
        person = {k: str(person.get(k) or "") for k in ("userName", "idNo", "idType", "insuOrg")}
        # The sandbox's defaults for a test person; userName and idNo are required by the
        # 6101 answer's model, which make_qr checks.
        person["idType"] = person["idType"] or "01"
        person["insuOrg"] = person["insuOrg"] or "350100"
        pay_auth_no = "AUTH" + secrets.token_hex(16).upper()
        try:
            qr = make_qr(inst, person, pay_auth_no)
        except ValidationError as e:
            raise SandboxError(codes.INVALID_DATA, str(e), errors=e.errors) from None
        self.center.issue_voucher(person, qr["qrText"], pay_auth_no)
        return {"payAuthNo": pay_auth_no, **person, **qr}

    def voucher_page(self, method: str, body: bytes, accept_json: bool) -> Reply:
        """GET: a form; POST (form or JSON): a new payAuthNo and QR text."""
        if method == "GET":
            return Reply.html(page.voucher_form(VOUCHER_PATH))
        try:
            if body.lstrip()[:1] == b"{":
                person: Mapping[str, Any] = read_json_object(body)
            else:
                person = dict(parse_qsl(body.decode("utf-8", "replace")))
            issued = self.issue_voucher(person)
        except (EnvelopeError, SandboxError) as e:
            msg = e.message if isinstance(e, SandboxError) else f"the body is neither a JSON object nor a form: {e}"
            if accept_json:
                return Reply.json({"code": codes.INVALID_DATA, "message": msg}, status=400)
            log.info("voucher refused: %s", msg)
            return Reply.html(page.result("voucher_refused"), status=400)
        if accept_json:
            return Reply.json(issued)
        return Reply.html(page.voucher_issued(issued, VOUCHER_PATH))

    # ---------------------------------------------------------- admin views

    def order_state(self, pay_ord_id: str) -> Optional[dict[str, Any]]:
        """The order as the sandbox sees it (for people and tests)."""
        order = self.center.get_order(pay_ord_id)
        if order is None:
            return None
        db = self.store.read()
        n = db.execute("SELECT * FROM notices WHERE pay_ord_id = ?", (pay_ord_id,)).fetchone()
        refunds = db.execute(
            "SELECT app_refd_sn, refd_type, fund, acct, cash, created_at FROM refunds WHERE pay_ord_id = ? "
            "ORDER BY created_at, app_refd_sn", (pay_ord_id,)).fetchall()
        return {
            "payOrdId": order.pay_ord_id,
            "appId": order.app_id,
            "status": order.status,
            "ordStas": order.ord_stas(),
            "medOrgOrd": order.upload.get("medOrgOrd"),
            "split": {k: str(v) for k, v in order.split.as_dict().items()},
            "total": str(order.total),
            "deposit": None if order.deposit is None else str(order.deposit),
            "refunded": {k: str(v) for k, v in order.refunded.items()},
            "payment": order.payment,
            "createdAt": order.created_at,
            "paidAt": order.paid_at,
            "revokedAt": order.revoked_at,
            "notice": None if n is None else {
                "status": n["status"], "attempts": n["attempts"], "lastError": n["last_error"],
                "deliveredAt": n["delivered_at"],
            },
            "refunds": [dict(r) for r in refunds],
        }

    def events(self, after: int = 0, limit: int = 500) -> list[dict[str, Any]]:
        """The event log from id ``after`` on."""
        rows = self.store.read().execute(
            "SELECT id, at, kind, pay_ord_id, detail FROM events WHERE id > ? ORDER BY id LIMIT ?",
            (after, max(1, min(limit, 5000))),
        ).fetchall()
        return [{"id": r["id"], "at": r["at"], "kind": r["kind"], "payOrdId": r["pay_ord_id"],
                 "detail": json.loads(r["detail"] or "{}")} for r in rows]


__all__ = ["Sandbox", "Reply", "API_PREFIX"]
