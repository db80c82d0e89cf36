"""Large messages (a 6201 upload with its fee lines): pack signs and encrypts on two cores,
unpack verifies on a helper thread while it builds the Python objects. The results must be
exactly those of the one-thread path, and a bad signature must still fail."""

import json
from collections import OrderedDict
from decimal import Decimal
from enum import Enum, IntEnum

import pytest

import medpay_core as mp

APP_ID = "43AF047BBA47FC8A1AE8EFB232BDBBCB"
SECRET = "4117E877F5FA0A0188891283E4B617D5"
INST, CENTER = mp.SM2PrivateKey.generate(), mp.SM2PrivateKey.generate()
OURS = mp.EnvelopeCodec(mp.Credentials(APP_ID, SECRET, INST, CENTER.public_key()))
THEIRS = mp.EnvelopeCodec(mp.Credentials(APP_ID, SECRET, CENTER, INST.public_key()))


def upload(lines: int) -> dict:
    return {
        "orgCodg": "H15020400121",
        "medfeeSumamt": Decimal("12.50") * lines,
        "feedetailList": [
            {"feedetlSn": f"FD{i:06d}", "bilgDeptName": "内科", "cnt": Decimal("2.0000"), "prdDays": 3,
             "memo": "门诊用药" * (i % 3), "initFeedetlSn": ""}
            for i in range(lines)
        ],
    }


@pytest.mark.parametrize("lines", [1, 40, 400])
def test_round_trip_small_and_large(lines):
    data = upload(lines)
    body = THEIRS.pack_json(data, timestamp="1")
    msg = OURS.unpack(body)
    assert msg.data == data
    # The sign text the helper verified is the one the packer signed.
    assert msg.sign_text == mp.sign_text(dict(json.loads(body), data=data), SECRET)[: -len(SECRET)] + "********"
    # Unpacking through the batch path (one thread, no overlap) gives the same message.
    (same,) = OURS.unpack_many([body], threads=1)
    assert same.data == msg.data and same.sign_text == msg.sign_text


def test_pack_is_the_same_with_and_without_the_second_core():
    data = upload(200)
    single = THEIRS.pack(data, timestamp="1")
    (batched,) = THEIRS.pack_many([data], timestamp="1", threads=1)
    env = json.loads(batched)
    # SM2 signatures are randomised: everything else is byte-identical, and both verify.
    assert {k: v for k, v in single.items() if k != "signData"} == {k: v for k, v in env.items() if k != "signData"}
    assert OURS.unpack(single).data == OURS.unpack(batched).data == data


@pytest.mark.parametrize("field", ["signData", "encData", "timestamp"])
def test_a_large_tampered_message_fails_verification(field):
    env = THEIRS.pack(upload(200))
    if field == "signData":
        other = THEIRS.pack(upload(201))
        env[field] = other["signData"]
    elif field == "encData":
        env[field] = OURS.encrypt_data(upload(199))
    else:
        env[field] = "1"
    with pytest.raises(mp.SignatureError):
        OURS.unpack(json.dumps(env).encode())


def test_a_large_message_from_another_key_fails_verification():
    stranger = mp.EnvelopeCodec(mp.Credentials(APP_ID, SECRET, mp.SM2PrivateKey.generate(), INST.public_key()))
    with pytest.raises(mp.SignatureError):
        OURS.unpack(stranger.pack_json(upload(100)))


class Dept(str, Enum):
    INTERNAL = "内科"


class Count(IntEnum):
    THREE = 3


class Amount(Decimal):
    pass


def test_subclasses_of_the_json_types_convert_like_the_base_types():
    plain = {"d": "内科", "n": 3, "a": Decimal("1.50"), "t": ["x", 1], "big": 2**70, "neg": -(2**63)}
    fancy = OrderedDict(d=Dept.INTERNAL, n=Count.THREE, a=Amount("1.50"), t=("x", 1), big=2**70, neg=-(2**63))
    assert OURS.pack(plain, timestamp="1")["encData"] == OURS.pack(fancy, timestamp="1")["encData"]
    assert THEIRS.unpack(OURS.pack_json(fancy)).data == plain
    # bool is an int subclass but stays a JSON boolean.
    assert THEIRS.unpack(OURS.pack_json({"b": True, "i": 1})).data == {"b": True, "i": 1}


def test_repeated_strings_and_numbers_are_shared_but_equal():
    msg = OURS.unpack(THEIRS.pack_json(upload(50)))
    lines = msg.data["feedetailList"]
    assert lines[0]["bilgDeptName"] == lines[1]["bilgDeptName"] == "内科"
    assert [line["feedetlSn"] for line in lines] == [f"FD{i:06d}" for i in range(50)]
    lines[0]["bilgDeptName"] = "外科"  # the objects are ordinary, independent dicts
    assert lines[1]["bilgDeptName"] == "内科"


def test_a_forked_child_still_packs_and_unpacks(tmp_path):
    """Servers fork workers after importing (gunicorn --preload): helper threads do not
    survive a fork, and the child must neither hang nor lose work."""
    import os

    body = THEIRS.pack_json(upload(100))  # the parent has started its helper threads
    assert OURS.unpack(body).data == upload(100)
    out = tmp_path / "child"
    pid = os.fork()
    if pid == 0:  # the child
        try:
            ok = OURS.unpack(THEIRS.pack_json(upload(100))).data == upload(100)
            items = [{"i": i} for i in range(600)]
            ok = ok and [m.data for m in OURS.unpack_many(THEIRS.pack_many(items))] == items
            out.write_text("ok" if ok else "wrong")
        finally:
            os._exit(0)
    _, status = os.waitpid(pid, 0)
    assert status == 0 and out.read_text() == "ok"


def _peak_of_unpack(body: bytes) -> tuple:
    import tracemalloc

    tracemalloc.start()
    try:
        try:
            OURS.unpack(body)
            outcome = "ok"
        except mp.SignatureError:
            outcome = "SignatureError"
        return outcome, tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


def test_a_large_junk_signed_message_builds_no_more_than_8_mib_of_objects():
    # 3 MB of small objects, some 40 times their text as Python objects: built whole that
    # is over 100 MB; the building waits at 8 MiB of objects until the signature verifies.
    data = {"items": [{"k": i} for i in range(300_000)]}
    body = THEIRS.pack_json(data)
    env = json.loads(body)
    env["timestamp"] = str(int(env["timestamp"]) + 1)  # the signature no longer matches
    junk = json.dumps(env).encode()
    good_outcome, good_peak = _peak_of_unpack(body)
    junk_outcome, junk_peak = _peak_of_unpack(junk)
    assert (good_outcome, junk_outcome) == ("ok", "SignatureError")
    assert good_peak > 50_000_000
    assert junk_peak < 20_000_000, junk_peak
