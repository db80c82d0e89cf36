"""What the client leaves for operations: the audit hook (报文留存) gets the exact signed
bytes of every attempt, one INFO line per call on the ``medpay`` logger namespace, and
TLS settings that would be silently unused are refused."""

from __future__ import annotations

import logging
import ssl

import httpx
import pytest

import center_server as cs
import client_support as sup
import medpay_core as mp
from medpay_core.client import Exchange, MedpayClient


@pytest.fixture(params=["sync", "async"])
def connect(request, center):
    made = []

    def connect(**kw):
        c = sup.open_client(request.param, center.url, center.inst_credentials, **kw)
        made.append(c)
        return c

    yield connect
    for c in made:
        c.close()


def test_the_audit_hook_gets_the_signed_bytes_of_every_attempt_both_ways(connect, center):
    archive: list[Exchange] = []
    client = connect(audit=archive.append)
    center.enqueue("query_order_info", cs.status(503), cs.ok())
    result = client.query_order(cs.query_request())
    client.pay_order(cs.pay_order_request())
    assert [(x.code, x.status) for x in archive] == [("6301", 503), ("6301", 200), ("6202", 200)]
    # What was archived is what went over the wire: the center reads the request bytes,
    # the institution's codec reads the answer bytes as the client did.
    ours = mp.EnvelopeCodec(center.inst_credentials)
    for ex, sent in zip(archive, [r for _, r in center.received]):
        assert center.codec.unpack(ex.request).data == sent
    assert ours.unpack(archive[1].response).data["ordStas"] == result.ord_stas
    assert archive[1].request != archive[0].request  # a retry is signed afresh
    assert all(x.url.startswith(center.url) and x.duration >= 0 and x.started > 0 for x in archive)


def test_an_exchange_without_an_answer_is_archived_with_its_error(connect, center):
    archive: list[Exchange] = []
    client = connect(audit=archive.append, timeout=0.5, retries=0)
    center.enqueue("query_order_info", cs.slow(5))
    with pytest.raises(mp.TransportError):
        client.query_order(cs.query_request())
    (ex,) = archive
    assert ex.status is None and ex.response is None and ex.error and ex.request


def test_a_failing_audit_hook_never_loses_the_answer(connect, center, caplog):
    def broken(ex: Exchange) -> None:
        raise OSError("archive disk full")

    client = connect(audit=broken)
    with caplog.at_level(logging.ERROR, logger="medpay.client"):
        assert client.pay_order(cs.pay_order_request()).ord_stas is not None
    assert "audit hook failed" in caplog.text


def test_an_exchanges_repr_shows_sizes_not_bodies(connect, center):
    archive: list[Exchange] = []
    connect(audit=archive.append).query_order(cs.query_request())
    text = repr(archive[0])
    assert "bytes>" in text and not any(p in text for p in sup.PERSONAL)
    assert archive[0].request.decode() not in text


def test_each_call_logs_one_info_line_with_code_outcome_and_time_and_no_personal_data(connect, center, caplog):
    client = connect()
    center.enqueue("query_order_info", cs.ok(), cs.business_error(500001, "订单不存在"))
    with caplog.at_level(logging.INFO, logger="medpay"):
        client.query_order(cs.query_request())
        with pytest.raises(mp.BusinessError):
            client.query_order(cs.query_request())
    lines = [r for r in caplog.records if r.levelno == logging.INFO and r.name == "medpay.client"]
    assert [r.getMessage().split(" in ")[0] for r in lines] == [
        "6301 query_order_info: ok", "6301 query_order_info: BusinessError"]
    assert all(r.getMessage().endswith(" ms") for r in lines)
    assert not any(p in caplog.text for p in sup.PERSONAL)


def test_every_logger_of_the_package_is_under_one_namespace():
    import importlib
    import pkgutil

    names = set()
    for mod in pkgutil.walk_packages(mp.__path__, "medpay_core."):
        m = importlib.import_module(mod.name)
        log = getattr(m, "log", None)
        if isinstance(log, logging.Logger):
            names.add(log.name)
    assert names and all(n == "medpay" or n.startswith("medpay.") for n in names), names


@pytest.mark.parametrize("setting", [{"ssl_context": ssl.create_default_context()},
                                     {"proxy": "http://127.0.0.1:3128"}], ids=["ssl_context", "proxy"])
@pytest.mark.parametrize("cls,transport", [(MedpayClient, mp.HttpTransport), (mp.AsyncMedpayClient,
                                                                             mp.AiohttpTransport)])
def test_tls_or_proxy_settings_beside_a_transport_are_refused_not_ignored(center, setting, cls, transport):
    with pytest.raises(ValueError, match="transport"):
        cls(center.url, center.inst_credentials, transport=transport(), **setting)


def test_an_httpx_transport_given_as_is_is_refused_naming_the_wrapper(center):
    with pytest.raises(TypeError, match="HttpxTransport"):
        MedpayClient(center.url, center.inst_credentials, transport=httpx.HTTPTransport())


def test_audit_must_be_callable(center):
    with pytest.raises(TypeError):
        MedpayClient(center.url, center.inst_credentials, audit="archive.log")


def test_the_request_hook_adds_trace_headers_to_every_attempt(connect, center):
    seen: list = []

    def seeing_headers(center_, h, req):
        seen.append((h.headers.get("traceparent"), h.headers.get("Content-Type")))
        cs.ok()(center_, h, req)

    calls: list[str] = []

    def trace(code: str, headers: dict) -> None:
        calls.append(code)
        headers["traceparent"] = f"00-{len(calls):032x}-{1:016x}-01"

    client = connect(on_request=trace)
    center.enqueue("query_order_info", cs.status(503), seeing_headers)
    client.query_order(cs.query_request())
    assert calls == ["6301", "6301"]
    assert seen == [(f"00-{2:032x}-{1:016x}-01", "application/json;charset=UTF-8")]


def test_the_request_hook_must_be_callable(center):
    with pytest.raises(TypeError):
        MedpayClient(center.url, center.inst_credentials, on_request={"traceparent": "x"})
