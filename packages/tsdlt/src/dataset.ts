/**
 * Reading loaded data back (dlt's `pipeline.dataset()`, REFERENCE §11.6): a lazy {@link Dataset}
 * over the pipeline's destination dataset, and immutable {@link Relation}s built from a table or a
 * SQL query with `select`, `where`, `orderBy`, `limit` and `offset`, executed with `fetchAll()`,
 * `fetchOne()`, `fetchScalar()` or `count()`.
 *
 * Works on every destination whose client offers SQL (`WithSqlClient`: DuckDB, Postgres), with the
 * same JavaScript values on both ({@link DataTypeValues}). Values in `where` are always bound as `$n`
 * parameters, never spliced into the SQL text. Table names are qualified and quoted by the destination
 * client (`qualifiedTableName`: the normalized dataset name, with the catalog where DuckDB needs it).
 * Tables and columns of `ds.table()` are looked up in the schema, by schema name or by source name
 * (normalized by the schema's naming convention, shortened to the destination's identifier limit as
 * the load did), then quoted as the database stores them (Postgres lower-cases identifiers) with
 * double quotes, as DuckDB and Postgres expect; rows come back keyed by schema column names. Each
 * fetch opens a client and disposes it afterwards, so a DuckDB file is free for other processes
 * between queries; `await ds.open()` holds one client until the dataset is disposed.
 *
 * Not supported (yet): Arrow/data-frame results (relations return row objects), joins following
 * schema references, and dlt's `ds["users"]` / `ds.users` accessors (use `ds.table("users")`).
 */
import {
  compareLoadIds,
  type DataType,
  namingConvention,
  type Schema,
  type TableSchema,
  TsdltError,
} from "@tsdlt/core";
import type { PipelineSqlClient } from "./pipeline.js";

/**
 * The JavaScript value of each dlt data type as the DuckDB and Postgres clients return it (`json`
 * columns of tables known to the schema are parsed by {@link Relation}; in {@link Dataset.query}
 * results they stay JSON text on both). Both return `decimal` with the column's scale
 * (`"12.500000000"`) and `time` as `HH:MM:SS[.ffffff]`.
 */
export interface DataTypeValues {
  text: string;
  double: number;
  bool: boolean;
  timestamp: Date;
  bigint: bigint;
  binary: Uint8Array;
  json: unknown;
  decimal: string;
  wei: string;
  date: string;
  time: string;
}

/** The part of a column schema that decides its value type. */
export interface ColumnTypeHint {
  readonly data_type?: DataType | undefined;
  readonly nullable?: boolean | undefined;
}

/** The value type of one column: its data type's value, `| null` unless `nullable: false`. */
export type ColumnValue<C> = C extends { readonly data_type: infer T extends DataType }
  ? C extends { readonly nullable: false }
    ? DataTypeValues[T]
    : DataTypeValues[T] | null
  : unknown;

/**
 * Derives a row type from schema columns written as a literal (beyond dlt).
 *
 * @example
 * ```ts
 * const columns = {
 *   id: { data_type: "bigint", nullable: false },
 *   name: { data_type: "text" },
 * } as const;
 * type User = RowFromColumns<typeof columns>; // { id: bigint; name: string | null }
 * const users = await pipeline.dataset().table<User>("users").fetchAll();
 * ```
 */
export type RowFromColumns<C extends { readonly [name: string]: ColumnTypeHint }> = {
  -readonly [K in keyof C]: ColumnValue<C[K]>;
};

/** The row type of a table schema literal (`{ columns: {...} }`). */
export type RowFromTable<T extends { readonly columns: { readonly [name: string]: ColumnTypeHint } }> =
  RowFromColumns<T["columns"]>;

/** A generic row. */
export type DataRow = Record<string, unknown>;

/** Comparison operators of {@link Relation.where}: dlt's names and their SQL spellings. */
export const FILTER_OPERATORS = [
  "eq",
  "ne",
  "gt",
  "lt",
  "gte",
  "lte",
  "in",
  "not_in",
  "like",
  "=",
  "!=",
  "<>",
  ">",
  "<",
  ">=",
  "<=",
] as const;
/** A comparison operator. */
export type FilterOperator = (typeof FILTER_OPERATORS)[number];

