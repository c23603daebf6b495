#!/usr/bin/env python3
"""Record reference fixtures by running the real Python dlt into DuckDB.

This is our own harness: it only *runs* dlt and writes down what goes in and what comes out.
Every case is loaded by a fresh pipeline (`ref_<case>`, dataset `ref`) into a DuckDB file in a
fresh temporary directory; the resulting schema, DuckDB tables, rows and `str(load_info)` lines are
written to `packages/tsdlt/test/fixtures/dlt-reference/<case>.json`.

Usage (see README.md next to this file):
    /tmp/dltref/bin/python tooling/dlt-reference/generate.py [--check] [case ...]
"""

from __future__ import annotations

import argparse
import base64
import json
import os
import re
import shutil
import sys
import tempfile
import zlib
from datetime import datetime
from pathlib import Path
from typing import Any

import dlt
import duckdb
from dlt.common.schema.exceptions import CannotCoerceColumnException, CannotCoerceNullException, DataValidationError
from dlt.load.exceptions import LoadClientJobFailed

# The dlt version REFERENCE.md documents, and the DuckDB engine of @duckdb/node-api used by tsdlt.
PINNED = {"dlt": "1.26.0", "duckdb": "1.5.6"}

REPO = Path(__file__).resolve().parents[2]
OUT_DIR = REPO / "packages" / "tsdlt" / "test" / "fixtures" / "dlt-reference"

DATASET = "ref"
# Not "ref.duckdb": a DuckDB catalog (the file stem) named like the dataset makes every `ref.<table>`
# reference ambiguous and dlt's load fails with a Binder Error. See README.md.
DATABASE_FILE = "data.duckdb"
SYSTEM_ID_COLUMNS = ("_dlt_id", "_dlt_load_id", "_dlt_parent_id", "_dlt_root_id")
DLT_TABLES = ("_dlt_loads", "_dlt_version", "_dlt_pipeline_state")
# Column properties copied into the fixture besides name/data_type/nullable and boolean hints set to true.
VALUE_PROPS = ("precision", "scale", "timezone")
TIMESTAMP_FORMAT = "%Y-%m-%dT%H:%M:%S.%fZ"


# ---------------------------------------------------------------------------------------------
# cases
# ---------------------------------------------------------------------------------------------

ORDER_ROW = {
    "id": 1,
    "createdAt": "2024-01-01T10:00:00+02:00",
    "user": {"First Name": "Ann", "addr": {"zip": "10115"}},
    "tags": ["a", "b"],
    "items": [{"sku": "x", "qty": 2}],
    "note": None,
}


def _issue_pages() -> list[dict[str, Any]]:
    rows: list[dict[str, Any]] = []
    for page in range(3):
        for n in range(100):
            i = page * 100 + n
            rows.append(
                {"id": i, "title": f"t{i}", "user": {"login": f"u{i % 7}"}, "labels": [{"name": "a"}, {"name": "b"}]}
            )
    return rows


