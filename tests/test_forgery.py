"""Issue 12, F1: the top-level sign text is not injective (docs/protocol.md §2). A man in
the middle, holding no key, moves ``&signType=SM2&success=false`` of a signed refusal into
``message`` and deletes ``signType`` and ``success``: the text, and so the signature, stay
the same. Such an answer must never be read as success."""

from __future__ import annotations

import json

import pytest

import center_server as cs
import client_support as sup
import medpay_core as mp


def refusal_and_its_forgery(center: cs.LocalCenter) -> tuple[dict, dict]:
    signed = json.loads(center.codec.pack_json({}, code=0, message="处理失败", success=False))
    forged = {k: v for k, v in signed.items() if k not in ("signType", "success")}
    forged["message"] = signed["message"] + "&signType=SM2&success=false"
    return signed, forged


def test_the_forgery_keeps_the_sign_text_so_the_signature_verifies(center):
    signed, forged = refusal_and_its_forgery(center)
    secret = cs.APP_SECRET
    assert mp.sign_text(forged, secret) == mp.sign_text(signed, secret)  # why it is an attack


def test_the_codec_refuses_the_forgery_for_its_missing_sign_type(center):
    _, forged = refusal_and_its_forgery(center)
    with pytest.raises(mp.EnvelopeError) as exc:
        center.inst_codec.unpack(json.dumps(forged, ensure_ascii=False))
    assert exc.value.field == "signType"
    forged_type = {**forged, "signType": "SM2&success=false", "message": "处理失败"}
    with pytest.raises(mp.EnvelopeError) as exc2:  # the other place the text could hide
        center.inst_codec.unpack(json.dumps(forged_type, ensure_ascii=False))
    assert exc2.value.field == "signType"


@pytest.mark.parametrize("kind", ["sync", "async"])
def test_the_client_never_returns_the_forged_refusal_as_an_answer(center, kind):
    signed, forged = refusal_and_its_forgery(center)
    center.enqueue("query_order_info", cs.raw(json.dumps(signed, ensure_ascii=False).encode()),
                   cs.raw(json.dumps(forged, ensure_ascii=False).encode()))
    client = sup.open_client(kind, center.url, center.inst_credentials, retries=0)
    try:
        with pytest.raises(mp.BusinessError):  # the genuine refusal is a refusal
            client.query_order(cs.query_request())
        with pytest.raises(mp.EnvelopeError):  # the forgery is no answer at all
            client.query_order(cs.query_request())
    finally:
        client.close()
