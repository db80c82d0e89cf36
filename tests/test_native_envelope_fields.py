"""The envelope's fields as the core reads them (docs/protocol.md §1): the protocol fields
`code`, `success` and `message` normalised once, every mandatory field checked with its own
EnvelopeError before the signature, unsigned refusals readable, and undecryptable data
blamed on the likely cause with the center's refusal shown."""

import base64
import json
from decimal import Decimal

import pytest

import medpay_core as mp

APP_ID = "43AF047BBA47FC8A1AE8EFB232BDBBCB"
SECRET = "4117E877F5FA0A0188891283E4B617D5"
INST, CENTER = mp.SM2PrivateKey.generate(), mp.SM2PrivateKey.generate()
OURS = mp.EnvelopeCodec(mp.Credentials(APP_ID, SECRET, INST, CENTER.public_key()))
THEIRS = mp.EnvelopeCodec(mp.Credentials(APP_ID, SECRET, CENTER, INST.public_key()))

ABSENT = object()


def answer(**fields) -> mp.Message:
    """A signed answer carrying these top-level fields, unpacked."""
    return OURS.unpack(THEIRS.pack_json({"payOrdId": "P1"}, **fields))


# -- code, success, message ----------------------------------------------------------------

@pytest.mark.parametrize("sent, read", [
    (0, 0), ("0", 0), (" 0 ", 0), ("\t1004\n", 1004), (1004, 1004), (-3, -3), ("+7", 7),
    (Decimal("1.0"), 1), (Decimal("1E+3"), 1000), (Decimal("-0"), 0),
    ("E01", "E01"), (" E01 ", " E01 "), ("1.0", "1.0"), (Decimal("1.5"), "1.5"), (ABSENT, None),
])
def test_code_is_an_int_when_integral_else_the_text_as_sent(sent, read):
    msg = answer() if sent is ABSENT else answer(code=sent)
    assert msg.code == read and type(msg.code) is type(read)


@pytest.mark.parametrize("sent, read", [
    (True, True), (False, False), ("true", True), ("True", True), (" FALSE ", False), ("false", False),
    ("yes", None), (1, None), (0, None), (ABSENT, None),
])
def test_success_is_a_bool_or_the_text_of_one_in_any_case(sent, read):
    msg = answer(code=0) if sent is ABSENT else answer(code=0, success=sent)
    assert msg.success is read


@pytest.mark.parametrize("fields, read", [
    ({"message": "成功"}, "成功"),
    ({"msg": "接口调用成功"}, "接口调用成功"),
    ({"message": "a", "msg": "b"}, "a"),
    ({"message": 404}, "404"),
    ({}, None),
])
def test_message_is_a_str_read_from_msg_when_message_is_absent(fields, read):
    assert answer(code=1, **fields).message == read


def test_a_code_that_is_neither_number_nor_string_is_an_envelope_error_naming_it():
    with pytest.raises(mp.EnvelopeError, match="code must be a number or a string") as e:
        answer(code=True)
    assert e.value.field == "code"


def test_the_protocol_fields_read_the_same_on_the_batch_route():
    body = THEIRS.pack_json({"payOrdId": "P1"}, code=" 0 ", success="True", msg="ok")
    (batched,) = OURS.unpack_many([body], threads=1)
    single = OURS.unpack(body)
    assert (batched.code, batched.success, batched.message) == (single.code, single.success, single.message) == (0, True, "ok")


# -- mandatory fields ----------------------------------------------------------------------

def altered(**changes) -> bytes:
    """A signed envelope with fields changed (ABSENT removes one); the signature is left
    as it was, so a check that fell through to it would say "does not verify"."""
    env = THEIRS.pack({"payOrdId": "P1"}, timestamp="1692977670450")
    for k, v in changes.items():
        env.pop(k, None)
        if v is not ABSENT:
            env[k] = v
    return json.dumps(env).encode()


@pytest.mark.parametrize("field, value, words", [
    ("encData", ABSENT, "no encData"),
    ("encData", 7, "encData must be a string"),
    ("timestamp", ABSENT, "no timestamp"),
    ("timestamp", 1692977670450, "timestamp must be a string, not number"),
    ("version", "1.0", 'version "1.0" is not supported'),
    ("version", ABSENT, "no version"),
    ("appId", ABSENT, "no appId"),
    ("appId", "43AF047BBA47FC8AFFFFFFFFFFFFFFFF", "is not the appId"),
    ("signData", ABSENT, "no signData"),
    ("signData", 12, "signData must be a string"),
    ("signType", ABSENT, "no signType"),
    ("signType", "RSA", "only SM2"),
    ("encType", ABSENT, "no encType"),
    ("encType", "AES", "only SM4"),
])
def test_each_mandatory_field_is_an_envelope_error_naming_it(field, value, words):
    with pytest.raises(mp.EnvelopeError, match=words) as e:
        OURS.unpack(altered(**{field: value}))
    assert e.value.field == field
    assert not isinstance(e.value, mp.SignatureError)


