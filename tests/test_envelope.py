"""The envelope codec: docs/protocol.md §1-§4 from Python, and every kind of bad input."""

import base64
import json
from decimal import Decimal

import pytest

import medpay_core as mp
from vectors import PROTOCOL

APP_ID = "43AF047BBA47FC8A1AE8EFB232BDBBCB"
SECRET = "4117E877F5FA0A0188891283E4B617D5"


@pytest.fixture(scope="module")
def keys():
    return mp.SM2PrivateKey.generate(), mp.SM2PrivateKey.generate()


@pytest.fixture(scope="module")
def pair(keys):
    inst, center = keys
    return (
        mp.EnvelopeCodec(mp.Credentials(APP_ID, SECRET, inst, center.public_key())),
        mp.EnvelopeCodec(mp.Credentials(APP_ID, SECRET, center, inst.public_key())),
    )


def reenvelope(env: dict, **changes) -> bytes:
    e = dict(env)
    for k, v in changes.items():
        if v is None:
            e.pop(k, None)
        else:
            e[k] = v
    return json.dumps(e).encode()


def test_derive_sm4_key_spec_example():
    v = PROTOCOL["enc_data_spec_example"]
    assert mp.derive_sm4_key(v["app_id"], v["app_secret"]) == v["data_key_ascii"].encode()


def test_spec_enc_data_example_decrypts_and_reencrypts(pair):
    v = PROTOCOL["enc_data_spec_example"]
    codec = mp.EnvelopeCodec(mp.Credentials(v["app_id"], v["app_secret"]))
    data = codec.decrypt_data(v["enc_data"])
    assert data == json.loads(v["plaintext"])
    assert codec.encrypt_data(data) == v["enc_data"]
    assert codec.decrypt_data(v["enc_data"].lower()) == data


def test_pack_gives_the_wire_envelope(pair):
    inst, _ = pair
    env = inst.pack({"a": "1"}, timestamp="20200207175759")
    assert set(env) == {"appId", "encData", "encType", "signData", "signType", "timestamp", "version"}
    assert env["encType"] == "SM4" and env["signType"] == "SM2" and env["version"] == "2.0.1"
    assert env["encData"] == env["encData"].upper()
    assert mp.sm4_ecb_decrypt(mp.derive_sm4_key(APP_ID, SECRET), bytes.fromhex(env["encData"])) == b'{"a":"1"}'


def test_default_timestamp_is_epoch_milliseconds(pair):
    import time
    before = int(time.time() * 1000)
    ts = int(pair[0].pack({"a": "1"})["timestamp"])
    assert before <= ts <= int(time.time() * 1000)


def test_round_trip_keeps_numbers_as_int_and_decimal_literals(pair):
    inst, center = pair
    data = {"amt": Decimal("100.00"), "n": 3, "big": 10**30, "neg": Decimal("-0.50"), "ok": True,
            "none": None, "name": "张三", "list": [{"q": Decimal("1.0000")}], "empty": ""}
    msg = center.unpack(inst.pack_json(data))
    assert msg.data == data
    assert str(msg.data["amt"]) == "100.00" and type(msg.data["n"]) is int
    # The sign text ends with the appSecret masked, never the secret itself.
    assert msg.signed and msg.sign_text.endswith("&key=********") and SECRET not in msg.sign_text


def test_unpack_accepts_dict_str_and_bytes(pair):
    inst, center = pair
    env = inst.pack({"a": Decimal("1.50")})
    for form in (env, json.dumps(env), json.dumps(env).encode()):
        assert center.unpack(form).data == {"a": Decimal("1.50")}


def test_response_fields_are_signed_and_read(pair):
    inst, center = pair
    env = center.pack({"payOrdId": "P1"}, code=0, message="成功", success=True)
    msg = inst.unpack(env)
    assert (msg.code, msg.message, msg.success) == (0, "成功", True)
    assert msg.fields["appId"] == APP_ID and "encData" not in msg.fields
    with pytest.raises(mp.SignatureError):
        inst.unpack(reenvelope(env, code=1))
    with pytest.raises(mp.SignatureError):
        inst.unpack(reenvelope(env, success=False))


def test_code_given_as_string_reads_as_int(pair):
    inst, center = pair
    msg = inst.unpack(center.pack({"a": "1"}, code="0", success="true"))
    assert msg.code == 0 and msg.success is True


