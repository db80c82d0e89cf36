"""``medpay demo``: a day at the counter, end to end, on 127.0.0.1 only.

It starts the sandbox (fresh keys, a temporary database), the institution's callback
app (``medpay_core.asgi.create_app``: the 6302 notice and the 6204 return page), and
plays with the real client (:class:`medpay_core.client.MedpayClient`):

1. the patient shows an e-voucher; the sandbox issues a payAuthNo and its QR text,
   the counter decodes it (6101 stand-in);
2. 6201 uploads the fees: a saved order (ordStas 0, not paid yet), its payToken and
   cashier URL;
3. the patient opens the cashier (GET) and pays (POST), like a browser; the browser is
   sent to the institution's returnUrl (6204);
4. the center posts 6302; the institution records and acknowledges it;
5. 6301 shows the settlement; 6203 refunds part of the cash;
6. a second order is uploaded and revoked (6401); paying it now is refused.

``sample_fee_upload`` and ``sample_person`` are also used by the tests.
"""

from __future__ import annotations

import os
import re
import tempfile
import threading
import time
from decimal import Decimal
from typing import Any, Callable, Optional

from ..ids import compact_datetime_text
from ..models import TRANSACTIONS

PERSON = {"userName": "张三", "idNo": "350181199011193519", "idType": "01", "insuOrg": "350100"}
ORG_CODG = "H00000000001"


def sample_person() -> dict[str, str]:
    """The demo's patient."""
    return dict(PERSON)


def sample_fee_upload(med_org_ord: str, *, lines: Optional[list[tuple[str, str, str, str]]] = None,
                      org_codg: str = ORG_CODG, ec_token: str = "350100ec0123456789abcdef",
                      person: Optional[dict[str, str]] = None, acct_used_flag: str = "1",
                      chrg_bchno: Optional[str] = None) -> dict[str, Any]:
    """A complete, valid 6201 ``data`` (wire names) for an outpatient visit.

    ``lines`` are (name, spec, count, unit price) rows; each line's amount is
    count x price, and medfeeSumamt their sum."""
    p = person or PERSON
    lines = lines or [
        ("阿莫西林胶囊", "0.25g*24粒/盒", "2", "18.50"),
        ("布洛芬缓释胶囊", "0.3g*20粒/盒", "1", "26.80"),
        ("血常规检查（五分类）", "次", "1", "25.00"),
        ("普通门诊诊查费", "次", "1", "24.20"),
    ]
    batch = chrg_bchno or ("CB" + med_org_ord)[:30]
    details, total = [], Decimal("0.00")
    for i, (name, spec, cnt, price) in enumerate(lines, 1):
        amount = (Decimal(cnt) * Decimal(price)).quantize(Decimal("0.01"))
        total += amount
        details.append({
            "feedetlSn": f"{med_org_ord[-20:]}F{i:03d}",
            "psnNo": "35000000000000000001",
            "chrgBchno": batch,
            "rxCircFlag": "0",
            "feeOcurTime": "2026-11-25 09:40:00",
            "medListCodg": f"XJ01CA{i:04d}",
            "medinsListCodg": f"YP{i:06d}",
            "detItemFeeSumamt": amount,
            "cnt": Decimal(cnt).quantize(Decimal("0.0000")),
            "pric": Decimal(price).quantize(Decimal("0.000000")),
            "bilgDeptCodg": "0101",
            "bilgDeptName": "呼吸内科",
            "bilgDrCodg": "D001",
            "bilgDrName": "李医生",
            "hospApprFlag": "1",
            "medType": "11",
            "medListName": name,
            "medListSpc": spec,
        })
    return {
        "orgCodg": org_codg,
        "psnNo": "35000000000000000001",
        "insutype": "310",
        "medOrgOrd": med_org_ord,
        "begntime": "2026-11-25 09:00:00",
        "idNo": p["idNo"],
        "userName": p["userName"],
        "idType": p["idType"],
        "ecToken": ec_token,
        "iptOtpNo": "MZ" + med_org_ord[-20:],
        "drName": "李医生",
        "deptName": "呼吸内科",
        "caty": "A03",
        "medType": "11",
        "feeType": "01",
        "medfeeSumamt": total,
        "acctUsedFlag": acct_used_flag,
        "diseCodg": "J06.900",
        "diseName": "急性上呼吸道感染",
        "psnSetlway": "01",
        "chrgBchno": batch,
        "pubHospRfomFlag": "1",
        "diseinfoList": [{
            "diagType": "1", "diagSrtNo": 1, "diagCode": "J06.900", "diagName": "急性上呼吸道感染",
            "diagDept": "呼吸内科", "diseDorNo": "D001", "diseDorName": "李医生",
            "diagTime": "2026-11-25 09:30:00", "valiFlag": "1",
        }],
        "feedetailList": details,
    }


