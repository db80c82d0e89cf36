"""SM3withSM2 signatures: the published vector, OpenSSL as an oracle, raw and DER."""

import base64
import shutil
import subprocess

import pytest

import medpay_core as mp
from medpay_core import _native

D = "3945208F7B2144B13F36E38AC6D39F95889393692860B51A42FB81EF4DF7C5B8"
K = "59276E27D506861A16680F3AD9C02DCCEF3CC1FA3CDBE4CE6D54B80DEAC1BC21"
R = "F5A03B0648D2C4630EEAC513E1BB81A15944DA3827D5B74143AC7EACEEE720B3"
S = "B1B6AA29DF212FD8763182BC0D421CA1BB9038FD1F7F42D4840B69C485BBC1AA"
OPENSSL = shutil.which("openssl")
needs_openssl = pytest.mark.skipif(OPENSSL is None, reason="openssl CLI not installed")


def test_gmt_0003_5_vector_reproduced_with_its_k_by_the_reference_verifies_here():
    # Signing with a chosen k is not in the module (a fixed k reveals the key): cargo test
    # reproduces (r, s) from k on the core function. Here the independent gmssl reference
    # reproduces it, medpay verifies it, and gmssl verifies medpay's own signatures.
    from gmssl import sm2 as g_sm2

    sk = mp.SM2PrivateKey.from_string(D)
    ref = g_sm2.CryptSM2(private_key=D, public_key="")
    ref.public_key = sk.public_key().to_hex()[2:]  # X||Y (gmssl's constructor mangles a leading 04)
    sig = bytes.fromhex(ref.sign_with_sm3(b"message digest", K.lower()))
    assert sig.hex().upper() == R + S
    assert sk.public_key().verify(b"message digest", sig)
    ours = sk.sign(b"message digest")
    assert ours != sig and ref.verify_with_sm3(ours.hex(), b"message digest")
    assert not hasattr(_native, "_sign_with_fixed_k")


def test_published_r_s_verify_and_other_messages_do_not():
    pk = mp.SM2PrivateKey.from_string(D).public_key()
    sig = bytes.fromhex(R + S)
    assert pk.verify(b"message digest", sig)
    assert not pk.verify(b"message digesT", sig)
    assert not pk.verify(b"message digest", sig, uid=b"another uid")


def test_sign_is_randomized_raw_64_bytes_and_verifies():
    sk = mp.SM2PrivateKey.generate()
    a, b = sk.sign(b"m"), sk.sign(b"m")
    assert len(a) == 64 and a != b
    assert sk.public_key().verify(b"m", a) and sk.public_key().verify(b"m", b)


def _der(sig: bytes) -> bytes:
    def integer(v: bytes) -> bytes:
        v = v.lstrip(b"\0") or b"\0"
        if v[0] & 0x80:
            v = b"\0" + v
        return b"\x02" + bytes([len(v)]) + v
    body = integer(sig[:32]) + integer(sig[32:])
    return b"\x30" + bytes([len(body)]) + body


def test_verify_accepts_der_and_rejects_garbage():
    sk = mp.SM2PrivateKey.generate()
    sig = sk.sign(b"m")
    assert sk.public_key().verify(b"m", _der(sig))
    assert not sk.public_key().verify(b"m", sig[:63])
    assert not sk.public_key().verify(b"m", b"\x30\x03\x02\x01\x00")
    assert not sk.public_key().verify(b"m", bytes(64))  # r = s = 0 is outside [1, n-1]


@needs_openssl
def test_openssl_verifies_our_signature(tmp_path):
    sk = mp.SM2PrivateKey.generate()
    msg = "appId=X&data={\"a\":\"1\"}&key=S".encode()
    (tmp_path / "pub.pem").write_text(sk.public_key().to_pem())
    (tmp_path / "m").write_bytes(msg)
    (tmp_path / "sig").write_bytes(_der(sk.sign(msg)))
    r = subprocess.run(
        [OPENSSL, "pkeyutl", "-verify", "-pubin", "-inkey", "pub.pem", "-in", "m", "-sigfile", "sig",
         "-rawin", "-digest", "sm3", "-pkeyopt", "distid:1234567812345678"],
        cwd=tmp_path, capture_output=True, text=True,
    )
    assert r.returncode == 0, r.stdout + r.stderr


@needs_openssl
def test_we_verify_openssl_signature(tmp_path):
    sk = mp.SM2PrivateKey.generate()
    (tmp_path / "k.pem").write_text(sk.to_pem())
    msg = "张三 pays 100.00".encode()
    (tmp_path / "m").write_bytes(msg)
    subprocess.run(
        [OPENSSL, "pkeyutl", "-sign", "-inkey", "k.pem", "-in", "m", "-out", "sig", "-rawin", "-digest", "sm3",
         "-pkeyopt", "distid:1234567812345678"],
        cwd=tmp_path, check=True, capture_output=True,
    )
    der = (tmp_path / "sig").read_bytes()
    assert sk.public_key().verify(msg, der)
    assert not sk.public_key().verify(msg + b"!", der)


def test_sign_data_is_standard_padded_base64_of_raw_r_s():
    import medpay_core as mp2
    sk = mp2.SM2PrivateKey.generate()
    creds = mp2.Credentials("43AF047BBA47FC8A1AE8EFB232BDBBCB", "secret", sk, sk.public_key())
    env = mp2.EnvelopeCodec(creds).pack({"a": "1"})
    raw = base64.b64decode(env["signData"], validate=True)
    assert len(raw) == 64 and env["signData"].endswith("==")