CASES: list[dict[str, Any]] = [
    {
        "case": "quick_start",
        "description": "The quick-start list of two users, run twice with append: 4 rows, 2 loads.",
        "input": [{"id": 1, "name": "Alice"}, {"id": 2, "name": "Bob"}],
        "run": {"table_name": "users"},
        "runs": 2,
    },
    {
        "case": "nested",
        "description": "REFERENCE.md §15 order row with the default write disposition (append): flattened dicts, "
        "nested tables from a list of scalars and a list of dicts, a null-only column, a +02:00 timestamp.",
        "input": [ORDER_ROW],
        "run": {"table_name": "Orders"},
        "runs": 1,
    },
    {
        "case": "nested_merge",
        "description": "REFERENCE.md §15 exactly (merge on primary key id), run twice: one root row survives, "
        "nested tables get _dlt_root_id, a staging dataset ref_staging is created.",
        "input": [ORDER_ROW],
        "run": {"table_name": "Orders", "write_disposition": "merge", "primary_key": "id"},
        "runs": 2,
    },
    {
        "case": "list_of_lists",
        "description": "A list of lists becomes two levels of nested tables (<table>__webpath, <table>__webpath__list).",
        "input": [{"id": 1, "webpath": [[1, 2], [3]]}],
        "run": {"table_name": "zen"},
        "runs": 1,
    },
    {
        "case": "types",
        "description": "Type inference: bigint, double, bool, ISO timestamps (iso_timestamp detection), a date-only "
        "string (stays text), a null-only column (not created), large ints within int64 and JS safe range.",
        "input": [
            {
                "int_col": 1,
                "float_col": 1.5,
                "bool_col": True,
                "ts_z": "2022-06-01T00:48:35.040Z",
                "ts_space": "2021-07-24 10:51",
                "ts_offset": "2024-01-01T10:00:00+02:00",
                "date_only": "1975-05-21",
                "null_only": None,
                "big_int": 9007199254740991,
                "text_col": "hello",
            },
            {
                "int_col": -7,
                "float_col": -0.25,
                "bool_col": False,
                "ts_z": "1975-05-21T22:00:00Z",
                "ts_space": None,
                "ts_offset": "2024-01-01T10:00:00.123456+02:00",
                "date_only": "2000-01-01",
                "null_only": None,
                "big_int": -9007199254740991,
                "text_col": "",
            },
        ],
        "run": {"table_name": "types"},
        "runs": 1,
    },
    {
        "case": "naming",
        "description": "snake_case naming of awkward keys and of the table name MyTable; an empty key inside a "
        "nested dict; __init__ as a path.",
        "input": [
            {
                "createdAt": "x",
                "userID": 1,
                "HTTPResponse": 200,
                "Content-Type": "application/json",
                "Some Name!": "a",
                "price$": 9.5,
                "Résumé": "cv",
                "123abc": True,
                "nested": {"": 2, "Inner Key": "k"},
                "__init__": "dunder",
            }
        ],
        "run": {"table_name": "MyTable"},
        "runs": 1,
    },
    {
        "case": "variants",
        "description": "Variant columns: text into a bigint column (id__v_text), a non-integral number into a bigint "
        "column (amount__v_double), a numeric string coerced silently into bigint.",
        "input": [{"id": 1, "amount": 5}, {"id": "idx-nr-456", "amount": 1.5}, {"id": 2, "amount": "7"}],
        "run": {"table_name": "variants"},
        "runs": 1,
    },
    {
        "case": "many_rows_pages",
        "description": "3 pages of 100 issue-like rows passed as one flat list: 300 root rows, 600 label rows.",
        "input": _issue_pages(),
        "run": {"table_name": "issues"},
        "runs": 1,
    },
]


# the conformance suite of the normalizer (issue 3) lives next to this file
sys.path.insert(0, str(Path(__file__).resolve().parent))
from conformance_cases import CONFORMANCE_CASES  # noqa: E402

CASES += CONFORMANCE_CASES


# ---------------------------------------------------------------------------------------------
# recording
# ---------------------------------------------------------------------------------------------


def quote(ident: str) -> str:
    return '"' + ident.replace('"', '""') + '"'


def value_sql(column: str, duckdb_type: str) -> str:
    """The canonical, JSON-friendly projection of one column (the TS test uses the same rules)."""
    c = quote(column)
    if duckdb_type == "TIMESTAMP WITH TIME ZONE":
        return f"strftime(timezone('UTC', {c}), '{TIMESTAMP_FORMAT}')"
    if duckdb_type.startswith("TIMESTAMP"):
        return f"strftime({c}, '{TIMESTAMP_FORMAT}')"
    if duckdb_type in ("BIGINT", "INTEGER", "SMALLINT", "TINYINT", "DOUBLE", "BOOLEAN", "VARCHAR"):
        return c
    return f"CAST({c} AS VARCHAR)"  # DATE, TIME, JSON, DECIMAL, HUGEINT, BLOB...


def decode_typed(value: Any) -> Any:
    """Input markers for values JSON cannot carry: `{"$bigint": "<digits>"}` → int (a JS bigint in the
    test), `{"$datetime": "<ISO>"}` → an aware datetime (a JS Date in the test)."""
    if isinstance(value, list):
        return [decode_typed(v) for v in value]
    if isinstance(value, dict):
        if len(value) == 1 and "$bigint" in value:
            return int(value["$bigint"])
        if len(value) == 1 and "$datetime" in value:
            return datetime.fromisoformat(value["$datetime"].replace("Z", "+00:00"))
        return {k: decode_typed(v) for k, v in value.items()}
    return value


