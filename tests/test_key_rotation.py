"""Key rotation: `Credentials(..., peer_public_key=[new, old])` verifies a signature made by
any of the peer's keys; signing, and everything with one key, is unchanged."""

import pytest

import medpay_core as mp
from medpay_core.errors import KeyFormatError, MedpayError, SignatureError

APP_ID = "43AF047BBA47FC8A1AE8EFB232BDBBCB"
SECRET = "4117E877F5FA0A0188891283E4B617D5"
DATA = {"payOrdId": "ORD1", "feedetailList": [{"feeType": "01", "amt": "12.50"}]}


@pytest.fixture(scope="module")
def keys():
    """The institution's key and the center's new, old and an unrelated key."""
    return {name: mp.SM2PrivateKey.generate() for name in ("inst", "new", "old", "stranger")}


def center(keys, name):
    """The center signing with one of its keys."""
    return mp.EnvelopeCodec(mp.Credentials(APP_ID, SECRET, keys[name], keys["inst"].public_key()))


def gateway(keys, peer):
    return mp.EnvelopeCodec(mp.Credentials(APP_ID, SECRET, keys["inst"], peer))


def signed_by(keys, name, data=DATA):
    return center(keys, name).pack_json(data, code=0, message="成功", success=True)


def test_envelopes_signed_by_the_old_and_the_new_key_both_unpack(keys):
    codec = gateway(keys, [keys["new"].public_key(), keys["old"].public_key()])
    for name in ("new", "old"):
        msg = codec.unpack(signed_by(keys, name))
        assert msg.signed and msg.data == DATA and msg.code == 0
        assert msg.sign_text.endswith("&key=********")


def test_the_order_of_the_keys_does_not_matter_and_a_tuple_does_too(keys):
    new, old = keys["new"].public_key(), keys["old"].public_key()
    for peer in ([old, new], (new, old), (old,), [new, new, old]):
        codec = gateway(keys, peer)
        assert codec.unpack(signed_by(keys, "old")).data == DATA


def test_a_key_not_in_the_list_is_a_signature_error(keys):
    codec = gateway(keys, [keys["new"].public_key(), keys["old"].public_key()])
    with pytest.raises(SignatureError, match="any of the peer public keys"):
        codec.unpack(signed_by(keys, "stranger"))


def test_large_messages_verify_with_any_key_too(keys):
    """From 4 KiB of JSON unpack verifies on a second thread, and from 256 KiB the building
    waits for it: every route tries the other keys."""
    codec = gateway(keys, [keys["new"].public_key(), keys["old"].public_key()])
    for lines in (200, 7000):
        data = {"feedetailList": [{"sn": f"FD{i:06}", "amt": "12.50", "dept": "内科"} for i in range(lines)]}
        assert codec.unpack(signed_by(keys, "old", data)).data == data
        with pytest.raises(SignatureError):
            codec.unpack(signed_by(keys, "stranger", data))


def test_unpack_many_verifies_each_item_with_any_key(keys):
    codec = gateway(keys, [keys["new"].public_key(), keys["old"].public_key()])
    bodies = [signed_by(keys, name) for name in ("new", "old", "stranger", "old")]
    for threads in (1, None):
        out = codec.unpack_many(bodies, threads=threads)
        assert [type(o) for o in out] == [mp.Message, mp.Message, SignatureError, mp.Message]
        assert all(o.data == DATA for o in out if isinstance(o, mp.Message))


def test_keys_are_read_in_every_form_a_single_key_is(keys):
    new, old = keys["new"], keys["old"]
    creds = mp.Credentials(APP_ID, SECRET, keys["inst"], [new.public_key().to_hex(), old.public_key().to_pem(), old])
    assert creds.peer_public_keys == (new.public_key(), old.public_key(), old.public_key())
    creds = mp.Credentials(APP_ID, SECRET, keys["inst"], (old.public_key().to_bytes(), new.public_key()))
    assert creds.peer_public_keys == (old.public_key(), new.public_key())
    assert creds.peer_public_key == old.public_key()


def test_an_empty_list_is_refused_with_a_typed_error(keys):
    for empty in ([], ()):
        with pytest.raises(KeyFormatError, match="empty list") as caught:
            mp.Credentials(APP_ID, SECRET, keys["inst"], empty)
        assert isinstance(caught.value, MedpayError)
        assert SECRET not in str(caught.value)


def test_a_bad_key_in_the_list_is_refused(keys):
    with pytest.raises(KeyFormatError):
        mp.Credentials(APP_ID, SECRET, keys["inst"], [keys["new"].public_key(), "not a key"])
    for bad in (None, 1, [keys["new"].public_key()]):
        with pytest.raises(TypeError):
            mp.Credentials(APP_ID, SECRET, keys["inst"], [keys["new"].public_key(), bad])


def test_the_one_key_api_is_unchanged(keys):
    pk = keys["new"].public_key()
    creds = mp.Credentials(APP_ID, SECRET, keys["inst"], pk)
    assert creds.peer_public_key == pk and creds.peer_public_keys == (pk,)
    assert mp.EnvelopeCodec(creds).unpack(signed_by(keys, "new")).data == DATA
    with pytest.raises(SignatureError) as caught:
        mp.EnvelopeCodec(creds).unpack(signed_by(keys, "old"))
    assert "any of" not in str(caught.value)
    none = mp.Credentials(APP_ID, SECRET)
    assert none.peer_public_key is None and none.peer_public_keys == ()
    assert "peer_public_key=None" in repr(none) and "peer_public_key=<set>" in repr(creds)


def test_signing_is_unchanged(keys):
    """What the gateway packs verifies at the center with the gateway's one key."""
    codec = gateway(keys, [keys["new"].public_key(), keys["old"].public_key()])
    body = codec.pack_json(DATA)
    assert center(keys, "old").unpack(body).data == DATA


def test_the_repr_hides_the_secret_and_the_keys(keys):
    creds = mp.Credentials(APP_ID, SECRET, keys["inst"], [keys["new"].public_key(), keys["old"].public_key()])
    text = repr(creds)
    assert SECRET not in text and "<2 keys>" in text
    for k in ("inst", "new", "old"):
        assert keys[k].public_key().to_hex() not in text
    assert keys["inst"].to_hex() not in text


def test_diagnose_takes_the_credentials_keys(keys):
    creds = mp.Credentials(APP_ID, SECRET, keys["inst"], [keys["new"].public_key(), keys["old"].public_key()])
    d = mp.diagnose(signed_by(keys, "old"), SECRET, creds.peer_public_keys)
    assert d.verifies and "public key 2 of the 2" in d.report()
    assert SECRET not in d.report()
    assert not mp.diagnose(signed_by(keys, "stranger"), SECRET, list(creds.peer_public_keys)).verifies
    assert mp.diagnose(signed_by(keys, "new"), SECRET, creds.peer_public_key).verifies
    with pytest.raises(KeyFormatError):
        mp.diagnose(signed_by(keys, "new"), SECRET, [])

