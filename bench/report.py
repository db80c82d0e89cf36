"""The side-by-side table of a benchmark run, from the JSON pytest-benchmark wrote.

    python bench/report.py .benchmarks/medpay.json

For speed (ops/s, MB/s, items/s), each peer's row gives medpay / peer (how many times
faster medpay is), and a reference row (`openssl speed`, run in the same session) likewise.
For costs (µs CPU per call, µs per fee line), every row gives its cost / the floor's, and
medpay's row its target and whether this run met it. Exit status 1 when a target is missed
(with ``--check``).
"""

from __future__ import annotations

import argparse
import json
import platform
import sys
from pathlib import Path
from typing import Optional

COST_UNITS = {"µs CPU/call", "µs/line"}
#: The 1,000-line upload's cost per line against the 30-line one's.
PER_LINE_TARGET = 1.25


def value(b: dict) -> float:
    info, best = b["extra_info"], b["stats"]["min"]
    unit = info["unit"]
    if unit == "µs CPU/call":
        return info["cpu_us_per_call"]
    if unit == "µs/line":
        return best / info["items"] * 1e6
    if unit == "MB/s":
        return info["bytes"] / best / 1e6
    if unit == "items/s":
        return info["items"] / best
    return 1 / best


def fmt(x: Optional[float]) -> str:
    if x is None:
        return ""
    return f"{x:,.0f}" if x >= 100 else f"{x:,.1f}" if x >= 10 else f"{x:,.2f}"


def rows(benchmarks: list[dict]) -> tuple[list[list[str]], list[str]]:
    groups: dict[str, list[dict]] = {}
    for b in benchmarks:
        groups.setdefault(b["group"], []).append(b)
    table, missed = [], []
    for group, members in groups.items():
        medpay = [b for b in members if b["extra_info"]["role"] == "medpay"]
        floor = [b for b in members if b["extra_info"]["role"] == "floor"]
        unit = members[0]["extra_info"]["unit"]
        order = sorted(members, key=lambda b: ["floor", "medpay", "part", "peer"].index(b["extra_info"]["role"]))
        for b in order:
            info, v = b["extra_info"], value(b)
            ratio = target = ""
            if unit in COST_UNITS and floor:
                r = v / value(floor[0])
                ratio = "floor" if b in floor else f"{r:.2f}x the floor"
                limit = info.get("target") or (PER_LINE_TARGET if unit == "µs/line" else None)
                if b in medpay and limit:
                    met = r <= limit
                    target = f"<= {limit}x: {'met' if met else 'MISSED'}"
                    if not met:
                        missed.append(f"{group}: {r:.2f}x (target {limit}x)")
            elif medpay and b not in medpay and info["role"] != "part":
                ratio = f"medpay {value(medpay[0]) / v:.1f}x"
            extra = f" ({fmt(info['peak_bytes_per_line'])} B/line peak)" if "peak_bytes_per_line" in info else ""
            table.append([group, info["contender"] + extra, fmt(v), unit, ratio, target])
            if b in medpay and info.get("reference_value"):
                ref = info["reference_value"]
                table.append([group, info["reference"], fmt(ref), unit, f"medpay {v / ref:.2f}x", ""])
    return table, missed


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("json", type=Path)
    ap.add_argument("--check", action="store_true", help="exit 1 when a target is missed")
    args = ap.parse_args()
    data = json.loads(args.json.read_text())
    machine = data.get("machine_info", {})
    cpu = machine.get("cpu", {})
    print(f"medpay benchmark, {data.get('datetime', '')[:10]}, {cpu.get('brand_raw') or platform.processor()}, "
          f"{cpu.get('count', '?')} cores, Python {machine.get('python_version', platform.python_version())}")
    flags = set(cpu.get("flags") or ())
    wanted = ("adx", "bmi2", "avx2", "aes", "vaes", "gfni", "avx512bw", "sm3", "sm4", "asimd")
    print(f"CPU features medpay's fast paths use: {' '.join(f for f in wanted if f in flags) or 'none'}")
    print()
    table, missed = rows(data["benchmarks"])
    head = ["case", "contender", "value", "unit", "ratio", "target"]
    widths = [max(len(r[i]) for r in [head, *table]) for i in range(len(head))]
    last = None
    for i, r in enumerate([head, *table]):
        if i > 1 and r[0] != last:
            print("-+-".join("-" * w for w in widths))
        print(" | ".join(c.ljust(w) for c, w in zip(r if r[0] != last or i == 0 else ["", *r[1:]], widths)).rstrip())
        if i == 0:
            print("-+-".join("-" * w for w in widths))
        last = r[0]
    if missed:
        print("\nmissed: " + "; ".join(missed))
    return 1 if missed and args.check else 0


if __name__ == "__main__":
    sys.exit(main())
