/**
 * Loading files from a staging destination (`pipeline({ staging: "filesystem" })`). Postgres has no
 * reader of files outside the database server, so tsdlt streams each staged file into `COPY ... FROM
 * STDIN` from Node: local staged files are read from disk, `s3://` files through the staging
 * destination (an S3 `GetObject` stream). Memory stays bounded by the stream buffers.
 *
 * - `jsonl` (the default staging format): the same line → CSV record conversion as local `jsonl` job
 *   files (`copy-load.ts`), so every type loads exactly.
 * - `csv` (dlt's csv conventions, `loaderFileFormat: "csv"`): sent to `COPY (FORMAT csv, HEADER)`
 *   as it is, with `FORCE_NULL` on nullable columns as dlt does, so an empty text value loads as NULL.
 *   The staged files must keep the filesystem's default csv options (comma, header row). Tables with
 *   `binary` columns cannot be staged as csv (the file holds the bytes as text): stage them as jsonl.
 */
import type { Readable } from "node:stream";
import { createGunzip } from "node:zlib";
import { isCompleteColumn, type StagedFile, type TableSchema } from "@tsdlt/core";
import type { SqlDialect } from "@tsdlt/sql";
import { copyFromStdinSql, openJobFile } from "./copy-load.js";

/** The staged file formats Postgres loads. */
export const POSTGRES_STAGING_FILE_FORMATS = ["jsonl", "csv"] as const;

/** Why `table` cannot be loaded from `staged`, if it cannot. */
export function stagedLoadProblem(table: TableSchema, staged: StagedFile): string | undefined {
  if (!(POSTGRES_STAGING_FILE_FORMATS as readonly string[]).includes(staged.fileFormat)) {
    return `Postgres loads staged ${POSTGRES_STAGING_FILE_FORMATS.map((f) => `\`${f}\``).join(", ")} files, not \`${staged.fileFormat}\` (\`${staged.url}\`)`;
  }
  if (staged.fileFormat === "csv") {
    const binary = Object.values(table.columns).find((c) => isCompleteColumn(c) && c.data_type === "binary");
    if (binary !== undefined) {
      return `column \`${binary.name}\` of table \`${table.name}\` is \`binary\`, which a staged csv file cannot carry exactly; stage this table as \`jsonl\` (the default)`;
    }
  }
  return undefined;
}

/** The `COPY` statement for a staged csv file (header row, dlt's NULL handling). */
export function stagedCsvCopySql(dialect: SqlDialect, datasetName: string, table: TableSchema): string {
  const columns = Object.values(table.columns).filter(isCompleteColumn);
  return copyFromStdinSql(
    dialect,
    datasetName,
    table,
    columns.map((c) => c.name),
    { header: true, forceNull: columns.filter((c) => c.nullable !== false).map((c) => c.name) },
  );
}

/** The decompressed bytes of a staged file: from disk when local, else through the staging destination. */
export async function openStagedFile(staged: StagedFile): Promise<Readable> {
  if (staged.localPath !== undefined) return openJobFile(staged.localPath);
  const source = await staged.open();
  if (!staged.compressed) return source;
  const gunzip = createGunzip();
  source.on("error", (error) => gunzip.destroy(error));
  return source.pipe(gunzip);
}
