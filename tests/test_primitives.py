"""SM3 and SM4 against the GB/T vectors, the OpenSSL CLI and the gmssl reference."""

import shutil
import subprocess

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import medpay_core as mp
import reference as ref

OPENSSL = shutil.which("openssl")
needs_openssl = pytest.mark.skipif(OPENSSL is None, reason="openssl CLI not installed")


def test_sm3_gbt_32905_vectors():
    assert mp.sm3(b"abc").hex() == "66c7f0f462eeedd9d1f2d46bdc10e4e24167c4875cf2f7a2297da02b8f4ba8e0"
    assert mp.sm3(b"abcd" * 16).hex() == "debe9ff92275b8a138604889c18e5a4d6fdb70e5387e5765293dcba39c0c5732"


def test_sm4_gbt_32907_vector_first_block():
    key = bytes.fromhex("0123456789abcdeffedcba9876543210")
    # ECB+PKCS#7 of one block: the first block is the standard's single-block result.
    assert mp.sm4_ecb_encrypt(key, key)[:16].hex() == "681edf34d206965e86b3e94f536e4246"


@needs_openssl
@pytest.mark.parametrize("size", [0, 1, 15, 16, 17, 1000])
def test_sm3_matches_openssl(size):
    data = bytes(range(256)) * 4
    data = data[:size]
    out = subprocess.run([OPENSSL, "dgst", "-sm3", "-binary"], input=data, capture_output=True, check=True).stdout
    assert mp.sm3(data) == out


@needs_openssl
@pytest.mark.parametrize("size", [0, 5, 16, 31, 64, 999])
def test_sm4_ecb_pkcs7_matches_openssl(size):
    key = bytes(range(16))
    data = (b"medpay-sm4-" * 100)[:size]
    out = subprocess.run(
        [OPENSSL, "enc", "-sm4-ecb", "-K", key.hex(), "-nosalt"], input=data, capture_output=True, check=True
    ).stdout
    assert mp.sm4_ecb_encrypt(key, data) == out
    assert mp.sm4_ecb_decrypt(key, out) == data


@settings(max_examples=60, deadline=None)
@given(st.binary(min_size=16, max_size=16), st.binary(max_size=300))
def test_sm4_and_sm3_agree_with_gmssl(key, data):
    assert mp.sm4_ecb_encrypt(key, data) == ref.sm4_ecb(key, data, True)
    assert mp.sm4_ecb_decrypt(key, ref.sm4_ecb(key, data, True)) == data
    assert mp.sm3(data) == ref.sm3(data)


def test_sm4_rejects_wrong_key_length_and_bad_ciphertext():
    with pytest.raises(mp.KeyFormatError):
        mp.sm4_ecb_encrypt(b"short", b"x")
    key = bytes(16)
    with pytest.raises(mp.DecryptError, match="multiple of 16"):
        mp.sm4_ecb_decrypt(key, b"x" * 15)
    with pytest.raises(mp.DecryptError, match="padding"):
        # A block that decrypts to a last byte of 0 cannot be PKCS#7.
        block = mp.sm4_ecb_encrypt(key, bytes(16))[:16]
        mp.sm4_ecb_decrypt(key, block)
