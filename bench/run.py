"""medpay against its peers, side by side in one run, reported as ratios.

    python bench/run.py            # full run (about a minute)
    python bench/run.py --quick    # a short run that checks everything works (CI)

medpay and its peer take turns in short rounds within this process and each keeps its best
round; `openssl speed` runs as a subprocess in the same run. Figures are ops/s (or MB/s); the
ratio column is medpay / peer. Noisy shared machines move every figure, not the ratios much.
"""

from __future__ import annotations

import argparse
import json
import platform
import re
import shutil
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import medpay_core as mp  # noqa: E402
from payloads import APP_ID, APP_SECRET, query_6301, upload_6201  # noqa: E402
from peers import FastPeerStack, PureGmsslStack  # noqa: E402


ROUNDS = 5


def rates(*fns, seconds: float) -> list[float]:
    """Calls per second of each fn. They take turns in ROUNDS short rounds (about `seconds`
    each in all) and each keeps its best round: on a shared machine the noise then hits
    every contender alike, and the least disturbed round is the closest to the truth."""
    for fn in fns:
        fn()  # warm up
    best = [0.0] * len(fns)
    for _ in range(ROUNDS):
        for i, fn in enumerate(fns):
            n, start = 0, time.perf_counter()
            deadline = start + seconds / ROUNDS
            while True:
                fn()
                n += 1
                now = time.perf_counter()
                if now >= deadline:
                    break
            best[i] = max(best[i], n / (now - start))
    return best


def openssl_speed(args: list[str], seconds: int) -> list[float]:
    """The numbers of the last line of `openssl speed` output (empty if unavailable)."""
    exe = shutil.which("openssl")
    if not exe:
        return []
    out = subprocess.run([exe, "speed", "-seconds", str(seconds), *args], capture_output=True, text=True).stdout
    lines = [ln for ln in out.splitlines() if ln.strip()]
    if not lines:
        return []
    return [float(x.rstrip("k")) for x in re.findall(r"[\d.]+k?(?=\s|$)", lines[-1])]


