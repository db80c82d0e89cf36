"""A local payment center for tests: a real HTTP server on 127.0.0.1 that speaks the
envelope protocol with the center's keys.

Each endpoint answers with a plausible signed response by default; a test can queue
behaviours per endpoint (consumed in order) to make the center slow, broken, refuse,
or sign with the wrong key:

    center.enqueue("pay_order", slow(5, ok()), ok())

Slow behaviours wait on ``center.release`` so stopping the server never hangs.
"""

from __future__ import annotations

import json
import socket
import threading
from collections import defaultdict, deque
from decimal import Decimal
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Callable, Optional

import medpay_core as mp

APP_ID = "1H452H9AR0LO3F60C80A000054C771C6"
APP_SECRET = "1H452H9B30LP3F60C80A0000AB8B7385"

Behaviour = Callable[["LocalCenter", "_Handler", Any], None]


def default_response(name: str, data: Any) -> dict:
    """A plausible success payload of each transaction, echoing the request's ids."""
    data = data if isinstance(data, dict) else {}
    pay_ord_id = data.get("payOrdId", "ORD000000000000000001")
    amounts = {
        "feeSumamt": Decimal("100.00"),
        "ownPayAmt": Decimal("20.00"),
        "psnAcctPay": Decimal("30.00"),
        "fundPay": Decimal("50.00"),
        "othFeeAmt": Decimal("0.00"),
    }
    if name == "uldFeeInfo":
        return {
            "payOrdId": "ORD" + str(data.get("medOrgOrd", "1"))[:30],
            "payToken": "TOKEN0001",
            "cashierUrl": "https://mpc.example/h5/#/cashier?payOrdId=ORD1",
        }
    if name == "pay_order":
        return {"payOrdId": pay_ord_id, "ordStas": "2", **amounts}
    if name == "refund_Order":
        return {
            "refdSn": "REFD0001",
            "hiFefdSn": "HIREFD0001",
            "hiTrnsDate": "20240102",
            "hiTrnsTime": "101112",
            "refStatus": "SUCC",
        }
    if name == "medBankPay":
        return {"medBankPayUrl": "https://mpc.example/bank?payOrdId=" + pay_ord_id}
    if name == "query_order_info":
        return query_response(pay_ord_id, "6")
    if name == "revoke_order":
        return {"success": True}
    raise KeyError(name)


def query_response(pay_ord_id: str, ord_stas: str) -> dict:
    """A 6301 answer (table 275) with the given ordStas."""
    return {
        "ordStas": ord_stas,
        "payOrdId": pay_ord_id,
        "callType": "02",
        "medOrgOrd": "MO0001",
        "traceTime": "2024-01-02 10:11:12",
        "orgCodg": "H15020400121",
        "orgName": "测试医院",
        "setlType": "ALL",
        "feeSumamt": Decimal("100.00"),
        "ownPayAmt": Decimal("20.00"),
        "psnAcctPay": Decimal("30.00"),
        "fundPay": Decimal("50.00"),
        "revsToken": "REVS0001",
        "hiChrgTime": "101112",
        "hiDocSn": "HIDOC0001",
        "hiRgstSn": "HIRGST0001",
    }


# -- behaviours ------------------------------------------------------------------------


def ok(data: Optional[dict] = None) -> Behaviour:
    """A signed success; ``data`` defaults to :func:`default_response`."""

    def run(center: "LocalCenter", h: "_Handler", req: Any) -> None:
        payload = default_response(h.endpoint, req) if data is None else data
        h.reply(200, center.codec.pack_json(payload, code=0, message="成功", success=True))

    return run


def business_error(code: Any = 500001, message: str = "订单不存在", *, signed: bool = True) -> Behaviour:
    """A refusal: signed (no data), or a bare unsigned ``{"code","message","success"}``."""

    def run(center: "LocalCenter", h: "_Handler", req: Any) -> None:
        if signed:
            body = center.codec.pack_json({}, code=code, message=message, success=False)
        else:
            body = json.dumps({"code": code, "message": message, "success": False}, ensure_ascii=False).encode()
        h.reply(200, body)

    return run


def unsigned_success(data: Optional[dict] = None) -> Behaviour:
    """A forged-looking success: plaintext data, code 0, no signature."""

    def run(center: "LocalCenter", h: "_Handler", req: Any) -> None:
        payload = default_response(h.endpoint, req) if data is None else data
        doc = {"appId": center.app_id, "code": 0, "message": "成功", "success": True, "data": payload}
        h.reply(200, json.dumps(doc, default=str).encode())

    return run


def wrong_key(data: Optional[dict] = None) -> Behaviour:
    """A success signed with a key that is not the center's."""

    def run(center: "LocalCenter", h: "_Handler", req: Any) -> None:
        payload = default_response(h.endpoint, req) if data is None else data
        h.reply(200, center.impostor.pack_json(payload, code=0, message="成功", success=True))

    return run


def status(code: int, body: bytes = b"<html>Internal Server Error</html>") -> Behaviour:
    def run(center: "LocalCenter", h: "_Handler", req: Any) -> None:
        h.reply(code, body, content_type="text/html")

    return run


