/** Server-rendered HTML of the data browser (`tsdlt pipeline <name> show`). No framework, no build step. */
import type { ColumnSchema, TableSchema } from "@tsdlt/core";
import type { LoadPackageInfo } from "tsdlt";
import { jsonReplacer } from "../io.js";

/** Escapes text for HTML content and attribute values. */
export function esc(value: unknown): string {
  return String(value)
    .replaceAll("&", "&amp;")
    .replaceAll("<", "&lt;")
    .replaceAll(">", "&gt;")
    .replaceAll('"', "&quot;")
    .replaceAll("'", "&#39;");
}

/** One cell value as text (bigint exact, dates ISO, bytes by length, objects as JSON). */
export function cellText(value: unknown): string {
  if (value === null || value === undefined) return "NULL";
  if (value instanceof Date) return value.toISOString();
  if (value instanceof Uint8Array) return `<${value.length} bytes>`;
  if (typeof value === "bigint") return value.toString();
  if (typeof value === "object") return JSON.stringify(value, jsonReplacer);
  return String(value);
}

function cell(value: unknown): string {
  return value === null || value === undefined
    ? '<td class="null">NULL</td>'
    : `<td>${esc(cellText(value))}</td>`;
}

const STYLE = `
body{font-family:system-ui,sans-serif;margin:0;color:#1d232a;background:#f6f7f9}
header{background:#22303c;color:#fff;padding:.8rem 1.5rem;display:flex;gap:1.5rem;align-items:baseline}
header a{color:#cfe3ff;text-decoration:none}header h1{font-size:1.1rem;margin:0}
main{padding:1rem 1.5rem;max-width:1200px}
section{background:#fff;border:1px solid #dde2e8;border-radius:6px;padding:.8rem 1rem;margin-bottom:1rem;overflow-x:auto}
h2{font-size:1rem;margin:.2rem 0 .6rem}
table{border-collapse:collapse;font-size:.85rem}th,td{border:1px solid #dde2e8;padding:.25rem .5rem;text-align:left;vertical-align:top}
th{background:#eef1f5}td.null{color:#9aa3ad;font-style:italic}td.num{text-align:right}
.meta{color:#5b6670;font-size:.85rem}.error{color:#b3261e;white-space:pre-wrap}
pre{background:#f0f2f5;padding:.6rem;max-height:24rem;overflow:auto;font-size:.8rem}
textarea{width:100%;min-height:5rem;font-family:ui-monospace,monospace;font-size:.85rem;box-sizing:border-box}
button{margin-top:.4rem;padding:.3rem .9rem}nav.pager{margin:.6rem 0;display:flex;gap:1rem}
`;

const SQL_SCRIPT = `
const form = document.getElementById("sql-form");
form.addEventListener("submit", async (event) => {
  event.preventDefault();
  const out = document.getElementById("sql-result");
  out.replaceChildren(Object.assign(document.createElement("p"), { className: "meta", textContent: "Running…" }));
  let body;
  let ok = false;
  try {
    const response = await fetch("/api/sql", {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ sql: document.getElementById("sql").value }),
    });
    ok = response.ok;
    body = await response.json();
  } catch (error) {
    body = { error: String(error) };
  }
  if (!ok) {
    out.replaceChildren(Object.assign(document.createElement("p"), { className: "error", textContent: body.error }));
    return;
  }
  const table = document.createElement("table");
  const head = table.createTHead().insertRow();
  for (const name of body.columns) head.append(Object.assign(document.createElement("th"), { textContent: name }));
  const rows = table.createTBody();
  for (const values of body.rows) {
    const row = rows.insertRow();
    for (const value of values) {
      const td = row.insertCell();
      if (value === null) { td.className = "null"; td.textContent = "NULL"; }
      else td.textContent = typeof value === "object" ? JSON.stringify(value) : String(value);
    }
  }
  const meta = Object.assign(document.createElement("p"), {
    className: "meta",
    textContent: body.rows.length + " row(s)" + (body.truncated ? " (first " + body.rows.length + " shown)" : ""),
  });
  out.replaceChildren(meta, table);
});
`;

