/**
 * Type-level checks of `dlt.restApiSource(config)` in one call, verified by `tsc -p tsconfig.test.json`
 * (an unused `@ts-expect-error` fails the build). Never executed.
 */
import { restApiResources } from "@tsdlt/rest-client";
import * as dlt from "../src/index.js";

export function typeChecks(token: string): void {
  // dlt's rest_api_source(config): client, resource defaults and resources in one call.
  const github: dlt.DltSource = dlt.restApiSource(
    {
      client: { baseUrl: "https://api.github.com/repos/dlt-hub/dlt/", auth: { token } },
      resourceDefaults: {
        primaryKey: "id",
        writeDisposition: "merge",
        endpoint: { params: { per_page: 100 } },
      },
      resources: [
        {
          name: "issues",
          endpoint: {
            path: "issues",
            params: { since: "{incremental.last_value}" },
            incremental: { cursorPath: "updated_at", initialValue: "1970-01-01T00:00:00Z" },
          },
        },
        {
          name: "issue_comments",
          endpoint: "issues/{resources.issues.number}/comments",
          includeFromParent: ["id"],
        },
      ],
    },
    { name: "github", prefetch: 2 },
  );
  github.withResources("issues");

  // A misspelled parent resource is a type error on the resource that refers to it.
  dlt.restApiSource({
    client: { baseUrl: "https://api.github.com/repos/dlt-hub/dlt/" },
    resources: [
      "issues",
      // @ts-expect-error `isues` is not a declared resource
      { name: "comments", endpoint: { path: "issues/{resources.isues.number}/comments" } },
    ],
  });
  dlt.restApiSource({
    client: { baseUrl: "https://x" },
    resources: [
      "users",
      // @ts-expect-error `user` is not a declared resource
      { name: "posts", endpoint: { path: "posts", params: { author: "{resources.user.id}" } } },
    ],
  });
  // Paginator configs are checked as well.
  dlt.restApiSource({
    // @ts-expect-error `limit` is required by the offset paginator
    client: { baseUrl: "https://x", paginator: { type: "offset" } },
    resources: ["a"],
  });

  // The two-step form still works.
  dlt.restApiSource(restApiResources({ client: { baseUrl: "https://x" }, resources: ["a"] }), {
    name: "x",
  });
}