def raw(body: bytes, code: int = 200) -> Behaviour:
    def run(center: "LocalCenter", h: "_Handler", req: Any) -> None:
        h.reply(code, body)

    return run


def drop() -> Behaviour:
    """Read the request, then close the connection without a word."""

    def run(center: "LocalCenter", h: "_Handler", req: Any) -> None:
        h.close_connection = True
        try:
            h.connection.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass

    return run


def slow(seconds: float, then: Optional[Behaviour] = None) -> Behaviour:
    """Wait (until ``center.release`` is set at the latest), then behave like ``then``."""

    def run(center: "LocalCenter", h: "_Handler", req: Any) -> None:
        center.release.wait(seconds)
        try:
            (then or ok())(center, h, req)
        except OSError:
            pass  # the client gave up and closed the connection

    return run


# -- the server ------------------------------------------------------------------------


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server: "_Server"
    endpoint = ""

    def log_message(self, format: str, *args: Any) -> None:  # quiet
        pass

    def reply(self, code: int, body: bytes, content_type: str = "application/json;charset=UTF-8") -> None:
        self.send_response(code)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)
        self.wfile.flush()

    def do_POST(self) -> None:
        center = self.server.center
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length)
        prefix = "/org/local/api/hos/"
        if not self.path.startswith(prefix):
            self.reply(404, b'{"code":404,"message":"not found"}')
            return
        self.endpoint = self.path[len(prefix):]
        try:
            msg = center.codec.unpack(body)
        except mp.MedpayError as e:
            center.record(self.endpoint, None, error=e)
            # Like a real center: a bare, unsigned refusal.
            self.reply(200, json.dumps({"code": 401, "message": f"验签失败: {e}", "success": False}).encode())
            return
        center.record(self.endpoint, msg.data)
        center.behaviour_for(self.endpoint)(center, self, msg.data)


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True
    center: "LocalCenter"