def test_case_insensitive_signer_is_accepted_by_ordinal_verifier(keys):
    inst, center = keys
    signer = mp.EnvelopeCodec(mp.Credentials(APP_ID, SECRET, center, None, key_order="case_insensitive"))
    reader = mp.EnvelopeCodec(mp.Credentials(APP_ID, SECRET, inst, center.public_key()))
    msg = reader.unpack(signer.pack({"feedetailList": [{"b": "1"}], "feeType": "01"}))
    assert '"feedetailList":[{"b":"1"}],"feeType":"01"' in msg.sign_text


def test_plain_data_is_accepted_and_unsigned_needs_consent(keys, pair):
    inst, center = pair
    plain = {"appId": APP_ID, "data": {"payOrdId": "P1", "amt": "1.00"}, "signType": "SM2", "timestamp": "1",
             "version": "2.0.1"}
    # A missing signData is a missing envelope field, not a bad signature.
    with pytest.raises(mp.EnvelopeError, match="no signData") as e:
        inst.unpack(plain)
    assert e.value.field == "signData"
    msg = inst.unpack(plain, require_signature=False)
    assert msg.data == {"payOrdId": "P1", "amt": "1.00"} and not msg.signed
    # Plain data that is signed is verified.
    body = dict(plain)
    text = mp.sign_text(body, SECRET)
    body["signData"] = base64.b64encode(keys[1].sign(text.encode())).decode()
    assert inst.unpack(body).signed
    body["data"] = {"payOrdId": "P2", "amt": "1.00"}
    with pytest.raises(mp.SignatureError):
        inst.unpack(body)


def test_tampered_sign_data_is_a_signature_error(pair):
    inst, center = pair
    env = inst.pack({"a": "1"})
    sig = bytearray(base64.b64decode(env["signData"]))
    sig[5] ^= 1
    with pytest.raises(mp.SignatureError, match="does not verify"):
        center.unpack(reenvelope(env, signData=base64.b64encode(bytes(sig)).decode()))
    with pytest.raises(mp.SignatureError, match="Base64"):
        center.unpack(reenvelope(env, signData="@@@"))
    with pytest.raises(mp.SignatureError, match="64 raw bytes or DER"):
        center.unpack(reenvelope(env, signData=base64.b64encode(b"x" * 10).decode()))


def test_signature_from_the_wrong_key_fails(pair, keys):
    inst, _ = pair
    stranger = mp.EnvelopeCodec(mp.Credentials(APP_ID, SECRET, mp.SM2PrivateKey.generate(), None))
    with pytest.raises(mp.SignatureError):
        inst.unpack(stranger.pack({"a": "1"}))


