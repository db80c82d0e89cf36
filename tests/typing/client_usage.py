"""A user's script: every client method, sync and async, with the answer model each
returns. Checked by mypy --strict (tests/test_client_typing.py), never run."""

from __future__ import annotations

from decimal import Decimal
from typing import Any, Mapping, Optional

from typing_extensions import assert_type

import medpay_core as mp
from medpay_core.errors import CenterCode, FieldError, UnsignedRefusal
from medpay_core.models import (
    BankCardPayRequest,
    BankCardPayResponse,
    FeeUploadRequest,
    FeeUploadResponse,
    PayOrderRequest,
    PayOrderResponse,
    QueryOrderRequest,
    QueryOrderResponse,
    RefundRequest,
    RefundResponse,
    RevokeRequest,
    RevokeResponse,
)


def sync_calls(client: mp.MedpayClient, upload: FeeUploadRequest, order: PayOrderRequest, refund: RefundRequest,
               bank: BankCardPayRequest, query: QueryOrderRequest, revoke: RevokeRequest,
               wire: Mapping[str, Any]) -> None:
    assert_type(client.upload_fees(upload), FeeUploadResponse)
    assert_type(client.upload_fees(wire), FeeUploadResponse)
    assert_type(client.pay_order(order), PayOrderResponse)
    assert_type(client.refund(refund), RefundResponse)
    assert_type(client.bank_card_pay(bank), BankCardPayResponse)
    assert_type(client.query_order(query), QueryOrderResponse)
    assert_type(client.revoke_upload(revoke), RevokeResponse)
    assert_type(client.wait_for_settlement(query, deadline=120, interval=3), QueryOrderResponse)
    assert_type(client.wait_for_settlement(wire, final_states={"6"}), QueryOrderResponse)
    assert_type(client.call("6201", upload), FeeUploadResponse)
    assert_type(client.call("6202", wire), PayOrderResponse)
    assert_type(client.call("6203", refund), RefundResponse)
    assert_type(client.call("6205", bank), BankCardPayResponse)
    assert_type(client.call("6301", query), QueryOrderResponse)
    assert_type(client.call("6401", revoke), RevokeResponse)
    assert_type(client.url_for("6301"), str)
    assert_type(client.query_order(query).ord_stas, str)
    assert_type(client.query_order(query).pay_ord_id, str)
    assert_type(client.query_order(query).fee_sumamt, Optional[Decimal])
    assert_type(client.revoke_upload(revoke).success, bool)
    assert_type(mp.is_final_ord_stas(client.query_order(query).ord_stas), bool)
    with mp.MedpayClient("https://mpc.example", client.codec) as other:
        assert_type(other, mp.MedpayClient)


async def async_calls(client: mp.AsyncMedpayClient, upload: FeeUploadRequest, order: PayOrderRequest,
                      refund: RefundRequest, bank: BankCardPayRequest, query: QueryOrderRequest,
                      revoke: RevokeRequest, wire: Mapping[str, Any]) -> None:
    assert_type(await client.upload_fees(upload), FeeUploadResponse)
    assert_type(await client.pay_order(wire), PayOrderResponse)
    assert_type(await client.refund(refund), RefundResponse)
    assert_type(await client.bank_card_pay(bank), BankCardPayResponse)
    assert_type(await client.query_order(query), QueryOrderResponse)
    assert_type(await client.revoke_upload(revoke), RevokeResponse)
    assert_type(await client.wait_for_settlement(query), QueryOrderResponse)
    assert_type(await client.call("6201", upload), FeeUploadResponse)
    assert_type(await client.call("6202", order), PayOrderResponse)
    assert_type(await client.call("6203", refund), RefundResponse)
    assert_type(await client.call("6205", bank), BankCardPayResponse)
    assert_type(await client.call("6301", query), QueryOrderResponse)
    assert_type(await client.call("6401", revoke), RevokeResponse)
    async with mp.AsyncMedpayClient("https://mpc.example", client.codec) as other:
        assert_type(other, mp.AsyncMedpayClient)


def handling(client: mp.MedpayClient, order: PayOrderRequest, query: QueryOrderRequest) -> None:
    try:
        client.pay_order(order)
    except mp.BusinessError as e:
        assert_type(e.code, Optional[CenterCode])
        assert_type(e.message, Optional[str])
    except UnsignedRefusal as e:
        assert_type(e.code, Optional[CenterCode])
    except mp.OutcomeUnknown as e:
        assert_type(e.failure, Optional[mp.MedpayError])
    except mp.TransportError as e:
        assert_type(e.status_code, Optional[int])
    except mp.ValidationError as e:
        assert_type(e.errors, list[FieldError])
        assert_type(e.errors[0]["field"], str)
    except mp.DecryptError as e:
        assert_type(e.center_code, Optional[CenterCode])
    except mp.EnvelopeError as e:
        assert_type(e.field, Optional[str])
    try:
        client.wait_for_settlement(query)
    except mp.SettlementPending as e:
        assert_type(e.last_response, Optional[QueryOrderResponse])
        assert_type(e.ord_stas, Optional[str])