def encode_row_value(value: Any) -> Any:
    """Row values outside the JS safe integer range are written as `{"$bigint": "<digits>"}`."""
    if isinstance(value, int) and not isinstance(value, bool) and abs(value) > 2**53 - 1:
        return {"$bigint": str(value)}
    return value


def _plain_json(value: Any) -> bool:
    """A str, bool, int or None (values whose JSON form is the same in Python and JS)."""
    return value is None or isinstance(value, (str, bool, int))


def check_json_value(value: Any, where: str, is_row: bool = False) -> None:
    """Input and rows must survive JSON.parse in JS unchanged. In rows (read from DOUBLE columns on both
    sides) an integral float is fine: JSON.parse(`2.0`) and DuckDB's 2.0 are the same JS number."""
    if isinstance(value, bool) or value is None or isinstance(value, str):
        return
    if isinstance(value, dict) and len(value) == 1 and ("$bigint" in value or "$datetime" in value):
        return
    if isinstance(value, int):
        if abs(value) > 2**53 - 1:
            raise SystemExit(f"{where}: int {value} is outside the JS safe integer range")
        return
    if isinstance(value, float):
        if value.is_integer() and not is_row:
            raise SystemExit(f"{where}: float {value} is integral; JS cannot tell it from an int")
        return
    if isinstance(value, list):
        for i, v in enumerate(value):
            check_json_value(v, f"{where}[{i}]", is_row)
        return
    if isinstance(value, dict):
        for k, v in value.items():
            check_json_value(v, f"{where}.{k}", is_row)
        return
    raise SystemExit(f"{where}: {type(value).__name__} is not JSON")


def column_fixture(col: dict[str, Any]) -> dict[str, Any]:
    out: dict[str, Any] = {"name": col["name"], "data_type": col.get("data_type"), "nullable": col.get("nullable", True)}
    for key in VALUE_PROPS:
        if key in col:
            out[key] = col[key]
    for key, value in col.items():
        if value is True and key not in out and not key.startswith("x-"):
            out[key] = True
    return out


def stored_schema(con: duckdb.DuckDBPyConnection) -> dict[str, Any]:
    """The newest schema stored in _dlt_version (plain JSON, or base64(zlib(JSON)) when long)."""
    text = con.execute(
        f"SELECT schema FROM {quote(DATASET)}._dlt_version ORDER BY version DESC, inserted_at DESC LIMIT 1"
    ).fetchone()[0]
    if not text.lstrip().startswith("{"):
        text = zlib.decompress(base64.b64decode(text)).decode("utf-8")
    return json.loads(text)


def duckdb_columns(con: duckdb.DuckDBPyConnection, schema: str, table: str) -> list[dict[str, str]]:
    rows = con.execute(
        "SELECT column_name, data_type FROM information_schema.columns "
        "WHERE table_schema = ? AND table_name = ? ORDER BY ordinal_position",
        [schema, table],
    ).fetchall()
    return [{"name": name, "type": dtype} for name, dtype in rows]


def table_rows(con: duckdb.DuckDBPyConnection, table: str, columns: list[dict[str, str]]) -> list[dict[str, Any]]:
    kept = [c for c in columns if c["name"] not in SYSTEM_ID_COLUMNS]
    if not kept:
        return []
    select = ", ".join(f"{value_sql(c['name'], c['type'])} AS {quote(c['name'])}" for c in kept)
    result = con.execute(f"SELECT {select} FROM {quote(DATASET)}.{quote(table)}").fetchall()
    rows = []
    for values in result:
        row = {}
        for c, v in zip(kept, values):
            if c["type"] == "JSON" and v is not None:
                v = json.loads(v)
            row[c["name"]] = encode_row_value(v)
        check_json_value(row, f"{table} row", is_row=True)
        rows.append(row)
    rows.sort(key=lambda r: json.dumps(list(r.values()), sort_keys=True, ensure_ascii=False))
    return rows


def placeholder_lines(text: str, load_ids: list[str], db_path: str) -> list[str]:
    for path in {db_path, os.path.realpath(db_path)}:
        text = text.replace(path, "<path>")
    for load_id in load_ids:
        text = text.replace(load_id, "<load_id>")
    lines = text.splitlines()
    return [re.sub(r"^(Pipeline \S+ load step \S+ in ).*$", r"\1<elapsed>", line) for line in lines]


