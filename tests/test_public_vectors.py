"""Public evidence (tests/vectors/protocol.json): signatures the center's Java SDK and the
national service platform's front end made, and ciphertexts they sent, checked with medpay
(docs/protocol.md §9). The Rust side checks the same vectors in rust/tests/vectors.rs."""

import base64
import json
from decimal import Decimal

import medpay_core as mp
from vectors import PROTOCOL


def test_the_sdks_6301_signature_verifies_over_medpays_sign_text_and_the_rejected_one_does_not():
    v = PROTOCOL["sdk_signed_6301"]
    sk = mp.SM2PrivateKey.from_string(v["private_key_base64"])
    pk = sk.public_key()
    assert pk.to_hex().lower() == v["public_key"].lower()
    message = PROTOCOL["sign_text_6301"]["message"]
    text = mp.sign_text(message, PROTOCOL["sign_text_6301"]["app_secret"])
    assert text == v["sign_text"]
    assert pk.verify(text.encode(), base64.b64decode(v["sign_data"]))
    assert not pk.verify(text.encode(), base64.b64decode(v["sign_data_rejected"]))
    # The whole envelope verifies in diagnose, and the rejected one is not explained away.
    good = mp.diagnose({**message, "signData": v["sign_data"]}, PROTOCOL["sign_text_6301"]["app_secret"], pk)
    assert good.verifies and good.variant is None
    bad = mp.diagnose({**message, "signData": v["sign_data_rejected"]}, PROTOCOL["sign_text_6301"]["app_secret"], pk)
    assert not bad.verifies


def test_the_national_front_ends_requests_verify_and_decrypt_with_the_default_uid():
    v = PROTOCOL["national_front_end"]
    sk = mp.SM2PrivateKey.from_string(v["private_key"])
    pk = sk.public_key()
    assert pk.to_hex().lower() == v["public_key"].lower()
    key = mp.derive_sm4_key(v["app_code"], v["app_secret"])
    assert key == v["data_key_ascii"].encode("ascii")
    for request in v["requests"]:
        message = dict(request["message"])
        if "encData" in message["data"]:
            # Version 1.0.0 carries the ciphertext inside data: {"data":{"encData":…}}.
            plain = mp.sm4_ecb_decrypt(key, bytes.fromhex(message["data"]["encData"])).decode("utf-8")
            assert plain == request["plaintext"]
            message["data"] = json.loads(plain, parse_float=Decimal)
        text = mp.sign_text(message, v["app_secret"])
        assert text == request["sign_text"]
        sig = base64.b64decode(message["signData"])
        assert pk.verify(text.encode(), sig)
        assert not pk.verify(text.encode(), sig, uid=v["app_secret"].encode())
