"""The normalizer conformance suite: input cases recorded from the real Python dlt by generate.py.

Each case is a dict in the format of `generate.py`'s CASES (see README.md): nested objects, type
conflicts, odd keys, deep lists, unicode, nulls, numbers at int64 edges, dates in many forms, keys
that collide after normalization, variants, column hints, schema settings, naming conventions and
schema contracts.
"""

from __future__ import annotations

from typing import Any

INT64_MAX = 2**63 - 1
INT64_MIN = -(2**63)


def _bigint(n: int) -> dict[str, str]:
    return {"$bigint": str(n)}


def _issue(i: int) -> dict[str, Any]:
    return {
        "id": 1000 + i,
        "number": i,
        "title": f"Issue number {i} has a title",
        "state": "open" if i % 3 else "closed",
        "locked": i % 5 == 0,
        "comments": i % 11,
        "created_at": f"2024-0{1 + i % 9}-1{i % 10}T10:{i % 60:02d}:00Z",
        "updated_at": f"2024-0{1 + i % 9}-2{i % 10}T11:{i % 60:02d}:30.5Z",
        "closed_at": None if i % 3 else "2024-10-01T00:00:00Z",
        "author_association": "MEMBER",
        "score": i + 0.5,
        "user": {"login": f"user{i % 7}", "id": 500 + i % 7, "site_admin": False},
        "labels": [{"id": 1, "name": "bug", "default": True}, {"id": 2, "name": "p1", "default": False}],
        "body": ("Lorem ipsum dolor sit amet, consectetur adipiscing elit. " * 4)[:200],
    }