def error_fixture(error: BaseException) -> dict[str, Any]:
    """The step and the innermost schema exception of a failed run, with the attributes a tsdlt error
    message must name (the test checks that each appears in the tsdlt message)."""
    step = getattr(error, "step", None)
    chain: list[BaseException] = []
    e: BaseException | None = error
    while e is not None and e not in chain:
        chain.append(e)
        e = e.__cause__ or e.__context__
    for e in chain:
        if isinstance(e, DataValidationError):
            return {
                "step": step,
                "exception": "DataValidationError",
                "table": e.table_name,
                "column": e.column_name,
                "entity": e.schema_entity,
                "mode": e.contract_mode,
            }
        if isinstance(e, CannotCoerceColumnException):
            return {
                "step": step,
                "exception": "CannotCoerceColumnException",
                "table": e.table_name,
                "column": e.column_name,
                "from_type": e.from_type,
                "to_type": e.to_type,
                # the value, when plain JSON can carry it (the tsdlt message must show it)
                **({"value": encode_row_value(e.coerced_value)} if _plain_json(e.coerced_value) else {}),
            }
        if isinstance(e, CannotCoerceNullException):
            # this exception keeps table and column only in its message
            m = re.search(r"in table `([^`]*)` column `([^`]*)`", str(e))
            if m is None:
                raise SystemExit(f"cannot read table and column from {e!r}")
            return {"step": step, "exception": "CannotCoerceNullException", "table": m[1], "column": m[2]}
        if isinstance(e, LoadClientJobFailed):
            # a job the destination refused (e.g. an integer beyond int64 into BIGINT); the job id
            # starts with the table name
            return {"step": step, "exception": "LoadClientJobFailed", "table": e.job_id.split(".")[0], "column": None}
        if isinstance(e, TypeError) and step == "extract":
            # dlt's JSON writer cannot store the item (e.g. an integer beyond 64 bits)
            return {"step": step, "exception": "TypeError", "table": None, "column": None}
    raise SystemExit(f"unexpected error: {error!r}")


def import_schema_doc(case: dict[str, Any]) -> dict[str, Any] | None:
    """A stored schema (dlt's export form) carrying `schema_settings`, passed to the first run."""
    settings = case.get("schema_settings")
    if settings is None:
        return None
    schema = dlt.Schema(f"ref_{case['case']}")
    for detection in settings.get("detections", []):
        schema.add_type_detection(detection)
    for detection in settings.get("remove_detections", []):
        schema.remove_type_detection(detection)
    if "preferred_types" in settings:
        schema.update_preferred_types(settings["preferred_types"])
    if "default_hints" in settings:
        schema.merge_hints(settings["default_hints"])
    # tables as a dlt user writes them into a schema file (e.g. with row `filters`)
    for table in settings.get("tables", []):
        partial = json.loads(json.dumps(table))
        for column_name, column in partial["columns"].items():
            column["name"] = column_name  # the schema file leaves names out; dlt's API wants them
        schema.update_table(partial)
    doc = schema.to_dict(remove_defaults=True)
    if "json_normalizer" in settings:
        # `normalizers.json` (module and config) as written into the schema file; dlt reads the
        # document back and exports it again, so the fixture holds what dlt itself would export
        doc["normalizers"]["json"] = json.loads(json.dumps(settings["json_normalizer"]))
        doc = dlt.Schema.from_dict(doc).to_dict(remove_defaults=True)
    return doc


def case_runs(case: dict[str, Any]) -> list[tuple[Any, dict[str, Any]]]:
    """(input, run kwargs) of every run: `runs` times the main input, then each of `more_runs`."""
    runs = [(case["input"], case["run"])] * case["runs"]
    for more in case.get("more_runs", []):
        runs.append((more["input"], more.get("run", case["run"])))
    return runs


