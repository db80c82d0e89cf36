"""The sandbox as strict as the center (issue 16): requests verified over the center's SDK
sign text alone (a signer's variant named in the refusal), data the SDK cannot sign
refused, the fields the spec says must be "as uploaded" checked against the stored
upload, and an independent client (tests/reference.py, on gmssl) accepted end to end."""

from __future__ import annotations

import base64
import json
import time
from decimal import Decimal
from typing import Any, Iterator

import httpx
import pytest

import medpay_core as mp
import reference as ref
from medpay_core.client import MedpayClient
from medpay_core.sandbox import SandboxError, SandboxServer, codes
from medpay_core.sandbox.demo import query_of, sample_fee_upload
from sandbox_support import NoticeSink, client_credentials, make_config
from sandbox_support import sb, sink  # noqa: F401 (fixtures)

_seq = iter(range(1, 10**6))
API = "/org/local/api/hos/"


def new_upload(**kw: Any) -> dict[str, Any]:
    return sample_fee_upload(f"MOST{time.strftime('%Y%m%d%H%M%S')}{next(_seq):06d}", **kw)


@pytest.fixture
def raw(sink: NoticeSink) -> dict[str, Any]:
    return make_config(sink)


@pytest.fixture
def client(sb: SandboxServer, raw: dict[str, Any]) -> Iterator[MedpayClient]:
    with MedpayClient(sb.url, client_credentials(raw), timeout=10, retries=0) as c:
        yield c


def codec_of(raw: dict[str, Any], **kw: Any) -> mp.EnvelopeCodec:
    c = client_credentials(raw)
    return mp.EnvelopeCodec(mp.Credentials(c.app_id, c.app_secret, c.private_key, c.peer_public_key, **kw))


def post(sb: SandboxServer, raw: dict[str, Any], path: str, body: bytes) -> mp.Message:
    """POST a body; the sandbox's signed answer, opened."""
    r = httpx.post(sb.url + API + path, content=body, timeout=10)
    assert r.status_code == 200
    return codec_of(raw).unpack(r.content)


def resigned(raw: dict[str, Any], env: dict[str, Any], edit: Any) -> bytes:
    """``env`` (a packed envelope) signed over ``edit(the SDK's sign text)``: a signer
    that builds the text its own way."""
    c = client_credentials(raw)
    text = edit(mp.sign_text(env, c.app_secret))
    assert c.private_key is not None
    env = dict(env, signData=base64.b64encode(c.private_key.sign(text.encode("utf-8"))).decode())
    return json.dumps(env).encode()


# -- the sign text: the SDK's alone ----------------------------------------------------------


def test_a_signer_with_case_insensitive_nested_order_is_refused_with_1003_naming_that_order(sb, raw):
    body = codec_of(raw, key_order="case_insensitive").pack_json(new_upload())
    answer = post(sb, raw, "uldFeeInfo", body)
    assert answer.code == codes.BAD_SIGNATURE and answer.success is False
    assert "case-insensitive nested key order" in (answer.message or "")
    assert "ordinal" in (answer.message or "") and "lenientSignature" in (answer.message or "")
    assert "accepted by medpay" not in (answer.message or "")  # not by this center


def test_the_same_upload_signed_the_sdks_way_is_accepted(sb, raw):
    answer = post(sb, raw, "uldFeeInfo", codec_of(raw).pack_json(new_upload()))
    assert answer.code == 0 and answer.success is True and answer.data["payOrdId"]


def test_lenient_signature_accepts_the_case_insensitive_order_knowingly(sink):
    raw = make_config(sink, lenientSignature=True)
    with SandboxServer(raw) as sb:
        answer = post(sb, raw, "uldFeeInfo", codec_of(raw, key_order="case_insensitive").pack_json(new_upload()))
    assert answer.code == 0 and answer.success is True


def test_lenient_signature_must_be_a_json_boolean(sink):
    with pytest.raises(ValueError, match="lenientSignature must be true or false"):
        SandboxServer(make_config(sink, lenientSignature="false")).start()


