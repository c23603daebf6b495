/**
 * Type-level checks of the declarative config, verified by `tsc -p tsconfig.test.json` (an unused
 * `@ts-expect-error` fails the build). Never executed.
 */
import { restApiResources, type UnknownResourceReferences } from "../src/index.js";

type Equal<A, B> = (<T>() => T extends A ? 1 : 2) extends <T>() => T extends B ? 1 : 2 ? true : false;
const assertType = <T extends true>(_: T): void => {};

export function typeChecks(): void {
  // A valid parent/child config type-checks.
  restApiResources({
    client: {
      baseUrl: "https://api.github.com/repos/dlt-hub/dlt/",
      auth: { token: "t" },
      paginator: "header_link",
    },
    resourceDefaults: {
      primaryKey: "id",
      writeDisposition: "merge",
      endpoint: { params: { per_page: 100 } },
    },
    resources: [
      "issues",
      {
        name: "issue_comments",
        endpoint: { path: "issues/{resources.issues.number}/comments" },
        includeFromParent: ["id"],
      },
      {
        name: "events",
        endpoint: {
          path: "issues/{issue_number}/events",
          params: { issue_number: { type: "resolve", resource: "issue_comments", field: "id" } },
          paginator: { type: "page_number", basePage: 1, totalPath: null },
        },
      },
    ],
  });

  // A misspelled parent in a path placeholder is a type error.
  restApiResources({
    client: { baseUrl: "https://api.github.com" },
    resources: [
      { name: "issues" },
      // @ts-expect-error `isues` is not a declared resource
      { name: "comments", endpoint: { path: "issues/{resources.isues.number}/comments" } },
    ],
  });

  // …in params, JSON bodies and legacy resolve params too.
  restApiResources({
    client: { baseUrl: "https://x" },
    resources: [
      "users",
      // @ts-expect-error `user` is not a declared resource
      { name: "posts", endpoint: { path: "posts", params: { author: "{resources.user.id}" } } },
    ],
  });
  restApiResources({
    client: { baseUrl: "https://x" },
    resources: [
      "users",
      // @ts-expect-error `usr` is not a declared resource
      {
        name: "posts",
        endpoint: { path: "p/{id}", params: { id: { type: "resolve", resource: "usr", field: "id" } } },
      },
    ],
  });

  // Paginator and auth configs are checked as well.
  restApiResources({
    // @ts-expect-error `limit` is required by the offset paginator
    client: { baseUrl: "https://x", paginator: { type: "offset" } },
    resources: ["a"],
  });

  const config = {
    client: { baseUrl: "https://x" },
    resources: ["a", { name: "b", endpoint: "x/{resources.c.id}" }],
  } as const;
  assertType<Equal<UnknownResourceReferences<typeof config>, "c">>(true);
}
