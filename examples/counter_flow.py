"""A day at the counter against a running sandbox, through the typed client.

Start the sandbox (it writes its config, with the institution's keys, next to the db)::

    medpay sandbox --db center.db --port 8000

then::

    python examples/counter_flow.py --config center.db.config.json --url http://127.0.0.1:8000

1. the patient shows the e-voucher: the sandbox's e-voucher page issues a payAuthNo and a
   QR text, which the counter decodes (6101; in production the national e-voucher library);
2. 6201 uploads the fees as a ``FeeUploadRequest``;
3. the cashier URL is built for the patient's phone (``cashier_url``) and the counter
   waits for the settlement (6301, ``wait_for_settlement``) while the patient pays;
4. one box is returned: 6203 refunds part of the cash, and 6301 shows the new state.

Every line printed is safe for a log: no appSecret, no key, the certificate number masked.
"""

from __future__ import annotations

import argparse
import sys
import time
from decimal import Decimal
from typing import Optional, Sequence

import httpx

import medpay_core as mp
from medpay_core.models import (
    DiseInfo,
    FeeDetail,
    FeeUploadRequest,
    QueryOrderRequest,
    RefundRequest,
    VoucherDecodeRequest,
    VoucherDecodeResponse,
)


#: The institution's code, as the sandbox config generated with ``org_codg`` knows it.
ORG_CODG = "H35010200001"
PATIENT = {"userName": "张三", "idNo": "350181199011193519", "idType": "01", "insuOrg": "350100"}
#: The counter's 6101 request (table 1): who is scanning the code.
SCANNER = VoucherDecodeRequest(org_id=ORG_CODG, business_type="01101", operator_id="0001",
                               operator_name="收费员", office_id="0101", office_name="门诊收费处")


def masked(id_no: str) -> str:
    """A certificate number fit for a log: the first 6 and the last 4 characters."""
    return id_no[:6] + "*" * max(0, len(id_no) - 10) + id_no[-4:]


def scan_voucher(sandbox_url: str, creds: mp.Credentials) -> tuple[str, VoucherDecodeResponse]:
    """The patient's e-voucher: its payAuthNo and the person it decodes to (6101). The
    sandbox's e-voucher page stands in for the patient's phone; the decoder stands in for
    the national e-voucher library."""
    with httpx.Client(timeout=10, trust_env=False) as http:
        issued = http.post(sandbox_url + "/sandbox/voucher", json=PATIENT, headers={"Accept": "application/json"})
        issued.raise_for_status()
    voucher = issued.json()
    # The QR is sealed with the appId/appSecret the sandbox shares with the institution.
    decoder = mp.SandboxVoucherDecoder(mp.Credentials(creds.app_id, creds.app_secret))
    return str(voucher["payAuthNo"]), decoder.decode(str(voucher["qrText"]), SCANNER)


def fee_upload(med_org_ord: str, person: VoucherDecodeResponse) -> FeeUploadRequest:
    """6201 for one outpatient visit: two boxes of amoxicillin and the consultation."""
    batch = "CB" + med_org_ord
    lines = [
        # (line, name, spec, count, unit price)
        ("F001", "阿莫西林胶囊", "0.25g*24粒/盒", Decimal("2"), Decimal("18.50")),
        ("F002", "普通门诊诊查费", "次", Decimal("1"), Decimal("24.20")),
    ]
    details = [
        FeeDetail(feedetl_sn=f"{med_org_ord}{sn}", psn_no="35000000000000000001", chrg_bchno=batch,
                  rx_circ_flag="0", fee_ocur_time="2026-11-25 09:40:00", med_list_codg=f"XJ01CA{i:04d}",
                  medins_list_codg=f"YP{i:06d}", det_item_fee_sumamt=(cnt * price).quantize(Decimal("0.01")),
                  cnt=cnt, pric=price, bilg_dept_codg="0101", bilg_dept_name="呼吸内科", bilg_dr_codg="D001",
                  bilg_dr_name="李医生", hosp_appr_flag="1", med_type="11", med_list_name=name, med_list_spc=spec)
        for i, (sn, name, spec, cnt, price) in enumerate(lines, 1)
    ]
    return FeeUploadRequest(
        org_codg=ORG_CODG, psn_no="35000000000000000001", insutype="310", med_org_ord=med_org_ord,
        begntime="2026-11-25 09:00:00", id_no=person.id_no, user_name=person.user_name,
        id_type=person.id_type, ec_token=person.ec_token, ipt_otp_no="MZ" + med_org_ord, dept_name="呼吸内科",
        caty="A03", med_type="11", fee_type="01",
        medfee_sumamt=sum((d.det_item_fee_sumamt for d in details), Decimal("0.00")),
        acct_used_flag="1", dise_codg="J06.900", psn_setlway="01", chrg_bchno=batch, pub_hosp_rfom_flag="1",
        diseinfo_list=[DiseInfo(diag_type="1", diag_srt_no=1, diag_code="J06.900", diag_name="急性上呼吸道感染",
                                diag_dept="呼吸内科", dise_dor_no="D001", dise_dor_name="李医生",
                                diag_time="2026-11-25 09:30:00", vali_flag="1")],
        feedetail_list=details,
    )