const SQL_OPERATORS: Readonly<Record<FilterOperator, string>> = {
  eq: "=",
  ne: "<>",
  gt: ">",
  lt: "<",
  gte: ">=",
  lte: "<=",
  in: "IN",
  not_in: "NOT IN",
  like: "LIKE",
  "=": "=",
  "!=": "<>",
  "<>": "<>",
  ">": ">",
  "<": "<",
  ">=": ">=",
  "<=": "<=",
};

/** Sort direction of {@link Relation.orderBy}. */
export type SortDirection = "asc" | "desc";

/** A SQL text with its `$n` parameters. */
export interface BoundSql {
  readonly sql: string;
  readonly params: readonly unknown[];
}

/** Opens a SQL client on the dataset (the pipeline's `sqlClient()`). */
export type SqlClientFactory = () => Promise<PipelineSqlClient>;

/** What {@link Dataset} needs from a pipeline. */
export interface DatasetOptions {
  /** Opens a client on the dataset; the dataset disposes what it opens. */
  readonly sqlClient: SqlClientFactory;
  /** The schema of the loaded tables (the pipeline's default schema). */
  readonly schema: Schema;
  /** Name of the dataset, for display. */
  readonly datasetName: string;
}

/** @internal One `where` condition. */
export interface RelationFilter {
  readonly column: string;
  readonly operator: FilterOperator;
  readonly value: unknown;
}

/** @internal The parts of a relation. */
export interface RelationSpec {
  /** Builds the base query from the client's table-name quoting. */
  readonly base: (qualify: (table: string) => string) => BoundSql;
  /** When the base is a plain table known to the schema. */
  readonly table: TableSchema | undefined;
  /** The schema's naming convention (`normalizers.names`), to find columns by their source names. */
  readonly naming: string | undefined;
  readonly columns: readonly string[] | undefined;
  readonly filters: readonly RelationFilter[];
  readonly order: readonly { readonly column: string; readonly direction: SortDirection }[];
  readonly limit: number | undefined;
  readonly offset: number | undefined;
  readonly transform: ((row: DataRow) => DataRow) | undefined;
}

/** Runs `work` with a client of the dataset (a held one, or one opened and disposed around it). */
export type WithClient = <T>(work: (client: PipelineSqlClient) => Promise<T>) => Promise<T>;

/** Quotes a column name as a SQL identifier (double quotes, embedded quotes doubled). */
function quoteIdentifier(name: string): string {
  return `"${name.replaceAll('"', '""')}"`;
}

/**
 * Finds `name` among the schema's `names`: as given, else as the naming convention `naming` normalizes
 * it (`UserName` → `user_name`), also shortened to the length of each longer-than-allowed candidate (a
 * destination with a 63-character limit stores long names shortened with a hash tag).
 */
function resolveName(
  names: readonly string[],
  name: string,
  naming: string | undefined,
  kind: "table" | "column",
): string | undefined {
  if (names.includes(name)) return name;
  if (naming === undefined) return undefined;
  const normalize = (maxLength: number | undefined): string | undefined => {
    try {
      const convention = namingConvention(naming, maxLength === undefined ? {} : { maxLength });
      return kind === "table" ? convention.normalizeTablesPath(name) : convention.normalizePath(name);
    } catch {
      return undefined; // not a valid identifier, or a naming convention tsdlt does not know
    }
  };
  const normalized = normalize(undefined);
  if (normalized === undefined) return undefined;
  if (names.includes(normalized)) return normalized;
  return names.find(
    (candidate) => candidate.length < normalized.length && normalize(candidate.length) === candidate,
  );
}

const identity = (identifier: string): string => identifier;

function invalid(message: string, table?: string): TsdltError {
  return new TsdltError(message, { code: "INVALID_ARGUMENT", table });
}

function assertCount(value: number, what: string): void {
  if (!Number.isSafeInteger(value) || value < 0) {
    throw invalid(`\`${what}\` must be a non-negative integer; got ${String(value)}.`);
  }
}

/**
 * A lazy query over the dataset. Every builder method returns a new relation; nothing runs until a
 * `fetch*` method, `count()` or `toSql()` is awaited. Clauses combine as in SQL, whatever the call
 * order: `where` conditions are AND-ed, the last `select`, `limit` and `offset` win, `orderBy` appends.
 * `Row` is the type of the fetched rows; `Base` the row of the table, whose columns `where` and
 * `orderBy` may name even when `select` left them out.
 */
