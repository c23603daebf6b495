/**
 * Type-level checks of config injection, verified by `tsc -p tsconfig.test.json` (an unused
 * `@ts-expect-error` fails the build). Never executed.
 */
import { secret, z } from "@tsdlt/core";
import { type DltResource, resource, source, transformer } from "../src/index.js";

type Equal<A, B> = (<T>() => T extends A ? 1 : 2) extends <T>() => T extends B ? 1 : 2 ? true : false;
const assertType = <T extends true>(_: T): void => {};

const spec = z.object({
  repoName: z.string(),
  accessToken: secret(z.string()),
  perPage: z.int().default(100),
});

export function typeChecks(): void {
  // The function's config parameter is inferred from the spec (defaults applied: perPage is a number).
  const githubSource = source(
    function* github_source(config, endpoints: readonly string[] = []) {
      assertType<Equal<typeof config, { repoName: string; accessToken: string; perPage: number }>>(true);
      yield resource(
        endpoints.map((e) => ({ e })),
        { name: "x" },
      );
    },
    { section: "github", config: spec },
  );

  // Callers may pass nothing, some fields, or all of them; further arguments follow.
  githubSource();
  githubSource({});
  githubSource({ repoName: "dlt-hub/dlt" });
  githubSource({ repoName: "dlt-hub/dlt", perPage: 50 }, ["issues"]);
  // @ts-expect-error `repoName` is a string
  githubSource({ repoName: 42 });
  // @ts-expect-error the second argument is a list of endpoints
  githubSource({}, "issues");
  assertType<Equal<typeof githubSource.config.spec, typeof spec>>(true);

  // A source without config keeps its own parameters.
  const plain = source(function plain(n: number) {
    return [{ n }];
  });
  plain(1);
  // @ts-expect-error a number is expected
  plain("1");

  // Resources: the config parameter is typed, and bind() takes the explicit values.
  const users = resource(
    async function* users({ repoName }) {
      assertType<Equal<typeof repoName, string>>(true);
      yield { repoName };
    },
    { config: spec, primaryKey: "id" },
  );
  users.bind({ accessToken: "t" });
  // @ts-expect-error `perPage` is a number
  users.bind({ perPage: "10" });
  // Copies keep the typed bind().
  users.applyHints({ writeDisposition: "merge" }).addLimit(1).bind({ repoName: "x" });
  const asPlain: DltResource = users;
  asPlain.bind(1, 2, 3);

  // Transformers: items first, then the config.
  const enriched = transformer(
    async (item: { id: number }, { accessToken }) => {
      assertType<Equal<typeof accessToken, string>>(true);
      return { id: item.id };
    },
    { dataFrom: users, config: spec },
  );
  enriched.bind({ repoName: "r" });
}
