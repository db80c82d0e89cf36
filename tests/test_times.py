"""Beijing time wherever the protocol means local time (issue 16): the id and time
helpers of ``medpay_core.ids``, the models given a datetime, and the sandbox, whatever
the machine's time zone. The zones are POSIX TZ strings, which need no tz database."""

from __future__ import annotations

import datetime as dt
import json
import os
import subprocess
import sys
import textwrap
from decimal import Decimal

import pytest

from medpay_core import ids
from medpay_core.models import RefundRequest, validate

UTC = dt.timezone.utc
# 2026-11-25 01:30:05 UTC is 09:30:05 in Beijing; 16:00 UTC is the next day there.
T = dt.datetime(2026, 11, 25, 1, 30, 5, tzinfo=UTC)
LATE = dt.datetime(2026, 11, 24, 16, 0, 0, tzinfo=UTC)


def test_each_spec_format_is_written_in_beijing_time_from_an_aware_datetime():
    assert ids.datetime_text(T) == "2026-11-25 09:30:05"
    assert ids.compact_datetime_text(T) == "20261125093005"
    assert ids.compact_time_text(T) == "093005"
    assert ids.date_text(LATE) == "2026-11-25" and ids.compact_date_text(LATE) == "20261125"
    new_york = dt.timezone(dt.timedelta(hours=-5))
    assert ids.datetime_text(T.astimezone(new_york)) == "2026-11-25 09:30:05"


def test_a_naive_datetime_is_taken_as_a_beijing_wall_time():
    assert ids.datetime_text(dt.datetime(2026, 11, 25, 9, 30, 5)) == "2026-11-25 09:30:05"


def test_anything_but_a_datetime_is_a_type_error():
    with pytest.raises(TypeError, match="a datetime is expected"):
        ids.datetime_text("2026-11-25 09:30:05")  # type: ignore[arg-type]


def test_beijing_is_a_fixed_utc_plus_8_without_daylight_saving():
    for month in (1, 7):
        assert dt.datetime(2026, month, 1, tzinfo=ids.BEIJING).utcoffset() == dt.timedelta(hours=8)


def test_a_model_given_an_aware_datetime_writes_it_in_beijing_time():
    r = validate(RefundRequest, {"payOrdId": "ORD1", "appRefdSn": "RF1", "appRefdTime": LATE,
                                 "totlRefdAmt": Decimal("1.00"), "cashRefdAmt": Decimal("1.00"),
                                 "refdType": "CASH", "payAuthNo": "AUTH1"})
    assert r.app_refd_time == "20261125000000"


_PROBE = textwrap.dedent("""
    import datetime as dt, json, time
    from medpay_core import ids
    from medpay_core.sandbox.center import now_china
    before = dt.datetime.now(dt.timezone.utc)
    out = {"id": ids.new_org_biz_ser(), "now": ids.datetime_text(), "refd": ids.compact_datetime_text(),
           "center": now_china().strftime("%Y-%m-%d %H:%M:%S"), "local": time.strftime("%H")}
    out["before"] = before.isoformat()
    out["after"] = dt.datetime.now(dt.timezone.utc).isoformat()
    print(json.dumps(out))
""")


@pytest.mark.parametrize("tz", ["UTC0", "EST+5", "XYZ-11"])
def test_ids_and_times_are_beijing_time_whatever_the_machines_zone(tz):
    env = dict(os.environ, TZ=tz)
    out = json.loads(subprocess.run([sys.executable, "-c", _PROBE], env=env, check=True,
                                    capture_output=True, text=True).stdout)
    before = dt.datetime.fromisoformat(out["before"]).astimezone(ids.BEIJING)
    after = dt.datetime.fromisoformat(out["after"]).astimezone(ids.BEIJING)
    # Each stamp lies between two readings of the clock taken around it, in Beijing time
    # (the seconds truncated); the process's own zone (its local hour) plays no part.
    for text, fmt in [(out["id"][:14], "%Y%m%d%H%M%S"), (out["now"], "%Y-%m-%d %H:%M:%S"),
                      (out["refd"], "%Y%m%d%H%M%S"), (out["center"], "%Y-%m-%d %H:%M:%S")]:
        stamp = dt.datetime.strptime(text, fmt).replace(tzinfo=ids.BEIJING)
        assert before.replace(microsecond=0) <= stamp <= after, (tz, text)
    local_offset = {"UTC0": 0, "EST+5": -5, "XYZ-11": 11}[tz]
    assert int(out["local"]) == (before.astimezone(UTC) + dt.timedelta(hours=local_offset)).hour or \
        int(out["local"]) == (after.astimezone(UTC) + dt.timedelta(hours=local_offset)).hour  # the zone took effect


def test_the_docstring_examples_of_the_time_helpers_run():
    import doctest

    result = doctest.testmod(ids)
    assert result.attempted > 0 and result.failed == 0
