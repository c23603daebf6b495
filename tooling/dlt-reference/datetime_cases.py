#!/usr/bin/env python3
"""Record how dlt detects and coerces date/time strings and numbers, for the normalize unit tests.

Runs dlt's own detections (`iso_timestamp`, `iso_date`) and coercions (`text`/`bigint`/`double` →
`timestamp`/`date`/`time`, then dlt's timezone normalization) on a list of inputs and writes the results
to `packages/normalize/test/fixtures/dlt-datetime-cases.json`. Only dlt is *run*; no code is copied.

Usage: /tmp/dltref126/bin/python tooling/dlt-reference/datetime_cases.py
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import dlt
from dlt.common.data_types.type_helpers import coerce_value
from dlt.common.schema.detections import is_iso_date, is_iso_timestamp
from dlt.common.time import normalize_timezone

OUT = Path(__file__).resolve().parents[2] / "packages" / "normalize" / "test" / "fixtures" / "dlt-datetime-cases.json"

TEXTS = [
    "2024-01-01T10:00:00Z", "2024-01-01t10:00:00z", "2024-01-01T10:00:00z", "2024-01-01t10:00:00Z",
    "2024-01-01T10:00:00.123456Z", "2024-01-01T10:00:00.123456789Z", "2024-01-01T10:00:00.1Z",
    "2024-06-30T23:59:59.999+05:30", "2024-01-01T00:30:00-01:00", "2024-01-01T10:00:00+0200",
    "2024-01-01T10:00:00+02", "2024-01-01 10:00:00", "2024-01-01  10:00:00", "2024-01-01T10:00",
    "2024-01-01T10", "20240101T100000Z", "20240101T1000", "2024-01-01T10:00:00,5Z", "2024-01-01",
    "2024-01", "2024", "20240101", "202401", "10:00:00", "10:00", "1000", "10:00:00.5", "10:00:00Z",
    "10:00:00+02:00", "2024-W01-1", "2024-W01", "2024W011", "2024-001", "2024001",
    "Mon, 01 Jan 2024 10:00:00 GMT", "2024-02-30T00:00:00Z", "2024-01-01T24:00:00Z",
    "2024-02-29T12:00:00Z", "2023-02-29", "0001-01-01T00:00:00Z", "9999-12-31T23:59:59Z",
    "0001-01-01T00:00:00+01:00", "9999-12-31T23:59:59-01:00", "1969-12-31T23:59:59.5Z",
    "2024/01/15", "2024/1/5", "01/15/2024", "15.01.2024", "2024-1-5", "2024-01-01T10:00:00 Z",
    " 2024-01-01T10:00:00Z", "2024-01-01T10:00:00Z ", "2024-01-01T10:00:00+02:00:00",
    "2024-01-01T10:00:00-00:00", "2024-01-01T10:00:00+14:00", "2024-01-01T10:00:00+23:59",
    "2024-01-01T10:00:60Z", "2024-01-01T10:60:00Z", "2024-13-01", "2024-00-10", "0000-01-01",
    "+2024-01-01", "2024-01-01T10:00:00.Z", "2024-01-01T10.5", "2024-01-01T10:30.5",
    "now", "today", "", "abc", "1704103200", "1704103200.5", "T10:00:00", "2024-01-01T",
    "2024-01-01T10:00:00.1234567890123Z", "2024-12-31T23:59:59.9999999Z",
    # pendulum's "common" fallback grammar and more ISO corners
    "2024/01/15 10:00", "2024:01:15", "2024/0115", "2024 10:00", "2024/01/15 1:5:3", "2024/01/15 10:00:00.123",
    "2024/01/15 10:00:00|5", "2024/01/1510:00", "10:5", "1:00", "24:00", "10:00:00.1234567", "P1D",
    "2024-01-01T10:00:00.123+01:00", "2024-01-01T1000Z", "2024-01-01T10:00Z", "2024-01-01T10Z",
    "2024-01-01T10:00:00.5", "20240101T10", "20240101 10:00:00", "2024-01-01T10:00:00+05",
    "2024-01-01T10:00:00-0530", "10:00:00-05:30", "100000", "10:00:00.123456789", "2024-01-01T10:00:00.000Z",
    "2024-060", "2024-366", "2023-366", "2024-W53-1", "2020-W53-7", "2024-W01-8", "2024-W00-1", "2024-W01-1T10:00",
    "2024-001T10:00:00Z", "1e3", " 1704103200 ", "-1", "0x10", "inf", "nan", "1_000", "2024-1-01", "99-01-01",
    "12024-01-01", "2024-01-01T10:00:00.123456Z[UTC]", "2024-01-01T10:00:00+00", "2024-01-01T10:00:00-23:59",
    "2024-01-01T10:00:00+24:00", "2024-01-01T10:00:00+02:60", "2024-01-01T10:00:00,", "2024-01-01T10:00:00.",
    "2024-01-01T10:00:00Z+01:00", "2024-01-01T10:00:00.1.2Z", "10", "10Z", "1000Z", "10:00:00.5+01:00",
    "T10:00", "2024-02-29", "2100-02-29", "2000-02-29", "2024-04-31", "1582-10-10", "0001-01-01", "9999-12-31",
]
NUMBERS = [0, 1704103200, -1, 1704103200.25, 1704103200.9999999, -0.5, 253402300799, 253402300800, -62135596800]


def attempt(to_type: str, from_type: str, value: Any) -> Any:
    try:
        v = coerce_value(to_type, from_type, value)
    except Exception as e:  # noqa: BLE001
        return {"error": type(e).__name__}
    if to_type == "timestamp":
        try:
            return {"value": normalize_timezone(v, True).isoformat(), "naive": normalize_timezone(v, False).isoformat()}
        except Exception as e:  # noqa: BLE001  (an out-of-range UTC shift fails the whole normalize in dlt)
            return {"error": type(e).__name__, "in": "normalize_timezone"}
    return {"value": v.isoformat()}


def main() -> None:
    cases = []
    for text in TEXTS:
        cases.append(
            {
                "input": text,
                "iso_timestamp": is_iso_timestamp(str, text),
                "iso_date": is_iso_date(str, text),
                "timestamp": attempt("timestamp", "text", text),
                "date": attempt("date", "text", text),
                "time": attempt("time", "text", text),
            }
        )
    for number in NUMBERS:
        from_type = "bigint" if isinstance(number, int) else "double"
        cases.append(
            {
                "input": number,
                "timestamp": attempt("timestamp", from_type, number),
                "date": attempt("date", from_type, number),
            }
        )
    doc = {"dlt_version": dlt.__version__, "cases": cases}
    OUT.write_text(json.dumps(doc, indent=2, ensure_ascii=False) + "\n")
    print(f"wrote {OUT} ({len(cases)} cases)")


if __name__ == "__main__":
    main()