/** The page frame. */
export function layout(title: string, pipelineName: string, body: string): string {
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>${esc(title)} · tsdlt</title>
<meta name="viewport" content="width=device-width, initial-scale=1"><style>${STYLE}</style></head>
<body><header><h1>tsdlt · pipeline ${esc(pipelineName)}</h1><a href="/">Overview</a></header>
<main>${body}</main></body></html>`;
}

/** The read-only SQL box; results are rendered by a small script. */
export function sqlBox(initialSql: string, maxRows: number): string {
  return `<section id="sql-box"><h2>SQL (read-only)</h2>
<form id="sql-form"><textarea id="sql" name="sql" spellcheck="false">${esc(initialSql)}</textarea>
<button id="run-sql" type="submit">Run query</button>
<span class="meta">One SELECT, WITH, DESCRIBE or SHOW statement; at most ${maxRows} rows are shown.</span></form>
<div id="sql-result"></div></section>
<script type="module">${SQL_SCRIPT}</script>`;
}

/** What the overview shows. */
export interface OverviewData {
  readonly pipelineName: string;
  readonly destination: string;
  readonly datasetName: string;
  readonly location: string | undefined;
  readonly tables: readonly { table: TableSchema; rowCount: number | undefined }[];
  readonly rowCountError: string | undefined;
  readonly packages: readonly LoadPackageInfo[];
  readonly state: unknown;
  readonly exampleSql: string;
  readonly maxRows: number;
}

function dataColumns(table: TableSchema): ColumnSchema[] {
  return Object.values(table.columns).filter((c) => c.data_type !== undefined);
}

/** The overview: tables with row counts, load packages, state, SQL box. */
export function overviewPage(d: OverviewData): string {
  const tableRows = d.tables
    .map(
      ({ table, rowCount }) =>
        `<tr><td><a class="table-link" href="/tables/${encodeURIComponent(table.name)}">${esc(table.name)}</a></td>` +
        `<td>${esc(table.parent ?? "")}</td><td>${esc(table.write_disposition ?? (table.parent ? "" : "append"))}</td>` +
        `<td class="num">${dataColumns(table).length}</td><td class="num">${rowCount === undefined ? "–" : rowCount}</td></tr>`,
    )
    .join("");
  const packageRows = d.packages
    .map((p) => {
      const failed = p.jobs.filter((j) => j.state === "failed_jobs").length;
      return (
        `<tr><td><a href="/packages/${encodeURIComponent(p.loadId)}">${esc(p.loadId)}</a></td><td>${esc(p.state)}</td>` +
        `<td class="num">${p.jobs.length}</td><td class="num">${failed}</td></tr>`
      );
    })
    .join("");
  return `<section><h2>Destination</h2><p>${esc(d.destination)} · dataset <b>${esc(d.datasetName)}</b>${
    d.location ? ` · <span class="meta">${esc(d.location)}</span>` : ""
  }</p></section>
<section id="tables"><h2>Tables</h2>${d.rowCountError ? `<p class="error">${esc(d.rowCountError)}</p>` : ""}
${
  d.tables.length === 0
    ? "<p>No tables yet.</p>"
    : `<table><thead><tr><th>table</th><th>parent</th><th>write disposition</th><th>columns</th><th>rows</th></tr></thead><tbody>${tableRows}</tbody></table>`
}</section>
<section id="packages"><h2>Load packages</h2>${
    d.packages.length === 0
      ? "<p>No load packages.</p>"
      : `<table><thead><tr><th>load id</th><th>state</th><th>jobs</th><th>failed</th></tr></thead><tbody>${packageRows}</tbody></table>`
  }</section>
${sqlBox(d.exampleSql, d.maxRows)}
<section id="state"><h2>State</h2><pre>${esc(JSON.stringify(d.state, jsonReplacer, 2))}</pre></section>`;
}

/** What a table page shows. */
export interface TablePageData {
  readonly table: TableSchema;
  readonly rows: readonly Record<string, unknown>[] | undefined;
  readonly rowsError: string | undefined;
  readonly total: number;
  readonly page: number;
  readonly pageSize: number;
  readonly exampleSql: string;
  readonly maxRows: number;
}

/** A table: its columns with types and hints, one page of rows, the SQL box. */
export function tablePage(d: TablePageData): string {
  const columns = dataColumns(d.table);
  const hints = (c: ColumnSchema) =>
    (
      [
        "primary_key",
        "merge_key",
        "unique",
        "row_key",
        "parent_key",
        "root_key",
        "partition",
        "cluster",
      ] as const
    )
      .filter((h) => (c as Record<string, unknown>)[h] === true)
      .join(", ");
  const columnRows = columns
    .map(
      (c) =>
        `<tr><td>${esc(c.name)}</td><td>${esc(c.data_type)}</td><td>${c.nullable === false ? "no" : "yes"}</td><td>${esc(hints(c))}</td></tr>`,
    )
    .join("");
  let rowsHtml: string;
  if (d.rowsError) rowsHtml = `<p class="error">${esc(d.rowsError)}</p>`;
  else if (!d.rows || d.total === 0) rowsHtml = "<p>No rows.</p>";
  else {
    const names = columns.map((c) => c.name as string);
    const first = d.page * d.pageSize;
    const pages = Math.max(1, Math.ceil(d.total / d.pageSize));
    const link = (page: number, label: string, rel: string) =>
      `<a rel="${rel}" href="/tables/${encodeURIComponent(d.table.name)}?page=${page}">${label}</a>`;
    rowsHtml = `<p class="meta">rows ${first + 1}–${first + d.rows.length} of ${d.total} · page ${d.page + 1} of ${pages}</p>
<nav class="pager">${d.page > 0 ? link(d.page - 1, "← previous", "prev") : ""}${d.page + 1 < pages ? link(d.page + 1, "next →", "next") : ""}</nav>
<table id="rows"><thead><tr>${names.map((n) => `<th>${esc(n)}</th>`).join("")}</tr></thead><tbody>${d.rows
      .map((r) => `<tr>${names.map((n) => cell(r[n])).join("")}</tr>`)
      .join("")}</tbody></table>`;
  }
  return `<section><h2>Table ${esc(d.table.name)}</h2><p class="meta">${
    d.table.parent
      ? `nested in ${esc(d.table.parent)}`
      : `write disposition ${esc(d.table.write_disposition ?? "append")}`
  }${d.table.resource ? ` · resource ${esc(d.table.resource)}` : ""}</p>
<table id="columns"><thead><tr><th>column</th><th>data type</th><th>nullable</th><th>hints</th></tr></thead><tbody>${columnRows}</tbody></table></section>
<section id="data"><h2>Rows</h2>${rowsHtml}</section>
${sqlBox(d.exampleSql, d.maxRows)}`;
}

/** A load package and its jobs. */
export function packagePage(p: LoadPackageInfo): string {
  const jobs = p.jobs
    .map(
      (j) =>
        `<tr><td>${esc(j.jobId)}</td><td>${esc(j.tableName)}</td><td>${esc(j.state)}</td><td class="num">${j.fileSize}</td><td class="error">${esc(j.failedMessage ?? "")}</td></tr>`,
    )
    .join("");
  return `<section><h2>Load package ${esc(p.loadId)}</h2><p>state <b>${esc(p.state)}</b> · schema ${esc(p.schemaName)}</p>
<p class="meta">${esc(p.packagePath)}</p>
<table id="jobs"><thead><tr><th>job</th><th>table</th><th>state</th><th>bytes</th><th>failure</th></tr></thead><tbody>${jobs}</tbody></table></section>`;
}

/** An error page body. */
export function errorPage(message: string): string {
  return `<section><h2>Error</h2><p class="error">${esc(message)}</p></section>`;
}