def test_flipped_enc_data_bytes_fail_decryption_or_signature(pair):
    inst, center = pair
    env = inst.pack({"a": "1", "b": "x" * 40})
    enc = env["encData"]
    for pos in (0, len(enc) // 2, len(enc) - 1):
        flipped = enc[:pos] + ("0" if enc[pos] != "0" else "1") + enc[pos + 1:]
        with pytest.raises((mp.DecryptError, mp.SignatureError)):
            center.unpack(reenvelope(env, encData=flipped))


@pytest.mark.parametrize("bad, why", [("ABC", "odd number"), ("ZZ" * 16, "non-hex"), ("00" * 15, "multiple of 16")])
def test_bad_enc_data_hex_is_a_decrypt_error(pair, bad, why):
    inst, center = pair
    with pytest.raises(mp.DecryptError, match=why):
        center.unpack(reenvelope(inst.pack({"a": "1"}), encData=bad))


def test_bad_padding_is_a_decrypt_error(pair):
    inst, center = pair
    key = mp.derive_sm4_key(APP_ID, SECRET)
    block = mp.sm4_ecb_encrypt(key, bytes(16))[:16]  # decrypts to 16 zero bytes: no valid padding
    with pytest.raises(mp.DecryptError, match="padding"):
        center.unpack(reenvelope(inst.pack({"a": "1"}), encData=block.hex()))


def test_wrong_app_secret_is_a_decrypt_error_that_says_so_first(keys):
    inst, center = keys
    sender = mp.EnvelopeCodec(mp.Credentials(APP_ID, SECRET, inst, None))
    receiver = mp.EnvelopeCodec(mp.Credentials(APP_ID, "another-secret", center, inst.public_key()))
    with pytest.raises(mp.DecryptError, match=r"^the appSecret \(or the appId\) is probably wrong"):
        receiver.unpack(sender.pack({"a": "1"}))


@pytest.mark.parametrize(
    "body, why, field",
    [
        (b"not json", "invalid JSON", None),
        (b'{"appId":"x"', "invalid JSON", None),
        (b"[1,2]", "JSON object", None),
        (b'{"appId":"A","appId":"B"}', "duplicate", None),
        (b'{"encData":"00"}', "no signData", "signData"),
        (b'{"encData":"00","signData":"AAAA"}', "no appId", "appId"),
        (b'{"appId":"another-app-id-0000","signData":"AAAA"}', "is not the appId", "appId"),
        (b'{"appId":7,"signData":"AAAA"}', "must be a string", "appId"),
        (b"\xff\xfe", "UTF-8", None),
    ],
)
def test_malformed_envelopes_are_envelope_errors(pair, body, why, field):
    with pytest.raises(mp.EnvelopeError, match=why) as e:
        pair[1].unpack(body)
    assert e.value.field == field


def test_unsupported_enc_or_sign_type_is_refused(pair):
    inst, center = pair
    env = inst.pack({"a": "1"})
    with pytest.raises(mp.EnvelopeError, match="encType") as e:
        center.unpack(reenvelope(env, encType="AES"))
    assert e.value.field == "encType"
    with pytest.raises(mp.EnvelopeError, match="signType") as e:
        center.unpack(reenvelope(env, signType="RSA"))
    assert e.value.field == "signType"


def test_duplicate_keys_inside_encrypted_data_are_refused(pair):
    inst, center = pair
    env = inst.pack({"a": "1"})
    enc = mp.sm4_ecb_encrypt(mp.derive_sm4_key(APP_ID, SECRET), b'{"a":"1","a":"2"}').hex().upper()
    with pytest.raises(mp.EnvelopeError, match="duplicate"):
        center.unpack(reenvelope(env, encData=enc))


def test_oversize_and_too_deep_payloads_are_refused(keys):
    inst, center = keys
    small = mp.EnvelopeCodec(mp.Credentials(APP_ID, SECRET, center, inst.public_key()), max_bytes=4096, max_depth=8)
    sender = mp.EnvelopeCodec(mp.Credentials(APP_ID, SECRET, inst, None))
    with pytest.raises(mp.EnvelopeError, match="over the limit"):
        small.unpack(sender.pack_json({"blob": "x" * 5000}))
    deep = {"a": "1"}
    for _ in range(10):
        deep = {"n": deep}
    with pytest.raises(mp.EnvelopeError, match="deeper"):
        small.unpack(sender.pack_json(deep))
    with pytest.raises(mp.EnvelopeError, match="deeper"):
        small.pack(deep)
    # Hostile nesting far past the limit is an error, not a crash.
    with pytest.raises(mp.EnvelopeError):
        small.unpack(b"[" * 100000)


def test_pack_refuses_floats_reserved_fields_and_odd_types(pair):
    inst, _ = pair
    with pytest.raises(mp.EnvelopeError, match="float"):
        inst.pack({"amt": 1.5})
    with pytest.raises(mp.EnvelopeError, match="written by the codec"):
        inst.pack({"a": "1"}, signData="x")
    with pytest.raises(mp.EnvelopeError, match="cannot be sent"):
        inst.pack({"a": object()})
    with pytest.raises(mp.EnvelopeError, match="keys must be str"):
        inst.pack({1: "x"})
    with pytest.raises(mp.EnvelopeError, match="finite"):
        inst.pack({"a": Decimal("NaN")})
    with pytest.raises(mp.EnvelopeError, match="object or array"):
        inst.pack("just a string")


def test_missing_keys_are_reported_clearly():
    codec = mp.EnvelopeCodec(mp.Credentials(APP_ID, SECRET))
    with pytest.raises(mp.KeyFormatError, match="no private key"):
        codec.pack({"a": "1"})
    other = mp.EnvelopeCodec(mp.Credentials(APP_ID, SECRET, mp.SM2PrivateKey.generate()))
    with pytest.raises(mp.SignatureError, match="no peer public key"):
        codec.unpack(other.pack({"a": "1"}))


def test_credentials_accept_key_strings_and_refuse_short_app_id(keys):
    inst, center = keys
    creds = mp.Credentials(APP_ID, SECRET, inst.to_pem(), center.public_key().to_hex())
    assert creds.peer_public_key == center.public_key()
    with pytest.raises(mp.KeyFormatError, match="16 ASCII"):
        mp.Credentials("short", SECRET)
    with pytest.raises(mp.KeyFormatError):
        mp.Credentials(APP_ID, SECRET, "not a key")


def test_errors_are_all_medpay_errors_and_never_contain_the_secret(pair):
    inst, center = pair
    for bad in (b"nope", reenvelope(inst.pack({"a": "1"}), encData="ZZ")):
        with pytest.raises(mp.MedpayError) as e:
            center.unpack(bad)
        assert SECRET not in str(e.value)
    assert SECRET not in repr(center) and SECRET not in repr(center.unpack(inst.pack({"a": "1"})))