def test_strings_escaped_as_fastjson2_does_are_refused_naming_the_escaping(sb, raw):
    # fastjson 1.x (the SDK's) writes U+0080..U+009F (here a NEL pasted into a name) as
    # \u0085; fastjson2 writes it raw.
    up = new_upload(person={"userName": "张\u0085三", "idNo": "350181199011193519", "idType": "01"})
    env = codec_of(raw).pack(up)
    assert "\\u0085" in mp.sign_text(env, client_credentials(raw).app_secret)
    body = resigned(raw, env, lambda t: t.replace("\\u0085", "\u0085"))
    answer = post(sb, raw, "uldFeeInfo", body)
    assert answer.code == codes.BAD_SIGNATURE and "fastjson2" in (answer.message or "")
    # Signed the SDK's way, the same upload is accepted.
    assert post(sb, raw, "uldFeeInfo", json.dumps(env).encode()).code == 0


def test_a_signature_that_verifies_over_no_accepted_text_names_the_variant(sb, raw):
    secret = client_credentials(raw).app_secret
    env = codec_of(raw).pack(new_upload())
    body = resigned(raw, env, lambda t: t[: -len("key=" + secret)] + secret)  # "&key=" forgotten
    answer = post(sb, raw, "uldFeeInfo", body)
    assert answer.code == codes.BAD_SIGNATURE
    assert 'it verifies over a known variant: "&key=" forgotten' in (answer.message or "")
    assert secret not in (answer.message or "")


def test_a_signature_by_another_key_says_what_to_check(sb, raw):
    c = client_credentials(raw)
    other = mp.EnvelopeCodec(mp.Credentials(c.app_id, c.app_secret, mp.SM2PrivateKey.generate(), c.peer_public_key))
    answer = post(sb, raw, "uldFeeInfo", other.pack_json(new_upload()))
    assert answer.code == codes.BAD_SIGNATURE and "no known variant explains it" in (answer.message or "")
    assert "check the key pair" in (answer.message or "")


# -- data the SDK cannot sign ----------------------------------------------------------------


@pytest.mark.parametrize("element, where", [(None, "feedetailList[1]"), ("", "feedetailList[0]")])
def test_data_the_sdk_throws_on_is_refused_with_1003_naming_the_element(sb, raw, element, where):
    up = new_upload()
    c = client_credentials(raw)
    assert c.private_key is not None
    # The library refuses to pack it; a lenient signer (one that leaves the element out of
    # the text) sends it anyway.
    lines = [element, *up["feedetailList"]] if element == "" else [*up["feedetailList"][:1], element]
    with pytest.raises(mp.EnvelopeError, match="cannot sign"):
        codec_of(raw).pack_json({**up, "feedetailList": lines})
    env = ref.pack(c.app_id, c.app_secret, c.private_key.to_hex(), c.private_key.public_key().to_hex(),
                   {**up, "feedetailList": lines}, strict=False)
    answer = post(sb, raw, "uldFeeInfo", json.dumps(env).encode())
    assert answer.code == codes.BAD_SIGNATURE
    assert (answer.message or "").startswith(f"data.{where}: the center's SDK cannot sign")
    # Without the element, the same signer's upload is accepted.
    env = ref.pack(c.app_id, c.app_secret, c.private_key.to_hex(), c.private_key.public_key().to_hex(), up,
                   strict=False)
    assert post(sb, raw, "uldFeeInfo", json.dumps(env, default=str).encode()).code == 0


# -- an independent client --------------------------------------------------------------------


def test_an_independent_client_uploads_and_queries_and_verifies_the_answers(sb, raw):
    c = client_credentials(raw)
    assert c.private_key is not None and c.peer_public_key is not None
    key, center = c.private_key.to_hex(), c.peer_public_key.to_hex()

    def call(path: str, data: dict[str, Any]) -> Any:
        env = ref.pack(c.app_id, c.app_secret, key, c.private_key.public_key().to_hex(), data,
                       timestamp=str(int(time.time() * 1000)))
        r = httpx.post(sb.url + API + path, content=json.dumps(env, default=str), timeout=10)
        answer = ref.loads(r.content)
        assert answer["code"] == 0, answer.get("message")
        return ref.unpack(c.app_id, c.app_secret, center, answer)  # the center's signature verifies

    up = new_upload()
    order = call("uldFeeInfo", up)
    state = call("query_order_info", query_of(up, order["payOrdId"], order["payToken"]))
    assert state["ordStas"] == "0" and Decimal(state["feeSumamt"]) == up["medfeeSumamt"]


# -- "as uploaded" ---------------------------------------------------------------------------


def pay(up: dict[str, Any], order: Any, **kw: Any) -> dict[str, Any]:
    return {"payAuthNo": "AUTH0001", "payOrdId": order.pay_ord_id, "payToken": order.pay_token,
            "orgCodg": up["orgCodg"], "orgBizSer": mp.new_org_biz_ser("PAY"), "chrgBchno": up["chrgBchno"],
            "feeType": up["feeType"], "mdtrtId": up.get("mdtrtId", "MD0001"), **kw}


