"""How the sandbox splits an order's total into fund, personal account, other and cash.

A real center runs the insurance rules of the insured person's region; the sandbox
uses fixed ratios instead, so that a test can predict every amount:

    fund  = round_half_up(total * ratios.fund)                (统筹基金, fundPay)
    acct  = round_half_up(total * ratios.acct), 0 if the
            personal account is not used (acctUsedFlag "0")   (个人账户, psnAcctPay)
    other = round_half_up(total * ratios.other)               (其他, othFeeAmt)
    cash  = total - fund - acct - other                       (现金, ownPayAmt)

Each part is rounded to the cent (ROUND_HALF_UP) and capped at what is left of the
total, in the order fund, acct, other; cash takes the remainder. So the four parts are
never negative and always add up to the total exactly, whatever the ratios.

>>> from decimal import Decimal
>>> split_amount(Decimal("128.50"), Ratios()).as_dict()
{'fund': Decimal('77.10'), 'acct': Decimal('25.70'), 'other': Decimal('0.00'), 'cash': Decimal('25.70')}
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from typing import Any, Mapping, Optional

CENT = Decimal("0.01")
ZERO = Decimal("0.00")


@dataclass(frozen=True)
class Ratios:
    """Shares of the total paid by the fund, the personal account and "other" (e.g. the
    hospital). Each in [0, 1], their sum at most 1; cash pays the rest."""

    fund: Decimal = Decimal("0.6")
    acct: Decimal = Decimal("0.2")
    other: Decimal = Decimal("0")

    def __post_init__(self) -> None:
        for name in ("fund", "acct", "other"):
            value = getattr(self, name)
            if not isinstance(value, Decimal):
                try:
                    # str() first: a float ratio from JSON must not bring its binary noise.
                    value = Decimal(str(value))
                except (InvalidOperation, ValueError) as e:
                    raise ValueError(f"ratio {name} is not a number: {value!r}") from e
                object.__setattr__(self, name, value)
            if not (Decimal(0) <= value <= Decimal(1)):
                raise ValueError(f"ratio {name} must be within [0, 1], got {value}")
        if self.fund + self.acct + self.other > 1:
            raise ValueError(
                f"ratios fund+acct+other must not exceed 1, got {self.fund + self.acct + self.other}"
            )

    @classmethod
    def from_config(cls, raw: Optional[Mapping[str, Any]]) -> "Ratios":
        """Read ``{"fund": .., "acct": .., "other": ..}`` (missing keys keep the defaults)."""
        raw = dict(raw or {})
        unknown = set(raw) - {"fund", "acct", "other"}
        if unknown:
            raise ValueError(f"unknown ratio(s) {sorted(unknown)}; use fund, acct, other")
        return cls(**raw)  # __post_init__ turns each into a Decimal (or a ValueError)

    def to_config(self) -> dict[str, str]:
        """The JSON form (strings, so no float ever touches a ratio)."""
        return {"fund": str(self.fund), "acct": str(self.acct), "other": str(self.other)}


@dataclass(frozen=True)
class Split:
    """The four parts of a total, in yuan with 2 decimals; they sum to the total."""

    fund: Decimal
    acct: Decimal
    other: Decimal
    cash: Decimal

    @property
    def total(self) -> Decimal:
        return self.fund + self.acct + self.other + self.cash

    def as_dict(self) -> dict[str, Decimal]:
        return {"fund": self.fund, "acct": self.acct, "other": self.other, "cash": self.cash}


def to_cents(amount: Any) -> Decimal:
    """``amount`` as a Decimal with exactly 2 decimals; refuses more precision rather
    than silently rounding money."""
    d = amount if isinstance(amount, Decimal) else Decimal(str(amount))
    q = d.quantize(CENT, rounding=ROUND_HALF_UP)
    if q != d:
        raise ValueError(f"amount {amount} has more than 2 decimals")
    return q


def split_amount(total: Decimal, ratios: Ratios, *, acct_used: bool = True) -> Split:
    """Split ``total`` (>= 0, at most 2 decimals) by ``ratios``; see the module doc."""
    total = to_cents(total)
    if total < 0:
        raise ValueError("total must not be negative")
    left = total
    parts = []
    for ratio in (ratios.fund, ratios.acct if acct_used else Decimal(0), ratios.other):
        part = min((total * ratio).quantize(CENT, rounding=ROUND_HALF_UP), left)
        parts.append(part)
        left -= part
    fund, acct, other = parts
    return Split(fund=fund, acct=acct, other=other, cash=left.quantize(CENT))
