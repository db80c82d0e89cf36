"""The split of a total into fund, account, other and cash always adds up to the cent."""

from __future__ import annotations

from decimal import Decimal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from medpay_core.sandbox.split import Ratios, split_amount, to_cents

D = Decimal
CENT = D("0.01")

amounts = st.integers(min_value=0, max_value=10**14 - 1).map(lambda c: D(c).scaleb(-2))
ratio = st.integers(min_value=0, max_value=10**6).map(lambda n: D(n).scaleb(-6))


@st.composite
def ratio_sets(draw):
    fund = draw(ratio)
    acct = draw(ratio.filter(lambda r: fund + r <= 1))
    other = draw(ratio.filter(lambda r: fund + acct + r <= 1))
    return Ratios(fund=fund, acct=acct, other=other)


@settings(max_examples=600, deadline=None)
@given(total=amounts, ratios=ratio_sets(), acct_used=st.booleans())
def test_parts_sum_to_the_total_to_the_cent(total, ratios, acct_used):
    s = split_amount(total, ratios, acct_used=acct_used)
    parts = (s.fund, s.acct, s.other, s.cash)
    assert s.fund + s.acct + s.other + s.cash == total
    assert all(p >= 0 and p == p.quantize(CENT) for p in parts)
    if not acct_used:
        assert s.acct == 0
    # each part is its ratio's share rounded half-up (unless capped by what was left)
    want = (total * ratios.fund).quantize(CENT, rounding="ROUND_HALF_UP")
    assert s.fund == min(want, total)


@settings(max_examples=300, deadline=None)
@given(total=amounts, ratios=ratio_sets())
def test_cash_is_never_more_than_a_cent_per_part_off_the_exact_share(total, ratios):
    s = split_amount(total, ratios)
    exact_cash = total * (1 - ratios.fund - ratios.acct - ratios.other)
    assert abs(s.cash - exact_cash) <= D("0.015")


def test_known_values():
    assert split_amount(D("128.50"), Ratios()).as_dict() == {
        "fund": D("77.10"), "acct": D("25.70"), "other": D("0.00"), "cash": D("25.70")}
    # half-up on parts, the remainder to cash
    s = split_amount(D("0.05"), Ratios(fund=D("0.5"), acct=D("0.5")))
    assert (s.fund, s.acct, s.cash) == (D("0.03"), D("0.02"), D("0.00"))
    s = split_amount(D("0.01"), Ratios(fund=D("0.5"), acct=D("0.5")))
    assert (s.fund, s.acct, s.cash) == (D("0.01"), D("0.00"), D("0.00"))
    assert split_amount(D("10.00"), Ratios(fund=D(0), acct=D(0))).cash == D("10.00")
    assert split_amount(D("99.99"), Ratios(), acct_used=False).as_dict() == {
        "fund": D("59.99"), "acct": D("0.00"), "other": D("0.00"), "cash": D("40.00")}


@pytest.mark.parametrize("bad", [{"fund": "1.2"}, {"fund": "-0.1"}, {"fund": "0.7", "acct": "0.4"},
                                 {"fund": "x"}, {"cash": "0.1"}])
def test_bad_ratios_are_refused(bad):
    with pytest.raises(ValueError):
        Ratios.from_config(bad)


def test_ratios_from_json_numbers_keep_their_decimal_text():
    r = Ratios.from_config({"fund": 0.7, "acct": 0.1, "other": 0.05})
    assert (r.fund, r.acct, r.other) == (D("0.7"), D("0.1"), D("0.05"))


def test_amounts_with_more_than_two_decimals_are_refused():
    with pytest.raises(ValueError):
        to_cents(D("1.005"))
    with pytest.raises(ValueError):
        split_amount(D("-1.00"), Ratios())
