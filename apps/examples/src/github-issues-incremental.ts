/**
 * "Load only new data (incremental loading)" of the getting-started tutorial: a resource that reads
 * the open issues newest first, page by page (following the `Link` header), with an incremental
 * cursor on `created_at`. Each run appends only the issues created since the previous run: the cursor
 * is kept in the pipeline state, stored with the data in `github_data_append`.
 *
 * `rowOrder: "desc"` tells the cursor that issues come newest first, so the resource stops requesting
 * pages at the first issue older than the last run's (dlt's `created_at.start_out_of_range` check).
 */
import { requests } from "@tsdlt/rest-client";
import * as dlt from "tsdlt";

const API = dlt.config.get("sources.github.base_url", dlt.z.string()) ?? "https://api.github.com";

const getIssues = dlt.resource(
  async function* get_issues(
    _createdAt = dlt.sources.incremental("created_at", {
      initialValue: "1970-01-01T00:00:00Z",
      rowOrder: "desc",
    }),
  ) {
    // NOTE: we read only open issues to minimize the number of calls to the API.
    // There's a limit of ~60 calls an hour for unauthenticated GitHub users.
    let url: string | undefined =
      `${API}/repos/dlt-hub/dlt/issues?per_page=100&sort=created&direction=desc&state=open`;
    while (url !== undefined) {
      const response = await requests.get(url);
      response.raiseForStatus();
      yield response.json();
      // get next page
      url = response.links.next;
    }
  },
  { tableName: "issues", writeDisposition: "append" },
);

const pipeline = dlt.pipeline({
  pipelineName: "github_issues_incremental",
  destination: "duckdb",
  datasetName: "github_data_append",
});

const loadInfo = await pipeline.run(getIssues);
const rowCounts = pipeline.lastTrace?.lastNormalizeInfo?.row_counts;

console.log(rowCounts);
console.log("------");
console.log(String(loadInfo));