CONFORMANCE_CASES: list[dict[str, Any]] = [
    {
        "case": "conf_nested_deep",
        "description": "Dicts three levels deep (LIFO column order), dicts inside list items, lists of dicts "
        "inside lists of dicts (three levels of nested tables), a list inside a flattened dict, empty "
        "lists and dicts.",
        "input": [
            {
                "id": 1,
                "meta": {"a": 1, "deep": {"b": 2, "deeper": {"c": 3}}, "z": "last"},
                "empty_list": [],
                "empty_dict": {},
                "orders": [
                    {
                        "oid": 10,
                        "info": {"channel": "web", "tags": ["x", "y"]},
                        "lines": [{"sku": "a", "attrs": [{"k": "color", "v": "red"}]}, {"sku": "b", "attrs": []}],
                    },
                    {"oid": 11, "info": {"channel": "shop"}, "lines": []},
                ],
                "profile": {"links": [{"rel": "self", "href": "/1"}], "name": "n"},
                "tail": True,
            },
            {"id": 2, "meta": {"a": 5}, "orders": [{"oid": 12, "lines": [{"sku": "c"}]}]},
        ],
        "run": {"table_name": "deep"},
        "runs": 1,
    },
    {
        "case": "conf_deep_lists",
        "description": "Lists of lists of lists, lists of lists of dicts, a list mixing scalars, dicts and lists, "
        "lists with nulls.",
        "input": [
            {
                "id": 1,
                "cube": [[[1, 2], [3]], [[4]]],
                "grid": [[{"x": 1}, {"x": 2}], [{"x": 3, "y": "z"}]],
                "mixed": [1, "two", {"three": 3}, [4, 5], None, 6.5],
                "with_nulls": [None, 1, None],
            }
        ],
        "run": {"table_name": "lists"},
        "runs": 1,
    },
    {
        "case": "conf_odd_keys",
        "description": "Keys with spaces, punctuation, unicode, emoji, digits, dunder paths, whitespace-only "
        "fragments, a path key and a nested dict that flatten to the same column, and camelCase/"
        "snake_case keys that collide (one column, the later value wins).",
        "input": [
            {
                "Customer ID": 1,
                "e-mail@home": "a@b.c",
                "Straße": "x",
                "名前": "n",
                "🚀 launch": "go",
                "2nd place": 2,
                "a__ __b": "ws fragment",
                "user__name": "path key",
                "user": {"name": "dict key", "Last Name": "L"},
                "createdAt": "first",
                "created_at": "second",
                "CreatedAt": "third",
                "camelCaseURLParser": 1,
                "trailing__": "t",
                "x": {"  ": "blank", "": "empty"},
                "price$": 1.5,
                "UPPER": "U",
            },
            {"createdAt": "only camel", "Customer ID": 2, "user": {"name": "second row"}},
        ],
        "run": {"table_name": "Odd Keys"},
        "runs": 1,
    },
    {
        "case": "conf_unicode_values",
        "description": "Unicode text values (accents, CJK, RTL, emoji, combining marks, escapes) in columns, "
        "in a list of scalars and in a json column kept by the nesting limit.",
        "input": [
            {"id": 1, "t": "Ünïcödé façade", "cjk": "漢字かなカナ", "rtl": "שלום", "emoji": "👩‍💻🚀", "tags": ["é", "ß", "😀"]},
            {"id": 2, "t": "tab\there, newline\nthere", "cjk": "\u00e9 vs e\u0301", "rtl": "مرحبا", "emoji": "", "tags": []},
            {"id": 3, "t": 'quotes "double" and \'single\' and \\ backslash', "cjk": None, "rtl": "\u200f", "emoji": "🏳️‍🌈"},
        ],
        "run": {"table_name": "unicode"},
        "runs": 1,
    },
    {
        "case": "conf_nulls",
        "description": "Null-only columns (not created), columns null first and typed later, nulls in nested "
        "dicts and lists, an all-null nested dict, a list of only nulls.",
        "input": [
            {"id": 1, "late": None, "never": None, "nested": {"a": None, "b": None}, "items": [None, None], "obj": None},
            {"id": 2, "late": "now typed", "never": None, "nested": {"a": 1, "b": None}, "items": [{"v": None}]},
            {"id": 3, "late": None, "nested": None, "items": None},
        ],
        "run": {"table_name": "nulls"},
        "runs": 1,
    },
    {
        "case": "conf_int64_edges",
        "description": "Integers at the int64 edges (bigints in JS), JS safe-integer edges, zero and negative "
        "zero, tiny and huge doubles.",
        "input": [
            {
                "max": _bigint(INT64_MAX),
                "min": _bigint(INT64_MIN),
                "safe_max": 9007199254740991,
                "safe_min": -9007199254740991,
                "beyond_safe": _bigint(9007199254740993),
                "zero": 0,
                "tiny": 5e-324,
                "huge": 4503599627370495.5,
                "neg": -1.5e-10,
            },
            {
                "max": 1,
                "min": -1,
                "safe_max": 0,
                "safe_min": 0,
                "beyond_safe": _bigint(-9007199254740993),
                "zero": -1,
                "tiny": 0.1,
                "huge": -0.5,
                "neg": 2.5,
            },
        ],
        "run": {"table_name": "numbers"},
        "runs": 1,
    },
    {
        "case": "conf_dates",
        "description": "Date and time strings in many forms, one per column (iso_timestamp detection only): "
        "offsets, fractions up to nanoseconds, basic format, lower-case separators, dates, times, week and "
        "ordinal dates, RFC 2822, invalid dates, year edges; a JS Date value.",
        "input": [
            {
                "z": "2024-01-01T10:00:00Z",
                "z_lower": "2024-01-01t10:00:00z",
                "micro": "2024-01-01T10:00:00.123456Z",
                "nano": "2024-01-01T10:00:00.123456789Z",
                "milli_offset": "2024-06-30T23:59:59.999+05:30",
                "neg_offset": "2024-01-01T00:30:00-01:00",
                "offset_compact": "2024-01-01T10:00:00+0200",
                "offset_hours": "2024-01-01T10:00:00+02",
                "space": "2024-01-01 10:00:00",
                "no_seconds": "2024-01-01T10:00",
                "hour_only": "2024-01-01T10",
                "basic": "20240101T100000Z",
                "comma_fraction": "2024-01-01T10:00:00,5Z",
                "date": "2024-01-01",
                "year_month": "2024-01",
                "year": "2024",
                "basic_date": "20240101",
                "time": "10:00:00",
                "week": "2024-W01-1",
                "ordinal": "2024-001",
                "rfc2822": "Mon, 01 Jan 2024 10:00:00 GMT",
                "invalid_day": "2024-02-30T00:00:00Z",
                "hour_24": "2024-01-01T24:00:00Z",
                "leap": "2024-02-29T12:00:00Z",
                "year_1": "0001-01-01T00:00:00Z",
                "year_9999": "9999-12-31T23:59:59Z",
                "epoch_minus": "1969-12-31T23:59:59.5Z",
                "js_date": {"$datetime": "2024-03-01T12:34:56.789Z"},
            }
        ],
        "run": {"table_name": "dates"},
        "runs": 1,
    },
    {
        "case": "conf_dates_coercion",
        "description": "Values of other types coerced into timestamp, date and time columns declared by "
        "`columns`: ISO strings with offsets, unix seconds (int and float), dates into timestamps, "
        "timestamps into dates, naive strings, and values that cannot be coerced (variants).",
        "input": [
            {"ts": "2024-01-01T10:00:00+02:00", "d": "2024-01-01", "t": "10:00:00", "ts_naive": "2024-01-01T10:00:00"},
            {"ts": 1704103200, "d": "2024-01-02T23:30:00-02:00", "t": "23:59:59.123456", "ts_naive": "2024-01-01T10:00:00+02:00"},
            {"ts": 1704103200.25, "d": 1704103200, "t": "not a time", "ts_naive": 0},
            {"ts": "2024-01-05", "d": "05/01/2024", "t": 5, "ts_naive": "garbage"},
            {"ts": True, "d": None, "t": None, "ts_naive": None},
        ],
        "run": {
            "table_name": "coerce_dates",
            "columns": {
                "ts": {"data_type": "timestamp"},
                "d": {"data_type": "date"},
                "t": {"data_type": "time"},
                "ts_naive": {"data_type": "timestamp", "timezone": False},
            },
        },
        "runs": 1,
    },
    {
        "case": "conf_type_conflicts",
        "description": "Type conflicts row after row: ints into text, floats and bools into text, numeric and "
        "boolean strings into bigint/double/bool columns, integral floats, dicts into scalar columns "
        "(variant json), scalars after a dict (flattened columns stay, the scalar gets a column of its own).",
        "input": [
            {"txt": "a", "big": 1, "dbl": 1.5, "flag": True, "obj": {"k": 1}, "num_text": "10"},
            {"txt": 2, "big": "3", "dbl": 2, "flag": "yes", "obj": "plain", "num_text": 11},
            {"txt": 2.5, "big": 4.5, "dbl": "3.25", "flag": 0, "obj": {"k": 2, "j": "x"}, "num_text": "twelve"},
            {"txt": True, "big": True, "dbl": "abc", "flag": "maybe", "obj": 5, "num_text": 12.5},
            {"txt": {"a": 1}, "big": {"b": 2}, "dbl": False, "flag": 2.5, "obj": None, "num_text": None},
            {"txt": "0x1F", "big": "0x1F", "dbl": "1e3", "flag": "FALSE", "num_text": " 13 "},
        ],
        "run": {"table_name": "conflicts"},
        "runs": 1,
    },
    {
        "case": "conf_variants",
        "description": "Variant columns of every kind in one table: __v_text, __v_double, __v_bool, __v_json, "
        "__v_bigint (into a bool column), __v_timestamp (a detected timestamp into a bigint column); a "
        "second run reuses the variant columns.",
        "input": [
            {"n": 1, "t": "2024-01-01T00:00:00Z", "b": True, "d": 1.5, "j": "text"},
            {"n": "not a number", "t": 7, "b": 5, "d": "abc", "j": {"x": 1}},
            {"n": 2.75, "t": "not a date", "b": "nope", "d": {"y": [1]}, "j": 3},
            {"n": False, "t": False, "b": 0.5, "d": True, "j": True},
            {"n": "2024-01-01T00:00:00Z", "t": 1.5, "b": {"z": 1}, "d": "2024-01-01T00:00:00Z", "j": 2.5},
        ],
        "run": {"table_name": "variants_all"},
        "runs": 2,
    },
    {
        "case": "conf_columns_hints",
        "description": "`columns` on run: every type but binary declared (coercion into it; dlt loads binary "
        "differently from jsonl and insert_values files), nullable false, primary_key "
        "(append), unique, partition, cluster, sort, merge_key, hard_delete, dedup_sort, precision/scale, "
        "timezone false, a complete column that receives no data (created), incomplete columns with and "
        "without data, a json column keeping a dict and a list.",
        "input": [
            {
                "id": "1",
                "name": "Ann",
                "amount": "12.50",
                "score": 3,
                "active": "true",
                "at": "2024-01-01T10:00:00+02:00",
                "local_at": "2024-01-01T10:00:00+02:00",
                "day": "2024-01-01",
                "payload": {"a": [1, 2], "b": {"c": None}},
                "items": [1, 2],
                "code": 12345,
                "note": "x",
                "deleted": False,
                "version": 1,
                "region": "eu",
            },
            {
                "id": 2,
                "name": "Bob",
                "amount": 7,
                "score": "4.5",
                "active": 0,
                "at": 1704103200,
                "local_at": "2024-01-01T10:00:00",
                "day": "2024-01-02T01:00:00+02:00",
                "payload": [1, "two"],
                "items": {"k": "v"},
                "code": "A-1",
                "note": None,
                "deleted": True,
                "version": 2,
                "region": "us",
            },
        ],
        "run": {
            "table_name": "hinted",
            "columns": {
                "id": {"data_type": "bigint", "nullable": False, "primary_key": True},
                "name": {"data_type": "text", "unique": True, "sort": True},
                "amount": {"data_type": "decimal", "precision": 10, "scale": 2},
                "score": {"data_type": "double", "cluster": True},
                "active": {"data_type": "bool"},
                "at": {"data_type": "timestamp", "precision": 3},
                "local_at": {"data_type": "timestamp", "timezone": False},
                "day": {"data_type": "date", "partition": True},
                "payload": {"data_type": "json"},
                "items": {"data_type": "json"},
                "code": {"data_type": "text", "precision": 20},
                "ghost": {"data_type": "text", "nullable": True},
                "note": {"merge_key": True},
                "never_seen": {"unique": True},
                "deleted": {"hard_delete": True},
                "version": {"dedup_sort": "desc"},
                "region": {"nullable": False, "cluster": True},
            },
        },
        "runs": 1,
    },
    {
        "case": "conf_incomplete_order",
        "description": "Incomplete column hints (no data_type) are completed from data; where they end up in "
        "the column order, and which hints they keep.",
        "input": [{"a": 1, "b": "x", "c": True, "d": None}],
        "run": {
            "table_name": "incomplete",
            "columns": {"c": {"nullable": False}, "b": {"unique": True}, "d": {"partition": True}},
        },
        "runs": 1,
    },
    {
        "case": "conf_schema_settings",
        "description": "Schema settings: preferred_types (regex and exact, also for variants and nested "
        "tables), default_hints (partition, unique, not_null by regex), detections iso_date added and "
        "iso_timestamp removed... kept, large_integer added.",
        "schema_settings": {
            "detections": ["iso_date", "large_integer"],
            "preferred_types": {"re:_num$": "double", "code": "text", "re:^payload": "json", "value": "text"},
            "default_hints": {"partition": ["day"], "unique": ["re:^uid$"], "not_null": ["re:^req_"], "cluster": ["re:_c$"]},
        },
        "input": [
            {
                "a_num": 1,
                "code": 5,
                "uid": 1,
                "day": "2024-01-01",
                "month": "2024-05",
                "ts": "2024-01-01T00:00:00Z",
                "payload": {"x": 1, "y": [1, 2]},
                "req_name": "r",
                "zone_c": "c",
                "huge": _bigint(2**63 + 5),
                "tags": [1, 2],
                "children": [{"b_num": 2, "req_x": "y"}],
            },
            {
                "a_num": "1.5",
                "code": "A",
                "uid": 2,
                "day": "2024-01-02",
                "month": "2024",
                "ts": "2024-01-01",
                "payload": [3],
                "req_name": "s",
                "zone_c": "d",
                "huge": 5,
                "tags": ["3"],
                "children": [],
            },
        ],
        "run": {"table_name": "settings"},
        "runs": 1,
    },
    {
        "case": "conf_max_nesting_0",
        "description": "Resource with max_table_nesting=0: nested dicts and lists become json columns of the root table.",
        "resource": {"name": "nest0", "max_table_nesting": 0},
        "input": [{"id": 1, "user": {"name": "a", "addr": {"zip": "1"}}, "tags": ["a"], "items": [{"x": [1]}]}],
        "run": {"table_name": "nest0"},
        "runs": 1,
    },
    {
        "case": "conf_max_nesting_1",
        "description": "Resource with max_table_nesting=1: one level of dicts flattened and of nested tables; "
        "dicts and lists below are json.",
        "resource": {"name": "nest1", "max_table_nesting": 1},
        "input": [
            {
                "id": 1,
                "user": {"name": "a", "addr": {"zip": "1"}},
                "tags": ["a"],
                "items": [{"x": [1], "y": {"z": 1}, "w": 2}],
                "grid": [[1, 2]],
            }
        ],
        "run": {"table_name": "nest1"},
        "runs": 1,
    },
    {
        "case": "conf_max_nesting_2",
        "description": "Resource with max_table_nesting=2.",
        "resource": {"name": "nest2", "max_table_nesting": 2},
        "input": [
            {
                "id": 1,
                "a": {"b": {"c": {"d": 1}}},
                "items": [{"x": [{"y": [1]}], "o": {"p": {"q": 1}}}],
            }
        ],
        "run": {"table_name": "nest2"},
        "runs": 1,
    },
    {
        "case": "conf_naming_direct",
        "description": "The `direct` naming convention (env SCHEMA__NAMING): keys kept as they are, paths "
        "separated with ▶, quotes and new lines replaced.",
        "env": {"SCHEMA__NAMING": "direct"},
        "input": [
            {
                "Id": 1,
                "createdAt": "2024-01-01T00:00:00Z",
                "User Name": {"First\nName": "a", "x__y": 1},
                "Items": [{"SKU": "x"}],
                "a'b\"c": 1,
                "Résumé": 2,
                "__init__": 3,
            }
        ],
        "run": {"table_name": "items"},
        "runs": 1,
    },
    {
        "case": "conf_naming_direct_table",
        "description": "The `direct` naming convention also names tables (extract): MyTable and MyTable▶Items, "
        "a primary key hint kept as written.",
        "env": {"SCHEMA__NAMING": "direct"},
        "input": [{"Id": 1, "Items": [{"SKU": "x"}]}],
        "run": {"table_name": "MyTable", "primary_key": "Id"},
        "runs": 1,
    },
    {
        "case": "conf_naming_duck_case",
        "description": "The `duck_case` naming convention (env SCHEMA__NAMING): case and unicode kept, __ paths.",
        "env": {"SCHEMA__NAMING": "duck_case"},
        "input": [
            {
                "Id": 1,
                "createdAt": "2024-01-01T00:00:00Z",
                "User Name": {"First\nName": "a", "x__y": 1},
                "Items": [{"SKU": "x"}],
                "a'b\"c": 1,
                "Résumé": 2,
                "__init__": 3,
                "trail__": 4,
            }
        ],
        "run": {"table_name": "items"},
        "runs": 1,
    },
    {
        "case": "conf_naming_sql_ci_v1",
        "description": "The `sql_ci_v1` naming convention (env SCHEMA__NAMING).",
        "env": {"SCHEMA__NAMING": "sql_ci_v1"},
        "input": [{"Id": 1, "createdAt": "x", "User Name": {"First Name": "a"}, "Items": [{"SKU": "x"}], "Résumé": 2}],
        "run": {"table_name": "items"},
        "runs": 1,
    },
    {
        "case": "conf_github_issues",
        "description": "GitHub-issue-like rows (the benchmark shape): a dozen scalars with ISO timestamps, a "
        "nested user object, a list of two label objects, a 200-character body.",
        "input": [_issue(i) for i in range(50)],
        "run": {"table_name": "issues"},
        "runs": 1,
    },
    # ------------------------------------------------------------------ schema contracts
    {
        "case": "conf_contract_new_table_columns_freeze",
        "description": "columns: freeze on a new table: the root table evolves its columns once (all rows of "
        "the first load), later loads may not add columns.",
        "input": [{"id": 1}, {"id": 2, "extra": "allowed in the first load"}],
        "run": {"table_name": "frozen_cols", "schema_contract": {"columns": "freeze"}},
        "runs": 1,
        "more_runs": [{"input": [{"id": 3, "late": "not allowed"}]}],
        "expect_error": True,
    },
    {
        "case": "conf_contract_nested_columns_freeze",
        "description": "columns: freeze: a nested table is new only until its first row is seen; a second row "
        "adding a column to it fails at normalize, and nothing of that load is loaded.",
        "input": [{"id": 1, "items": [{"a": 1}]}],
        "run": {"table_name": "frozen_nested", "schema_contract": {"columns": "freeze"}},
        "runs": 1,
        "more_runs": [{"input": [{"id": 2, "items": [{"a": 1}]}, {"id": 3, "items": [{"a": 2, "b": 2}]}]}],
        "expect_error": True,
    },
    {
        "case": "conf_contract_discard_value",
        "description": "columns: discard_value: new columns of an existing table are dropped from the rows, the "
        "rest of each row loads; nested tables inherit the contract.",
        "input": [{"id": 1, "name": "a", "items": [{"sku": "x"}]}],
        "run": {"table_name": "disc_value", "schema_contract": {"columns": "discard_value"}},
        "runs": 1,
        "more_runs": [
            {
                "input": [
                    {"id": 2, "name": "b", "new_col": 5, "items": [{"sku": "y", "qty": 3}]},
                    {"id": 3, "new_col": None, "other": {"deep": 1}},
                ]
            }
        ],
    },
    {
        "case": "conf_contract_discard_row",
        "description": "columns: discard_row: rows bringing new columns are dropped with their nested rows; "
        "later rows with that column (even null) too; nested tables inherit the contract.",
        "input": [{"id": 1, "name": "a", "items": [{"sku": "x"}]}],
        "run": {"table_name": "disc_row", "schema_contract": {"columns": "discard_row"}},
        "runs": 1,
        "more_runs": [
            {
                "input": [
                    {"id": 2, "name": "b", "new_col": 5, "items": [{"sku": "y"}]},
                    {"id": 3, "name": "c", "items": [{"sku": "z", "qty": 1}, {"sku": "w"}]},
                    {"id": 4, "new_col": None},
                    {"id": 5, "name": None},
                ]
            }
        ],
    },
    {
        "case": "conf_contract_data_type",
        "description": "data_type: discard_value drops values that would need a variant column; data_type "
        "discard_row drops the row (second table); coercible values still load.",
        "input": [{"id": 1, "n": 1, "s": "a"}],
        "run": {"table_name": "dt_value", "schema_contract": {"data_type": "discard_value"}},
        "runs": 1,
        "more_runs": [
            {"input": [{"id": 2, "n": "not a number", "s": 5}, {"id": 3, "n": "7", "s": {"x": 1}}]},
            {
                "input": [{"id": 1, "n": 1}],
                "run": {"table_name": "dt_row", "schema_contract": {"data_type": "discard_row"}},
            },
            {
                "input": [{"id": 2, "n": "bad"}, {"id": 3, "n": 3}],
                "run": {"table_name": "dt_row", "schema_contract": {"data_type": "discard_row"}},
            },
        ],
    },
    {
        "case": "conf_contract_data_type_freeze",
        "description": "data_type: freeze: a value that needs a variant column fails the load.",
        "input": [{"id": 1, "n": 1}],
        "run": {"table_name": "dt_freeze", "schema_contract": {"data_type": "freeze"}},
        "runs": 1,
        "more_runs": [{"input": [{"id": 2, "n": 2}, {"id": 3, "n": "three"}]}],
        "expect_error": True,
    },
    {
        "case": "conf_contract_tables_discard",
        "description": "tables: discard_row: a nested table that would be new is not created and its rows are "
        "dropped; the root rows load.",
        "input": [{"id": 1, "name": "a"}],
        "run": {"table_name": "tbl_disc"},
        "runs": 1,
        "more_runs": [
            {
                "input": [{"id": 2, "name": "b", "items": [{"x": 1}], "tags": ["t"]}],
                "run": {"table_name": "tbl_disc", "schema_contract": {"tables": "discard_row"}},
            }
        ],
    },
    {
        "case": "conf_contract_tables_discard_root",
        "description": "tables: discard_row from the first run: the new root table is discarded at extract, "
        "no data table is created and later runs load no package.",
        "input": [{"id": 1, "name": "a"}],
        "run": {"table_name": "tbl_disc_root", "schema_contract": {"tables": "discard_row"}},
        "runs": 1,
        "more_runs": [{"input": [{"id": 2, "name": "b"}]}],
    },
    {
        "case": "conf_contract_tables_freeze_nested",
        "description": "tables: freeze: a new nested table fails the load at normalize.",
        "input": [{"id": 1}],
        "run": {"table_name": "tbl_freeze"},
        "runs": 1,
        "more_runs": [
            {
                "input": [{"id": 2, "items": [1, 2]}],
                "run": {"table_name": "tbl_freeze", "schema_contract": {"tables": "freeze"}},
            }
        ],
        "expect_error": True,
    },
    {
        "case": "conf_contract_freeze_all",
        "description": "schema_contract=freeze (all entities) after a first evolving load: data fitting the "
        "schema loads, nulls and coercible values are fine.",
        "input": [{"id": 1, "name": "a", "score": 1.5}],
        "run": {"table_name": "all_frozen"},
        "runs": 1,
        "more_runs": [
            {
                "input": [{"id": "2", "name": None, "score": 3}, {"id": 3, "name": "c"}],
                "run": {"table_name": "all_frozen", "schema_contract": "freeze"},
            }
        ],
    },
    {
        "case": "conf_contract_tables_freeze_root",
        "description": "tables: freeze on a new root table fails the extract (dlt checks the tables computed "
        "from hints when the first items arrive); the earlier load is untouched.",
        "input": [{"id": 1}],
        "run": {"table_name": "before_freeze"},
        "runs": 1,
        "more_runs": [{"input": [{"id": 2}], "run": {"table_name": "frozen_root", "schema_contract": {"tables": "freeze"}}}],
        "expect_error": True,
    },
    {
        "case": "conf_contract_hint_columns_freeze",
        "description": "columns: freeze: a `columns` hint that declares a new column of an existing table fails "
        "the extract, naming the table and column.",
        "input": [{"id": 1}],
        "run": {"table_name": "hint_frozen"},
        "runs": 1,
        "more_runs": [
            {
                "input": [{"id": 2, "extra": "x"}],
                "run": {
                    "table_name": "hint_frozen",
                    "columns": {"extra": {"data_type": "text"}},
                    "schema_contract": {"columns": "freeze"},
                },
            }
        ],
        "expect_error": True,
    },
    {
        "case": "conf_contract_hint_columns_discard",
        "description": "Hinted columns rejected at extract: columns: discard_value leaves a hinted new column out "
        "of the schema (its data is dropped at normalize); data_type: discard_row leaves a hinted type "
        "change of an existing column out (the column keeps its type and the rows load).",
        "input": [{"id": 1, "n": 1}],
        "run": {"table_name": "hint_discard"},
        "runs": 1,
        "more_runs": [
            {
                "input": [{"id": 2, "n": 2, "extra": "x", "other": 5}],
                "run": {
                    "table_name": "hint_discard",
                    "columns": {"extra": {"data_type": "text"}},
                    "schema_contract": {"columns": "discard_value"},
                },
            },
            {
                "input": [{"id": 3, "n": 3}],
                "run": {
                    "table_name": "hint_discard",
                    "columns": {"n": {"data_type": "text"}},
                    "schema_contract": {"data_type": "discard_row"},
                },
            },
        ],
    },
    # ------------------------------------------------------------------ normalizer settings in the schema file
    {
        "case": "conf_row_filters",
        "description": "Row `filters` of tables in the schema file: excludes (regex and exact) with includes as "
        "exceptions, on the root table and on a nested table; rules of a parent table see nested fields as "
        "paths; nested rows left without fields are dropped with their own nested rows (no table).",
        "schema_settings": {
            "tables": [
                {
                    "name": "events",
                    "columns": {},
                    "write_disposition": "append",
                    "resource": "events",
                    "filters": {
                        "excludes": ["re:^secret", "meta__debug", "re:^items__internal", "re:password$", "re:^audit"],
                        "includes": ["re:^secret_ok"],
                    },
                },
                {"name": "events__items", "parent": "events", "columns": {}, "filters": {"excludes": ["re:^tmp", "re:^sub__hidden"]}},
            ]
        },
        "input": [
            {
                "id": 1,
                "secret": "x",
                "secret_ok": 1,
                "secret_key": "k",
                "meta": {"debug": True, "keep": 1},
                "user_password": "p",
                "items": [
                    {"a": 1, "tmp_x": 2, "internal": 3, "sub": [{"hidden": 1, "b": 2}], "tmp": [1, 2]},
                    {"a": 2, "internal": 4},
                ],
                "audit": [{"who": "a"}, {"who": "b"}],
                "internal": [1, 2],
            },
            {"id": 2, "secret": "y", "meta": {"debug": False}, "items": []},
        ],
        "run": {"table_name": "events"},
        "runs": 1,
    },
    {
        "case": "conf_normalizer_propagation",
        "description": "Normalizer config in the schema file: `propagation` of root columns (`root`) and of a "
        "nested table's columns (`tables`) into all rows below, and a schema-wide `max_nesting` of 2.",
        "schema_settings": {
            "json_normalizer": {
                "module": "dlt.common.normalizers.json.relational",
                "config": {
                    "max_nesting": 2,
                    "propagation": {
                        "root": {"region": "order_region"},
                        "tables": {"orders__items": {"sku": "item_sku"}},
                    },
                },
            }
        },
        "input": [
            {
                "id": 1,
                "region": "eu",
                "items": [{"sku": "a", "parts": [{"p": 1, "deep": {"x": {"y": 1}}}], "tags": ["t"]}, {"sku": "b"}],
                "meta": {"a": {"b": {"c": 1}}},
            },
            {"id": 2, "items": [{"sku": "c", "tags": ["u", "v"]}]},
        ],
        "run": {"table_name": "orders"},
        "runs": 1,
    },
    {
        "case": "conf_normalizer_root_key",
        "description": "`root_key_propagation: true` in the schema file's normalizer config: nested tables of an "
        "append table get `_dlt_root_id` (root_key).",
        "schema_settings": {
            "json_normalizer": {
                "module": "dlt.common.normalizers.json.relational",
                "config": {"root_key_propagation": True},
            }
        },
        "input": [{"id": 1, "items": [{"sku": "a", "tags": ["x"]}]}],
        "run": {"table_name": "rooted"},
        "runs": 1,
    },
    {
        "case": "conf_no_coercion",
        "description": "The `relational_no_coercion` json normalizer (schema file `normalizers.json.module`, no "
        "type detections): every value whose type differs from its column's goes to a variant column, "
        "declared columns included; dicts still flatten.",
        "schema_settings": {
            "remove_detections": ["iso_timestamp"],
            "json_normalizer": {"module": "dlt.common.normalizers.json.relational_no_coercion"},
        },
        "input": [
            # (texts shaped like timestamps are avoided: dlt's jsonl load into DuckDB rewrites them)
            {"n": 1, "s": "a", "f": 1.5, "b": True, "ts": "2024-01-01", "o": {"x": 1}, "c": "2024-01-01"},
            {"n": "2", "s": 5, "f": 2, "b": "true", "ts": "2024-01-02", "o": "str", "d": 5},
            {"n": 2.5, "s": 1.5, "f": "3.5", "b": 1, "ts": 5, "c": 1704067200, "d": "text"},
        ],
        "run": {"table_name": "strict", "columns": {"c": {"data_type": "timestamp"}, "d": {"data_type": "text"}}},
        "runs": 1,
    },
    # ------------------------------------------------------------------ bad input
    {
        "case": "conf_bad_value_fails",
        "description": "A value that fits neither its column nor its variant column fails the load naming "
        "the table and column; nothing of the failing load is loaded.",
        "input": [{"id": 1, "n": 1}],
        "run": {"table_name": "bad", "columns": {"n": {"data_type": "bigint"}, "n__v_text": {"data_type": "bigint"}}},
        "runs": 1,
        "more_runs": [{"input": [{"id": 2, "n": 2}, {"id": 3, "n": "three"}]}],
        "expect_error": True,
    },
    {
        "case": "conf_int64_overflow_load",
        "description": "An integer just beyond int64 (2^63) in a bigint column: dlt types it bigint and the "
        "destination refuses it at load; int64's own edges load.",
        "input": [{"n": _bigint(INT64_MAX), "m": _bigint(INT64_MIN)}],
        "run": {"table_name": "big_ints"},
        "runs": 1,
        "more_runs": [{"input": [{"n": 1, "m": -1}, {"n": _bigint(2**63), "m": 2}]}],
        "expect_error": True,
    },
    {
        "case": "conf_int64_overflow_extract",
        "description": "An integer below int64 (-2^63-1): dlt cannot even store it at extract.",
        "input": [{"n": _bigint(INT64_MIN)}],
        "run": {"table_name": "small_ints"},
        "runs": 1,
        "more_runs": [{"input": [{"n": _bigint(INT64_MIN - 1)}]}],
        "expect_error": True,
    },
    {
        "case": "conf_bad_value_nested",
        "description": "A value that fits neither its column nor its variant in a nested table fails the load "
        "naming the nested table, the column and the value; nothing of that load is loaded.",
        "schema_settings": {
            "tables": [
                {"name": "bad_nested", "columns": {}, "write_disposition": "append", "resource": "bad_nested"},
                {
                    "name": "bad_nested__items",
                    "parent": "bad_nested",
                    "columns": {"q": {"data_type": "bigint"}, "q__v_text": {"data_type": "bigint", "variant": True}},
                },
            ]
        },
        "input": [{"id": 1, "items": [{"q": 1}]}],
        "run": {"table_name": "bad_nested"},
        "runs": 1,
        "more_runs": [{"input": [{"id": 2, "items": [{"q": 2}]}, {"id": 3, "items": [{"q": "three"}]}]}],
        "expect_error": True,
    },
    {
        "case": "conf_null_not_nullable_fails",
        "description": "A null in a non-nullable column (a primary key) fails the load naming table and column.",
        "input": [{"id": 1, "v": "a"}],
        "run": {"table_name": "nn", "primary_key": "id"},
        "runs": 1,
        "more_runs": [{"input": [{"id": 2, "v": "b"}, {"id": None, "v": "c"}]}],
        "expect_error": True,
    },
]
