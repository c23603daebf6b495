/**
 * File layouts (dlt's `layout` setting, REFERENCE §11.5): where a job's file goes inside the
 * dataset folder, as a template of `{placeholder}`s. The default is
 * `{table_name}/{load_id}.{file_id}.{ext}`. dlt's rules hold: `{table_name}` is required, only
 * `{schema_name}` may come before it, and a separator must follow it, so the files of one table can
 * be listed (and replaced) by a path prefix. A layout without `{ext}` gets `.<ext>` appended.
 */
import { TsdltError } from "@tsdlt/core";

/** The default layout. */
export const DEFAULT_LAYOUT = "{table_name}/{load_id}.{file_id}.{ext}";

/**
 * Date and time placeholders (pendulum's format tokens, rendered lower-case as dlt does): `YYYY`
 * 2024, `YY` 24, `Y` 2024, `MMMM` january, `MMM` jan, `MM` 01, `M` 1, `DD` 01, `D` 1, `HH` 00–23,
 * `H` 0–23, `mm` 00–59, `m` 0–59, `dddd` monday, `ddd` mon, `dd` mo, `d` 0–6 (Sunday = 0), `Q` 1–4.
 */
export const DATETIME_PLACEHOLDERS: readonly string[] = Object.freeze([
  "YYYY",
  "YY",
  "Y",
  "MMMM",
  "MMM",
  "MM",
  "M",
  "DD",
  "D",
  "HH",
  "H",
  "mm",
  "m",
  "dddd",
  "ddd",
  "dd",
  "d",
  "Q",
]);

/** Every placeholder a layout may use without `extraPlaceholders`. */
export const STANDARD_PLACEHOLDERS: readonly string[] = Object.freeze([
  ...DATETIME_PLACEHOLDERS,
  "schema_name",
  "table_name",
  "load_id",
  "file_id",
  "ext",
  "curr_date",
  "timestamp",
  "load_package_timestamp",
]);

/** What a callable extra placeholder receives. */
export interface PlaceholderContext {
  readonly schemaName: string;
  readonly tableName: string;
  readonly loadId: string;
  readonly fileId: string;
  readonly ext: string;
}

/** The value of an extra placeholder: a fixed string or a function of the file being written. */
export type PlaceholderValue = string | ((context: PlaceholderContext) => string);

/** Everything a file path is made of. */
export interface LayoutParams extends PlaceholderContext {
  /** The time the date placeholders show (UTC). */
  readonly now: Date;
  /** When the load package was created; needed only by `{load_package_timestamp}`. */
  readonly packageCreatedAt?: Date | undefined;
}

const PLACEHOLDER = /\{(.*?)\}/g;
/** Characters a placeholder value may not contain: they would change the folder structure. */
const UNSAFE_VALUE = /[/\\]|^\.\.?$/;

function layoutError(layout: string, reason: string): TsdltError {
  return new TsdltError(`[tsdlt] [filesystem] Layout \`${layout}\` cannot be used: ${reason}`, {
    code: "INVALID_ARGUMENT",
    destination: "filesystem",
  });
}

const MONTHS = [
  "january",
  "february",
  "march",
  "april",
  "may",
  "june",
  "july",
  "august",
  "september",
  "october",
  "november",
  "december",
];
const DAYS = ["sunday", "monday", "tuesday", "wednesday", "thursday", "friday", "saturday"];

const pad2 = (n: number): string => String(n).padStart(2, "0");

/** The date placeholders of `now` (UTC), lower-cased. */
export function datetimeParams(now: Date): Record<string, string> {
  const year = now.getUTCFullYear();
  const month = now.getUTCMonth();
  const day = now.getUTCDate();
  const weekday = now.getUTCDay();
  const hour = now.getUTCHours();
  const minute = now.getUTCMinutes();
  return {
    YYYY: String(year).padStart(4, "0"),
    YY: pad2(year % 100),
    Y: String(year),
    MMMM: MONTHS[month] as string,
    MMM: (MONTHS[month] as string).slice(0, 3),
    MM: pad2(month + 1),
    M: String(month + 1),
    DD: pad2(day),
    D: String(day),
    HH: pad2(hour),
    H: String(hour),
    mm: pad2(minute),
    m: String(minute),
    dddd: DAYS[weekday] as string,
    ddd: (DAYS[weekday] as string).slice(0, 3),
    dd: (DAYS[weekday] as string).slice(0, 2),
    d: String(weekday),
    Q: String(Math.floor(month / 3) + 1),
    curr_date: `${String(year).padStart(4, "0")}-${pad2(month + 1)}-${pad2(day)}`,
    timestamp: String(Math.floor(now.getTime() / 1000)),
  };
}

function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
}

/**
 * A validated layout. Formats file paths relative to the dataset folder, gives the path prefix
 * shared by a table's files, and reads the load id back out of a path.
 *
 * @example
 * ```ts
 * const layout = new Layout("{table_name}/{YYYY}/{MM}/{load_id}.{file_id}.{ext}");
 * layout.tablePrefix("users", "quick_start"); // "users/"
 * ```
 */
export class Layout {
  readonly template: string;
  /** Placeholders in the order they appear. */
  readonly placeholders: readonly string[];
  /** True when the layout has `{load_id}`, so a file's load can be told from its path. */
  readonly hasLoadId: boolean;
  readonly #extra: Readonly<Record<string, PlaceholderValue>>;
  readonly #prefixTemplate: string;

