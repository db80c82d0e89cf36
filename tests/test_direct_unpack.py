"""Large signed messages take a second route through `unpack`: the helper thread builds the
sign text straight from the decrypted JSON text while this one parses the same text straight
into Python objects. That route must give exactly the message, sign text and errors of the
one-thread route (`unpack_many(..., threads=1)` parses into the crate's values first), and
agree with the independent reference."""

import base64
import json
from decimal import Decimal

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import medpay_core as mp
import reference as ref

APP_ID = "1H452H9AR0LO3F60C80A000054C771C6"
SECRET = "1H452H9B30LP3F60C80A0000AB8B7385"
INST, CENTER = mp.SM2PrivateKey.generate(), mp.SM2PrivateKey.generate()
OURS = mp.EnvelopeCodec(mp.Credentials(APP_ID, SECRET, INST, CENTER.public_key()))
THEIRS = mp.EnvelopeCodec(mp.Credentials(APP_ID, SECRET, CENTER, INST.public_key()))

# Fee lines enough to put any message over the two-core threshold (4 KiB of JSON).
FILLER = [{"feedetlSn": f"FD{i:04d}", "bilgDeptName": "内科", "cnt": Decimal("2.0000")} for i in range(80)]


def shown(sign_text: str) -> str:
    """A sign text as a Message shows it: the appSecret at its end masked."""
    assert sign_text.endswith("&key=" + SECRET)
    return sign_text[: -len(SECRET)] + "********"


def serial(body) -> mp.Message:
    """The same envelope through the one-thread route."""
    (msg,) = OURS.unpack_many([body], threads=1)
    if isinstance(msg, Exception):
        raise msg
    return msg


def sealed(plaintext: bytes, **fields) -> bytes:
    """An envelope around raw plaintext bytes, signed over something else."""
    hex_data = mp.sm4_ecb_encrypt(mp.derive_sm4_key(APP_ID, SECRET), plaintext).hex().upper()
    env = {"appId": APP_ID, "encData": hex_data, "encType": "SM4", "signType": "SM2", "timestamp": "1",
           "version": "2.0.1", "signData": base64.b64encode(CENTER.sign(b"x")).decode(), **fields}
    return json.dumps(env).encode()


keys = st.text(alphabet=st.characters(codec="utf-8", categories=("L", "N", "P")), min_size=1, max_size=8)
text = st.one_of(st.just(""), st.text(max_size=12),
                 st.sampled_from(["张三", 'q"uote\\', "tab\tnew\nline", "\x01\x1f", "😀"]))
scalars = st.one_of(st.none(), st.booleans(), st.integers(-10**20, 10**20), text,
                    st.decimals(allow_nan=False, allow_infinity=False, places=2, min_value=-10**9, max_value=10**9))
values = st.recursive(scalars, lambda c: st.one_of(st.lists(c, max_size=4), st.dictionaries(keys, c, max_size=4)),
                      max_leaves=12)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.dictionaries(keys, values, max_size=6))
def test_large_reference_messages_read_the_same_on_both_routes(extra):
    data = {**extra, "feedetailList": FILLER + [extra]}
    # Receiving is lenient: the peer may sign data the center's SDK would throw on.
    env = ref.pack(APP_ID, SECRET, CENTER.to_hex(), CENTER.public_key().to_hex(), data, strict=False)
    body = ref.dumps(env).encode()
    msg = OURS.unpack(body)
    assert msg.data == data
    assert msg.sign_text == shown(ref.sign_text({**{k: v for k, v in env.items() if k != "encData"}, "data": data}, SECRET))
    one = serial(body)
    assert (one.data, one.sign_text, one.fields) == (msg.data, msg.sign_text, msg.fields)


def test_escapes_in_the_text_read_the_same_on_both_routes():
    # Escaped quotes, backslashes, \u escapes (a surrogate pair among them) in keys and
    # values, as other senders' JSON writers produce them.
    head = r'{"k\"e\\y":"a\u0001b","\u00e9":["\ud83d\ude00 ok","",null],"feedetailList":'
    plaintext = (head + json.dumps(FILLER, ensure_ascii=False, default=str) + "}").encode()
    data = json.loads(plaintext, parse_float=Decimal)
    assert data['k"e\\y'] == "a\x01b" and data["é"][0] == "😀 ok"
    env = {"appId": APP_ID, "encType": "SM4", "signType": "SM2", "timestamp": "1", "version": "2.0.1"}
    sign_text = mp.sign_text({**env, "data": data}, SECRET)
    body = sealed(plaintext, signData=base64.b64encode(CENTER.sign(sign_text.encode())).decode())
    msg = OURS.unpack(body)
    assert msg.data == data and msg.sign_text == shown(sign_text)
    assert serial(body).sign_text == shown(sign_text)


def test_a_large_message_signed_in_the_other_key_order_still_verifies():
    java = mp.EnvelopeCodec(mp.Credentials(APP_ID, SECRET, CENTER, INST.public_key(), key_order="case_insensitive"))
    data = {"feeType": "1", "feedetailList": FILLER, "Zone": "z"}
    body = java.pack_json(data, timestamp="1")
    msg = OURS.unpack(body)
    assert msg.data == data and msg.signed
    assert msg.sign_text == serial(body).sign_text == shown(mp.sign_text(
        dict(json.loads(body), data=data), SECRET, key_order="case_insensitive"))
    assert msg.sign_text != shown(mp.sign_text(dict(json.loads(body), data=data), SECRET))


def test_large_data_sent_as_a_json_string_is_read_and_verified():
    data = {"orgCodg": "H1", "feedetailList": FILLER}
    text = json.dumps(data, ensure_ascii=False, default=str)
    env = {"appId": APP_ID, "data": text, "signType": "SM2", "timestamp": "1", "version": "2.0.1"}
    sign_text = mp.sign_text({**env, "data": json.loads(text)}, SECRET)
    env["signData"] = base64.b64encode(CENTER.sign(sign_text.encode())).decode()
    body = json.dumps(env).encode()
    msg = OURS.unpack(body)
    assert msg.data == json.loads(text, parse_float=Decimal) and msg.sign_text == shown(sign_text)
    assert serial(body).data == msg.data


BIG = json.dumps({"feedetailList": [{"feedetlSn": str(i)} for i in range(400)]}).encode()


@pytest.mark.parametrize("plaintext, error, words", [
    (BIG[:-1], mp.DecryptError, "not JSON"),                          # cut short
    (BIG[:-1] + b',"feedetailList":1}', mp.EnvelopeError, "duplicate"),
    (BIG.replace(b'"0"', b'"\xff"'), mp.DecryptError, "UTF-8"),
    (BIG.replace(b'"0"', b'[[[[[[[[[[0]]]]]]]]]]'), mp.EnvelopeError, "deeper"),
])
def test_bad_json_in_a_large_message_fails_as_on_the_one_thread_route(plaintext, error, words):
    codec = mp.EnvelopeCodec(OURS.credentials, max_depth=8)
    body = sealed(plaintext)
    with pytest.raises(error, match=words) as direct:
        codec.unpack(body)
    (one,) = codec.unpack_many([body], threads=1)
    assert type(one) is type(direct.value) and str(one) == str(direct.value)


def test_a_large_message_with_a_wrong_signature_fails_after_reading():
    body = sealed(BIG)
    with pytest.raises(mp.SignatureError, match="does not verify"):
        OURS.unpack(body)