export class Relation<Row extends object = DataRow, Base extends object = Row> {
  readonly #spec: RelationSpec;
  readonly #withClient: WithClient;

  /** @internal Created by {@link Dataset.table} and {@link Dataset.query}. */
  constructor(spec: RelationSpec, withClient: WithClient) {
    this.#spec = spec;
    this.#withClient = withClient;
  }

  #with(patch: Partial<RelationSpec>): Relation<Row, Base> {
    return new Relation<Row, Base>({ ...this.#spec, ...patch }, this.#withClient);
  }

  /** The schema name of `column` (found also by its source name) when the table is known, else `column`. */
  #checkColumn(column: string): string {
    if (typeof column !== "string" || column === "")
      throw invalid("A column name must be a non-empty string.");
    const table = this.#spec.table;
    if (!table) return column;
    const names = Object.keys(table.columns);
    const found = resolveName(names, column, this.#spec.naming, "column");
    if (found === undefined) {
      throw invalid(
        `Column \`${column}\` is not in table \`${table.name}\`. Columns: ${names.join(", ")}.`,
        table.name,
      );
    }
    return found;
  }

  /** The schema columns of the result when the relation reads a table known to the schema. */
  get columnsSchema(): TableSchema["columns"] | undefined {
    const table = this.#spec.table;
    if (!table) return undefined;
    if (!this.#spec.columns) return table.columns;
    return Object.fromEntries(this.#spec.columns.map((c) => [c, table.columns[c] ?? {}]));
  }

  /** Keeps only `columns` (dlt's `select(*cols)`). */
  select<K extends keyof Row & string>(...columns: K[]): Relation<Pick<Row, K>, Base> {
    if (columns.length === 0) throw invalid("`select` needs at least one column.");
    const resolved = columns.map((c) => this.#checkColumn(c));
    return this.#with({ columns: resolved }) as unknown as Relation<Pick<Row, K>, Base>;
  }

  /**
   * Keeps rows where `column <operator> value`. The value is bound as a parameter; `in`/`not_in` take
   * an array (each element bound); `eq`/`ne` with `null` become `IS NULL`/`IS NOT NULL`.
   */
  where<K extends keyof Base & string>(
    column: K,
    operator: FilterOperator,
    value: unknown,
  ): Relation<Row, Base> {
    const name = this.#checkColumn(column);
    if (!(FILTER_OPERATORS as readonly string[]).includes(operator)) {
      throw invalid(`Unknown operator \`${String(operator)}\`. Use one of: ${FILTER_OPERATORS.join(", ")}.`);
    }
    const list = operator === "in" || operator === "not_in";
    if (list && (!Array.isArray(value) || value.length === 0)) {
      throw invalid(`Operator \`${operator}\` needs a non-empty array of values.`);
    }
    return this.#with({ filters: [...this.#spec.filters, { column: name, operator, value }] });
  }

  /** Alias of {@link Relation.where} (dlt's `filter`). */
  filter<K extends keyof Base & string>(
    column: K,
    operator: FilterOperator,
    value: unknown,
  ): Relation<Row, Base> {
    return this.where(column, operator, value);
  }

  /** Sorts by `column` (appends to earlier sort keys). */
  orderBy<K extends keyof Base & string>(column: K, direction: SortDirection = "asc"): Relation<Row, Base> {
    const name = this.#checkColumn(column);
    if (direction !== "asc" && direction !== "desc") {
      throw invalid(`Sort direction must be "asc" or "desc"; got ${JSON.stringify(direction)}.`);
    }
    return this.#with({ order: [...this.#spec.order, { column: name, direction }] });
  }

  /** At most `n` rows. */
  limit(n: number): Relation<Row, Base> {
    assertCount(n, "limit");
    return this.#with({ limit: n });
  }

  /** The first `n` rows (dlt's `head`). @default 5 */
  head(n = 5): Relation<Row, Base> {
    return this.limit(n);
  }

  /** Skips the first `n` rows (beyond dlt; combine with `orderBy` for stable pages). */
  offset(n: number): Relation<Row, Base> {
    assertCount(n, "offset");
    return this.#with({ offset: n });
  }

  /** How the database stores the relation's column names: casefolded for a schema table, as given otherwise. */
  #fold(client: PipelineSqlClient): (identifier: string) => string {
    const casefold = client.casefoldIdentifier;
    return this.#spec.table && casefold ? (identifier) => casefold.call(client, identifier) : identity;
  }

  /** The SQL and parameters this relation runs, with names quoted as `client` expects. */
  #build(client: PipelineSqlClient, options: { limit?: number } = {}): BoundSql {
    const spec = this.#spec;
    const base = spec.base((table) => client.qualifiedTableName(table));
    const fold = this.#fold(client);
    const quote = (column: string): string => quoteIdentifier(fold(column));
    const limit =
      options.limit === undefined
        ? spec.limit
        : spec.limit === undefined
          ? options.limit
          : Math.min(spec.limit, options.limit);
    const plain =
      spec.columns === undefined &&
      spec.filters.length === 0 &&
      spec.order.length === 0 &&
      limit === undefined &&
      spec.offset === undefined;
    if (plain) return spec.table ? { sql: `SELECT * FROM ${base.sql}`, params: base.params } : base;
    const params = [...base.params];
    const bind = (value: unknown): string => {
      params.push(value);
      return `$${params.length}`;
    };
    const projection = spec.columns ? spec.columns.map(quote).join(", ") : "*";
    let sql = `SELECT ${projection} FROM ${spec.table ? base.sql : `(${base.sql}) AS "_dlt_relation"`}`;
    if (spec.filters.length > 0) {
      const conditions = spec.filters.map(({ column, operator, value }) => {
        const col = quote(column);
        const op = SQL_OPERATORS[operator];
        if (value === null && (op === "=" || op === "<>")) return `${col} IS ${op === "=" ? "" : "NOT "}NULL`;
        if (op === "IN" || op === "NOT IN") {
          return `${col} ${op} (${(value as unknown[]).map(bind).join(", ")})`;
        }
        return `${col} ${op} ${bind(value)}`;
      });
      sql += ` WHERE ${conditions.join(" AND ")}`;
    }
    if (spec.order.length > 0) {
      sql += ` ORDER BY ${spec.order.map((o) => `${quote(o.column)} ${o.direction.toUpperCase()}`).join(", ")}`;
    }
    if (limit !== undefined) sql += ` LIMIT ${limit}`;
    if (spec.offset !== undefined) sql += ` OFFSET ${spec.offset}`;
    return { sql, params };
  }

  /** The SQL text (with `$n` placeholders) and its parameters. */
  async toQuery(): Promise<BoundSql> {
    return this.#withClient(async (client) => this.#build(client));
  }

  /** The SQL text this relation runs (`$n` placeholders for bound values). */
  async toSql(): Promise<string> {
    return (await this.toQuery()).sql;
  }

  async #fetch(limit?: number): Promise<Row[]> {
    return this.#withClient(async (client) => {
      const { sql, params } = this.#build(client, limit === undefined ? {} : { limit });
      const rows = await client.query(sql, params);
      return this.#convert(rows, this.#fold(client)) as Row[];
    });
  }

  /**
   * For a known table: keys back to schema column names (the database may have casefolded them) and
   * `json` columns parsed (both DuckDB and Postgres return JSON as text). Then the row transform.
   */
  #convert(rows: DataRow[], fold: (identifier: string) => string): DataRow[] {
    const table = this.#spec.table;
    const jsonColumns = table
      ? Object.values(table.columns)
          .filter((c) => c.data_type === "json" && c.name !== undefined)
          .map((c) => c.name as string)
      : [];
    const renames = new Map<string, string>();
    if (table) {
      for (const name of this.#spec.columns ?? Object.keys(table.columns)) {
        const stored = fold(name);
        if (stored !== name) renames.set(stored, name);
      }
    }
    const transform = this.#spec.transform;
    if (jsonColumns.length === 0 && renames.size === 0 && !transform) return rows;
    return rows.map((row) => {
      let out =
        renames.size === 0
          ? row
          : Object.fromEntries(Object.entries(row).map(([key, value]) => [renames.get(key) ?? key, value]));
      for (const name of jsonColumns) {
        const value = out[name];
        if (typeof value === "string") {
          try {
            out = { ...out, [name]: JSON.parse(value) };
          } catch {
            // not JSON text: keep the value as it is
          }
        }
      }
      return transform ? transform(out) : out;
    });
  }

  /** All rows (dlt's `fetchall`). */
  fetchAll(): Promise<Row[]> {
    return this.#fetch();
  }

  /** At most `n` rows (dlt's `fetchmany`). */
  fetchMany(n: number): Promise<Row[]> {
    assertCount(n, "fetchMany");
    return this.#fetch(n);
  }

  /** The first row, or undefined when there is none (dlt's `fetchone`). */
  async fetchOne(): Promise<Row | undefined> {
    return (await this.#fetch(1))[0];
  }

  /** The first column of the first row, or undefined when there is no row (dlt's `fetchscalar`). */
  async fetchScalar(): Promise<unknown> {
    const row = (await this.#fetch(1))[0];
    return row === undefined ? undefined : Object.values(row)[0];
  }

  /** Number of rows of this relation (`SELECT COUNT(*) FROM (...)`). */
  async count(): Promise<number> {
    return this.#withClient(async (client) => {
      const inner = this.#build(client);
      const [row] = await client.query(
        `SELECT COUNT(*) AS "row_count" FROM (${inner.sql}) AS "_dlt_count"`,
        inner.params,
      );
      return Number(row?.row_count ?? 0);
    });
  }
}

