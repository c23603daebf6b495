/**
 * Loading files from a staging destination (`pipeline({ staging: "filesystem" })`): a reference job
 * points to a staged file, which DuckDB reads with its own readers — `read_parquet` (the default
 * staging format: typed, columnar), `read_json` (as for local job files) or `read_csv` — in one
 * `INSERT ... SELECT` per file.
 *
 * Only local staged files (`file://` URLs) are read: `s3://` files would need DuckDB's `httpfs`
 * extension, which is not built in and cannot be installed without network access, so they fail with
 * a terminal error that says so.
 *
 * csv files follow dlt's csv conventions (`True`/`False`, `nan`/`inf`, NULL written as an empty
 * field): every field is read as text and cast to the column's type, so an empty text value loads as
 * NULL, as it does in dlt.
 */
import { type CompleteColumnSchema, isCompleteColumn, type StagedFile, type TableSchema } from "@tsdlt/core";
import { escapeColumnName, qualifiedTableName } from "@tsdlt/sql";
import { duckdbColumnType, duckdbDialect } from "./duckdb-dialect.js";
import { detectCompression, jsonlInsertSql } from "./jsonl-load.js";

/** The staged file formats DuckDB loads. */
export const DUCKDB_STAGING_FILE_FORMATS = ["parquet", "jsonl", "csv"] as const;

/** Why a staged file cannot be loaded, or the local path to read. */
export function stagedLocalPath(staged: StagedFile): { path: string } | { problem: string } {
  if (!(DUCKDB_STAGING_FILE_FORMATS as readonly string[]).includes(staged.fileFormat)) {
    return {
      problem: `DuckDB loads staged ${DUCKDB_STAGING_FILE_FORMATS.map((f) => `\`${f}\``).join(", ")} files, not \`${staged.fileFormat}\` (\`${staged.url}\`)`,
    };
  }
  if (staged.localPath === undefined) {
    return {
      problem: `staged file \`${staged.url}\` is not local: DuckDB would need its \`httpfs\` extension to read it, which is not built in and is not installed by tsdlt. Stage to a local folder (a path as the staging \`bucket_url\`) or load from \`s3://\` staging into postgres`,
    };
  }
  return { path: staged.localPath };
}

/** `CAST(<column> AS <type>)`, reading text fields of csv files. */
function castFromText(column: CompleteColumnSchema, table: TableSchema): string {
  const name = escapeColumnName(duckdbDialect, column.name);
  const dbType = duckdbColumnType(column, table);
  switch (column.data_type) {
    case "text":
      return name;
    case "binary":
      return `encode(${name})`;
    case "timestamp":
      return dbType === "TIMESTAMP WITH TIME ZONE"
        ? `CAST(${name} AS TIMESTAMPTZ)`
        : `CAST(CAST(${name} AS TIMESTAMPTZ) AS ${dbType})`;
    default:
      return `CAST(${name} AS ${dbType})`;
  }
}

/** The statement that loads a local staged file into `table` of `datasetName` (complete columns only). */
export async function stagedInsertSql(
  datasetName: string,
  table: TableSchema,
  staged: StagedFile,
  path: string,
): Promise<string> {
  const lit = (value: string): string => duckdbDialect.escapeLiteral(value);
  if (staged.fileFormat === "jsonl") {
    return jsonlInsertSql(datasetName, table, path, { compression: await detectCompression(path) });
  }
  const columns = Object.values(table.columns).filter(isCompleteColumn);
  const target = columns.map((c) => escapeColumnName(duckdbDialect, c.name)).join(", ");
  const into = `INSERT INTO ${qualifiedTableName(duckdbDialect, datasetName, table.name)} (${target})`;
  if (staged.fileFormat === "parquet") {
    // the parquet writer types every column from the schema; the casts only pin DuckDB's types
    const select = columns
      .map((c) => {
        const name = escapeColumnName(duckdbDialect, c.name);
        return `CAST(${name} AS ${duckdbColumnType(c, table)})`;
      })
      .join(", ");
    return `${into} SELECT ${select} FROM read_parquet(${lit(path)})`;
  }
  const select = columns.map((c) => castFromText(c, table)).join(", ");
  return (
    `${into} SELECT ${select} FROM read_csv(${lit(path)}, header = true, all_varchar = true,` +
    ` nullstr = '', allow_quoted_nulls = true)`
  );
}
