import { describe, expect, it } from "vitest";
import {
  DIRECT_PATH_SEPARATOR,
  defaultNamingConventionName,
  direct,
  duckCase,
  isTsdltError,
  NAMING_CONVENTIONS,
  namingConvention,
  namingConventionName,
  PATH_SEPARATOR,
  Schema,
  shortenIdentifier,
  snakeCase,
  sqlCiV1,
  sqlCsV1,
  toSnakeCase,
} from "../src/index.js";

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

  it("should drop whitespace-only fragments as dlt does", () => {
    const naming = snakeCase();
    expect(naming.normalizePath("a__ __b")).toBe("a__b");
    expect(naming.breakPath("a__ __b__\t")).toEqual(["a", "b"]);
    expect(naming.makePath("a", " ", "", "b")).toBe("a__b");
  });

  it.each(["____", "__ __", " __ "])("should reject the path %j that has no fragment left", (path) => {
    expect(() => snakeCase().normalizePath(path)).toThrowError(
      expect.objectContaining({ code: "IDENTIFIER_INVALID" }),
    );
  });

  it("should shorten each fragment and then the whole path with a tag of the raw path", () => {
    // expected values produced by dlt 1.26.0 (`NamingConvention(20).normalize_path`)
    const naming = snakeCase({ maxLength: 20 });
    expect(naming.normalizePath(`a__${"x".repeat(30)}`)).toBe("a__xxxxlesukwxxxxxxx");
    expect(naming.normalizePath(`  ${"y".repeat(30)}  `)).toBe("yyyyyyy5eb3sgyyyyyyy");
    expect(naming.normalizePath("she played cello well__and more")).toBe("she_plas76tiqnd_more");
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

// Expected values produced by dlt 1.26.0's naming conventions on the same inputs.
const INPUTS = [
  "createdAt",
  "Some Name!",
  "Résumé",
  "名前",
  'a"b\nc',
  "it's",
  "x__y",
  "__init__",
  "trail__",
  "BANANA____",
  "123abc",
  "a▶b",
  "Ab__Cd",
  "a٣b",
  "  pad  ",
];
const IDENTIFIERS: Record<string, readonly string[]> = {
  duck_case: [
    "createdAt",
    "Some Name!",
    "Résumé",
    "名前",
    "a_b_c",
    "it's",
    "x_y",
    "_init_",
    "trail_",
    "BANANA_",
    "123abc",
    "a▶b",
    "Ab_Cd",
    "a٣b",
    "pad",
  ],
  direct: [
    "createdAt",
    "Some Name!",
    "Résumé",
    "名前",
    "a_b_c",
    "it_s",
    "x__y",
    "__init__",
    "trail__",
    "BANANA____",
    "123abc",
    "a_b",
    "Ab__Cd",
    "a٣b",
    "pad",
  ],
  sql_cs_v1: [
    "createdAt",
    "Some_Name",
    "R_sum",
    "_",
    "a_b_c",
    "it_s",
    "x_y",
    "_init",
    "trail",
    "BANANA",
    "_123abc",
    "a_b",
    "Ab_Cd",
    "a٣b",
    "pad",
  ],
  sql_ci_v1: [
    "createdat",
    "some_name",
    "r_sum",
    "_",
    "a_b_c",
    "it_s",
    "x_y",
    "_init",
    "trail",
    "banana",
    "_123abc",
    "a_b",
    "ab_cd",
    "a٣b",
    "pad",
  ],
};
const PATHS = ["a__ __b", "Small___Love____Potion_____x", "a▶b▶ ▶C", "User Name__First\nName"];
const NORMALIZED_PATHS: Record<string, readonly string[]> = {
  snake_case: ["a__b", "small___love__potion___x", "a_b_c", "user_name__first_name"],
  duck_case: ["a__b", "Small___Love__Potion___x", "a▶b▶ ▶C", "User Name__First_Name"],
  direct: ["a__ __b", "Small___Love____Potion_____x", "a▶b▶C", "User Name__First_Name"],
  sql_cs_v1: ["a__b", "Small___Love__Potion___x", "a_b_C", "User_Name__First_Name"],
  sql_ci_v1: ["a__b", "small___love__potion___x", "a_b_c", "user_name__first_name"],
};

describe("other naming conventions", () => {
  it.each(Object.keys(IDENTIFIERS))("should normalize identifiers with %s as dlt does", (name) => {
    const naming = namingConvention(name);
    expect(INPUTS.map((input) => naming.normalizeIdentifier(input))).toEqual(IDENTIFIERS[name]);
  });

  it.each(Object.keys(NORMALIZED_PATHS))("should normalize paths with %s as dlt does", (name) => {
    const naming = namingConvention(name);
    expect(PATHS.map((path) => naming.normalizePath(path))).toEqual(NORMALIZED_PATHS[name]);
  });

  it("should separate paths of the direct convention with ▶", () => {
    const naming = direct({ maxLength: 20 });
    expect(naming.pathSeparator).toBe(DIRECT_PATH_SEPARATOR);
    expect(naming.makePath("orders", "items")).toBe("orders▶items");
    expect(naming.breakPath("a▶b__c▶ ")).toEqual(["a", "b__c"]);
    expect(naming.normalizePath(`a▶${"x".repeat(30)}`)).toBe("a▶xxxxxeh11jaxxxxxxx");
    expect(naming.normalizeIdentifier("she played cello well")).toBe("she plauanpualo well");
  });

  it("should say which conventions are case sensitive", () => {
    expect(snakeCase().isCaseSensitive).toBe(false);
    expect(sqlCiV1().isCaseSensitive).toBe(false);
    expect(duckCase().isCaseSensitive).toBe(true);
    expect(direct().isCaseSensitive).toBe(true);
    expect(sqlCsV1().isCaseSensitive).toBe(true);
  });
});

describe("namingConvention", () => {
  it.each(NAMING_CONVENTIONS)("should create %s with a maximum length", (name) => {
    const naming = namingConvention(name, { maxLength: 63 });
    expect(naming.name).toBe(name);
    expect(naming.maxLength).toBe(63);
  });

  it("should accept dlt's module paths", () => {
    expect(namingConventionName("dlt.common.normalizers.naming.duck_case")).toBe("duck_case");
    expect(namingConventionName("dlt.common.normalizers.names.snake_case")).toBe("snake_case");
    expect(namingConvention("dlt.common.normalizers.naming.direct").name).toBe("direct");
  });

  it("should reject an unknown convention with INVALID_ARGUMENT naming the known ones", () => {
    expect(() => namingConvention("my_module.naming")).toThrowError(
      /`my_module\.naming` is not known.*`duck_case`/,
    );
    expect(() => namingConvention("kebab_case")).toThrowError(
      expect.objectContaining({ code: "INVALID_ARGUMENT" }),
    );
  });

  it("should take the default convention from SCHEMA__NAMING, then DLT_DEFAULT_NAMING_MODULE", () => {
    expect(defaultNamingConventionName({})).toBe("snake_case");
    expect(defaultNamingConventionName({ DLT_DEFAULT_NAMING_MODULE: "sql_cs_v1" })).toBe("sql_cs_v1");
    expect(defaultNamingConventionName({ SCHEMA__NAMING: "direct", DLT_DEFAULT_NAMING_MODULE: "x" })).toBe(
      "direct",
    );
  });

  it("should give a new schema the convention of SCHEMA__NAMING but keep a stored schema's", () => {
    const previous = process.env.SCHEMA__NAMING;
    process.env.SCHEMA__NAMING = "duck_case";
    try {
      const schema = new Schema("env_naming");
      expect(schema.normalizers.names).toBe("duck_case");
      expect(new Schema("explicit", { naming: "direct" }).normalizers.names).toBe("direct");
      const stored = new Schema("stored", { naming: "snake_case" }).toDict();
      expect(Schema.fromDict(stored).normalizers.names).toBe("snake_case");
    } finally {
      if (previous === undefined) delete process.env.SCHEMA__NAMING;
      else process.env.SCHEMA__NAMING = previous;
    }
  });
});