def query_of(upload: dict[str, Any], pay_ord_id: str, pay_token: str) -> dict[str, Any]:
    """The 6301/6401 request for an uploaded order."""
    return {"payOrdId": pay_ord_id, "orgCodg": upload["orgCodg"], "payToken": pay_token,
            "idNo": upload["idNo"], "userName": upload["userName"], "idType": upload["idType"]}


def cashier_form(html_text: str) -> dict[str, str]:
    """The hidden fields and the action of the cashier page's pay form (what a
    browser would submit)."""
    m = re.search(r'<form[^>]*id="mp-pay-form"[^>]*>(.*?)</form>', html_text, re.S) or \
        re.search(r"<form[^>]*>(.*?)</form>", html_text, re.S)
    if not m:
        raise ValueError("the cashier page has no pay form")
    form_tag = html_text[m.start():m.start() + html_text[m.start():].index(">") + 1]
    action = re.search(r'action="([^"]*)"', form_tag)
    import html as _h

    fields = {_h.unescape(k): _h.unescape(v)
              for k, v in re.findall(r'<input[^>]*type="hidden"[^>]*name="([^"]+)"[^>]*value="([^"]*)"', m.group(1))}
    fields["__action__"] = _h.unescape(action.group(1)) if action else ""
    return fields


class Timeline:
    """Prints who sent what, with the time since the start."""

    def __init__(self, out: Callable[[str], None] = print):
        self.t0 = time.monotonic()
        self.out = out
        self.lock = threading.Lock()

    def __call__(self, who: str, what: str, detail: str = "") -> None:
        with self.lock:
            dt = time.monotonic() - self.t0
            line = f"[{dt:6.2f}s] {who:<22} {what}"
            self.out(line + (f"\n{'':32}{detail}" if detail else ""))

    def section(self, title: str) -> None:
        with self.lock:
            self.out(f"\n== {title} ==")


def _tx(code: str) -> str:
    """``<code> <path>``: a transaction as the timeline names it, from the one table."""
    return f"{code} {TRANSACTIONS[code].path}"


def _y(v: Any) -> str:
    return f"¥{Decimal(str(v)):.2f}"


