"""Every rule of the sign text (docs/protocol.md), each with a test that fails if the rule breaks."""

import base64
import contextlib
import json
import re
from decimal import Decimal

import pytest

import medpay_core as mp
import reference
from vectors import PROTOCOL, SIGN_TEXT

SECRET = "SECRET"


def masked(signed: str) -> str:
    """A sign text as Message.sign_text shows it: the appSecret after the last &key= masked."""
    return signed[: signed.rindex("&key=") + len("&key=")] + "********"


def text(message, **kw):
    return mp.sign_text(message, SECRET, **kw)


def test_protocol_example_6301_from_dict_str_and_bytes():
    v = PROTOCOL["sign_text_6301"]
    assert mp.sign_text(v["message"], v["app_secret"]) == v["sign_text"]
    as_json = json.dumps(v["message"], ensure_ascii=False)
    assert mp.sign_text(as_json, v["app_secret"]) == v["sign_text"]
    assert mp.sign_text(as_json.encode(), v["app_secret"]) == v["sign_text"]


def test_rule_1_sign_data_enc_data_and_extra_do_not_take_part():
    msg = {"a": "1", "data": {"x": "1"}, "signData": "x", "encData": "y", "extra": "z"}
    assert text(msg) == 'a=1&data={"x":"1"}&key=SECRET'


def test_rule_1_enc_data_is_decrypted_to_rebuild_the_text():
    v = PROTOCOL["enc_data_spec_example"]
    msg = {"appId": v["app_id"], "encData": v["enc_data"], "version": "2.0.1"}
    plain = json.loads(v["plaintext"])
    expected = mp.sign_text({"appId": v["app_id"], "data": plain, "version": "2.0.1"}, v["app_secret"])
    assert mp.sign_text(msg, v["app_secret"]) == expected


def test_rule_2_null_and_empty_string_top_level_fields_are_dropped():
    assert text({"a": None, "b": "", "c": "x", "d": 0, "e": False}) == "c=x&d=0&e=false&key=SECRET"


def test_rule_3_strings_are_raw_without_quotes():
    assert text({"s": 'say "hi" & bye=1'}) == 's=say "hi" & bye=1&key=SECRET'


def test_rule_3_numbers_as_java_big_decimal_prints_them_never_through_float():
    assert text('{"a":100.00,"b":1E+2,"c":0.10,"d":12345678901234567890.00,"e":1e2,"f":-0.00,"g":0.0000001}') == (
        "a=100.00&b=1E+2&c=0.10&d=12345678901234567890.00&e=1E+2&f=0.00&g=1E-7&key=SECRET")
    assert text({"a": Decimal("100.00"), "b": 7, "c": Decimal("-0.00")}) == "a=100.00&b=7&c=0.00&key=SECRET"


def test_rule_3_booleans_are_true_false():
    assert text({"t": True, "f": False}) == "f=false&t=true&key=SECRET"


def test_rule_4_blank_or_null_rendered_values_are_dropped():
    assert text({"a": "  ", "b": "null", "c": [], "d": {}, "e": "x"}) == "d={}&e=x&key=SECRET"


def test_rule_5_entries_sorted_whole_case_insensitively_joined_with_key_appended():
    assert text({"b": "2", "a": "1", "B": "3", "_": "4"}) == "_=4&a=1&b=2&B=3&key=SECRET"
    assert text({"ext": "a", "ext1": "b"}) == "ext1=b&ext=a&key=SECRET"


def test_nested_objects_sorted_and_scalars_stringified():
    assert text({"data": {"b": 2, "a": Decimal("100.00"), "c": True}}) == (
        'data={"a":"100.00","b":"2","c":"true"}&key=SECRET')


def test_nested_null_empty_string_and_empty_array_members_are_dropped():
    assert text({"data": {"a": None, "b": "", "c": [], "d": "x"}}) == 'data={"d":"x"}&key=SECRET'


def test_nested_objects_are_kept_even_when_empty_or_emptied():
    assert text({"data": {"o": {}, "p": {"q": None}, "d": "x"}}) == 'data={"d":"x","o":{},"p":{}}&key=SECRET'


def test_arrays_empty_array_elements_are_null_trailing_empty_strings_dropped():
    assert text({"data": {"l": [[], "x", ""], "m": [""]}}) == 'data={"l":[null,"x"],"m":[]}&key=SECRET'


def test_receiving_is_lenient_about_elements_the_sdk_throws_on():
    assert text({"data": {"l": [3, None, "", 1, {"b": 1, "a": 2}]}}) == (
        'data={"l":["3","1",{"a":"2","b":"1"}]}&key=SECRET')


@pytest.mark.parametrize("data, path", [
    ({"feedetailList": [{"a": "1"}, {"a": "2"}, {"a": "3"}, None]}, "feedetailList[3]"),
    ({"l": ["", "x"]}, "l[0]"),
    ({"o": {"l": [{"k": [None]}]}}, "o.l[0].k[0]"),
])
def test_pack_refuses_data_the_center_cannot_verify_naming_the_place(data, path):
    codec = mp.EnvelopeCodec(mp.Credentials("1H452H9AR0LO3F60C80A000054C771C6", SECRET, mp.SM2PrivateKey.generate()))
    with pytest.raises(mp.EnvelopeError, match=rf"^{re.escape(path)}: the center's SDK cannot sign"):
        codec.pack(data)
    # What the SDK can sign packs: a trailing "" and an empty array element.
    codec.pack({"l": ["x", ""], "m": [[]]})


