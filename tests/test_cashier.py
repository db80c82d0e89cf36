"""The cashier URL of docs/protocol.md §6 and its inverse."""

from __future__ import annotations

import json
from decimal import Decimal
from urllib.parse import parse_qs, urlsplit

import pytest

import medpay_core as mp
from medpay_core.cashier import cashier_url, decode_cashier_params

# The spec's worked example (2.2.3.2 step 5): this appId/appSecret give data key 863B5F40C70B71EA.
APP_ID, SECRET = "43AF047BBA47FC8A1AE8EFB232BDBBCB", "4117E877F5FA0A0188891283E4B617D5"
CREDS = mp.Credentials(APP_ID, SECRET)


def params_of(url: str) -> dict:
    return {k: v[0] for k, v in parse_qs(url[url.rindex("?") + 1:]).items()}


def test_chnl_enc_data_is_sm4_of_the_compact_json_under_the_spec_data_key():
    url = cashier_url("https://mpc.example/cashier?payOrdId=ORD1", CREDS, "AUTH1", Decimal("123.45"))
    p = params_of(url)
    assert p["chnlAppId"] == APP_ID and p["payOrdId"] == "ORD1"
    plain = mp.sm4_ecb_decrypt(b"863B5F40C70B71EA", bytes.fromhex(p["chnlEncData"]))
    assert plain == b'{"payAuthNo":"AUTH1","deposit":123.45}'
    assert p["chnlEncData"] == p["chnlEncData"].upper()


def test_the_parameters_are_appended_with_ampersand_when_the_url_has_a_query():
    url = cashier_url("https://mpc.example/c?a=1", CREDS, "AUTH1")
    assert url.startswith("https://mpc.example/c?a=1&chnlAppId=" + APP_ID + "&chnlEncData=")


def test_a_url_without_a_query_gets_a_question_mark():
    url = cashier_url("https://mpc.example/c", CREDS, "AUTH1")
    assert url.startswith("https://mpc.example/c?chnlAppId=")
    assert urlsplit(url).query.startswith("chnlAppId=")


def test_a_url_ending_in_a_separator_gets_no_second_one():
    assert "?chnlAppId=" in cashier_url("https://mpc.example/c?", CREDS, "A")
    assert "?a=1&chnlAppId=" in cashier_url("https://mpc.example/c?a=1&", CREDS, "A")


def test_a_hash_routed_cashier_gets_the_parameters_at_the_end_of_its_fragment():
    url = cashier_url("https://mpc.example/h5/#/cashier?payOrdId=ORD1", CREDS, "AUTH1")
    assert urlsplit(url).fragment.startswith("/cashier?payOrdId=ORD1&chnlAppId=")


def test_the_deposit_is_left_out_when_there_is_none():
    url = cashier_url("https://x/c", CREDS, "AUTH1")
    plain = mp.sm4_ecb_decrypt(b"863B5F40C70B71EA", bytes.fromhex(params_of(url)["chnlEncData"]))
    assert json.loads(plain) == {"payAuthNo": "AUTH1"}


@pytest.mark.parametrize(
    "base",
    ["https://mpc.example/cashier", "https://mpc.example/cashier?payOrdId=ORD1&x=2", "https://mpc.example/h5/#/pay?o=1"],
)
@pytest.mark.parametrize("deposit", [None, Decimal("0.50"), Decimal("123.45"), 7, "88.80"])
def test_decode_cashier_params_inverts_cashier_url(base, deposit):
    url = cashier_url(base, CREDS, "AUTH-42", deposit)
    p = decode_cashier_params(url, CREDS)
    assert p.base_url == base and p.app_id == APP_ID and p.pay_auth_no == "AUTH-42"
    assert p.deposit == (None if deposit is None else Decimal(str(deposit)))
    assert cashier_url(p.base_url, CREDS, p.pay_auth_no, p.deposit) == url


def test_decode_picks_the_credentials_of_chnl_app_id():
    other = mp.Credentials("OTHERAPP000000000000000000000001", "S" * 32)
    url = cashier_url("https://x/c", other, "A1")
    assert decode_cashier_params(url, {APP_ID: CREDS, other.app_id: other}).pay_auth_no == "A1"
    with pytest.raises(mp.EnvelopeError):
        decode_cashier_params(url, {APP_ID: CREDS})
    with pytest.raises(mp.EnvelopeError):
        decode_cashier_params(url, CREDS)


def test_decode_refuses_a_url_without_the_parameters_or_with_damaged_data():
    with pytest.raises(mp.EnvelopeError):
        decode_cashier_params("https://x/c?a=1", CREDS)
    with pytest.raises(mp.DecryptError):
        decode_cashier_params(f"https://x/c?chnlAppId={APP_ID}&chnlEncData=ABCD", CREDS)


@pytest.mark.parametrize("deposit", [1.5, Decimal("1.234"), Decimal("-1"), "abc", Decimal("NaN")])
def test_a_bad_deposit_is_refused(deposit):
    with pytest.raises(mp.ValidationError):
        cashier_url("https://x/c", CREDS, "A1", deposit)


def test_a_missing_or_overlong_pay_auth_no_is_refused():
    with pytest.raises(mp.ValidationError):
        cashier_url("https://x/c", CREDS, "")
    with pytest.raises(mp.ValidationError):
        cashier_url("https://x/c", CREDS, "A" * 41)
