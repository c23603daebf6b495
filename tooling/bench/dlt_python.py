"""Python dlt on the benchmark's rows, for the `dlt-python-1m` case (issue 12: "tsdlt >= 10x faster").

Run by cases.mjs with a Python that has `dlt[duckdb]` installed:

    python dlt_python.py --rows 1000000 --dir /tmp/x      -> one JSON line with the timed figures
    python dlt_python.py --dump 1000                      -> the first 1000 rows as JSONL (to check
                                                             that they equal generate.mjs's rows)

The rows are generate.mjs's rows, generated here in Python (a port of the same pure function of the
row index), so both tools pay for making their own rows and neither parses a file. dlt runs with its
defaults (what a user gets): one normalize worker, DuckDB's preferred loader file format.
"""

import argparse
import json
import resource
import sys
import time

M32 = 0xFFFFFFFF
WORDS = (
    "pipeline schema normalize extract load duckdb table column nested merge append replace cursor "
    "incremental state package file writer buffer rotate memory stream async generator page resource "
    "source destination dataset timestamp variant coerce infer null list object json parquet bulk"
).split(" ")
LABELS = [
    ("bug", "d73a4a"),
    ("enhancement", "a2eeef"),
    ("documentation", "0075ca"),
    ("question", "d876e3"),
    ("performance", "fbca04"),
    ("good first issue", "7057ff"),
    ("help wanted", "008672"),
    ("wontfix", "ffffff"),
]
ASSOCIATIONS = ["OWNER", "MEMBER", "CONTRIBUTOR", "NONE"]
BASE_MS = 1577836800000  # 2020-01-01T00:00:00Z


def _body_source() -> str:
    text = ""
    i = 0
    while len(text) < 4096:
        text += WORDS[(i * 7) % len(WORDS)] + " "
        i += 1
    return text


BODY_SOURCE = _body_source()
_DIGITS = "0123456789abcdefghijklmnopqrstuvwxyz"


def base36(n: int) -> str:
    if n == 0:
        return "0"
    out = []
    while n:
        n, r = divmod(n, 36)
        out.append(_DIGITS[r])
    return "".join(reversed(out))


def mix(x: int) -> int:
    """splitmix32 on unsigned 32-bit arithmetic (equal to generate.mjs's `mix`)."""
    z = (x + 0x9E3779B9) & M32
    z = ((z ^ (z >> 16)) * 0x85EBCA6B) & M32
    z = ((z ^ (z >> 13)) * 0xC2B2AE35) & M32
    return z ^ (z >> 16)


def iso(ms: int) -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(ms // 1000))


def issue_row(i: int) -> dict:
    h1 = mix(i)
    h2 = mix(h1 ^ i)
    h3 = mix(h2 + i)
    created_ms = BASE_MS + i * 60_000 + (h1 % 60_000)
    closed = (h1 & 3) == 0
    updated_ms = created_ms + (h2 % 864_000_000)
    user_id = 1000 + (h2 % 50_000)
    l1 = h3 % len(LABELS)
    l2 = (l1 + 1 + ((h3 >> 8) % (len(LABELS) - 1))) % len(LABELS)
    body_start = h2 % 3800
    score = (h2 % 10_000) / 100
    return {
        "id": i + 1,
        "node_id": f"I_kwDOA{base36(h1 >> 4)}{base36(i + 1)}",
        "number": i + 1,
        "title": f"{WORDS[h1 % len(WORDS)]} {WORDS[h2 % len(WORDS)]} fails on {WORDS[h3 % len(WORDS)]} #{i + 1}",
        "state": "closed" if closed else "open",
        "locked": (h3 & 31) == 0,
        "comments": h3 % 40,
        "created_at": iso(created_ms),
        "updated_at": iso(updated_ms),
        "closed_at": iso(updated_ms) if closed else None,
        "author_association": ASSOCIATIONS[h1 % len(ASSOCIATIONS)],
        "html_url": f"https://github.com/tsdlt/tsdlt/issues/{i + 1}",
        # JSON numbers: JS prints 12 for 12.0
        "score": int(score) if score.is_integer() else score,
        "user": {"login": f"user{user_id}", "id": user_id, "type": "User", "site_admin": (h1 & 255) == 0},
        "labels": [
            {"id": 100 + l1, "name": LABELS[l1][0], "color": LABELS[l1][1]},
            {"id": 100 + l2, "name": LABELS[l2][0], "color": LABELS[l2][1]},
        ],
        "body": BODY_SOURCE[body_start : body_start + 190 + (h3 % 21)],
    }


def issue_pages(count: int, page_size: int = 1000):
    for offset in range(0, count, page_size):
        yield [issue_row(i) for i in range(offset, min(count, offset + page_size))]


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--dir")
    parser.add_argument("--dump", type=int)
    args = parser.parse_args()
    if args.dump is not None:
        for page in issue_pages(args.dump):
            for row in page:
                sys.stdout.write(json.dumps(row, separators=(",", ":")) + "\n")
        return

    import dlt  # imported here: --dump works without dlt

    pipeline = dlt.pipeline(
        pipeline_name="bench_py",
        pipelines_dir=f"{args.dir}/pipelines",
        destination=dlt.destinations.duckdb(f"{args.dir}/bench_py.duckdb"),
        dataset_name="bench_data",
    )
    issues = dlt.resource(issue_pages(args.rows), name="issues", write_disposition="append")
    started = time.perf_counter()
    cpu_started = time.process_time()
    pipeline.run(issues)
    seconds = time.perf_counter() - started
    cpu_seconds = time.process_time() - cpu_started
    stages = {}
    for step in pipeline.last_trace.steps:
        stages[step.step] = round((step.finished_at - step.started_at).total_seconds(), 3)
    with pipeline.sql_client() as client:
        issues_n = client.execute_sql("SELECT count(*) FROM issues")[0][0]
        labels_n = client.execute_sql("SELECT count(*) FROM issues__labels")[0][0]
    if issues_n != args.rows or labels_n != 2 * args.rows:
        raise SystemExit(f"expected {args.rows} issues and {2 * args.rows} labels, found {issues_n} and {labels_n}")
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(
        json.dumps(
            {
                "seconds": seconds,
                "cpuSeconds": round(cpu_seconds, 3),
                "stages": stages,
                "peakRssMb": round(peak_mb, 1),
                "dltVersion": dlt.__version__,
            }
        )
    )


if __name__ == "__main__":
    main()