class LocalCenter:
    """The center: its codec signs with the center's key and verifies the institution's.

    ``inst_credentials`` are what the institution's client uses; ``url`` its base URL.
    """

    def __init__(self, app_id: str = APP_ID, app_secret: str = APP_SECRET):
        self.app_id = app_id
        self.inst_key = mp.SM2PrivateKey.generate()
        self.center_key = mp.SM2PrivateKey.generate()
        self.inst_credentials = mp.Credentials(app_id, app_secret, self.inst_key, self.center_key.public_key())
        self.center_credentials = mp.Credentials(app_id, app_secret, self.center_key, self.inst_key.public_key())
        self.codec = mp.EnvelopeCodec(self.center_credentials)
        self.inst_codec = mp.EnvelopeCodec(self.inst_credentials)
        self.impostor = mp.EnvelopeCodec(
            mp.Credentials(app_id, app_secret, mp.SM2PrivateKey.generate(), self.inst_key.public_key())
        )
        self.release = threading.Event()
        self._lock = threading.Lock()
        self._queues: dict[str, deque] = defaultdict(deque)
        self._defaults: dict[str, Behaviour] = {}
        self.received: list[tuple[str, Any]] = []
        self.errors: list[tuple[str, Exception]] = []
        self._server: Optional[_Server] = None
        self._thread: Optional[threading.Thread] = None

    # behaviours
    def enqueue(self, endpoint: str, *behaviours: Behaviour) -> None:
        with self._lock:
            self._queues[endpoint].extend(behaviours)

    def set_default(self, endpoint: str, behaviour: Behaviour) -> None:
        with self._lock:
            self._defaults[endpoint] = behaviour

    def behaviour_for(self, endpoint: str) -> Behaviour:
        with self._lock:
            q = self._queues[endpoint]
            if q:
                return q.popleft()
            return self._defaults.get(endpoint, ok())

    def record(self, endpoint: str, data: Any, error: Optional[Exception] = None) -> None:
        with self._lock:
            if error is not None:
                self.errors.append((endpoint, error))
            else:
                self.received.append((endpoint, data))

    def count(self, endpoint: str) -> int:
        with self._lock:
            return sum(1 for e, _ in self.received if e == endpoint)

    # lifecycle
    @property
    def url(self) -> str:
        assert self._server is not None
        host, port = self._server.server_address[:2]
        return f"http://{host}:{port}"

    def start(self) -> "LocalCenter":
        self._server = _Server(("127.0.0.1", 0), _Handler)
        self._server.center = self
        self._thread = threading.Thread(target=self._server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        self.release.set()
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
        if self._thread is not None:
            self._thread.join(timeout=10)

    def __enter__(self) -> "LocalCenter":
        return self.start()

    def __exit__(self, *exc: Any) -> None:
        self.stop()


# -- sample requests (wire names, valid per the spec's tables) --------------------------

ORG_CODG = "H15020400121"


def query_request(pay_ord_id: str = "ORD000000000000000001") -> dict:
    return {
        "payOrdId": pay_ord_id,
        "orgCodg": ORG_CODG,
        "payToken": "TOKEN0001",
        "idNo": "150204198912131512",
        "userName": "张三",
        "idType": "01",
    }


def revoke_request(pay_ord_id: str = "ORD000000000000000001") -> dict:
    return query_request(pay_ord_id)


def pay_order_request(pay_ord_id: str = "ORD000000000000000001", org_biz_ser: str = "BIZ0001") -> dict:
    return {
        "payAuthNo": "AUTH0001",
        "payOrdId": pay_ord_id,
        "payToken": "TOKEN0001",
        "orgCodg": ORG_CODG,
        "orgBizSer": org_biz_ser,
        "chrgBchno": "CB0001",
        "feeType": "01",
        "mdtrtId": "MDTRT0001",
    }


def bank_card_pay_request(pay_ord_id: str = "ORD000000000000000001", org_biz_ser: str = "BIZ0002") -> dict:
    return {
        "payAuthNo": "AUTH0001",
        "payOrdId": pay_ord_id,
        "payToken": "TOKEN0001",
        "orgCodg": ORG_CODG,
        "orgBizSer": org_biz_ser,
    }


def refund_request(pay_ord_id: str = "ORD000000000000000001", app_refd_sn: str = "RF0001") -> dict:
    return {
        "payOrdId": pay_ord_id,
        "appRefdSn": app_refd_sn,
        "appRefdTime": "20240102101112",
        "totlRefdAmt": Decimal("100.00"),
        "psnAcctRefdAmt": Decimal("30.00"),
        "fundRefdAmt": Decimal("50.00"),
        "cashRefdAmt": Decimal("20.00"),
        "refdType": "ALL",
        "payAuthNo": "AUTH0001",
    }


def fee_upload_request(med_org_ord: str = "MO0001") -> dict:
    return {
        "orgCodg": ORG_CODG,
        "psnNo": "PSN0001",
        "insutype": "310",
        "medOrgOrd": med_org_ord,
        "rxCircFlag": "0",
        "begntime": "2024-01-02 09:00:00",
        "idNo": "150204198912131512",
        "userName": "张三",
        "idType": "01",
        "ecToken": "EC0001",
        "iptOtpNo": "OTP0001",
        "deptName": "内科",
        "caty": "A03",
        "medType": "11",
        "feeType": "01",
        "medfeeSumamt": Decimal("100.00"),
        "acctUsedFlag": "1",
        "diseCodg": "A00.000",
        "psnSetlway": "01",
        "chrgBchno": "CB0001",
        "pubHospRfomFlag": "0",
        "fetts": 0,
        "matnType": "0",
        "payAuthNo": "AUTH0001",
        "diseinfoList": [
            {
                "diagType": "1",
                "diagSrtNo": 1,
                "diagCode": "A00.000",
                "diagName": "霍乱",
                "diagDept": "内科",
                "diseDorNo": "D0001",
                "diseDorName": "李医生",
                "diagTime": "2024-01-02 09:10:00",
                "valiFlag": "1",
            }
        ],
        "feedetailList": [
            {
                "feedetlSn": "FD0001",
                "psnNo": "PSN0001",
                "chrgBchno": "CB0001",
                "rxCircFlag": "0",
                "feeOcurTime": "2024-01-02 09:20:00",
                "medListCodg": "XA01AAA001",
                "medinsListCodg": "H001",
                "detItemFeeSumamt": Decimal("100.00"),
                "cnt": Decimal("2.0000"),
                "pric": Decimal("50.000000"),
                "bilgDeptCodg": "D01",
                "bilgDeptName": "内科",
                "bilgDrCodg": "D0001",
                "bilgDrName": "李医生",
                "hospApprFlag": "1",
                "medType": "11",
                "medListName": "阿莫西林",
                "medListSpc": "0.25g*24",
            }
        ],
    }


def settlement_notice(pay_ord_id: str = "ORD000000000000000001") -> dict:
    """A 6302 notice (table 20)."""
    return {
        "payOrdId": pay_ord_id,
        "callType": "02",
        "medOrgOrd": "MO0001",
        "traceTime": "2024-01-02 10:11:12",
        "feeSumamt": Decimal("100.00"),
        "ownpayAmt": Decimal("20.00"),
        "psnAcctPay": Decimal("30.00"),
        "fundPay": Decimal("50.00"),
        "hiChrgTime": "101112",
        "hiDocSn": "HIDOC0001",
        "hiRgstSn": "HIRGST0001",
        "orgName": "测试医院",
        "setlType": "ALL",
        "revsToken": "REVS0001",
        "orgCodg": ORG_CODG,
    }


def order_sync(pay_ord_id: str = "ORD000000000000000001") -> dict:
    """A 6204 redirect payload (table 13)."""
    return {
        "payOrdId": pay_ord_id,
        "medOrgOrd": "MO0001",
        "feeSumamt": Decimal("100.00"),
        "ownPayAmt": Decimal("20.00"),
        "psnAcctPay": Decimal("30.00"),
        "fundPay": Decimal("50.00"),
        "othFeeAmt": Decimal("0.00"),
    }
