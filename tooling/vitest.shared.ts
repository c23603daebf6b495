import type { UserWorkspaceConfig } from "vitest/config";

/**
 * Conditions that make workspace packages resolve to their TypeScript sources in tests. Only these:
 * vitest hands `ssr.resolve.conditions` to its workers as Node `--conditions`, and Vite adds
 * `import`/`require`/`default` itself. With `import` or `module` listed here, Node >= 20.19 (where
 * `require()` loads ES modules) makes CommonJS `pg` require `pg-pool`'s ESM build ("Class extends
 * value [object Module]"), and the AWS SDK resolves to its bundler-only `dist-es` build.
 */
const SOURCE_CONDITIONS = ["@tsdlt/source", "node"];

/** Test files that need external services run only with `TSDLT_INTEGRATION_TESTS=1`. */
const integration = process.env.TSDLT_INTEGRATION_TESTS === "1";

/** The vitest project of one workspace package, named after its folder. */
export function projectConfig(name: string): UserWorkspaceConfig {
  return {
    resolve: { conditions: SOURCE_CONDITIONS },
    ssr: { resolve: { conditions: SOURCE_CONDITIONS, externalConditions: ["@tsdlt/source"] } },
    test: {
      name,
      include: ["test/**/*.test.ts"],
      exclude: integration ? [] : ["test/**/*.integration.test.ts"],
      environment: "node",
      allowOnly: !process.env.CI,
      testTimeout: 30_000,
      hookTimeout: 30_000,
    },
  };
}
