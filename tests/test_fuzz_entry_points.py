"""Hypothesis as a fuzzer of the Python entry points that take what others send: the
codec, the body reader, the models' boundary, the 6204 and cashier decoders and the 6302
handler. Whatever the input, the outcome is a result or a MedpayError: never another
exception, never a crash. Bounded in examples, not in time (the machines are shared)."""

from __future__ import annotations

import json
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import medpay_core as mp
from medpay_core import models
from medpay_core.callbacks import MemoryNoticeStore, decode_order_sync, handle_settlement_notice, read_json_object
from medpay_core.cashier import decode_cashier_params
from model_examples import SETTLEMENT

FUZZ = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])

APP_ID, SECRET = "43AF047BBA47FC8A1AE8EFB232BDBBCB", "4117E877F5FA0A0188891283E4B617D5"
INST, CENTER = mp.SM2PrivateKey.generate(), mp.SM2PrivateKey.generate()
OURS = mp.EnvelopeCodec(mp.Credentials(APP_ID, SECRET, INST, CENTER.public_key()))
THEIRS = mp.EnvelopeCodec(mp.Credentials(APP_ID, SECRET, CENTER, INST.public_key()))

FIELDS = ["appId", "version", "timestamp", "encType", "signType", "signData", "encData", "data",
          "code", "message", "success", "payOrdId", "callType", "idNo", "feeSumamt", "extData"]
scalars = st.one_of(st.none(), st.booleans(), st.integers(), st.text(max_size=20),
                    st.decimals(allow_nan=False, allow_infinity=False, places=3),
                    st.sampled_from(["2.0.1", "SM4", "SM2", "02", "0", APP_ID, "NaN", "1E+999999", "\ud800"]))
values = st.recursive(scalars, lambda inner: st.one_of(st.lists(inner, max_size=4),
                                                       st.dictionaries(st.sampled_from(FIELDS), inner, max_size=5)),
                      max_leaves=20)
documents = st.dictionaries(st.sampled_from(FIELDS), values, max_size=10)


def as_text(doc: Any) -> bytes:
    return json.dumps(doc, default=str, ensure_ascii=False).encode("utf-8", "surrogatepass")


def mutated(body: bytes, cuts: list[int], flips: list[tuple[int, int]]) -> bytes:
    b = bytearray(body)
    for i, x in flips:
        if b:
            b[i % len(b)] ^= x
    for c in cuts:
        if b:
            del b[c % len(b)]
    return bytes(b)


def only_medpay_errors(call: Any) -> None:
    try:
        call()
    except mp.MedpayError:
        pass


@FUZZ
@given(st.one_of(st.binary(max_size=200), documents.map(as_text)))
def test_unpack_and_the_body_reader_take_anything(body):
    only_medpay_errors(lambda: OURS.unpack(body))
    only_medpay_errors(lambda: OURS.unpack(body, require_signature=False))
    only_medpay_errors(lambda: read_json_object(body))
    only_medpay_errors(lambda: mp.sign_text(body, SECRET))


@FUZZ
@given(documents, st.lists(st.integers(0, 10**6), max_size=3),
       st.lists(st.tuples(st.integers(0, 10**6), st.integers(1, 255)), max_size=3))
def test_a_signed_envelope_altered_anywhere_is_refused_or_still_the_same_message(data, cuts, flips):
    try:
        body = THEIRS.pack_json(data)
    except mp.MedpayError:
        return
    bad = mutated(body, cuts, flips)
    try:
        msg = OURS.unpack(bad)
    except mp.MedpayError:
        return
    assert msg.data == OURS.unpack(body).data  # only changes the signature does not cover


@FUZZ
@given(st.sampled_from([t for t in models.TRANSACTIONS.values()]), documents, st.booleans())
def test_the_models_boundary_takes_anything(t, doc, answer):
    model = t.response if answer and t.response is not None else t.request
    only_medpay_errors(lambda: models.validate(model, doc))


@FUZZ
@given(documents)
def test_the_6302_handler_always_answers(doc):
    try:
        body = THEIRS.pack_json(doc)  # signed: the handler gets past the signature
    except mp.MedpayError:
        body = as_text(doc)
    reply = handle_settlement_notice(body, OURS, lambda notice: None, store=MemoryNoticeStore())
    assert read_json_object(reply)  # always an answer the center can read


@FUZZ
@given(st.dictionaries(st.sampled_from(["mpcAppId", "encData", "chnlType", "x"]),
                       st.one_of(st.text(max_size=40), st.sampled_from([APP_ID, OURS.encrypt_data({"a": 1})]))),
       st.text(max_size=80))
def test_the_6204_and_cashier_decoders_take_anything(query, url):
    only_medpay_errors(lambda: decode_order_sync(query, OURS))
    only_medpay_errors(lambda: decode_cashier_params("https://h/c?" + url, OURS))


def test_the_fuzzer_reaches_past_the_parser():
    # A fuzzer that only produced unparseable input would prove little: a valid notice
    # goes all the way to on_notice.
    seen = []
    body = THEIRS.pack_json(SETTLEMENT)
    handle_settlement_notice(body, OURS, seen.append, store=MemoryNoticeStore())
    assert [n.pay_ord_id for n in seen] == [SETTLEMENT["payOrdId"]]
