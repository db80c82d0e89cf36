"""The institution's side of what the center sends: the 6302 settlement notice and the
6204 return page, with ``medpay_core.asgi.create_app``.

With the sandbox's config (its ``notifyUrl`` pointing here)::

    medpay sandbox --db center.db --port 8000 --notify-url http://127.0.0.1:8001/medpay/notify \\
        --return-url http://127.0.0.1:8001/medpay/return
    python examples/receive_notice.py --config center.db.config.json --port 8001

``record`` is where a hospital marks the order paid in its own database. The notice store
(SQLite) makes a notice delivered twice, or to two workers at once, reach ``record`` once;
when ``record`` raises, the center is asked to deliver again. It serves until stopped
(Ctrl-C or SIGTERM: uvicorn finishes the requests in progress).
"""

from __future__ import annotations

import argparse
import signal
import sys
import threading
from typing import Optional, Sequence

import uvicorn

import medpay_core as mp
from medpay_core.asgi import create_app
from medpay_core.models import SettlementNotice



class Ledger:
    """Stands in for the hospital's database: which orders are settled, and for how much."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.settled: dict[str, SettlementNotice] = {}

    def record(self, notice: SettlementNotice) -> None:
        """on_notice: called once per notice (duplicates are filtered by the store). Raise
        to have the center deliver it again."""
        with self.lock:
            self.settled[notice.pay_ord_id] = notice
            count = len(self.settled)
        print(f"6302 {notice.pay_ord_id} settled: total {notice.fee_sumamt}, fund {notice.fund_pay}, "
              f"account {notice.psn_acct_pay}, cash {notice.ownpay_amt} ({count} so far)", flush=True)


def main(argv: Optional[Sequence[str]] = None) -> int:
    """Serve until interrupted."""
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--config", required=True, help="the sandbox config (the institution's credentials)")
    p.add_argument("--org-codg", default=None, help="the institution, when the config has several")
    p.add_argument("--port", type=int, default=8001)
    p.add_argument("--store", default="notices.sqlite3", help="the SQLite file of processed notices")
    args = p.parse_args(argv)

    codec = mp.EnvelopeCodec(mp.Credentials.from_sandbox_config(args.config, args.org_codg))
    ledger = Ledger()
    store = mp.SQLiteNoticeStore(args.store)
    app = create_app(codec, ledger.record, store=store)
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=args.port, log_level="warning"))
    print(f"listening on http://127.0.0.1:{args.port}/medpay/notify and /medpay/return", flush=True)
    # uvicorn shuts down gracefully on SIGINT/SIGTERM, then raises the signal again: make
    # SIGTERM end as Ctrl-C does, in a KeyboardInterrupt, so the store is closed.
    signal.signal(signal.SIGTERM, signal.default_int_handler)
    try:
        server.run()
    except KeyboardInterrupt:
        pass
    finally:
        store.close()
    print(f"stopped after {len(ledger.settled)} notice(s)", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