@pytest.mark.parametrize("field, wrong", [("mdtrtId", "WRONG"), ("chrgBchno", "CBWRONG"), ("feeType", "02")])
def test_6202_refuses_a_field_that_is_not_as_uploaded_with_3004_naming_it(client, field, wrong):
    up = {**new_upload(), "mdtrtId": "MDREAL"}
    order = client.upload_fees(up)
    with pytest.raises(mp.BusinessError) as ei:
        client.pay_order(pay(up, order, **{field: wrong}))
    assert ei.value.code == codes.FIELD_MISMATCH
    assert ei.value.message.startswith(f"{field}: differs from the fee upload's {field}")
    assert "6202: must be as uploaded" in ei.value.message
    assert client.pay_order(pay(up, order)).ord_stas == "6"


def test_6202_mdtrt_id_is_free_when_the_upload_carried_none(client):
    up = new_upload()
    assert "mdtrtId" not in up
    order = client.upload_fees(up)
    assert client.pay_order(pay(up, order, mdtrtId="MDANY")).ord_stas == "6"


def test_6301_refuses_a_pay_token_not_of_the_upload_with_3003_naming_the_rule(client):
    up = new_upload()
    order = client.upload_fees(up)
    with pytest.raises(mp.BusinessError) as ei:
        client.query_order(query_of(up, order.pay_ord_id, "TOKENOFANOTHERORDER"))
    assert ei.value.code == codes.TOKEN_MISMATCH
    assert ei.value.message.startswith("payToken: must be the payToken the fee upload (6201) returned")
    assert client.query_order(query_of(up, order.pay_ord_id, order.pay_token)).ord_stas == "0"


@pytest.mark.parametrize("tx", ["6301", "6401"])
def test_6301_and_6401_refuse_another_person_with_3004_naming_the_field(client, tx):
    up = new_upload()
    order = client.upload_fees(up)
    request = {**query_of(up, order.pay_ord_id, order.pay_token), "userName": "李四"}
    send = client.query_order if tx == "6301" else client.revoke_upload
    with pytest.raises(mp.BusinessError) as ei:
        send(request)
    assert ei.value.code == codes.FIELD_MISMATCH and ei.value.message.startswith("userName: differs")
    assert "李四" not in ei.value.message and "张三" not in ei.value.message


def test_the_docstring_examples_of_the_sandboxs_checks_run():
    import doctest

    from medpay_core.sandbox import validation

    result = doctest.testmod(validation)
    assert result.attempted > 0 and result.failed == 0


def test_an_answer_the_sdk_could_not_sign_is_a_5000_refusal_not_a_crash(raw, tmp_path, monkeypatch):
    from medpay_core.sandbox.service import Sandbox

    sandbox = Sandbox(raw, str(tmp_path / "center.db"))
    try:
        monkeypatch.setattr(sandbox.center, "handle", lambda *a, **k: {"l": [None, "x"]})  # a sandbox bug
        body = codec_of(raw).pack_json(query_of(new_upload(), "ORD1", "TK1"))
        reply = sandbox.handle_api("query_order_info", body, "http://127.0.0.1")
        answer = codec_of(raw).unpack(reply.body)
        assert reply.status == 200 and answer.code == codes.INTERNAL and answer.success is False
    finally:
        sandbox.close()


def test_a_trailing_empty_string_element_the_sdk_drops_is_not_refused(raw):
    from medpay_core.sandbox.config import parse_config
    from medpay_core.sandbox.validation import check_sdk_signature

    cfg = parse_config(raw)
    inst = cfg.institutions[client_credentials(raw).app_id]
    center = inst.codec(cfg.private_key)
    body = codec_of(raw).pack_json({"l": ["x", ""], "n": [[], "y"]})
    check_sdk_signature(center, inst, body, center.unpack(body))  # the SDK signs it: no refusal
    bad = ref.pack(inst.app_id, inst.app_secret, client_credentials(raw).private_key.to_hex(),
                   inst.public_key.to_hex(), {"l": ["", "x"]}, strict=False)
    with pytest.raises(SandboxError) as ei:
        check_sdk_signature(center, inst, json.dumps(bad).encode(), center.unpack(bad))
    assert ei.value.code == codes.BAD_SIGNATURE and ei.value.message.startswith("data.l[0]:")
