"""Every rule of PROTOCOL.md §2, each with a test that fails if the rule breaks."""

import json
from decimal import Decimal

import pytest

import medpay_core as mp
from vectors import PROTOCOL

SECRET = "SECRET"


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


def test_rule_3_numbers_keep_their_literal_never_through_float():
    assert text('{"a":100.00,"b":1E+2,"c":0.10,"d":12345678901234567890.00}') == (
        "a=100.00&b=1E+2&c=0.10&d=12345678901234567890.00&key=SECRET")
    assert text({"a": Decimal("100.00"), "b": 7}) == "a=100.00&b=7&key=SECRET"


def test_rule_3_booleans_are_true_false():
    assert text({"t": True, "f": False}) == "f=false&t=true&key=SECRET"


def test_rule_4_sorted_by_byte_order_joined_with_key_appended():
    assert text({"b": "2", "a": "1", "B": "3", "_": "4"}) == "B=3&_=4&a=1&b=2&key=SECRET"


def test_nested_objects_sorted_and_scalars_stringified():
    assert text({"data": {"b": 2, "a": Decimal("100.00"), "c": True}}) == (
        'data={"a":"100.00","b":"2","c":"true"}&key=SECRET')


def test_nested_null_empty_string_and_empty_array_members_are_dropped():
    assert text({"data": {"a": None, "b": "", "c": [], "d": "x"}}) == 'data={"d":"x"}&key=SECRET'


def test_nested_empty_object_members_are_dropped():
    # PROTOCOL.md lists "empty objects kept" among the variants the default must not use.
    assert text({"data": {"o": {}, "p": {"q": None}, "d": "x"}}) == 'data={"d":"x"}&key=SECRET'


def test_arrays_keep_order_and_drop_null_and_empty_string_elements():
    assert text({"data": {"l": [3, None, "", 1, {"b": 1, "a": 2}]}}) == (
        'data={"l":["3","1",{"a":"2","b":"1"}]}&key=SECRET')


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
