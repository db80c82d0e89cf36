"""One envelope each way, without a network: the institution packs a 6301 query, the
center unpacks it and answers, the institution unpacks the answer into its model.

    python examples/demo_envelope.py

The keys are made on the spot; in production the institution holds its own SM2 key and
the center's public key (``mp.Credentials``), or loads the sandbox's with
``mp.Credentials.from_sandbox_config``.
"""

from __future__ import annotations

from decimal import Decimal

import medpay_core as mp
from medpay_core.callbacks import read_json_object
from medpay_core.models import TRANSACTIONS, QueryOrderRequest, QueryOrderResponse, validate

APP_ID = "43AF047BBA47FC8A1AE8EFB232BDBBCB"
APP_SECRET = "4117E877F5FA0A0188891283E4B617D5"


def main() -> int:
    """Print each step; 0 when the answer came back as sent."""
    institution_key, center_key = mp.SM2PrivateKey.generate(), mp.SM2PrivateKey.generate()
    institution = mp.EnvelopeCodec(mp.Credentials(APP_ID, APP_SECRET, institution_key, center_key.public_key()))
    center = mp.EnvelopeCodec(mp.Credentials(APP_ID, APP_SECRET, center_key, institution_key.public_key()))

    tx = TRANSACTIONS["6301"]
    query = QueryOrderRequest(pay_ord_id="ORD3501002026112500001", org_codg="H35010200001",
                              pay_token="ORD3501002026112500001TK", id_no="350181199011193519",
                              user_name="张三", id_type="01")
    body = institution.pack_json(query.to_wire(), timestamp="1764063000000")  # the bytes to POST
    print(f"== {tx.code} {tx.name}: POST /org/local/api/hos/{tx.path} ==")
    for key, value in read_json_object(body).items():
        text = str(value)
        print(f"  {key}: {text if len(text) <= 72 else text[:72] + f'… ({len(text)} chars)'}")

    received = center.unpack(body)  # the center verifies the signature and decrypts
    assert received.sign_text is not None
    print("== the center verified it; the sign text (appSecret and the patient masked) ==")
    shown = received.sign_text.rsplit("&key=", 1)[0] + "&key=********"
    shown = shown.replace(query.id_no, query.id_no[:6] + "********" + query.id_no[-4:])
    print("  " + shown.replace(query.user_name, query.user_name[0] + "*" * (len(query.user_name) - 1)))
    asked = validate(tx.request, received.data)
    assert asked == query

    answer = {"payOrdId": query.pay_ord_id, "ordStas": "6", "callType": "02", "medOrgOrd": "MO20261125001",
              "orgCodg": query.org_codg, "orgName": "福州市示例医院", "feeSumamt": Decimal("61.20"),
              "ownPayAmt": Decimal("12.24"), "psnAcctPay": Decimal("12.24"), "fundPay": Decimal("36.72"),
              "setlType": "ALL", "traceTime": "2026-11-25 09:45:00"}
    reply = institution.unpack(center.pack_json(answer, code=0, message="成功", success=True))
    result = validate(QueryOrderResponse, reply.data)
    print("== the institution unpacked the signed answer ==")
    print(f"  code {reply.code}, success {reply.success}, message {reply.message}")
    print(f"  ordStas {result.ord_stas} ({mp.ord_stas_label(result.ord_stas)}), total {result.fee_sumamt}, "
          f"cash {result.own_pay_amt}")
    return 0 if reply.signed and result.fee_sumamt == Decimal("61.20") else 1


if __name__ == "__main__":
    raise SystemExit(main())