def main(argv: Optional[Sequence[str]] = None) -> int:
    """Play the day; 0 when every step went as it should."""
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--config", required=True, help="the sandbox config (medpay sandbox writes <db>.config.json)")
    p.add_argument("--url", required=True, help="the sandbox, e.g. http://127.0.0.1:8000")
    p.add_argument("--org-codg", default=None, help="the institution, when the config has several")
    p.add_argument("--wait", type=float, default=120.0, help="seconds to wait for the patient to pay")
    args = p.parse_args(argv)

    creds = mp.Credentials.from_sandbox_config(args.config, args.org_codg)
    pay_auth_no, person = scan_voucher(args.url, creds)
    print(f"6101 e-voucher decoded: idType {person.id_type}, idNo {masked(person.id_no)}", flush=True)

    with mp.MedpayClient(args.url, creds, timeout=10, retries=2) as client:
        upload = fee_upload("MO" + time.strftime("%Y%m%d%H%M%S"), person)
        up = client.upload_fees(upload)
        print(f"6201 uploaded {upload.med_org_ord}: payOrdId {up.pay_ord_id}, total {upload.medfee_sumamt}", flush=True)
        if up.cashier_url is None:
            print("6201 answered without a cashierUrl", file=sys.stderr)
            return 1

        # The patient opens this on the phone and pays; the counter waits for 6301.
        print(f"cashier: {mp.cashier_url(up.cashier_url, creds, pay_auth_no)}", flush=True)
        query = QueryOrderRequest(pay_ord_id=up.pay_ord_id, org_codg=ORG_CODG, pay_token=up.pay_token,
                                  id_no=person.id_no, user_name=person.user_name, id_type=person.id_type)
        try:
            paid = client.wait_for_settlement(query, deadline=args.wait, interval=0.5)
        except mp.SettlementPending as e:
            print(f"6301 not settled after {args.wait:.0f}s: ordStas {e.ord_stas} ({e.label})", file=sys.stderr)
            return 1
        cash = paid.own_pay_amt or Decimal("0.00")
        print(f"6301 ordStas {paid.ord_stas} ({mp.ord_stas_label(paid.ord_stas)}): fund {paid.fund_pay}, "
              f"account {paid.psn_acct_pay}, cash {cash}", flush=True)

        # One box of amoxicillin comes back: refund its price from the cash part.
        back = min(Decimal("18.50"), cash)
        refund = RefundRequest(pay_ord_id=up.pay_ord_id, app_refd_sn=mp.new_app_refd_sn("RF"),
                               app_refd_time=time.strftime("%Y%m%d%H%M%S"), totl_refd_amt=back,
                               cash_refd_amt=back, fund_refd_amt=Decimal("0.00"),
                               psn_acct_refd_amt=Decimal("0.00"), refd_type="CASH", pay_auth_no=pay_auth_no)
        try:
            refunded = client.refund(refund)
        except mp.BusinessError as e:
            print(f"6203 refused: code {e.code}: {e.message}", file=sys.stderr)
            return 1
        print(f"6203 refund {back} ({refund.app_refd_sn}): refStatus {refunded.ref_status}", flush=True)
        after = client.query_order(query)
        print(f"6301 ordStas {after.ord_stas} ({mp.ord_stas_label(after.ord_stas)})", flush=True)
    return 0 if paid.ord_stas == "6" and refunded.ref_status == "SUCC" else 1


if __name__ == "__main__":
    sys.exit(main())
