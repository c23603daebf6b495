import { describe, expect, it } from "vitest";
import { isTsdltError, PATH_SEPARATOR, shortenIdentifier, snakeCase, toSnakeCase } from "../src/index.js";

// REFERENCE §2.7, the example table (verified against dlt's tests/common/normalizers/test_naming_snake_case.py).
const SNAKE_CASE_TABLE: ReadonlyArray<readonly [input: string, expected: string]> = [
  ["createdAt", "created_at"],
  ["CreatedAt", "created_at"],
  ["userID", "user_id"],
  ["HTTPResponse", "http_response"],
  ["camelCaseURLParser", "camel_case_url_parser"],
  ["ABCDef", "abc_def"],
  ["BANANA", "banana"],
  ["BAN_ANA", "ban_ana"],
  ["BANaNA", "ba_na_na"],
  ["123BaNaNa", "_123_ba_na_na"],
  ["1event_n'", "_1event_nx"],
  ["Some Name!", "some_namex"],
  ["event-.!:*<>value", "event_x_value"],
  ["+-!$*@#=|:", "x_xa_lx"],
  ["+1", "x1"],
  ["-1", "_1"],
  ["price$", "pricex"],
  ["x+y", "xxy"],
  ["Content-Type", "content_type"],
  ["Résumé", "r_sumx"],
  ["名前", "x"],
  [" Small Love Potion ", "small_love_potion"],
  // §2.7 step 6: each trailing `_` becomes `x`, count preserved.
  ["BANANA____", "bananaxxxx"],
];

describe("snakeCase", () => {
  it.each(SNAKE_CASE_TABLE)("should normalize %j to %j", (input, expected) => {
    expect(snakeCase().normalizeIdentifier(input)).toBe(expected);
    expect(toSnakeCase(input)).toBe(expected);
  });

  it("should normalize table identifiers like column identifiers", () => {
    const naming = snakeCase();
    for (const [input, expected] of SNAKE_CASE_TABLE) {
      expect(naming.normalizeTableIdentifier(input)).toBe(expected);
    }
  });

  it("should describe itself as the case-insensitive snake_case convention", () => {
    const naming = snakeCase({ maxLength: 63 });
    expect(naming.name).toBe("snake_case");
    expect(naming.isCaseSensitive).toBe(false);
    expect(naming.maxLength).toBe(63);
    expect(Object.isFrozen(naming)).toBe(true);
  });

  it("should return the same result from the cache on repeated calls", () => {
    const naming = snakeCase();
    const first = naming.normalizeIdentifier("camelCaseURLParser");
    expect(naming.normalizeIdentifier("camelCaseURLParser")).toBe(first);
  });

  it.each(["", "   ", "\t\n"])("should reject the empty identifier %j with IDENTIFIER_INVALID", (input) => {
    const naming = snakeCase();
    expect(() => naming.normalizeIdentifier(input)).toThrow(/cannot be normalized/);
    try {
      naming.normalizeIdentifier(input);
      expect.unreachable();
    } catch (error) {
      expect(isTsdltError(error, "IDENTIFIER_INVALID")).toBe(true);
    }
    expect(() => naming.normalizePath(input)).toThrowError(
      expect.objectContaining({ code: "IDENTIFIER_INVALID" }),
    );
  });
});

describe("snakeCase paths", () => {
  it("should keep underscores that belong to fragments when normalizing a path", () => {
    // REFERENCE §2.7: split on `__`, drop empty fragments, normalize each, join with `__`.
    expect(snakeCase().normalizePath("Small___Love____Potion_____x")).toBe("small___love__potion___x");
  });

  it("should drop empty fragments so `__init__` becomes `init`", () => {
    expect(snakeCase().normalizePath("__init__")).toBe("init");
  });

  it("should normalize each fragment of a nested path", () => {
    const naming = snakeCase();
    expect(naming.normalizePath("Customer__billingAddress__ZipCode")).toBe(
      "customer__billing_address__zip_code",
    );
    expect(naming.normalizeTablesPath("Orders__LineItems")).toBe("orders__line_items");
  });

  it("should break and make paths with the `__` separator", () => {
    const naming = snakeCase();
    expect(PATH_SEPARATOR).toBe("__");
    expect(naming.breakPath("a__b____c__")).toEqual(["a", "b", "c"]);
    expect(naming.makePath("orders", "items", "sku")).toBe("orders__items__sku");
  });

  it("should shorten a long path as a whole", () => {
    const naming = snakeCase({ maxLength: 30 });
    const path = "very_long_parent_table_name__even_longer_nested_list_name";
    const shortened = naming.normalizePath(path);
    expect(shortened).toHaveLength(30);
    expect(shortened).toBe(shortenIdentifier(path, path, 30));
    expect(naming.makePath("very_long_parent_table_name", "even_longer_nested_list_name")).toBe(shortened);
  });
});

describe("shortenIdentifier", () => {
  it("should reproduce dlt's example with the tag `uanpua`", () => {
    // REFERENCE §2.8
    expect(shortenIdentifier("she played cello well", "she played cello well", 20)).toBe(
      "she plauanpualo well",
    );
  });

  it("should leave identifiers that fit unchanged", () => {
    expect(shortenIdentifier("short", "Short", 5)).toBe("short");
    expect(shortenIdentifier("short", "Short", undefined)).toBe("short");
  });

  it("should compute the tag from the original, not the normalized, identifier", () => {
    const a = shortenIdentifier("x".repeat(40), "X".repeat(40), 20);
    const b = shortenIdentifier("x".repeat(40), "x".repeat(40), 20);
    expect(a).toHaveLength(20);
    expect(b).toHaveLength(20);
    expect(a).not.toBe(b);
  });

  it("should shorten a long column name to exactly 63 characters, stably", () => {
    const original = `${"VeryLongColumnName".repeat(6)}WithSuffix`;
    const first = snakeCase({ maxLength: 63 }).normalizeIdentifier(original);
    const second = snakeCase({ maxLength: 63 }).normalizeIdentifier(original);
    expect(first).toHaveLength(63);
    expect(second).toBe(first);
    const full = toSnakeCase(original);
    // head (ceil(57/2) = 29 chars) + 6-char tag + tail (28 chars)
    expect(first.startsWith(full.slice(0, 29))).toBe(true);
    expect(first.endsWith(full.slice(-28))).toBe(true);
    expect(first.slice(29, 35)).toMatch(/^[a-z0-9]{6}$/);
  });

  it("should give different short names to different long names with the same head and tail", () => {
    const naming = snakeCase({ maxLength: 63 });
    const a = naming.normalizeIdentifier(`${"a".repeat(40)}one${"z".repeat(40)}`);
    const b = naming.normalizeIdentifier(`${"a".repeat(40)}two${"z".repeat(40)}`);
    expect(a).toHaveLength(63);
    expect(b).toHaveLength(63);
    expect(a).not.toBe(b);
  });
});
