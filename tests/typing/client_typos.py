"""A user's script with mistakes mypy --strict must refuse: each line marked
``# expect: <error code>`` (tests/test_client_typing.py checks that each is reported, and
nothing else). Never run."""

from __future__ import annotations

import medpay_core as mp
from medpay_core.models import PayOrderRequest, QueryOrderRequest, RefundRequest


def typos(client: mp.MedpayClient, order: PayOrderRequest, query: QueryOrderRequest, refund: RefundRequest) -> None:
    client.query_order(query).ord_stas_typo  # expect: attr-defined
    client.pay_order(order).pay_ord_idd  # expect: attr-defined
    client.call("6301", query).cashier_url  # expect: attr-defined
    client.pay_order(refund)  # expect: arg-type
    client.call("6209", query)  # expect: call-overload
    client.wait_for_settlement(query).ordStas  # expect: attr-defined


async def async_typos(client: mp.AsyncMedpayClient, query: QueryOrderRequest) -> None:
    (await client.query_order(query)).ord_stat  # expect: attr-defined
    client.query_order(query).ord_stas  # expect: attr-defined
