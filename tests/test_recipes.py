"""The three receiving recipes (examples/receive_fastapi.py, receive_flask.py,
receive_django.py), each imported as an integrator's module and served on a real HTTP
server on 127.0.0.1 in a thread (uvicorn, werkzeug, wsgiref), with the sandbox center
delivering a real 6302 and building the real 6204 return URL. Every wait is bounded."""

from __future__ import annotations

import copy
import importlib.util
import logging
import re
import sys
import threading
from decimal import Decimal
from pathlib import Path
from socketserver import ThreadingMixIn
from types import ModuleType
from typing import Any, Callable, Iterator
from urllib.parse import urlencode
from wsgiref.simple_server import WSGIRequestHandler, WSGIServer, make_server as wsgiref_server

import httpx
import pytest

import center_server as cs
import medpay_core as mp
from medpay_core.client import MedpayClient
from medpay_core.sandbox import SandboxServer, generate_config, parse_config
from medpay_core.sandbox.config import write_private_json
from medpay_core.sandbox.demo import ORG_CODG, sample_fee_upload
from medpay_core.sandbox.server import ThreadedASGIServer
from sandbox_support import client_credentials, wait_until

EXAMPLES = Path(__file__).resolve().parent.parent / "examples"
RECIPES = ["receive_fastapi", "receive_flask", "receive_django"]
TIMEOUT = 10.0


