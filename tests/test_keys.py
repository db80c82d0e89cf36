"""Every key format of docs/protocol.md §5 loads and round-trips; bad keys raise KeyFormatError."""

import base64
import shutil
import subprocess

import pytest

import medpay_core as mp

# GM/T 0003.5 appendix A.2 key pair.
D = "3945208F7B2144B13F36E38AC6D39F95889393692860B51A42FB81EF4DF7C5B8"
PUB = ("04" "09F9DF311E5421A150DD7D161E4BC5C672179FAD1833FC076BB08FF356F35020"
       "CCEA490CE26775A52DC6EA718CC1AA600AED05FBF35E084A6632F6072DA9AD13")

OPENSSL = shutil.which("openssl")


def private_forms(sk: mp.SM2PrivateKey):
    raw = bytes.fromhex(sk.to_hex())
    return {
        "hex64": sk.to_hex(),
        "hex64-lower": sk.to_hex().lower(),
        "hex66-java-biginteger": "00" + sk.to_hex(),
        "base64-32": base64.b64encode(raw).decode(),
        "base64-33-leading-zero": base64.b64encode(b"\0" + raw).decode(),
        "pem-pkcs8": sk.to_pem(),
        "base64-der-pkcs8": base64.b64encode(sk.to_der()).decode(),
        "base64-der-sec1": base64.b64encode(sk.to_der("sec1")).decode(),
        "pem-sec1": "-----BEGIN EC PRIVATE KEY-----\n" + base64.encodebytes(sk.to_der("sec1")).decode() + "-----END EC PRIVATE KEY-----\n",
    }


def public_forms(pk: mp.SM2PublicKey):
    raw = pk.to_bytes()
    return {
        "hex130": pk.to_hex(),
        "hex128-xy": pk.to_hex()[2:],
        "hex66-compressed": pk.to_bytes(compressed=True).hex(),
        "base64-65": base64.b64encode(raw).decode(),
        "base64-64": base64.b64encode(raw[1:]).decode(),
        "base64-33": base64.b64encode(pk.to_bytes(compressed=True)).decode(),
        "pem-spki": pk.to_pem(),
        "base64-der-spki": base64.b64encode(pk.to_der()).decode(),
    }


def test_published_key_pair_derives_its_public_key():
    assert mp.SM2PrivateKey.from_string(D).public_key().to_hex() == PUB


@pytest.mark.parametrize("form", list(private_forms(mp.SM2PrivateKey.from_string(D))))
def test_private_key_formats_round_trip(form):
    sk = mp.SM2PrivateKey.from_string(D)
    loaded = mp.SM2PrivateKey.from_string(private_forms(sk)[form])
    assert loaded.to_hex() == D
    assert loaded.public_key() == sk.public_key()


@pytest.mark.parametrize("form", list(public_forms(mp.SM2PublicKey.from_string(PUB))))
def test_public_key_formats_round_trip(form):
    pk = mp.SM2PublicKey.from_string(PUB)
    assert mp.SM2PublicKey.from_string(public_forms(pk)[form]) == pk


def test_keys_load_from_bytes():
    sk = mp.SM2PrivateKey.from_string(D)
    assert mp.SM2PrivateKey.from_bytes(bytes.fromhex(D)).to_hex() == D
    assert mp.SM2PrivateKey.from_bytes(sk.to_der()).to_hex() == D
    pk = sk.public_key()
    for b in (pk.to_bytes(), pk.to_bytes()[1:], pk.to_bytes(compressed=True), pk.to_der()):
        assert mp.SM2PublicKey.from_bytes(b) == pk


@pytest.mark.skipif(OPENSSL is None, reason="openssl CLI not installed")
def test_openssl_generated_keys_load(tmp_path):
    key = tmp_path / "k.pem"
    subprocess.run([OPENSSL, "genpkey", "-algorithm", "SM2", "-out", str(key)], check=True, capture_output=True)
    pub = subprocess.run([OPENSSL, "pkey", "-in", str(key), "-pubout"], check=True, capture_output=True).stdout
    params = subprocess.run([OPENSSL, "ecparam", "-name", "SM2", "-genkey"], check=True, capture_output=True).stdout
    sk = mp.SM2PrivateKey.from_string(key.read_text())
    assert mp.SM2PublicKey.from_string(pub.decode()) == sk.public_key()
    assert mp.SM2PrivateKey.from_string(params.decode()).public_key()  # PARAMETERS block first


N = "FFFFFFFEFFFFFFFFFFFFFFFFFFFFFFFF7203DF6B21C6052B53BBF40939D54123"


@pytest.mark.parametrize(
    "text, why",
    [
        ("", "empty"),
        ("!!" * 32, "neither hex"),
        ("00" * 32, "zero"),
        (N, "not below the group order"),
        ("%064X" % (int(N, 16) - 1), "n - 1"),
        ("01" + D, "must start with 00"),
        (base64.b64encode(b"\x01" * 20).decode(), "20 bytes"),
        ("-----BEGIN ENCRYPTED PRIVATE KEY-----\nAAAA\n-----END ENCRYPTED PRIVATE KEY-----", "encrypted"),
        ("-----BEGIN PRIVATE KEY-----\nMAA=\n-----END PRIVATE KEY-----", "DER"),
    ],
)
def test_bad_private_keys_raise_key_format_error(text, why):
    with pytest.raises(mp.KeyFormatError, match=why):
        mp.SM2PrivateKey.from_string(text)


def test_p256_key_is_refused_as_another_curve():
    if OPENSSL is None:
        pytest.skip("openssl CLI not installed")
    pem = subprocess.run(
        [OPENSSL, "genpkey", "-algorithm", "EC", "-pkeyopt", "ec_paramgen_curve:P-256"], check=True, capture_output=True
    ).stdout.decode()
    with pytest.raises(mp.KeyFormatError, match="another curve"):
        mp.SM2PrivateKey.from_string(pem)


@pytest.mark.parametrize(
    "text",
    [
        "04" + "11" * 64,  # not on the curve
        "05" + PUB[2:],  # bad prefix
        PUB[:-2],  # truncated
        "02" + "FF" * 32,  # compressed x with no point
        "hello world",
        "",
    ],
)
def test_bad_public_keys_raise_key_format_error(text):
    with pytest.raises(mp.KeyFormatError):
        mp.SM2PublicKey.from_string(text)


def test_key_errors_and_reprs_never_show_the_secret():
    sk = mp.SM2PrivateKey.from_string(D)
    assert D not in repr(sk) and D.lower() not in repr(sk)
    creds = mp.Credentials("43AF047BBA47FC8A1AE8EFB232BDBBCB", "TOPSECRET-0123456789", sk, sk.public_key())
    assert "TOPSECRET" not in repr(creds)
    bad = "zz" + D[2:]
    with pytest.raises(mp.KeyFormatError) as e:
        mp.SM2PrivateKey.from_string(bad)
    assert D[2:] not in str(e.value)