def run_demo(*, verbose: bool = False, out: Callable[[str], None] = print) -> int:
    """Play the day; returns 0 when every step went as expected."""
    import httpx

    import medpay_core as mp
    from medpay_core.asgi import create_app
    from medpay_core.client import MedpayClient
    from medpay_core.ids import new_app_refd_sn, new_org_biz_ser
    from medpay_core.voucher import SandboxVoucherDecoder

    from .config import generate_config, institution_credentials
    from .server import SandboxServer, ThreadedASGIServer

    tl = Timeline(out)
    tl.section("set-up: fresh keys, a temporary database, 127.0.0.1 only")
    raw = generate_config(name="福州市示例医院", org_codg=ORG_CODG)
    # Fast retries for the demo: a missed notice is posted again after 0.2 s.
    raw["notify"] = {"maxAttempts": 5, "baseDelay": 0.2, "maxDelay": 2.0, "timeout": 5.0}
    creds = institution_credentials(raw)
    codec = mp.EnvelopeCodec(creds)

    notices: list[Any] = []
    got_notice = threading.Event()
    syncs: list[Any] = []

    def on_notice(notice: Any) -> None:
        notices.append(notice)
        tl("HIS ← center", f"6302 settlement notice for {notice.pay_ord_id}",
           f"fund {_y(notice.fund_pay)}  acct {_y(notice.psn_acct_pay)}  cash {_y(notice.ownpay_amt)}"
           f"  hiDocSn {notice.hi_doc_sn}  → recorded, acknowledged success=true")
        got_notice.set()

    def on_order_sync(notice: Any, query: Any) -> None:
        syncs.append(notice)
        tl("browser → HIS", f"6204 return page: order {notice.pay_ord_id} (chnlType {query.get('chnlType')})",
           f"total {_y(notice.fee_sumamt)}  cash {_y(notice.own_pay_amt)}  (decrypted with our appSecret)")
        return None

    # The HIS's notice store lives and dies with the demo (a HIS keeps its own file).
    notice_dir = tempfile.TemporaryDirectory(prefix="medpay-demo-")
    store = mp.SQLiteNoticeStore(os.path.join(notice_dir.name, "notices.db"))
    callbacks = ThreadedASGIServer(create_app(codec, on_notice, on_order_sync=on_order_sync,
                                              store=store)).start()
    for inst in raw["institutions"]:
        inst["notifyUrl"] = callbacks.url + "/medpay/notify"
        inst["returnUrl"] = callbacks.url + "/medpay/return"

    def on_event(kind: str, pay_ord_id: Optional[str], detail: dict[str, Any]) -> None:
        if kind == "6302.sent":
            tl("center → HIS", f"6302 POST #{detail.get('attempt')} to notifyUrl ({detail.get('form')})")
        elif kind == "6302.acknowledged":
            tl("center", f"6302 for {pay_ord_id} acknowledged: outbox row DELIVERED")
        elif verbose:
            tl("center (event)", f"{kind} {pay_ord_id or ''}", str(detail))

    sandbox = SandboxServer(raw, on_event=on_event).start()
    ok = False
    try:
        tl("sandbox", f"payment center at {sandbox.url}", f"db {sandbox.db_path}")
        tl("HIS", f"callbacks at {callbacks.url}/medpay/notify and /medpay/return")
        # The client's own transport reads no proxy from the environment; the "browser"
        # is told not to either.
        with MedpayClient(sandbox.url, creds, timeout=10) as client, \
                httpx.Client(timeout=10, follow_redirects=False, trust_env=False) as browser:
            ok = _play(tl, client, browser, sandbox, creds, got_notice, notices, syncs,
                       new_org_biz_ser, new_app_refd_sn, SandboxVoucherDecoder)
    finally:
        sandbox.stop()
        callbacks.stop()
        store.close()
        notice_dir.cleanup()
    tl.section("done" if ok else "FAILED")
    return 0 if ok else 1