def cpu_name() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def cpu_features() -> str:
    wanted = ("adx", "bmi2", "avx2", "aes", "vaes", "gfni", "avx512bw")
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("flags"):
                flags = set(line.split(":", 1)[1].split())
                return " ".join(f for f in wanted if f in flags) or "none"
    except OSError:
        pass
    return "unknown"


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="tiny budgets: check that it works, not how fast")
    ap.add_argument("--json", metavar="FILE", help="also write the rows as JSON")
    args = ap.parse_args()
    budget = 0.05 if args.quick else 1.0
    ossl_seconds = 1 if args.quick else 3

    inst, center = mp.SM2PrivateKey.generate(), mp.SM2PrivateKey.generate()
    ours = mp.EnvelopeCodec(mp.Credentials(APP_ID, APP_SECRET, inst, center.public_key()))
    theirs = mp.EnvelopeCodec(mp.Credentials(APP_ID, APP_SECRET, center, inst.public_key()))
    keys = (inst.to_hex(), inst.public_key().to_hex(), center.public_key().to_hex())
    center_keys = (center.to_hex(), center.public_key().to_hex(), inst.public_key().to_hex())
    rows: list[dict] = []

    def row(case, unit, medpay, peer_name=None, peer=None, openssl_name=None, openssl=None):
        rows.append(dict(case=case, unit=unit, medpay=medpay, peer_name=peer_name, peer=peer,
                         openssl_name=openssl_name, openssl=openssl))

    # -- primitives ----------------------------------------------------------------------
    import gmssl_fast
    from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes

    block = bytes(range(256)) * 16  # 4 KiB
    key = bytes(range(16))
    mb = len(block) / 1e6
    ecb = Cipher(algorithms.SM4(key), modes.ECB())
    ossl = openssl_speed(["-bytes", "4096", "-evp", "sm4-ecb"], ossl_seconds)
    ours_r, peer_r = rates(lambda: mp.sm4_ecb_encrypt(key, block), lambda: ecb.encryptor().update(block), seconds=budget)
    row("SM4-ECB 4 KiB", "MB/s", ours_r * mb, "cryptography", peer_r * mb,
        "openssl speed -evp sm4-ecb", ossl[-1] / 1000 if ossl else None)
    ossl = openssl_speed(["-bytes", "4096", "-evp", "sm3"], ossl_seconds)
    ours_r, peer_r = rates(lambda: mp.sm3(block), lambda: gmssl_fast.sm3(block), seconds=budget)
    row("SM3 4 KiB", "MB/s", ours_r * mb, "gmssl-fast", peer_r * mb,
        "openssl speed -evp sm3", ossl[-1] / 1000 if ossl else None)

    msg = b"appId=" + b"x" * 200
    sig = inst.sign(msg)
    pub = inst.public_key()
    gf = gmssl_fast.SM2(private_key=keys[0].lower(), public_key=keys[1].lower())
    gsig = gf.sign(msg)
    sm2_speed = openssl_speed(["sm2"], ossl_seconds)
    p256 = openssl_speed(["ecdsap256"], ossl_seconds)
    ours_r, peer_r = rates(lambda: inst.sign(msg), lambda: gf.sign(msg), seconds=budget)
    row("SM2 sign", "ops/s", ours_r, "gmssl-fast", peer_r,
        "openssl speed ecdsap256", p256[-2] if len(p256) >= 2 else None)
    ours_r, peer_r = rates(lambda: pub.verify(msg, sig), lambda: gf.verify(msg, gsig), seconds=budget)
    row("SM2 verify", "ops/s", ours_r, "gmssl-fast", peer_r,
        "openssl speed ecdsap256", p256[-1] if p256 else None)
    if len(sm2_speed) >= 2:
        row("(OpenSSL's own SM2 sign/verify)", "ops/s", None, None, None, "openssl speed sm2",
            f"{sm2_speed[-2]:,.0f} / {sm2_speed[-1]:,.0f}")

    # -- envelopes -----------------------------------------------------------------------
    fast = FastPeerStack(APP_ID, APP_SECRET, *keys)
    fast_center = FastPeerStack(APP_ID, APP_SECRET, *center_keys)
    pure = PureGmsslStack(APP_ID, APP_SECRET, *keys)
    for name, data in (("6301 query", query_6301()), ("6201 upload, 30 lines", upload_6201(30))):
        body_ours = theirs.pack_json(data)
        body_fast = fast_center.pack(data)
        assert fast.unpack(body_ours) == data and ours.unpack(body_fast).data == data  # interoperable
        pure_budget = budget if args.quick else 2 * budget
        for op, m, f, p in (
            ("pack", lambda: ours.pack_json(data), lambda: fast.pack(data), lambda: pure.pack(data)),
            ("unpack", lambda: ours.unpack(body_ours), lambda: fast.unpack(body_fast),
             lambda: pure.unpack(body_fast)),
        ):
            medpay_rate, fast_rate = rates(m, f, seconds=2 * budget)
            row(f"{op} {name}", "ops/s", medpay_rate, fast.name, fast_rate)
            row(f"{op} {name}", "ops/s", medpay_rate, pure.name, rates(p, seconds=pure_budget)[0])

    # -- batches: all cores against one thread, same call ------------------------------------
    import os
    n = 200 if args.quick else 2000
    batch = [query_6301() for _ in range(n)]
    bodies = theirs.pack_many(batch)
    msgs = [b"appId=%d" % i for i in range(n)]
    sigs = mp.sign_many(inst, msgs)
    for case, fn in (
        (f"pack_many 6301 x{n}", lambda t: ours.pack_many(batch, threads=t)),
        (f"unpack_many 6301 x{n}", lambda t: ours.unpack_many(bodies, threads=t)),
        (f"sign_many x{n}", lambda t: mp.sign_many(inst, msgs, threads=t)),
        (f"verify_many x{n}", lambda t: mp.verify_many(pub, msgs, sigs, threads=t)),
    ):
        all_cores, one = rates(lambda: fn(None), lambda: fn(1), seconds=2 * budget)
        row(f"{case} ({os.cpu_count()} cores)", "items/s", all_cores * n, "medpay, 1 thread", one * n)

    print_table(rows)
    if args.json:
        Path(args.json).write_text(json.dumps(rows, indent=1, default=str))
    return 0


def fmt(x) -> str:
    if x is None:
        return ""
    if isinstance(x, str):
        return x
    return f"{x:,.0f}" if x >= 100 else f"{x:,.1f}"


def print_table(rows: list[dict]) -> None:
    print(f"medpay benchmark, {time.strftime('%Y-%m-%d')}, {cpu_name()}, Python {platform.python_version()}")
    print(f"CPU features medpay's fast paths use: {cpu_features()}")
    print()
    head = ["case", "unit", "medpay", "peer", "peer value", "medpay/peer", "reference", "ref. value", "medpay/ref."]
    table = [head]
    for r in rows:
        ratio = r["medpay"] / r["peer"] if r["medpay"] and r["peer"] else None
        ref_ratio = (r["medpay"] / r["openssl"] if r["medpay"] and isinstance(r["openssl"], float) and r["openssl"]
                     else None)
        table.append([r["case"], r["unit"], fmt(r["medpay"]), r["peer_name"] or "", fmt(r["peer"]),
                      f"{ratio:.1f}x" if ratio else "", r["openssl_name"] or "", fmt(r["openssl"]),
                      f"{ref_ratio:.2f}x" if ref_ratio else ""])
    widths = [max(len(str(row[i])) for row in table) for i in range(len(head))]
    for i, row in enumerate(table):
        print(" | ".join(str(c).ljust(w) for c, w in zip(row, widths)))
        if i == 0:
            print("-+-".join("-" * w for w in widths))


if __name__ == "__main__":
    sys.exit(main())
