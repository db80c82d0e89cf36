"""The contract of a :class:`medpay_core.callbacks.NoticeStore`, as checks any store can
be run through: medpay's memory, SQLite and PostgreSQL stores (tests/test_notice_stores.py)
and your own (docs/en/notices.md).

A :class:`Harness` says how to open the store under test: ``open()`` returns a handle on
the *same* backing store each time (another worker's view of it). ``crash`` says how a
holder of a claim can die for this store: ``"thread"`` (a thread claims and ends without
completing, the only death a per-process store can see) or ``"process"`` (a child
process opened with ``factory``, a picklable function, claims and is SIGKILLed while
holding the claim: stores shared by processes must take the claim over).

>>> # from store_kit import Harness, CHECKS
>>> # h = Harness("mine", open=lambda: MyStore(dsn), crash="process", factory=functools.partial(MyStore, dsn))
>>> # for check in CHECKS: check(h)
"""

from __future__ import annotations

import multiprocessing
import os
import signal
import threading
import time
import uuid
from dataclasses import dataclass, field
from typing import Any, Callable, Optional

from medpay_core.callbacks import BUSY, CLAIMED, DONE, NoticeKey, NoticeStore


@dataclass
class Harness:
    name: str
    open: Callable[[], NoticeStore]
    crash: str = "thread"  # or "process"
    factory: Optional[Callable[[], NoticeStore]] = None  # picklable, for crash="process"
    close: Callable[[NoticeStore], None] = field(default=lambda s: getattr(s, "close", lambda: None)())


def fresh_key(call_type: str = "02", app_id: str = "APP1000000000000") -> NoticeKey:
    return NoticeKey(app_id, "ORD" + uuid.uuid4().hex[:20], call_type, "2026-11-25 10:00:00")


def in_thread(fn: Callable[[], Any]) -> Any:
    """``fn()`` in another thread (another worker of this process); its result."""
    out: list[Any] = []
    t = threading.Thread(target=lambda: out.append(fn()))
    t.start()
    t.join()
    return out[0]


def check_a_fresh_key_is_claimed_and_busy_for_others(h: Harness) -> None:
    a, b = h.open(), h.open()
    try:
        key = fresh_key()
        claim = a.claim(key)
        assert claim.state == CLAIMED and claim.token
        assert in_thread(lambda: b.claim(key)).state == BUSY
        a.release(claim)
    finally:
        h.close(a), h.close(b)


def check_a_completed_key_is_done_for_everyone(h: Harness) -> None:
    a, b = h.open(), h.open()
    try:
        key = fresh_key()
        a.complete(a.claim(key))
        assert in_thread(lambda: b.claim(key)).state == DONE
        assert a.claim(key).state == DONE
        reopened = h.open()
        assert reopened.claim(key).state == DONE
        h.close(reopened)
    finally:
        h.close(a), h.close(b)


def check_a_released_key_is_claimed_again(h: Harness) -> None:
    a, b = h.open(), h.open()
    try:
        key = fresh_key()
        a.release(a.claim(key))
        again = in_thread(lambda: b.claim(key))
        assert again.state == CLAIMED
        b.complete(again)
        assert a.claim(key).state == DONE
    finally:
        h.close(a), h.close(b)


def check_the_key_is_app_id_pay_ord_id_and_call_type(h: Harness) -> None:
    s = h.open()
    try:
        key = fresh_key()
        s.complete(s.claim(key))
        others = [NoticeKey("APP2000000000000", key.pay_ord_id, key.call_type),
                  NoticeKey(key.app_id, key.pay_ord_id, "03")]
        for other in others:
            c = s.claim(other)
            assert c.state == CLAIMED, other
            s.complete(c)
        assert s.claim(NoticeKey(key.app_id, key.pay_ord_id, key.call_type, "another time")).state == DONE
    finally:
        h.close(s)


def _claim_and_die(factory: Callable[[], NoticeStore], key: NoticeKey, claimed: Any, go: Any) -> None:
    """In the child: claim, say so, wait, then die as a crash does (no cleanup)."""
    store = factory()
    claim = store.claim(key)
    claimed.send(claim.state)
    go.wait(60)
    os.kill(os.getpid(), signal.SIGKILL)


def check_a_claim_whose_holder_died_is_taken_over(h: Harness) -> None:
    s = h.open()
    try:
        key = fresh_key()
        if h.crash == "process":
            assert h.factory is not None, "crash='process' needs a picklable factory"
            ctx = multiprocessing.get_context("spawn")
            ours, theirs = ctx.Pipe()
            go = ctx.Event()
            child = ctx.Process(target=_claim_and_die, args=(h.factory, key, theirs, go))
            child.start()
            try:
                assert ours.poll(120), "the child never claimed"
                assert ours.recv() == CLAIMED
                assert s.claim(key).state == BUSY  # alive: nobody takes it over
            finally:
                go.set()
                child.join(120)
            assert child.exitcode == -signal.SIGKILL
        else:
            assert in_thread(lambda: s.claim(key)).state == CLAIMED  # and that thread ended
        taken = s.claim(key)
        assert taken.state == CLAIMED, "a dead holder's claim must be taken over at the next delivery"
        s.complete(taken)
        assert s.claim(key).state == DONE
    finally:
        h.close(s)


def check_concurrent_workers_process_each_key_exactly_once(h: Harness, threads: int = 8, keys: int = 20) -> None:
    stores = [h.open() for _ in range(threads)]
    try:
        todo = [fresh_key() for _ in range(keys)]
        effects: dict[NoticeKey, int] = {k: 0 for k in todo}
        lock = threading.Lock()
        barrier = threading.Barrier(threads)
        errors: list[BaseException] = []

        def worker(store: NoticeStore) -> None:
            try:
                barrier.wait(60)
                pending = list(todo)
                # Every worker delivers every key until it sees it done (as the center
                # redelivers until acknowledged); bounded by rounds, not by time.
                for _ in range(10_000):
                    if not pending:
                        return
                    key = pending.pop(0)
                    c = store.claim(key)
                    if c.state == CLAIMED:
                        with lock:
                            effects[key] += 1
                        store.complete(c)
                    elif c.state == BUSY:
                        pending.append(key)
                        # Back off as a redelivery would: on a loaded machine the claimer
                        # may not get the GIL while the others spin through their rounds.
                        time.sleep(0.001)
                raise AssertionError("keys still busy after 10000 rounds")
            except BaseException as e:  # reported below
                errors.append(e)

        ts = [threading.Thread(target=worker, args=(st,)) for st in stores]
        for t in ts:
            t.start()
        for t in ts:
            t.join()
        assert not errors, errors
        assert set(effects.values()) == {1}, effects
    finally:
        for st in stores:
            h.close(st)


CHECKS: list[Callable[[Harness], None]] = [
    check_a_fresh_key_is_claimed_and_busy_for_others,
    check_a_completed_key_is_done_for_everyone,
    check_a_released_key_is_claimed_again,
    check_the_key_is_app_id_pay_ord_id_and_call_type,
    check_a_claim_whose_holder_died_is_taken_over,
    check_concurrent_workers_process_each_key_exactly_once,
]