/** A row of {@link Dataset.rowCounts}. */
export interface RowCount {
  table_name: string;
  row_count: number;
}

/** Options of {@link Dataset.rowCounts}. */
export interface RowCountsOptions {
  /** Count the tables that received data. @default true */
  readonly dataTables?: boolean;
  /** Count the dlt system tables too. @default false */
  readonly dltTables?: boolean;
  /** Count only these tables. */
  readonly tableNames?: readonly string[];
  /** Count only rows of this load (`_dlt_load_id`; root tables only). */
  readonly loadId?: string;
}

/**
 * The data of one dataset, read through the destination's SQL client. Create it with
 * `pipeline.dataset()` or {@link createDataset}.
 *
 * @example
 * ```ts
 * const ds = pipeline.dataset();
 * const alice = await ds.table<{ id: bigint; name: string }>("users").where("name", "eq", "Alice").fetchOne();
 * const counts = await ds.rowCounts().fetchAll();
 * ```
 */
export class Dataset implements AsyncDisposable {
  /** The schema of the dataset's tables. */
  readonly schema: Schema;
  /** Name of the dataset. */
  readonly datasetName: string;
  readonly #open: SqlClientFactory;
  #held: PipelineSqlClient | undefined;

  constructor(options: DatasetOptions) {
    this.schema = options.schema;
    this.datasetName = options.datasetName;
    this.#open = options.sqlClient;
  }