  constructor(template: string, extraPlaceholders: Readonly<Record<string, PlaceholderValue>> = {}) {
    if (typeof template !== "string" || template.trim() === "") {
      throw layoutError(String(template), "it is empty. Remove the option to use the default layout.");
    }
    if (template.startsWith("/") || template.split("/").some((part) => part === ".." || part === ".")) {
      throw layoutError(
        template,
        "it must be a relative path inside the dataset folder, without `.` or `..` segments.",
      );
    }
    const placeholders = [...template.matchAll(PLACEHOLDER)].map((m) => m[1] as string);
    const known = new Set([...STANDARD_PLACEHOLDERS, ...Object.keys(extraPlaceholders)]);
    const unknown = placeholders.filter((p) => !known.has(p));
    if (unknown.length > 0) {
      throw layoutError(
        template,
        `unknown placeholder(s) ${unknown.map((p) => `\`{${p}}\``).join(", ")}. Use one of ${STANDARD_PLACEHOLDERS.map((p) => `\`{${p}}\``).join(", ")}, or define them in \`extraPlaceholders\`.`,
      );
    }
    const tableIndex = placeholders.indexOf("table_name");
    if (tableIndex === -1) {
      throw layoutError(
        template,
        "the `{table_name}` placeholder is missing; every table needs its own files.",
      );
    }
    const before = placeholders.slice(0, tableIndex).filter((p) => p !== "schema_name");
    if (before.length > 0) {
      throw layoutError(
        template,
        `only \`{schema_name}\` may come before \`{table_name}\`, but ${before.map((p) => `\`{${p}}\``).join(", ")} do(es); otherwise a table's files cannot be found to replace them.`,
      );
    }
    const end = template.indexOf("{table_name}") + "{table_name}".length;
    const separator = template[end];
    if (separator === undefined || separator === "{") {
      throw layoutError(
        template,
        "a separator (such as `/` or `.`) must follow `{table_name}`, so tables whose names share a beginning keep apart.",
      );
    }
    this.template = template;
    this.placeholders = Object.freeze(placeholders);
    this.hasLoadId = placeholders.includes("load_id");
    this.#extra = Object.freeze({ ...extraPlaceholders });
    this.#prefixTemplate = template.slice(0, end + 1);
  }

  /** The path prefix (relative to the dataset) shared by every file of `tableName`, e.g. `users/`. */
  tablePrefix(tableName: string, schemaName: string): string {
    return this.#prefixTemplate.replaceAll("{schema_name}", schemaName).replaceAll("{table_name}", tableName);
  }

  /** The path of one file relative to the dataset folder. */
  format(params: LayoutParams): string {
    const values: Record<string, string> = {
      ...datetimeParams(params.now),
      schema_name: params.schemaName,
      table_name: params.tableName,
      load_id: params.loadId,
      file_id: params.fileId,
      ext: params.ext,
    };
    if (params.packageCreatedAt !== undefined) {
      values.load_package_timestamp = String(Math.floor(params.packageCreatedAt.getTime() / 1000));
    }
    for (const [key, value] of Object.entries(this.#extra)) {
      values[key] = typeof value === "function" ? value(params) : value;
    }
    let path = this.template.replace(PLACEHOLDER, (_m, name: string) => {
      const value = values[name];
      if (value === undefined) {
        throw layoutError(
          this.template,
          `placeholder \`{${name}}\` has no value for table \`${params.tableName}\` (the load package records no creation time).`,
        );
      }
      if (typeof value !== "string" || UNSAFE_VALUE.test(value)) {
        throw layoutError(
          this.template,
          `placeholder \`{${name}}\` gave ${JSON.stringify(value)}, which is not a single path segment.`,
        );
      }
      return value;
    });
    if (!this.placeholders.includes("ext")) path += `.${params.ext}`;
    return path;
  }

  /**
   * The load id of a file of `tableName` from its path (relative to the dataset), or undefined when
   * the layout has no `{load_id}` or the path does not follow the layout.
   */
  parseLoadId(path: string, tableName: string, schemaName: string): string | undefined {
    if (!this.hasLoadId) return undefined;
    let pattern = "^";
    let last = 0;
    let loadIdSeen = false;
    for (const match of this.template.matchAll(PLACEHOLDER)) {
      pattern += escapeRegExp(this.template.slice(last, match.index));
      last = match.index + match[0].length;
      const name = match[1] as string;
      if (name === "table_name") pattern += escapeRegExp(tableName);
      else if (name === "schema_name") pattern += escapeRegExp(schemaName);
      else if (name === "load_id") {
        // the first occurrence captures; later ones must repeat it
        pattern += loadIdSeen ? "\\k<load_id>" : "(?<load_id>\\d+(?:\\.\\d+)?)";
        loadIdSeen = true;
      } else if (name === "timestamp" || name === "load_package_timestamp") pattern += "\\d+";
      else if (name === "curr_date") pattern += "\\d{4}-\\d{2}-\\d{2}";
      else pattern += "[^/]*?";
    }
    pattern += escapeRegExp(this.template.slice(last));
    if (!this.placeholders.includes("ext")) pattern += "\\.[^/]+?";
    pattern += "(?:\\.gz)?$";
    return new RegExp(pattern).exec(path)?.groups?.load_id;
  }
}