def run_case(case: dict[str, Any], loader_file_format: str | None = None) -> dict[str, Any]:
    name = case["case"]
    tmp = tempfile.mkdtemp(prefix=f"dltref_{name}_")
    saved_env = {k: os.environ.get(k) for k in case.get("env", {})}
    os.environ.update(case.get("env", {}))
    try:
        db_path = os.path.join(tmp, DATABASE_FILE)
        pipeline = dlt.pipeline(
            pipeline_name=f"ref_{name}",
            destination=dlt.destinations.duckdb(credentials=db_path),
            dataset_name=DATASET,
            pipelines_dir=os.path.join(tmp, "pipelines"),
        )
        schema_doc = import_schema_doc(case)
        runs_lines = []
        error: dict[str, Any] | None = None
        for i, (case_input, run) in enumerate(case_runs(case)):
            check_json_value(case_input, f"{name}.input")
            # exactly what the JSON fixture carries
            data: Any = decode_typed(json.loads(json.dumps(case_input)))
            if "resource" in case:
                data = dlt.resource(data, **case["resource"])
            kwargs = dict(run)
            if loader_file_format:
                kwargs["loader_file_format"] = loader_file_format
            if i == 0 and schema_doc is not None:
                kwargs["schema"] = dlt.Schema.from_dict(json.loads(json.dumps(schema_doc)))
            try:
                info = pipeline.run(data, **kwargs)
            except Exception as e:  # a failing run must be the last one
                if i != len(case_runs(case)) - 1:
                    raise
                error = error_fixture(e)
                break
            info.raise_on_failed_jobs()
            runs_lines.append(placeholder_lines(str(info), list(info.loads_ids), db_path))
        if case.get("expect_error", False) != (error is not None):
            raise SystemExit(f"{name}: expect_error is {case.get('expect_error', False)} but the error was {error}")
        if not case.get("more_runs") and any(lines != runs_lines[-1] for lines in runs_lines):
            raise SystemExit(f"{name}: load info lines differ between runs: {runs_lines}")

        with duckdb.connect(db_path, read_only=True) as con:
            schema = stored_schema(con)
            # data tables of the stored schema: not dlt's, with at least one complete column
            data_table_names = [
                t
                for t, table in schema["tables"].items()
                if not t.startswith("_dlt") and any("data_type" in c for c in table["columns"].values())
            ]
            if error is None:
                if schema["version_hash"] != pipeline.default_schema.version_hash:
                    raise SystemExit(f"{name}: _dlt_version does not hold the pipeline's current schema")
                if data_table_names != [t["name"] for t in pipeline.default_schema.data_tables()]:
                    raise SystemExit(f"{name}: stored data tables differ from the pipeline's schema")
            tables: dict[str, Any] = {}
            rows: dict[str, Any] = {}
            for table_name in data_table_names:
                table = schema["tables"][table_name]
                db_cols = duckdb_columns(con, DATASET, table_name)
                entry: dict[str, Any] = {
                    "columns": [column_fixture(c) for c in table["columns"].values()],
                    "parent": table.get("parent"),
                    "write_disposition": table.get("write_disposition"),
                    "resource": table.get("resource"),
                }
                for key in ("x-merge-strategy",):
                    if key in table:
                        entry[key] = table[key]
                entry["row_count"] = con.execute(
                    f"SELECT count(*) FROM {quote(DATASET)}.{quote(table_name)}"
                ).fetchone()[0]
                entry["duckdb_columns"] = db_cols
                tables[table_name] = entry
                rows[table_name] = table_rows(con, table_name, db_cols)
            dlt_tables = {
                t: con.execute(f"SELECT count(*) FROM {quote(DATASET)}.{quote(t)}").fetchone()[0] for t in DLT_TABLES
            }
            dlt_tables_columns = {t: duckdb_columns(con, DATASET, t) for t in DLT_TABLES}
            duckdb_schemas: dict[str, list[str]] = {}
            for schema_name, table_name in con.execute(
                "SELECT table_schema, table_name FROM information_schema.tables "
                "WHERE table_schema NOT IN ('main', 'information_schema', 'pg_catalog') "
                "ORDER BY table_schema, table_name"
            ).fetchall():
                duckdb_schemas.setdefault(schema_name, []).append(table_name)
        expected: dict[str, Any] = {
            "tables": tables,
            "dlt_tables": dlt_tables,
            "dlt_tables_duckdb_columns": dlt_tables_columns,
            "duckdb_schemas": duckdb_schemas,
            "rows": rows,
            "load_info_lines": runs_lines[-1],
        }
        if error is not None:
            expected["error"] = error
        return expected
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
        for k, v in saved_env.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v


