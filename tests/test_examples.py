"""The examples under examples/, run as an integrator runs them: as scripts, against a
sandbox (``medpay sandbox``) and the example receiver on 127.0.0.1, and checked by
``mypy --strict``. Every wait is bounded by a count, or by the example's own deadline."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path
from typing import Any, Iterator

import httpx
import pytest

import medpay_core as mp
from medpay_core.sandbox import generate_config
from medpay_core.sandbox.config import write_private_json
from medpay_core.sandbox.demo import cashier_form
from sandbox_support import SandboxProcess, free_port, wait_until

ROOT = Path(__file__).resolve().parent.parent
EXAMPLES = ROOT / "examples"
ORG_CODG = "H35010200001"  # the one examples/counter_flow.py uses


def run_example(name: str, *args: str) -> subprocess.Popen[str]:
    return subprocess.Popen([sys.executable, str(EXAMPLES / name), *args], cwd=ROOT, text=True,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE)


def test_every_example_passes_mypy_strict() -> None:
    examples = sorted(str(p) for p in EXAMPLES.glob("*.py"))
    assert len(examples) >= 3
    done = subprocess.run([sys.executable, "-m", "mypy", "--strict", "--no-incremental", *examples],
                          cwd=ROOT, capture_output=True, text=True)
    assert done.returncode == 0, done.stdout + done.stderr
    assert f"Success: no issues found in {len(examples)} source files" in done.stdout


def test_demo_envelope_packs_and_unpacks_both_ways() -> None:
    out, err = run_example("demo_envelope.py").communicate()
    assert err == ""
    assert "== 6301 医保订单结算结果查询: POST /org/local/api/hos/query_order_info ==" in out
    assert "code 0, success True, message 成功" in out and "ordStas 6 (结算完成), total 61.20, cash 12.24" in out
    assert "4117E877F5FA0A0188891283E4B617D5" not in out and "350181199011193519" not in out


@pytest.fixture
def setup(tmp_path: Path) -> Iterator[dict[str, Any]]:
    """A sandbox config whose institution notifies the example receiver, the receiver
    running, and the sandbox running as ``medpay sandbox`` would."""
    receiver_port = free_port()
    receiver = f"http://127.0.0.1:{receiver_port}"
    raw = generate_config(notify_url=receiver + "/medpay/notify", return_url=receiver + "/medpay/return",
                          name="福州市示例医院", org_codg=ORG_CODG)
    raw["notify"] = {"maxAttempts": 50, "baseDelay": 0.05, "maxDelay": 0.5, "timeout": 5.0}
    config = tmp_path / "center.db.config.json"
    write_private_json(config, raw)
    recv = run_example("receive_notice.py", "--config", str(config), "--port", str(receiver_port),
                       "--store", str(tmp_path / "notices.sqlite3"))

    def receiver_up() -> bool:
        if recv.poll() is not None:
            raise AssertionError(f"the receiver exited: {recv.communicate()}")
        try:
            return httpx.get(receiver + "/medpay/return", timeout=1).status_code == 400
        except httpx.HTTPError:
            return False

    sandbox = SandboxProcess(str(config), str(tmp_path / "center.db"))
    try:
        wait_until(receiver_up, tries=1500)
        sandbox.start()
        yield {"raw": raw, "config": config, "receiver": recv, "sandbox": sandbox}
    finally:
        sandbox.stop()
        if recv.poll() is None:
            recv.terminate()
            recv.communicate()


def test_counter_flow_and_receiver_against_the_sandbox(setup: dict[str, Any]) -> None:
    sandbox: SandboxProcess = setup["sandbox"]
    counter = run_example("counter_flow.py", "--config", str(setup["config"]), "--url", sandbox.url,
                          "--wait", "60")
    assert counter.stdout is not None
    seen: list[str] = []
    # The counter prints the cashier URL and waits (6301) while the patient pays.
    for line in counter.stdout:
        seen.append(line)
        if line.startswith("cashier: "):
            break
    else:
        raise AssertionError(f"no cashier URL: {seen} {counter.communicate()}")
    url = seen[-1][len("cashier: "):].strip()
    assert url.startswith(sandbox.url + "/sandbox/cashier?payOrdId=") and "&chnlAppId=" in url

    # The patient, on the phone: open the cashier, press pay, land on the hospital's page.
    with httpx.Client(timeout=10, follow_redirects=False, trust_env=False) as phone:
        page = phone.get(url)
        assert page.status_code == 200 and "去支付" in page.text
        form = cashier_form(page.text)
        paid = phone.post(sandbox.url + form.pop("__action__"), data=form)
        assert paid.status_code == 303
        back = phone.get(paid.headers["location"])
    assert back.status_code == 200 and "订单信息" in back.text  # the receiver's 6204 page

    out, err = counter.communicate()
    lines = "".join(seen) + out
    assert counter.returncode == 0, lines + err
    pay_ord_id = lines.split("payOrdId ", 1)[1].split(",", 1)[0]
    assert "6101 e-voucher decoded: idType 01, idNo 350181********3519" in lines
    assert f"payOrdId {pay_ord_id}, total 61.20" in lines
    assert "6301 ordStas 6 (结算完成): fund 36.72, account 12.24, cash 12.24" in lines
    assert "6203 refund 12.24 (RF" in lines and "refStatus SUCC" in lines
    assert f"6301 ordStas 9 ({mp.ord_stas_label('9')})" in lines

    # The sandbox delivered 6302 to the receiver, which recorded it once.
    notice = wait_until(lambda: (o := sandbox.order(pay_ord_id)) and o["notice"]
                        and o["notice"]["status"] in ("DELIVERED", "FAILED") and o["notice"], tries=1500)
    assert notice["status"] == "DELIVERED", notice
    receiver: subprocess.Popen[str] = setup["receiver"]
    receiver.terminate()
    got, recv_err = receiver.communicate()
    assert got.count(f"6302 {pay_ord_id} settled: total 61.20, fund 36.72, account 12.24, cash 12.24") == 1, got
    assert "stopped after 1 notice(s)" in got

    # Nothing secret or personal went to either's output.
    raw = setup["raw"]
    for text in (lines + err, got + recv_err):
        for secret in (raw["institutions"][0]["appSecret"], raw["client"][0]["privateKey"], "350181199011193519"):
            assert secret not in text