def test_an_intact_envelope_still_verifies_and_a_changed_value_still_fails_the_signature():
    assert OURS.unpack(altered()).signed
    with pytest.raises(mp.SignatureError, match="does not verify"):
        OURS.unpack(altered(timestamp="1692977670451"))


# -- unsigned refusals -----------------------------------------------------------------------

REFUSAL = b'{"code":1002,"message":"unknown appId","success":false}'


def test_an_unsigned_refusal_reads_with_require_signature_false():
    msg = OURS.unpack(REFUSAL, require_signature=False)
    assert (msg.signed, msg.code, msg.message, msg.success, msg.data) == (False, 1002, "unknown appId", False, None)
    assert msg.sign_text is None
    (batched,) = OURS.unpack_many([REFUSAL], require_signature=False)
    assert (batched.signed, batched.code, batched.message) == (False, 1002, "unknown appId")


def test_an_unsigned_refusal_needs_consent():
    with pytest.raises(mp.EnvelopeError, match="no signData") as e:
        OURS.unpack(REFUSAL)
    assert e.value.field == "signData"


def test_a_gateway_refusal_with_msg_and_a_string_code_reads_too():
    msg = OURS.unpack(b'{"code":"401 ","msg":"unauthorized"}', require_signature=False)
    assert (msg.code, msg.message, msg.success, msg.signed) == (401, "unauthorized", None, False)


def test_an_unsigned_envelope_is_never_signed_even_with_code_zero():
    msg = OURS.unpack(json.dumps({"appId": APP_ID, "code": 0, "data": {"a": "1"}}), require_signature=False)
    assert msg.code == 0 and not msg.signed and msg.data == {"a": "1"}


def test_what_an_unsigned_envelope_has_must_still_be_right():
    with pytest.raises(mp.EnvelopeError) as e:
        OURS.unpack(b'{"code":1,"version":"1.0"}', require_signature=False)
    assert e.value.field == "version"


def test_a_signed_refusal_may_come_without_data():
    fields = {"appId": APP_ID, "code": 1004, "message": "decrypt failed", "signType": "SM2", "success": False,
              "timestamp": "1", "version": "2.0.1"}
    text = mp.sign_text(fields, SECRET)
    body = json.dumps({**fields, "signData": base64.b64encode(CENTER.sign(text.encode())).decode()})
    msg = OURS.unpack(body)
    assert msg.signed and msg.data is None and (msg.code, msg.message) == (1004, "decrypt failed")
    # Without a refusal code the same envelope lacks its data.
    ok = {**fields, "code": 0}
    sig = base64.b64encode(CENTER.sign(mp.sign_text(ok, SECRET).encode())).decode()
    with pytest.raises(mp.EnvelopeError, match="no encData") as e:
        OURS.unpack(json.dumps({**ok, "signData": sig}))
    assert e.value.field == "encData"


# -- undecryptable data ----------------------------------------------------------------------

def wrongly_keyed(**fields) -> bytes:
    other = mp.EnvelopeCodec(mp.Credentials(APP_ID, "0THER" + SECRET[5:], CENTER, INST.public_key()))
    return other.pack_json({"payOrdId": "P1"}, **fields)


def test_a_wrong_app_secret_is_named_first():
    with pytest.raises(mp.DecryptError) as e:
        OURS.unpack(wrongly_keyed())
    assert str(e.value).startswith("the appSecret (or the appId) is probably wrong")
    assert e.value.center_code is None and e.value.center_message is None
    assert SECRET not in str(e.value)


def test_the_centers_refusal_is_shown_marked_as_not_verified():
    with pytest.raises(mp.DecryptError) as e:
        OURS.unpack(wrongly_keyed(code="1004", message="encData 解密失败"))
    text = str(e.value)
    assert text.startswith("the appSecret (or the appId) is probably wrong")
    assert 'the envelope says code 1004, message "encData 解密失败"; not verified' in text
    assert (e.value.center_code, e.value.center_message) == (1004, "encData 解密失败")
    # The batch route raises the same.
    (batched,) = OURS.unpack_many([wrongly_keyed(code="1004", message="encData 解密失败")], threads=1)
    assert type(batched) is mp.DecryptError and str(batched) == text and batched.center_code == 1004


def test_plaintext_that_is_not_json_blames_the_key_too():
    enc = mp.sm4_ecb_encrypt(mp.derive_sm4_key(APP_ID, SECRET), b"\xff\xfe not json").hex().upper()
    with pytest.raises(mp.DecryptError, match=r"^the appSecret \(or the appId\) is probably wrong: decrypted encData is not JSON"):
        OURS.unpack(altered(encData=enc, code=500))


def test_cut_ciphertext_is_not_blamed_on_the_key():
    with pytest.raises(mp.DecryptError, match="cut short or corrupted") as e:
        OURS.unpack(altered(encData="00" * 15))
    assert "probably wrong" not in str(e.value)
