/**
 * The data browser of `tsdlt pipeline <name> show`: a node:http server on the loopback interface.
 * Every request attaches to the pipeline afresh (so a run in another process shows up on reload) and
 * reads the destination through the dataset API, which opens a SQL client for each query and closes
 * it afterwards: between requests the DuckDB file is free for other processes. Database work is
 * serialised, so two requests never share a client.
 *
 * Requests must name the server's own host (`127.0.0.1:<port>` or `localhost:<port>`), which keeps
 * other web pages from reaching it through DNS rebinding; the SQL endpoint takes only JSON POSTs (a
 * cross-site page cannot send those without a CORS preflight, which the server never answers).
 */
import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import type { TableSchema } from "@tsdlt/core";
import type { LoadPackageInfo, Pipeline } from "tsdlt";
import { jsonReplacer } from "../io.js";
import {
  attachWithDestination,
  datasetOf,
  destinationDatasetName,
  hasDestination,
  lastLoadLocation,
  type PipelineTarget,
} from "../pipeline-target.js";
import { errorPage, layout, overviewPage, packagePage, tablePage } from "./pages.js";
import { checkReadOnlySql } from "./read-only-sql.js";

/** Options of {@link startShowServer}. */
export interface ShowServerOptions {
  readonly target: PipelineTarget;
  /** Port to listen on; 0 picks a free one. @default 0 */
  readonly port?: number;
  /** Rows per page of a table. @default 20 */
  readonly pageSize?: number;
  /** Rows returned by the SQL box at most. @default 1000 */
  readonly maxRows?: number;
}

/** A running browser. */
export interface ShowServer extends AsyncDisposable {
  readonly url: string;
  close(): Promise<void>;
}

class HttpError extends Error {
  readonly status: number;
  constructor(status: number, message: string) {
    super(message);
    this.status = status;
  }
}