@pytest.fixture(scope="module")
def raw(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """A sandbox config (one institution); the recipes read their credentials from its file."""
    cfg = generate_config(notify_url="http://127.0.0.1:9/unset", return_url="http://127.0.0.1:9/unset",
                          org_codg=ORG_CODG, name="福州市示例医院")
    cfg["notify"] = {"maxAttempts": 20, "baseDelay": 0.05, "maxDelay": 0.5, "timeout": 5.0}
    path = tmp_path_factory.mktemp("recipes") / "center.db.config.json"
    write_private_json(path, cfg)
    cfg["_path"] = str(path)
    return cfg


def load_recipe(name: str) -> ModuleType:
    """Import examples/<name>.py as the module ``name`` (as ``uvicorn name:app`` would)."""
    if name in sys.modules:  # Django's settings are configured once per process
        return sys.modules[name]
    spec = importlib.util.spec_from_file_location(name, EXAMPLES / f"{name}.py")
    assert spec is not None and spec.loader is not None
    mod = importlib.util.module_from_spec(spec)
    sys.modules[name] = mod  # Django's ROOT_URLCONF is the module's name
    try:
        spec.loader.exec_module(mod)
    except BaseException:
        del sys.modules[name]
        raise
    return mod


class _QuietWSGIHandler(WSGIRequestHandler):
    def log_message(self, *args: Any) -> None:
        pass


class _ThreadingWSGIServer(ThreadingMixIn, WSGIServer):
    daemon_threads = True


def _serve_in_thread(server: Any) -> tuple[str, Callable[[], None]]:
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()

    def stop() -> None:
        server.shutdown()
        server.server_close()
        thread.join(TIMEOUT)

    return f"http://127.0.0.1:{server.server_address[1]}", stop


@pytest.fixture(scope="module", params=RECIPES)
def recipe(request: pytest.FixtureRequest, raw: dict[str, Any],
           tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[ModuleType, str]]:
    """The recipe imported with its environment, served on 127.0.0.1 (a free port)."""
    name = request.param
    store = tmp_path_factory.mktemp(name) / "notices.sqlite3"
    with pytest.MonkeyPatch.context() as mpatch:
        mpatch.setenv("MEDPAY_CONFIG", raw["_path"])
        mpatch.setenv("MEDPAY_NOTICE_STORE", str(store))
        mpatch.delenv("MEDPAY_ORG_CODG", raising=False)
        mod = load_recipe(name)
    assert isinstance(mod.STORE, mp.SQLiteNoticeStore)  # a persistent store, never memory
    mod.PAID.clear()
    if name == "receive_fastapi":
        srv = ThreadedASGIServer(mod.app).start()
        url, stop = srv.url, srv.stop
    elif name == "receive_flask":
        from werkzeug.serving import make_server

        url, stop = _serve_in_thread(make_server("127.0.0.1", 0, mod.app, threaded=True))
    else:
        url, stop = _serve_in_thread(wsgiref_server("127.0.0.1", 0, mod.application,
                                                    server_class=_ThreadingWSGIServer,
                                                    handler_class=_QuietWSGIHandler))
    try:
        yield mod, url
    finally:
        stop()
        mod.STORE.close()


@pytest.fixture
def http() -> Iterator[httpx.Client]:
    with httpx.Client(timeout=TIMEOUT, trust_env=False, follow_redirects=False) as client:
        yield client


@pytest.fixture
def settled(caplog: pytest.LogCaptureFixture) -> Callable[[str], int]:
    """How many times the recipe's record_settlement ran for a payOrdId (its log line)."""
    caplog.set_level(logging.INFO, logger="his.medpay")

    def count(pay_ord_id: str) -> int:
        return sum(1 for r in caplog.records
                   if r.name == "his.medpay" and r.getMessage().startswith(f"6302 {pay_ord_id} 已入账"))

    return count


def center_codec(raw: dict[str, Any]) -> mp.EnvelopeCodec:
    """The center's side of the institution's keys: signs as the center does."""
    cfg = parse_config({k: v for k, v in raw.items() if k != "_path"})
    (inst,) = cfg.institutions.values()
    return inst.codec(cfg.private_key)


def reply_of(r: httpx.Response) -> dict[str, Any]:
    assert r.status_code == 200 and r.headers["content-type"].startswith("application/json"), r.text
    doc = r.json()
    assert doc["code"] == "0" and set(doc["data"]) == {"success", "message"}, doc
    return dict(doc["data"])


def tampered(body: bytes) -> bytes:
    """The envelope with one character of its encrypted data changed (its signature kept)."""
    enc = re.search(rb'"encData":"([0-9A-Za-z+/=]+)"', body)
    assert enc is not None, body
    i = enc.start(1) + 10
    return body[:i] + (b"A" if body[i:i + 1] != b"A" else b"B") + body[i + 1:]


def visible_text(page: str) -> str:
    return re.sub(r"<[^>]*>", " ", re.sub(r"<(style|title)[^>]*>.*?</\1>", " ", page, flags=re.S))


# -- 6302 ----------------------------------------------------------------------------------


def test_a_signed_notice_is_recorded_once_its_duplicate_acknowledged_a_tampered_one_refused(
        recipe: tuple[ModuleType, str], raw: dict[str, Any], http: httpx.Client,
        settled: Callable[[str], int]) -> None:
    mod, url = recipe
    center = center_codec(raw)
    pay_ord_id = f"ORDDIRECT{mod.__name__[8:].upper()}0001"
    body = center.pack_json(cs.settlement_notice(pay_ord_id))

    first = reply_of(http.post(url + "/medpay/notify", content=body))
    assert first == {"success": True, "message": "院内处理回调成功"}
    assert settled(pay_ord_id) == 1 and mod.PAID[pay_ord_id].fee_sumamt == Decimal("100.00")

    again = reply_of(http.post(url + "/medpay/notify", content=body))  # the center delivers it again
    assert again == {"success": True, "message": "已处理"} and settled(pay_ord_id) == 1

    # A notice never seen before, altered in transit: refused, never recorded.
    other = f"ORDTAMPER{mod.__name__[8:].upper()}0001"
    bad = reply_of(http.post(url + "/medpay/notify", content=tampered(center.pack_json(cs.settlement_notice(other)))))
    assert bad["success"] is False and settled(other) == 0 and other not in mod.PAID
    # Signed by someone else than the center: refused too.
    impostor = mp.EnvelopeCodec(mp.Credentials(center.credentials.app_id, center.credentials.app_secret,
                                               mp.SM2PrivateKey.generate(), mp.SM2PrivateKey.generate().public_key()))
    forged = reply_of(http.post(url + "/medpay/notify", content=impostor.pack_json(cs.settlement_notice(other))))
    assert forged["success"] is False and settled(other) == 0


def test_the_sandbox_delivers_6302_and_redirects_6204_to_the_recipe(
        recipe: tuple[ModuleType, str], raw: dict[str, Any], http: httpx.Client,
        settled: Callable[[str], int]) -> None:
    """End to end: an order paid at the sandbox is delivered to the recipe's notifyUrl
    (acknowledged, DELIVERED at the first attempt, recorded once), its redelivery is not
    recorded again, and the sandbox's 6204 return URL shows the order's amounts."""
    mod, url = recipe
    cfg = copy.deepcopy({k: v for k, v in raw.items() if k != "_path"})
    cfg["institutions"][0]["notifyUrl"] = url + "/medpay/notify"
    cfg["institutions"][0]["returnUrl"] = url + "/medpay/return"
    med_org_ord = f"MO{mod.__name__[8:].upper()}000001"
    with SandboxServer(cfg) as sb, MedpayClient(sb.url, client_credentials(cfg), timeout=TIMEOUT, retries=0) as client:
        up = sample_fee_upload(med_org_ord)
        order = client.upload_fees(up)
        client.pay_order({"payAuthNo": "AUTH0001", "payOrdId": order.pay_ord_id, "payToken": order.pay_token,
                          "orgCodg": up["orgCodg"], "orgBizSer": "PAY" + med_org_ord, "chrgBchno": up["chrgBchno"],
                          "feeType": up["feeType"], "mdtrtId": "MD0001"})
        state = wait_until(lambda: (s := sb.sandbox.order_state(order.pay_ord_id))["notice"]
                           and s["notice"]["status"] in ("DELIVERED", "FAILED") and s, tries=1500)
        center = sb.sandbox.center
        inst = center.config.institution(client_credentials(cfg).app_id)
        paid = center.get_order(order.pay_ord_id)
        notice_body = inst.codec(center.config.private_key).pack_json(center.settlement_notice(inst, paid))
        return_url = center.return_url(inst, paid, "WX")
    assert state["notice"]["status"] == "DELIVERED" and state["notice"]["attempts"] == 1, state
    assert settled(order.pay_ord_id) == 1
    recorded = mod.PAID[order.pay_ord_id]
    assert recorded.med_org_ord == med_org_ord and recorded.fee_sumamt == Decimal(up["medfeeSumamt"])

    # The same notice as the center sends it, delivered again: acknowledged, not recorded again.
    assert reply_of(http.post(url + "/medpay/notify", content=notice_body))["success"] is True
    assert settled(order.pay_ord_id) == 1

    # The patient's phone lands on the return page (6204).
    assert return_url.startswith(url + "/medpay/return?mpcAppId=")
    page = http.get(return_url)
    assert page.status_code == 200 and page.headers["content-type"].startswith("text/html"), page.text
    assert page.headers["cache-control"] == "no-store" and page.headers["referrer-policy"] == "no-referrer"
    text = visible_text(page.text)
    # The recipe's own record says paid (its 6302 handler ran): the page says so, by name.
    assert "支付成功" in text and "某某医院" in text and "微信支付" in text and med_org_ord in text, text
    assert "请完成自费部分支付" not in text and "WX" not in text
    for amount in (recorded.fee_sumamt, recorded.fund_pay, recorded.psn_acct_pay, recorded.ownpay_amt):
        assert f"¥{amount}" in text, (amount, text)
    assert "医保基金支付" in text and "个人账户支付" in text and "返回医院" in text


# -- 6204: a bad link ---------------------------------------------------------------------------


def test_a_bad_return_link_gets_a_chinese_message_and_the_detail_goes_to_the_log(
        recipe: tuple[ModuleType, str], raw: dict[str, Any], http: httpx.Client,
        caplog: pytest.LogCaptureFixture) -> None:
    mod, url = recipe
    caplog.set_level(logging.INFO)
    center = center_codec(raw)
    app_id = center.credentials.app_id
    good = {"mpcAppId": app_id, "encData": center.encrypt_data(cs.order_sync()), "chnlType": "WX"}
    assert http.get(url + "/medpay/return", params=good).status_code == 200  # the baseline works

    garbage = dict(good, encData="Zm9vYmFy" * 8)
    damaged = dict(good, encData=good["encData"][:-8])
    cases = {
        "garbage encData": garbage,
        "damaged encData": damaged,
        "no encData": {"mpcAppId": app_id, "chnlType": "WX"},
        "nothing": {},
        "unknown mpcAppId": dict(good, mpcAppId="NOSUCHAPP0000000000000000000000X"),
    }
    for case, query in cases.items():
        caplog.clear()
        r = http.get(url + "/medpay/return?" + urlencode(query))
        assert r.status_code == 400, (case, r.status_code, r.text)
        text = visible_text(r.text).strip()
        assert re.search(r"[\u4e00-\u9fff]{4}", text), (case, text)
        # No library text: letters only where FastAPI's page names the parameter.
        assert not re.search(r"[A-Za-z]", text.replace("mpcAppId", "")), (case, text)
        assert "ORD" not in r.text and "100.00" not in r.text
        if case == "garbage encData":
            assert any(r.levelno == logging.WARNING and "DecryptError" in r.getMessage() for r in caplog.records), \
                (case, [r.getMessage() for r in caplog.records])


def test_the_recipes_own_routes_and_methods(recipe: tuple[ModuleType, str], http: httpx.Client) -> None:
    """The notice path takes POST only and the return page GET; FastAPI's own route
    coexists with the mounted callbacks."""
    mod, url = recipe
    assert http.get(url + "/medpay/notify").status_code == 405
    if mod.__name__ == "receive_fastapi":
        r = http.get(url + "/orders/ORD1")
        assert r.status_code == 200 and r.json() == {"payOrdId": "ORD1", "status": "未支付"}
    # An empty POST is a malformed notice, answered (HTTP 200) with success=false.
    assert reply_of(http.post(url + "/medpay/notify", content=b""))["success"] is False
