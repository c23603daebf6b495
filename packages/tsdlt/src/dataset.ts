/**
 * Reading loaded data back (dlt's `pipeline.dataset()`, REFERENCE §11.6): a lazy {@link Dataset}
 * over the pipeline's destination dataset, and immutable {@link Relation}s built from a table or a
 * SQL query with `select`, `where`, `orderBy`, `limit` and `offset`, executed with `fetchAll()`,
 * `fetchOne()`, `fetchScalar()` or `count()`.
 *
 * Works on every destination whose client offers SQL (`WithSqlClient`: DuckDB, Postgres). Values in
 * `where` are always bound as `$n` parameters, never spliced into the SQL text. Table names are
 * quoted by the destination client (`qualifiedTableName`); column names are validated against the
 * schema when the table is known there and quoted as SQL identifiers (double quotes, as DuckDB and
 * Postgres expect). Each fetch opens a client and disposes it afterwards, so a DuckDB file is free
 * for other processes between queries; `await ds.open()` holds one client until the dataset is disposed.
 *
 * Not supported (yet): Arrow/data-frame results, joins following schema references, and dlt's
 * `ds["users"]` / `ds.users` accessors (use `ds.table("users")`).
 */
import { compareLoadIds, type DataType, type Schema, type TableSchema, TsdltError } from "@tsdlt/core";
import type { PipelineSqlClient } from "./pipeline.js";

/**
 * The JavaScript value of each dlt data type as the DuckDB client returns it (`json` columns of
 * tables known to the schema are parsed by {@link Relation}). Other destinations may differ: `pg`
 * returns `bigint` as a string unless configured otherwise.
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

  #checkColumn(column: string): void {
    if (typeof column !== "string" || column === "")
      throw invalid("A column name must be a non-empty string.");
    const table = this.#spec.table;
    if (table && !(column in table.columns)) {
      throw invalid(
        `Column \`${column}\` is not in table \`${table.name}\`. Columns: ${Object.keys(table.columns).join(", ")}.`,
        table.name,
      );
    }
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
    for (const c of columns) this.#checkColumn(c);
    return this.#with({ columns: columns }) as unknown as Relation<Pick<Row, K>, Base>;
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
    this.#checkColumn(column);
    if (!(FILTER_OPERATORS as readonly string[]).includes(operator)) {
      throw invalid(`Unknown operator \`${String(operator)}\`. Use one of: ${FILTER_OPERATORS.join(", ")}.`);
    }
    const list = operator === "in" || operator === "not_in";
    if (list && (!Array.isArray(value) || value.length === 0)) {
      throw invalid(`Operator \`${operator}\` needs a non-empty array of values.`);
    }
    return this.#with({ filters: [...this.#spec.filters, { column, operator, value }] });
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
    this.#checkColumn(column);
    if (direction !== "asc" && direction !== "desc") {
      throw invalid(`Sort direction must be "asc" or "desc"; got ${JSON.stringify(direction)}.`);
    }
    return this.#with({ order: [...this.#spec.order, { column, direction }] });
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

  /** The SQL and parameters this relation runs, with table names quoted by `qualify`. */
  #build(qualify: (table: string) => string, options: { limit?: number } = {}): BoundSql {
    const spec = this.#spec;
    const base = spec.base(qualify);
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
    const projection = spec.columns ? spec.columns.map(quoteIdentifier).join(", ") : "*";
    let sql = `SELECT ${projection} FROM ${spec.table ? base.sql : `(${base.sql}) AS "_dlt_relation"`}`;
    if (spec.filters.length > 0) {
      const conditions = spec.filters.map(({ column, operator, value }) => {
        const col = quoteIdentifier(column);
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
      sql += ` ORDER BY ${spec.order.map((o) => `${quoteIdentifier(o.column)} ${o.direction.toUpperCase()}`).join(", ")}`;
    }
    if (limit !== undefined) sql += ` LIMIT ${limit}`;
    if (spec.offset !== undefined) sql += ` OFFSET ${spec.offset}`;
    return { sql, params };
  }

  /** The SQL text (with `$n` placeholders) and its parameters. */
  async toQuery(): Promise<BoundSql> {
    return this.#withClient(async (client) => this.#build((t) => client.qualifiedTableName(t)));
  }

  /** The SQL text this relation runs (`$n` placeholders for bound values). */
  async toSql(): Promise<string> {
    return (await this.toQuery()).sql;
  }

  async #fetch(limit?: number): Promise<Row[]> {
    return this.#withClient(async (client) => {
      const { sql, params } = this.#build(
        (t) => client.qualifiedTableName(t),
        limit === undefined ? {} : { limit },
      );
      const rows = await client.query(sql, params);
      return this.#convert(rows) as Row[];
    });
  }

  /** Parses `json` columns of known tables (returned as text by DuckDB) and applies the row transform. */
  #convert(rows: DataRow[]): DataRow[] {
    const table = this.#spec.table;
    const jsonColumns = table
      ? Object.values(table.columns)
          .filter((c) => c.data_type === "json" && c.name !== undefined)
          .map((c) => c.name as string)
      : [];
    const transform = this.#spec.transform;
    if (jsonColumns.length === 0 && !transform) return rows;
    return rows.map((row) => {
      let out = row;
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
      const inner = this.#build((t) => client.qualifiedTableName(t));
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

  /** Names of the tables that received data (dlt's `tables`). */
  get tables(): string[] {
    return this.schema.dataTables(true).map((t) => t.name);
  }

  /** A relation over table `name`; throws when the schema does not know the table. */
  table<Row extends object = DataRow>(name: string): Relation<Row> {
    const table = this.schema.getTable(name);
    if (!table) {
      throw invalid(
        `Table \`${name}\` is not in schema \`${this.schema.name}\`. Tables: ${Object.keys(this.schema.tables).join(", ")}.`,
        name,
      );
    }
    return new Relation<Row>(
      {
        base: (qualify) => ({ sql: qualify(name), params: [] }),
        table,
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

  /** The quoted, dataset-qualified name of `table` as the destination client writes it. */
  async qualifiedTableName(table: string): Promise<string> {
    return this.#withClient(async (client) => client.qualifiedTableName(table));
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
      for (const n of options.tableNames) {
        if (!this.schema.getTable(n))
          throw invalid(`Table \`${n}\` is not in schema \`${this.schema.name}\`.`, n);
      }
      names = [...options.tableNames];
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
