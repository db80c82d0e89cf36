"""SM4, SM3 and SM2 from Python: medpay, the fastest peer, and `openssl speed` (run in
the same session, as a reference row)."""

from __future__ import annotations

import re
import shutil
import subprocess
from functools import lru_cache
from typing import Any, Optional

import pytest

import medpay_core as mp
from conftest import QUICK, contender

BLOCK = bytes(range(256)) * 16  # 4 KiB
KEY = bytes(range(16))
MSG = b"appId=" + b"x" * 200


@lru_cache(maxsize=None)
def openssl_speed(*args: str) -> tuple:
    """The numbers of the last line of `openssl speed` (empty when there is no openssl)."""
    exe = shutil.which("openssl")
    if not exe:
        return ()
    out = subprocess.run([exe, "speed", "-seconds", "1" if QUICK else "3", *args],
                         capture_output=True, text=True).stdout
    lines = [ln for ln in out.splitlines() if ln.strip()]
    return tuple(float(x.rstrip("k")) for x in re.findall(r"[\d.]+k?(?=\s|$)", lines[-1])) if lines else ()


def reference(name: str, value: Optional[float]) -> dict:
    return {"reference": name, "reference_value": value} if value else {}


@pytest.mark.parametrize("who", ["medpay", "cryptography"])
def test_sm4_ecb_4k(benchmark: Any, who: str) -> None:
    if who == "medpay":
        ossl = openssl_speed("-bytes", "4096", "-evp", "sm4-ecb")
        contender(benchmark, "SM4-ECB 4 KiB", who, "medpay", "MB/s", bytes=len(BLOCK),
                  **reference("openssl speed -evp sm4-ecb", ossl[-1] / 1000 if ossl else None))
        benchmark(mp.sm4_ecb_encrypt, KEY, BLOCK)
    else:
        from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes

        ecb = Cipher(algorithms.SM4(KEY), modes.ECB())
        contender(benchmark, "SM4-ECB 4 KiB", who, "peer", "MB/s", bytes=len(BLOCK))
        benchmark(lambda: ecb.encryptor().update(BLOCK))


@pytest.mark.parametrize("who", ["medpay", "gmssl-fast"])
def test_sm3_4k(benchmark: Any, who: str) -> None:
    if who == "medpay":
        ossl = openssl_speed("-bytes", "4096", "-evp", "sm3")
        contender(benchmark, "SM3 4 KiB", who, "medpay", "MB/s", bytes=len(BLOCK),
                  **reference("openssl speed -evp sm3", ossl[-1] / 1000 if ossl else None))
        benchmark(mp.sm3, BLOCK)
    else:
        import gmssl_fast

        contender(benchmark, "SM3 4 KiB", who, "peer", "MB/s", bytes=len(BLOCK))
        benchmark(gmssl_fast.sm3, BLOCK)


@pytest.mark.parametrize("op", ["sign", "verify"])
@pytest.mark.parametrize("who", ["medpay", "gmssl-fast"])
def test_sm2(benchmark: Any, keys: Any, who: str, op: str) -> None:
    group = f"SM2 {op}"
    if who == "medpay":
        p256 = openssl_speed("ecdsap256")
        value = (p256[-2] if op == "sign" and len(p256) >= 2 else p256[-1] if op == "verify" and p256 else None)
        contender(benchmark, group, who, "medpay", **reference("openssl speed ecdsap256", value))
        sig = keys.inst.sign(MSG)
        pub = keys.inst.public_key()
        benchmark(keys.inst.sign, MSG) if op == "sign" else benchmark(pub.verify, MSG, sig)
    else:
        import gmssl_fast

        gf = gmssl_fast.SM2(private_key=keys.hex[0].lower(), public_key=keys.hex[1].lower())
        contender(benchmark, group, who, "peer")
        gsig = gf.sign(MSG)
        benchmark(gf.sign, MSG) if op == "sign" else benchmark(gf.verify, MSG, gsig)