def test_shared_vectors_hold_for_medpay_and_the_independent_reference():
    doc = SIGN_TEXT
    for case in doc["cases"]:
        assert mp.sign_text(case["message"], doc["app_secret"]) == case["sign_text"], case["name"]
        assert reference.sign_text(reference.loads(case["message"]), doc["app_secret"]) == case["sign_text"], case["name"]
        if "sign_text_case_insensitive" in case:
            assert mp.sign_text(case["message"], doc["app_secret"], key_order="case_insensitive") == (
                case["sign_text_case_insensitive"]), case["name"]
        with pytest.raises(reference.Unsignable) if "unsignable" in case else contextlib.nullcontext():
            reference.sign_text(reference.loads(case["message"]), doc["app_secret"], strict=True)


def test_a_signature_over_either_escaping_verifies():
    case = next(c for c in SIGN_TEXT["cases"] if "sign_text_fastjson2" in c)
    app_id = "1H452H9AR0LO3F60C80A000054C771C6"
    center = mp.SM2PrivateKey.generate()
    inst = mp.EnvelopeCodec(mp.Credentials(app_id, "K", mp.SM2PrivateKey.generate(), center.public_key()))
    data = json.loads(case["message"])["data"]
    fields = {"appId": app_id, "encType": "SM4", "signType": "SM2", "timestamp": "1", "version": "2.0.1"}
    ours = mp.sign_text({**fields, "data": data}, "K")

    def data_part(t):
        return t[len("data="):-len("&key=K")]
    assert data_part(case["sign_text"]) in ours
    theirs = ours.replace(data_part(case["sign_text"]), data_part(case["sign_text_fastjson2"]))
    assert theirs != ours
    for signed in (ours, theirs):
        body = {**fields, "encData": inst.encrypt_data(data),
                "signData": base64.b64encode(center.sign(signed.encode())).decode()}
        assert inst.unpack(json.dumps(body, ensure_ascii=False)).sign_text == masked(signed)


def test_sign_text_reads_data_sent_as_a_json_string_as_unpack_does():
    as_object = {"appId": "A" * 16, "data": {"b": Decimal("1.50"), "a": {}}}
    as_string = {"appId": "A" * 16, "data": '{"b":1.50,"a":{}}'}
    assert mp.sign_text(as_string, SECRET) == mp.sign_text(as_object, SECRET) == (
        'appId=' + "A" * 16 + '&data={"a":{},"b":"1.50"}&key=SECRET')


def test_top_level_array_is_canonical_json_too():
    assert text({"list": [{"b": 1, "a": None}, 2]}) == 'list=[{"b":"1"},"2"]&key=SECRET'


def test_compact_non_ascii_raw_and_standard_escapes():
    assert text({"data": {"k": '张"\\\n\x01/'}}) == 'data={"k":"张\\"\\\\\\n\\u0001/"}&key=SECRET'


def test_key_order_setting_case_insensitive_for_nested_keys():
    msg = {"data": {"feedetailList": [{"x": 1}], "feeType": "01"}}
    assert text(msg) == 'data={"feeType":"01","feedetailList":[{"x":"1"}]}&key=SECRET'
    assert text(msg, key_order="case_insensitive") == 'data={"feedetailList":[{"x":"1"}],"feeType":"01"}&key=SECRET'
    with pytest.raises(TypeError):
        text(msg, key_order="alphabetical")


def test_floats_are_refused_not_silently_reformatted():
    with pytest.raises(mp.EnvelopeError, match="float"):
        text({"data": {"amt": 100.0}})


def test_duplicate_keys_in_json_text_are_refused():
    with pytest.raises(mp.EnvelopeError, match="duplicate"):
        text('{"a":"1","a":"2"}')


def test_large_and_batched_messages_follow_the_same_rules():
    # Over 4 KiB of JSON: pack signs on a helper thread and unpack verifies on one.
    app_id = "1H452H9AR0LO3F60C80A000054C771C6"
    center = mp.SM2PrivateKey.generate()
    inst = mp.EnvelopeCodec(mp.Credentials(app_id, "K", mp.SM2PrivateKey.generate(), center.public_key()))
    lines = [{"sn": f"FD{i:04d}", "amt": Decimal("12.50"), "name": "布洛芬\u00a0缓释\u0085胶囊", "ext": {}} for i in range(200)]
    with pytest.raises(mp.EnvelopeError, match=r"^feedetailList\[150\]\.tags\[0\]: "):
        inst.pack({"feedetailList": lines[:150] + [{**lines[150], "tags": ["", "x"]}] + lines[151:]})
    out = inst.pack_many([{"feedetailList": lines}, {"l": [None]}, {"l": ["x", ""]}])
    assert isinstance(out[0], bytes) and isinstance(out[2], bytes)
    assert isinstance(out[1], mp.EnvelopeError) and str(out[1]).startswith("l[0]: ")
    # A large message signed over fastjson2's escaping verifies on the two-core route too.
    fields = {"appId": app_id, "encType": "SM4", "signType": "SM2", "timestamp": "1", "version": "2.0.1"}
    data = {"feedetailList": lines}
    ours = mp.sign_text({**fields, "data": data}, "K")
    assert '"ext":{}' in ours and "\\u0085" in ours and "\u00a0" in ours
    theirs = ours.replace("\\u0085", "\u0085")
    for signed in (ours, theirs):
        body = json.dumps({**fields, "encData": inst.encrypt_data(data),
                           "signData": base64.b64encode(center.sign(signed.encode())).decode()}).encode()
        assert len(body) > 8192
        assert inst.unpack(body).sign_text == masked(signed)
        [msg] = inst.unpack_many([body])
        assert msg.sign_text == masked(signed)
