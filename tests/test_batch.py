"""Batches: pack_many, unpack_many, sign_many, verify_many. Order kept, errors per item,
memory proportional to the batch."""

import json
import subprocess
import sys
import textwrap
from decimal import Decimal

import pytest

import medpay_core as mp

APP_ID = "43AF047BBA47FC8A1AE8EFB232BDBBCB"
SECRET = "4117E877F5FA0A0188891283E4B617D5"
INST, CENTER = mp.SM2PrivateKey.generate(), mp.SM2PrivateKey.generate()
OURS = mp.EnvelopeCodec(mp.Credentials(APP_ID, SECRET, INST, CENTER.public_key()))
THEIRS = mp.EnvelopeCodec(mp.Credentials(APP_ID, SECRET, CENTER, INST.public_key()))


def test_pack_many_then_unpack_many_keeps_order():
    items = [{"i": i, "amt": Decimal(f"{i}.50")} for i in range(300)]
    bodies = THEIRS.pack_many(items, timestamp="1")
    assert all(isinstance(b, bytes) for b in bodies)
    msgs = OURS.unpack_many(bodies)
    assert [m.data for m in msgs] == items
    assert all(json.loads(b)["timestamp"] == "1" for b in bodies[:3])


def test_one_bad_item_does_not_fail_the_batch():
    items = [{"i": 1}, {"amt": 1.5}, {"i": 3}, "not an object"]
    out = THEIRS.pack_many(items)
    assert isinstance(out[0], bytes) and isinstance(out[2], bytes)
    assert isinstance(out[1], mp.EnvelopeError) and "float" in str(out[1])
    assert isinstance(out[3], mp.EnvelopeError)
    good = out[0]
    tampered = json.loads(good)
    tampered["signData"] = tampered["signData"][::-1]
    opened = OURS.unpack_many([good, b"nope", json.dumps(tampered), json.loads(out[2]), 42])
    assert opened[0].data == {"i": 1} and opened[3].data == {"i": 3}
    assert isinstance(opened[1], mp.EnvelopeError)
    assert isinstance(opened[2], mp.SignatureError)
    assert isinstance(opened[4], mp.EnvelopeError)


def test_unpack_many_accepts_any_iterable_and_empty():
    assert OURS.unpack_many([]) == [] and THEIRS.pack_many(iter([])) == []
    bodies = THEIRS.pack_many(({"k": str(i)} for i in range(20)))
    assert [m.data["k"] for m in OURS.unpack_many(iter(bodies))] == [str(i) for i in range(20)]


def test_sign_many_and_verify_many_agree_with_single_calls():
    msgs = [f"message {i}".encode() for i in range(100)]
    sigs = mp.sign_many(INST, msgs)
    assert all(INST.public_key().verify(m, s) for m, s in zip(msgs, sigs))
    assert mp.verify_many(INST.public_key(), msgs, sigs) == [True] * 100
    sigs[7] = sigs[8]
    result = mp.verify_many(INST.public_key(), msgs, sigs)
    assert result[7] is False and result.count(False) == 1
    with pytest.raises(TypeError):
        mp.verify_many(INST.public_key(), msgs, sigs[:-1])


def test_batch_memory_stays_proportional(tmp_path):
    """A 10,000-envelope batch peaks under 2x its inputs plus outputs (measured as the
    process's peak RSS growth, in a fresh interpreter)."""
    script = textwrap.dedent(
        f"""
        import medpay_core as mp, json
        def rss(field):
            for line in open("/proc/self/status"):
                if line.startswith(field):
                    return int(line.split()[1]) * 1024
        sk = mp.SM2PrivateKey.generate()
        codec = mp.EnvelopeCodec(mp.Credentials("{APP_ID}", "{SECRET}", sk, sk.public_key()))
        items = [{{"payOrdId": "ORD%08d" % i, "note": "x" * 400}} for i in range(10000)]
        inputs = sum(len(json.dumps(i)) for i in items)
        codec.pack_many(items[:50])  # warm up allocator and thread pool
        base = rss("VmRSS")
        out = codec.pack_many(items)
        outputs = sum(len(b) for b in out)
        peak = rss("VmHWM")
        print(json.dumps({{"growth": peak - base, "inputs": inputs, "outputs": outputs}}))
        """
    )
    r = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, check=True)
    m = json.loads(r.stdout)
    assert m["growth"] < 2 * (m["inputs"] + m["outputs"]), m


def test_errors_stay_in_place_across_chunk_boundaries_and_thread_counts():
    # 600 items span three chunks of the pipeline; the bad ones sit on chunk edges.
    bad_at = {0, 255, 256, 511, 512, 599}
    items = [{"amt": 1.5} if i in bad_at else {"i": i} for i in range(600)]
    for threads in (None, 1, 2):
        packed = THEIRS.pack_many(items, timestamp="1", threads=threads)
        assert [i for i, b in enumerate(packed) if isinstance(b, mp.EnvelopeError)] == sorted(bad_at)
        bodies = [b if isinstance(b, bytes) else b"{}" for b in packed]
        opened = OURS.unpack_many(bodies, threads=threads)
        assert [i for i, m in enumerate(opened) if isinstance(m, mp.EnvelopeError)] == sorted(bad_at)
        assert [m.data["i"] for i, m in enumerate(opened) if i not in bad_at] == [
            i for i in range(600) if i not in bad_at
        ]


def test_large_messages_in_a_batch_match_single_calls():
    big = {"feedetailList": [{"feedetlSn": f"FD{i:06d}", "amt": Decimal("12.50")} for i in range(200)]}
    bodies = THEIRS.pack_many([big] * 5, timestamp="1")
    single = json.loads(THEIRS.pack_json(big, timestamp="1"))
    unsigned = lambda env: {k: v for k, v in env.items() if k != "signData"}  # noqa: E731 (SM2 is randomised)
    assert all(unsigned(json.loads(b)) == unsigned(single) for b in bodies)
    assert [m.data for m in OURS.unpack_many(bodies)] == [OURS.unpack(b).data for b in bodies] == [big] * 5