def _play(tl: Timeline, client: Any, browser: Any, sandbox: Any, creds: Any, got_notice: threading.Event,
          notices: list[Any], syncs: list[Any], new_org_biz_ser: Any, new_app_refd_sn: Any, decoder_cls: Any) -> bool:
    import medpay_core as mp

    # 1. the e-voucher
    tl.section("09:00 the patient shows the medical-insurance e-voucher")
    r = browser.post(sandbox.url + "/sandbox/voucher", json=sample_person(), headers={"Accept": "application/json"})
    r.raise_for_status()
    voucher = r.json()
    tl("phone ← center", f"e-voucher QR and payAuthNo {voucher['payAuthNo']}", voucher["qrText"][:60] + "…")
    person = decoder_cls(mp.Credentials(creds.app_id, creds.app_secret)).decode(voucher["qrText"], {
        "orgId": ORG_CODG, "businessType": "01101", "operatorId": "0001", "operatorName": "收费员",
        "officeId": "0101", "officeName": "门诊收费处"})
    tl("HIS", f"6101 decoded: {person.user_name}, idType {person.id_type}, ecToken {person.ec_token[:12]}…")

    # 2. 6201
    tl.section("09:42 the prescription is charged: fee upload")
    upload = sample_fee_upload("MO" + time.strftime("%Y%m%d%H%M%S") + "01", ec_token=person.ec_token)
    tl("HIS → center", f"{_tx('6201')} {upload['medOrgOrd']}: {len(upload['feedetailList'])} fee lines, "
       f"total {_y(upload['medfeeSumamt'])}")
    order = client.upload_fees(upload)
    tl("HIS ← center", f"payOrdId {order.pay_ord_id}", f"payToken {order.pay_token[:8]}…  cashierUrl {order.cashier_url}")
    query = query_of(upload, order.pay_ord_id, order.pay_token)
    before = client.query_order(query)
    tl("HIS ↔ center", f"6301: ordStas {before.ord_stas} ({mp.ord_stas_label(before.ord_stas)})")

    # 3. the cashier
    tl.section("09:43 the patient pays at the cashier page")
    url = mp.cashier_url(order.cashier_url, creds, voucher["payAuthNo"])
    page = browser.get(url)
    tl("browser → center", f"GET cashier page: HTTP {page.status_code}, {len(page.text)} bytes")
    form = cashier_form(page.text)
    amounts = dict(re.findall(r'data-k="(\w+)"><span>[^<]*</span><span>([^<]*)</span>', page.text))
    if amounts:
        tl("browser", "the page shows " + "  ".join(f"{k} {v}" for k, v in amounts.items()))
    action = form.pop("__action__")
    form["chnlType"] = "WX"
    paid = browser.post(sandbox.url + action if action.startswith("/") else action, data=form)
    tl("browser → center", f"POST pay (WeChat): HTTP {paid.status_code} → returnUrl with 6204 query")
    if paid.status_code != 303:
        tl("demo", f"unexpected answer {paid.status_code}: {paid.text[:200]}")
        return False
    back = browser.get(paid.headers["location"])
    tl("browser ← HIS", f"return page HTTP {back.status_code}")

    # 4. 6302
    if not got_notice.wait(20):
        tl("demo", "no 6302 notice arrived")
        return False
    final = client.wait_for_settlement(query, deadline=20, interval=0.2)
    tl("HIS ↔ center", f"6301: ordStas {final.ord_stas} ({mp.ord_stas_label(final.ord_stas)})",
       f"total {_y(final.fee_sumamt)} = fund {_y(final.fund_pay)} + acct {_y(final.psn_acct_pay)} + "
       f"other {_y(final.fee_sumamt - final.fund_pay - final.psn_acct_pay - final.own_pay_amt)} + cash {_y(final.own_pay_amt)}")

    # 5. refund part of the cash
    tl.section("11:20 one box of amoxicillin is returned: refund part of the cash")
    refund_amt = min(Decimal("18.50"), final.own_pay_amt)
    refund = {"payOrdId": order.pay_ord_id, "appRefdSn": new_app_refd_sn("RF"),
              "appRefdTime": compact_datetime_text(), "totlRefdAmt": refund_amt,
              "cashRefdAmt": refund_amt, "psnAcctRefdAmt": Decimal("0.00"), "fundRefdAmt": Decimal("0.00"),
              "refdType": "CASH", "payAuthNo": voucher["payAuthNo"]}
    tl("HIS → center", f"{_tx('6203')} CASH {_y(refund_amt)} (appRefdSn {refund['appRefdSn']})")
    res = client.refund(refund)
    tl("HIS ← center", f"refStatus {res.ref_status}, refdSn {res.refd_sn}")
    again = client.refund(refund)
    tl("HIS ↔ center", f"the same refund sent again (a retry): same refdSn {again.refd_sn}, nothing refunded twice")
    after = client.query_order(query)
    tl("HIS ↔ center", f"6301: ordStas {after.ord_stas} ({mp.ord_stas_label(after.ord_stas)})")

    # 6. a second order, revoked
    tl.section("14:05 a second prescription is changed before payment: revoke")
    upload2 = sample_fee_upload("MO" + time.strftime("%Y%m%d%H%M%S") + "02", ec_token=person.ec_token,
                                lines=[("复方甘草片", "8g/片/3", "3", "4.20")])
    tl("HIS → center", f"{_tx('6201')} {upload2['medOrgOrd']}: total {_y(upload2['medfeeSumamt'])}")
    order2 = client.upload_fees(upload2)
    tl("HIS ← center", f"payOrdId {order2.pay_ord_id}")
    query2 = query_of(upload2, order2.pay_ord_id, order2.pay_token)
    client.revoke_upload(query2)
    tl("HIS → center", f"{_tx('6401')} {order2.pay_ord_id}: success")
    try:
        client.pay_order({"payAuthNo": voucher["payAuthNo"], "payOrdId": order2.pay_ord_id,
                          "payToken": order2.pay_token, "orgCodg": upload2["orgCodg"],
                          "orgBizSer": new_org_biz_ser("PAY"), "chrgBchno": upload2["chrgBchno"],
                          "feeType": upload2["feeType"], "mdtrtId": "MD" + order2.pay_ord_id[-20:]})
        tl("demo", "paying a revoked order was accepted: wrong")
        return False
    except mp.BusinessError as e:
        tl("HIS ← center", f"6202 on the revoked order refused: code {e.code}: {e.message}")
    q2 = client.query_order(query2)
    tl("HIS ↔ center", f"6301: ordStas {q2.ord_stas} ({mp.ord_stas_label(q2.ord_stas)})")
    return (final.ord_stas == "6" and res.ref_status == "SUCC" and again.refd_sn == res.refd_sn
            and q2.ord_stas == "12" and len(notices) >= 1 and len(syncs) == 1)