# ---------------------------------------------------------------------------------------------
# output: stable, biome-compatible JSON (2 spaces, width 110, short values on one line)
# ---------------------------------------------------------------------------------------------

LINE_WIDTH = 110


def _inline(value: Any) -> str:
    if isinstance(value, dict):
        if not value:
            return "{}"
        return "{ " + ", ".join(f"{json.dumps(k, ensure_ascii=False)}: {_inline(v)}" for k, v in value.items()) + " }"
    if isinstance(value, list):
        return "[" + ", ".join(_inline(v) for v in value) + "]"
    return json.dumps(value, ensure_ascii=False)


def dump(value: Any, indent: int = 0, prefix_len: int = 0, comma: int = 0) -> str:
    """`comma` is 1 when a `,` follows the value on its line (it counts against the line width)."""
    one_line = _inline(value)
    if not isinstance(value, (dict, list)) or not value or indent + prefix_len + len(one_line) + comma <= LINE_WIDTH:
        return one_line
    pad = " " * (indent + 2)
    last = len(value) - 1
    if isinstance(value, dict):
        parts = []
        for i, (k, v) in enumerate(value.items()):
            key = f"{json.dumps(k, ensure_ascii=False)}: "
            parts.append(pad + key + dump(v, indent + 2, len(key), int(i < last)))
        return "{\n" + ",\n".join(parts) + "\n" + " " * indent + "}"
    parts = [pad + dump(v, indent + 2, 0, int(i < last)) for i, v in enumerate(value)]
    return "[\n" + ",\n".join(parts) + "\n" + " " * indent + "]"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("cases", nargs="*", help="case names (default: all)")
    parser.add_argument(
        "--check", action="store_true", help="compare with the committed fixtures instead of writing them"
    )
    parser.add_argument("--out", type=Path, default=OUT_DIR, help=f"output folder (default: {OUT_DIR.relative_to(REPO)})")
    args = parser.parse_args()
    out_dir: Path = args.out.resolve()
    selected = [c for c in CASES if not args.cases or c["case"] in args.cases]
    unknown = set(args.cases) - {c["case"] for c in CASES}
    if unknown:
        raise SystemExit(f"unknown cases: {sorted(unknown)}")
    for package, version in (("dlt", dlt.__version__), ("duckdb", duckdb.__version__)):
        if version != PINNED[package]:
            print(f"warning: {package} {version} is not the pinned {PINNED[package]} (see README.md)", file=sys.stderr)
    out_dir.mkdir(parents=True, exist_ok=True)
    failed = False
    for case in selected:
        expected = run_case(case)
        # tsdlt loads DuckDB from jsonl files; dlt must give the same result that way.
        jsonl = run_case(case, loader_file_format="jsonl")
        if jsonl != expected:
            raise SystemExit(f"{case['case']}: dlt gives different results with loader_file_format=jsonl")
        fixture = {
            "dlt_version": dlt.__version__,
            "duckdb_version": duckdb.__version__,
            "case": case["case"],
            "description": case["description"],
            "pipeline": {"pipeline_name": f"ref_{case['case']}", "dataset_name": DATASET, "database": DATABASE_FILE},
            "input": case["input"],
            "run": case["run"],
            "runs": case["runs"],
        }
        for key in ("more_runs", "resource", "env"):
            if key in case:
                fixture[key] = case[key]
        schema_doc = import_schema_doc(case)
        if schema_doc is not None:
            fixture["import_schema"] = schema_doc
        fixture |= {
            "expected": expected,
            "checks": {"jsonl_loader_identical": True},
        }
        path = out_dir / f"{case['case']}.json"
        previous = json.loads(path.read_text()) if path.exists() else None
        if previous is not None and "tsdlt_differences" in previous:
            fixture["tsdlt_differences"] = previous["tsdlt_differences"]  # curated by hand, kept
        text = dump(fixture) + "\n"
        if args.check:
            same = path.exists() and path.read_text() == text
            print(f"{'ok     ' if same else 'CHANGED'} {path}")
            failed |= not same
        else:
            path.write_text(text)
            print(f"wrote {path}")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