  readonly #withClient: WithClient = async (work) => {
    if (this.#held) return work(this.#held);
    const client = await this.#open();
    try {
      return await work(client);
    } finally {
      await client[Symbol.asyncDispose]();
    }
  };

  /**
   * Holds one client until the dataset is disposed (dlt's `with ds:`). Without it, each query opens
   * and closes its own client.
   *
   * @example
   * ```ts
   * await using ds = await pipeline.dataset().open();
   * ```
   */
  async open(): Promise<this> {
    this.#held ??= await this.#open();
    return this;
  }

  /** Releases the client held since {@link Dataset.open}. Idempotent. */
  async [Symbol.asyncDispose](): Promise<void> {
    const held = this.#held;
    this.#held = undefined;
    await held?.[Symbol.asyncDispose]();
  }

  #resolveTable(name: string): string | undefined {
    return resolveName(Object.keys(this.schema.tables), name, this.schema.normalizers.names, "table");
  }

  /** Names of the tables that received data (dlt's `tables`). */
  get tables(): string[] {
    return this.schema.dataTables(true).map((t) => t.name);
  }

  /**
   * A relation over table `name`; throws when the schema does not know the table. Tables and columns
   * are found by their schema names (`users_table`) or by the names in the source (`UsersTable`), which
   * the schema's naming convention turns into the schema names; rows carry the schema names.
   */
  table<Row extends object = DataRow>(name: string): Relation<Row> {
    const found = this.#resolveTable(name);
    const table = found === undefined ? undefined : this.schema.getTable(found);
    if (found === undefined || !table) {
      throw invalid(
        `Table \`${name}\` is not in schema \`${this.schema.name}\`. Tables: ${Object.keys(this.schema.tables).join(", ")}.`,
        name,
      );
    }
    return new Relation<Row>(
      {
        base: (qualify) => ({ sql: qualify(found), params: [] }),
        table,
        naming: this.schema.normalizers.names,
        columns: undefined,
        filters: [],
        order: [],
        limit: undefined,
        offset: undefined,
        transform: undefined,
      },
      this.#withClient,
    );
  }

  /**
   * A relation over a SQL query (dlt's `ds("SELECT ...")`), with optional `$n` parameters. Tables are
   * named as the destination expects; {@link Dataset.qualifiedTableName} quotes them.
   */
  query<Row extends object = DataRow>(sql: string, params: readonly unknown[] = []): Relation<Row> {
    if (typeof sql !== "string" || sql.trim() === "") throw invalid("`query` needs a SQL text.");
    const text = sql.trim().replace(/;\s*$/, "");
    return this.#relation<Row>(() => ({ sql: text, params }));
  }

  #relation<Row extends object>(
    base: RelationSpec["base"],
    transform?: (row: DataRow) => DataRow,
  ): Relation<Row> {
    return new Relation<Row>(
      {
        base,
        table: undefined,
        naming: undefined,
        columns: undefined,
        filters: [],
        order: [],
        limit: undefined,
        offset: undefined,
        transform,
      },
      this.#withClient,
    );
  }

  /**
   * The quoted, dataset-qualified name of `table` as the destination client writes it, for SQL given to
   * {@link Dataset.query}: `"my_data"."users"` on Postgres, `"ref"."ref"."users"` on a DuckDB file
   * `ref.duckdb` with dataset `ref`. A table of the schema may be named by its source name.
   */
  async qualifiedTableName(table: string): Promise<string> {
    const name = this.#resolveTable(table) ?? table;
    return this.#withClient(async (client) => client.qualifiedTableName(name));
  }

  /**
   * Rows per table (dlt's `row_counts()`), as a relation of `{ table_name, row_count }` in schema order.
   * Counts are numbers.
   */
  rowCounts(options: RowCountsOptions = {}): Relation<RowCount> {
    const data = options.dataTables ?? true;
    let names = [
      ...(data ? this.schema.dataTables(true).map((t) => t.name) : []),
      ...(options.dltTables ? this.schema.dltTables().map((t) => t.name) : []),
    ];
    if (options.tableNames) {
      names = options.tableNames.map((n) => {
        const found = this.#resolveTable(n);
        if (found === undefined) throw invalid(`Table \`${n}\` is not in schema \`${this.schema.name}\`.`, n);
        return found;
      });
    }
    const loadId = options.loadId;
    return this.#relation<RowCount>(
      (qualify) => {
        if (names.length === 0) {
          return {
            sql: `SELECT CAST(NULL AS VARCHAR) AS "table_name", 0 AS "row_count" WHERE 1 = 0`,
            params: [],
          };
        }
        const params: unknown[] = [];
        const parts = names.map((name) => {
          params.push(name);
          let part = `SELECT $${params.length} AS "table_name", COUNT(*) AS "row_count" FROM ${qualify(name)}`;
          if (loadId !== undefined) {
            params.push(loadId);
            part += ` WHERE "_dlt_load_id" = $${params.length}`;
          }
          return part;
        });
        return { sql: parts.join(" UNION ALL "), params };
      },
      (row) => ({ ...row, row_count: Number(row.row_count) }),
    );
  }

  /** Ids of completed loads (`_dlt_loads` with status 0), oldest first, optionally of one schema. */
  async loadIds(options: { schemaName?: string } = {}): Promise<string[]> {
    return this.#withClient(async (client) => {
      const params: unknown[] = [];
      let sql = `SELECT "load_id" FROM ${client.qualifiedTableName("_dlt_loads")} WHERE "status" = 0`;
      if (options.schemaName !== undefined) {
        params.push(options.schemaName);
        sql += ` AND "schema_name" = $1`;
      }
      const rows = await client.query(sql, params);
      return [...new Set(rows.map((r) => String(r.load_id)))].sort(compareLoadIds);
    });
  }

  /** The id of the most recent completed load, or undefined. */
  async latestLoadId(options: { schemaName?: string } = {}): Promise<string | undefined> {
    return (await this.loadIds(options)).at(-1);
  }
}

/** Creates a {@link Dataset} (what `pipeline.dataset()` returns). */
export function createDataset(options: DatasetOptions): Dataset {
  return new Dataset(options);
}