/** Starts the browser on 127.0.0.1; resolves once it listens. */
export async function startShowServer(options: ShowServerOptions): Promise<ShowServer> {
  const pageSize = options.pageSize ?? 20;
  const maxRows = options.maxRows ?? 1000;
  const target = options.target;
  let queue: Promise<unknown> = Promise.resolve();
  /** Runs database work one request at a time. */
  const serial = <T>(work: () => Promise<T>): Promise<T> => {
    const run = queue.then(work, work);
    queue = run.catch(() => undefined);
    return run;
  };
  let port = 0;

  const attach = (): Promise<Pipeline> => attachWithDestination(target);

  const packages = (p: Pipeline): LoadPackageInfo[] => {
    const pending = p.listPendingPackages();
    const ids = [...pending.extracted, ...pending.normalized, ...p.listCompletedPackages()];
    return [...new Set(ids)]
      .sort((a, b) => Number(b) - Number(a))
      .map((id) => p.getLoadPackageInfo(id))
      .filter((i): i is LoadPackageInfo => i !== undefined);
  };

  const overview = async (): Promise<string> => {
    const p = await attach();
    const schema = p.defaultSchema;
    const tables = schema.dataTables();
    const counts = new Map<string, number>();
    let rowCountError: string | undefined;
    let example = "SELECT 1";
    let datasetName = p.datasetName ?? "";
    if (hasDestination(p) && tables.some((t) => t["x-normalizer"]?.["seen-data"])) {
      datasetName = (await destinationDatasetName(p)) ?? datasetName;
      const ds = datasetOf(p);
      const failed: string[] = [];
      for (const name of ds.tables) {
        try {
          const [r] = await ds.rowCounts({ tableNames: [name] }).fetchAll();
          if (r) counts.set(name, r.row_count);
        } catch (error) {
          failed.push(`${name}: ${message(error)}`);
        }
      }
      if (failed.length > 0) rowCountError = `Row counts are not available for ${failed.join("; ")}`;
      const first = ds.tables[0];
      if (first) {
        try {
          example = `SELECT * FROM ${await ds.qualifiedTableName(first)} LIMIT 10`;
        } catch {
          // no client: keep the plain example
        }
      }
    }
    const state = p.state as unknown as Record<string, unknown>;
    return layout(
      `pipeline ${p.pipelineName}`,
      p.pipelineName,
      overviewPage({
        pipelineName: p.pipelineName,
        destination: String(state.destination_type ?? "no destination yet"),
        datasetName,
        location: lastLoadLocation(p),
        tables: tables.map((table) => ({ table, rowCount: counts.get(table.name) })),
        rowCountError,
        packages: packages(p),
        state,
        exampleSql: example,
        maxRows,
      }),
    );
  };

  const table = async (name: string, page: number): Promise<string> => {
    const p = await attach();
    const schemaTable = p.defaultSchema.getTable(name);
    if (!schemaTable)
      throw new HttpError(404, `Table \`${name}\` is not in schema \`${p.defaultSchemaName}\`.`);
    let rows: Record<string, unknown>[] | undefined;
    let rowsError: string | undefined;
    let total = 0;
    let example = "SELECT 1";
    if (schemaTable["x-normalizer"]?.["seen-data"] && hasDestination(p)) {
      try {
        const ds = datasetOf(p);
        let relation = ds.table(name);
        for (const key of pageOrder(schemaTable)) relation = relation.orderBy(key);
        total = await relation.count();
        rows = await relation
          .limit(pageSize)
          .offset(page * pageSize)
          .fetchAll();
        example = `SELECT * FROM ${await ds.qualifiedTableName(name)} LIMIT 10`;
      } catch (error) {
        rowsError = `Rows are not available: ${message(error)}`;
      }
    }
    return layout(
      `table ${name}`,
      p.pipelineName,
      tablePage({ table: schemaTable, rows, rowsError, total, page, pageSize, exampleSql: example, maxRows }),
    );
  };

  const loadPackage = async (loadId: string): Promise<string> => {
    const p = await attach();
    const info = p.getLoadPackageInfo(loadId);
    if (!info) throw new HttpError(404, `Load package \`${loadId}\` not found.`);
    return layout(`package ${loadId}`, p.pipelineName, packagePage(info));
  };

  const sql = async (request: IncomingMessage): Promise<unknown> => {
    if (!(request.headers["content-type"] ?? "").startsWith("application/json")) {
      throw new HttpError(415, 'Send the query as JSON: {"sql": "SELECT ..."}.');
    }
    const body = await readBody(request);
    let text: unknown;
    try {
      text = (JSON.parse(body) as { sql?: unknown }).sql;
    } catch {
      throw new HttpError(400, "The request body is not JSON.");
    }
    if (typeof text !== "string") throw new HttpError(400, "`sql` must be a string.");
    const verdict = checkReadOnlySql(text);
    if (!verdict.ok) throw new HttpError(400, verdict.reason);
    const p = await attach();
    if (!hasDestination(p)) throw new HttpError(400, "The pipeline has no destination yet.");
    let rows: Record<string, unknown>[];
    try {
      rows = await datasetOf(p)
        .query(verdict.sql)
        .limit(maxRows + 1)
        .fetchAll();
    } catch (error) {
      throw new HttpError(400, message(error));
    }
    const truncated = rows.length > maxRows;
    if (truncated) rows = rows.slice(0, maxRows);
    const columns = Object.keys(rows[0] ?? {});
    return { columns, rows: rows.map((r) => columns.map((c) => r[c] ?? null)), truncated };
  };

  const handle = async (request: IncomingMessage, response: ServerResponse): Promise<void> => {
    const host = request.headers.host ?? "";
    if (host !== `127.0.0.1:${port}` && host !== `localhost:${port}`) {
      return send(response, 403, "text/plain; charset=utf-8", "Forbidden: unexpected Host header.\n");
    }
    const url = new URL(request.url ?? "/", `http://${host}`);
    const isApi = url.pathname === "/api/sql";
    try {
      if (isApi) {
        if (request.method !== "POST") throw new HttpError(405, "Use POST.");
        const result = await serial(() => sql(request));
        return send(response, 200, "application/json", JSON.stringify(result, jsonReplacer));
      }
      if (request.method !== "GET") throw new HttpError(405, "Method not allowed.");
      let html: string;
      if (url.pathname === "/") html = await serial(overview);
      else if (url.pathname.startsWith("/tables/")) {
        const name = decodeURIComponent(url.pathname.slice("/tables/".length));
        const page = Math.max(0, Number.parseInt(url.searchParams.get("page") ?? "0", 10) || 0);
        html = await serial(() => table(name, page));
      } else if (url.pathname.startsWith("/packages/")) {
        const id = decodeURIComponent(url.pathname.slice("/packages/".length));
        html = await serial(() => loadPackage(id));
      } else throw new HttpError(404, `Nothing at ${url.pathname}.`);
      return send(response, 200, "text/html; charset=utf-8", html);
    } catch (error) {
      const status = error instanceof HttpError ? error.status : 500;
      if (isApi) return send(response, status, "application/json", JSON.stringify({ error: message(error) }));
      return send(
        response,
        status,
        "text/html; charset=utf-8",
        layout("error", target.name, errorPage(message(error))),
      );
    }
  };

  const server = createServer((request, response) => {
    handle(request, response).catch((error: unknown) => {
      if (!response.headersSent) send(response, 500, "text/plain; charset=utf-8", `${message(error)}\n`);
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(options.port ?? 0, "127.0.0.1", () => {
      server.off("error", reject);
      resolve();
    });
  });
  port = (server.address() as AddressInfo).port;
  const close = async (): Promise<void> => {
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
    await queue;
  };
  return { url: `http://127.0.0.1:${port}/`, close, [Symbol.asyncDispose]: close };
}

/** A total order for paging: the primary key, else the nested-list position, else load and row ids. */
function pageOrder(table: TableSchema): string[] {
  const columns = Object.values(table.columns);
  const primary = columns.filter((c) => c.primary_key === true).map((c) => c.name as string);
  if (primary.length > 0) return primary;
  const candidates =
    table.parent === undefined ? ["_dlt_load_id", "_dlt_id"] : ["_dlt_parent_id", "_dlt_list_idx"];
  return candidates.filter((c) => c in table.columns);
}

function message(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

function send(response: ServerResponse, status: number, type: string, body: string): void {
  response.writeHead(status, {
    "content-type": type,
    "cache-control": "no-store",
    "x-content-type-options": "nosniff",
    "x-frame-options": "DENY",
  });
  response.end(body);
}

/** Reads a request body of at most 1 MiB. */
async function readBody(request: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of request) {
    size += (chunk as Buffer).length;
    if (size > 1024 * 1024) throw new HttpError(413, "The query is too large.");
    chunks.push(chunk as Buffer);
  }
  return Buffer.concat(chunks).toString("utf8");
}
