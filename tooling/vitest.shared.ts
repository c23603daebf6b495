import type { UserWorkspaceConfig } from "vitest/config";

/** Conditions that make workspace packages resolve to their TypeScript sources in tests. */
const SOURCE_CONDITIONS = ["@tsdlt/source", "import", "module", "node", "default"];

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
