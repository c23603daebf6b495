/**
 * The layer DAG of DESIGN §1 / STYLE rule 1, enforced over every workspace package.json and over the
 * `@tsdlt/*` / `tsdlt` import specifiers in each package's `src/`:
 *
 *   core ← extract, normalize, load, sql, rest-client ← destinations (core as peer + sql) ← tsdlt ← apps
 *
 * The stages never import each other; they meet through the load packages defined in core.
 * Limitation: imports are found by scanning text (comments and string contents masked), so a dynamic import with a computed
 * specifier (`import(\`@tsdlt/destination-${name}\`)`) is not seen.
 */
import {
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  statSync,
  writeFileSync,
} from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join, relative } from "node:path";
import { fileURLToPath } from "node:url";
import { afterEach, beforeEach, describe, expect, it } from "vitest";

/** What the check needs to know about one workspace package. */
interface WorkspacePackage {
  readonly name: string;
  /** `package` for `packages/*`, `app` for `apps/*`. */
  readonly kind: "package" | "app";
  readonly dependencies?: Readonly<Record<string, string>>;
  readonly peerDependencies?: Readonly<Record<string, string>>;
  readonly devDependencies?: Readonly<Record<string, string>>;
  readonly optionalDependencies?: Readonly<Record<string, string>>;
  /** Import specifiers found in `src/`, with the file they appear in. */
  readonly sourceImports?: ReadonlyArray<{ readonly file: string; readonly specifier: string }>;
}

type Layer = "core" | "stage" | "destination" | "facade" | "app";

const CORE = "@tsdlt/core";
const SQL = "@tsdlt/sql";
const FACADE = "tsdlt";
/** Packages that may depend on core only. */
const CORE_ONLY = new Set(["@tsdlt/extract", "@tsdlt/normalize", "@tsdlt/load", SQL, "@tsdlt/rest-client"]);
/** Private test tooling under `tooling/` that any package may use in its tests (devDependencies only). */
const TEST_TOOLING = new Set(["@tsdlt/fixture-server"]);
const DEPENDENCY_FIELDS = [
  "dependencies",
  "peerDependencies",
  "devDependencies",
  "optionalDependencies",
] as const;

/** A destination, ours or third-party style (`tsdlt-destination-x`, like the example plugin under apps/). */
function isDestinationName(name: string): boolean {
  return name.startsWith("@tsdlt/destination-") || name.startsWith("tsdlt-destination-");
}

function layerOf(pkg: WorkspacePackage): Layer | undefined {
  if (pkg.kind === "app" && !isDestinationName(pkg.name)) return "app";
  if (pkg.name === CORE) return "core";
  if (CORE_ONLY.has(pkg.name)) return "stage";
  if (isDestinationName(pkg.name)) return "destination";
  if (pkg.name === FACADE) return "facade";
  return undefined;
}

/** The package a specifier resolves to: `@scope/name/sub` → `@scope/name`, `name/sub` → `name`. */
function packageNameOf(specifier: string): string {
  const parts = specifier.split("/");
  return (specifier.startsWith("@") ? parts.slice(0, 2) : parts.slice(0, 1)).join("/");
}

/**
 * Every forbidden edge in `packages`, as readable messages (empty when the graph follows the DAG).
 * Pure: works on a fabricated graph as well as on the real repository.
 */
function findViolations(packages: readonly WorkspacePackage[]): string[] {
  const apps = new Set(packages.filter((p) => p.kind === "app").map((p) => p.name));
  const workspaceNames = new Set(packages.map((p) => p.name));
  const isWorkspaceName = (name: string): boolean =>
    name === FACADE || name.startsWith("@tsdlt/") || workspaceNames.has(name);

  const violations: string[] = [];
  for (const pkg of packages) {
    const layer = layerOf(pkg);
    if (layer === undefined) {
      violations.push(
        `\`${pkg.name}\` is not placed in the layer DAG of DESIGN §1; add it to tooling/test/dependency-direction.test.ts.`,
      );
      continue;
    }
    const allowed = (target: string): boolean => {
      switch (layer) {
        case "core":
          return false;
        case "stage":
          return target === CORE;
        case "destination":
          return target === CORE || target === SQL;
        case "facade":
          return target !== FACADE && !apps.has(target);
        case "app":
          return true;
      }
    };
    const rule = {
      core: "`@tsdlt/core` depends on no workspace package",
      stage: "stages depend on `@tsdlt/core` only and never on each other",
      destination: "destinations depend on `@tsdlt/core` (as a peer) and `@tsdlt/sql` only",
      facade: "`tsdlt` may depend on packages/* but not on itself or an app",
      app: "",
    }[layer];

    // Declared edges.
    for (const field of DEPENDENCY_FIELDS) {
      for (const target of Object.keys(pkg[field] ?? {})) {
        if (target === pkg.name || !isWorkspaceName(target)) continue;
        if (field === "devDependencies" && TEST_TOOLING.has(target)) continue;
        if (!allowed(target)) {
          violations.push(`\`${pkg.name}\` declares \`${target}\` in ${field}: ${rule}.`);
        }
      }
    }

    // Destinations peer-depend on core, so users have exactly one copy of it (STYLE rule 2).
    if (layer === "destination") {
      const usesCore =
        DEPENDENCY_FIELDS.some((f) => pkg[f]?.[CORE] !== undefined) ||
        (pkg.sourceImports ?? []).some((i) => packageNameOf(i.specifier) === CORE);
      if (pkg.dependencies?.[CORE] !== undefined) {
        violations.push(
          `\`${pkg.name}\` declares \`${CORE}\` in dependencies: plugins must peer-depend on core.`,
        );
      } else if (usesCore && pkg.peerDependencies?.[CORE] === undefined) {
        violations.push(`\`${pkg.name}\` uses \`${CORE}\` but does not declare it in peerDependencies.`);
      }
    }

    // Source imports: each must be declared (for runtime) and must itself follow the DAG.
    const runtimeDeclared = new Set(
      (["dependencies", "peerDependencies", "optionalDependencies"] as const).flatMap((f) =>
        Object.keys(pkg[f] ?? {}),
      ),
    );
    for (const { file, specifier } of pkg.sourceImports ?? []) {
      const target = packageNameOf(specifier);
      if (target === pkg.name || !isWorkspaceName(target)) continue;
      if (!allowed(target)) {
        violations.push(`\`${pkg.name}\` imports \`${specifier}\` in ${file}: ${rule}.`);
      }
      if (!runtimeDeclared.has(target)) {
        violations.push(
          `\`${pkg.name}\` imports \`${specifier}\` in ${file} but does not declare \`${target}\` in dependencies or peerDependencies.`,
        );
      }
    }
  }
  return violations;
}

/**
 * Splits TypeScript source into code without comments, in which every quoted string literal is replaced
 * by `"<index>"`, and the list of those literals. Template literals are blanked. Import statements can then
 * be matched in the code without being fooled by imports quoted in comments or strings.
 */
function maskSource(source: string): { code: string; literals: string[] } {
  const literals: string[] = [];
  let code = "";
  let i = 0;
  while (i < source.length) {
    const c = source[i] as string;
    const next = source[i + 1];
    if (c === "/" && next === "/") {
      const end = source.indexOf("\n", i);
      i = end === -1 ? source.length : end;
    } else if (c === "/" && next === "*") {
      const end = source.indexOf("*/", i + 2);
      i = end === -1 ? source.length : end + 2;
      code += " ";
    } else if (c === '"' || c === "'" || c === "`") {
      let j = i + 1;
      while (j < source.length && source[j] !== c) j += source[j] === "\\" ? 2 : 1;
      if (c === "`") {
        code += "``";
      } else {
        code += `"${literals.length}"`;
        literals.push(source.slice(i + 1, j));
      }
      i = j + 1;
    } else {
      code += c;
      i += 1;
    }
  }
  return { code, literals };
}

const STATIC_IMPORT = /(?<![\w$.])(?:import|export)\s+(?:[\w*{}\s,$]+?\s*from\s*)?"(\d+)"/g;
const DYNAMIC_IMPORT = /(?<![\w$.])import\s*\(\s*"(\d+)"\s*[,)]/g;

/** The module specifiers a TypeScript source imports or re-exports (static and literal dynamic imports). */
function importSpecifiers(source: string): string[] {
  const { code, literals } = maskSource(source);
  return [...code.matchAll(STATIC_IMPORT), ...code.matchAll(DYNAMIC_IMPORT)].map(
    (m) => literals[Number(m[1])] as string,
  );
}

function sourceFiles(dir: string): string[] {
  if (!existsSync(dir)) return [];
  return readdirSync(dir).flatMap((entry) => {
    const path = join(dir, entry);
    if (statSync(path).isDirectory()) return sourceFiles(path);
    return /\.(m|c)?tsx?$/.test(entry) ? [path] : [];
  });
}

/** Reads every `packages/*` and `apps/*` package of the repository at `root`. */
function readWorkspace(root: string): WorkspacePackage[] {
  const packages: WorkspacePackage[] = [];
  for (const [folder, kind] of [
    ["packages", "package"],
    ["apps", "app"],
  ] as const) {
    const base = join(root, folder);
    if (!existsSync(base)) continue;
    // an app may hold a package of its own one level down (the example plugin, apps/examples/plugin-destination)
    const entries = readdirSync(base)
      .sort()
      .flatMap((entry) =>
        kind === "app" && statSync(join(base, entry)).isDirectory()
          ? [
              entry,
              ...readdirSync(join(base, entry))
                .filter((sub) => sub !== "node_modules")
                .sort()
                .map((sub) => join(entry, sub)),
            ]
          : [entry],
      );
    for (const entry of entries) {
      const manifestPath = join(base, entry, "package.json");
      if (!existsSync(manifestPath)) continue; // a folder without a package is not a package
      const manifest = JSON.parse(readFileSync(manifestPath, "utf8")) as Omit<WorkspacePackage, "kind">;
      const sourceImports = sourceFiles(join(base, entry, "src")).flatMap((file) =>
        importSpecifiers(readFileSync(file, "utf8")).map((specifier) => ({
          file: relative(root, file),
          specifier,
        })),
      );
      packages.push({
        name: manifest.name,
        kind,
        ...(manifest.dependencies && { dependencies: manifest.dependencies }),
        ...(manifest.peerDependencies && { peerDependencies: manifest.peerDependencies }),
        ...(manifest.devDependencies && { devDependencies: manifest.devDependencies }),
        ...(manifest.optionalDependencies && { optionalDependencies: manifest.optionalDependencies }),
        sourceImports,
      });
    }
  }
  return packages;
}

/** A graph that follows the DAG, as a base for fabricated bad graphs. */
function goodGraph(): WorkspacePackage[] {
  const core = { "@tsdlt/core": "workspace:^" };
  const imp = (file: string, ...specifiers: string[]) => specifiers.map((specifier) => ({ file, specifier }));
  return [
    {
      name: "@tsdlt/core",
      kind: "package",
      dependencies: { yaml: "2.9.1" },
      sourceImports: imp("a.ts", "yaml"),
    },
    {
      name: "@tsdlt/extract",
      kind: "package",
      dependencies: core,
      sourceImports: imp("e.ts", "@tsdlt/core"),
    },
    {
      name: "@tsdlt/normalize",
      kind: "package",
      dependencies: core,
      sourceImports: imp("n.ts", "@tsdlt/core"),
    },
    { name: "@tsdlt/load", kind: "package", dependencies: core },
    { name: "@tsdlt/sql", kind: "package", dependencies: core },
    {
      name: "@tsdlt/destination-duckdb",
      kind: "package",
      dependencies: { "@duckdb/node-api": "1.5.6-r.1", "@tsdlt/sql": "workspace:^" },
      peerDependencies: core,
      devDependencies: core,
      sourceImports: imp("d.ts", "@tsdlt/core", "@tsdlt/sql", "@duckdb/node-api"),
    },
    {
      name: "tsdlt",
      kind: "package",
      dependencies: {
        ...core,
        "@tsdlt/extract": "workspace:^",
        "@tsdlt/normalize": "workspace:^",
        "@tsdlt/load": "workspace:^",
        "@tsdlt/destination-duckdb": "workspace:^",
      },
      sourceImports: imp("p.ts", "@tsdlt/extract", "@tsdlt/destination-duckdb"),
    },
    { name: "@tsdlt/cli", kind: "app", dependencies: { tsdlt: "workspace:*", ...core } },
    {
      name: "@tsdlt/examples",
      kind: "app",
      dependencies: { tsdlt: "workspace:*", "@tsdlt/cli": "workspace:*" },
    },
  ];
}

function withPackage(
  graph: WorkspacePackage[],
  name: string,
  change: Partial<WorkspacePackage>,
): WorkspacePackage[] {
  return graph.map((p) => (p.name === name ? { ...p, ...change } : p));
}

describe("importSpecifiers", () => {
  it("should find static, type-only, re-export, side-effect and literal dynamic imports", () => {
    const source = [
      'import { a } from "@tsdlt/core";',
      'import type { B } from "@tsdlt/extract";',
      "import {\n  c,\n  type D,\n} from '@tsdlt/sql/internal';",
      'import * as ns from "node:fs";',
      'import def, { e } from "yaml";',
      'export { f } from "./f.js";',
      'export * from "@tsdlt/load";',
      'import "./side-effect.js";',
      'const m = await import("@tsdlt/normalize");',
      'const t = `import x from "not-a-real-import"`.length;',
    ].join("\n");
    expect(importSpecifiers(source).sort()).toEqual(
      [
        "@tsdlt/core",
        "@tsdlt/extract",
        "@tsdlt/sql/internal",
        "node:fs",
        "yaml",
        "./f.js",
        "@tsdlt/load",
        "./side-effect.js",
        "@tsdlt/normalize",
      ].sort(),
    );
  });

  it("should ignore imports inside comments and strings", () => {
    const source = [
      "/**",
      " * @example",
      ' * import { pipeline } from "tsdlt";',
      " */",
      '// import { x } from "@tsdlt/extract";',
      'const url = "https://example.com"; // not a comment start inside the string',
      "const message = 'run: import { y } from \"@tsdlt/load\"';",
      'const template = `import { z } from "@tsdlt/normalize"`;',
      "export const exportedValue = 1;",
    ].join("\n");
    expect(importSpecifiers(source)).toEqual([]);
  });
});

describe("findViolations", () => {
  it("should accept a graph that follows the DAG, with rest-client and postgres absent", () => {
    expect(findViolations(goodGraph())).toEqual([]);
  });

  it("should accept the packages that do not exist yet once they follow the DAG", () => {
    const graph: WorkspacePackage[] = [
      ...goodGraph(),
      {
        name: "@tsdlt/rest-client",
        kind: "package",
        dependencies: { "@tsdlt/core": "workspace:^", ky: "1" },
      },
      {
        name: "@tsdlt/destination-postgres",
        kind: "package",
        dependencies: { pg: "8", "@tsdlt/sql": "workspace:^" },
        peerDependencies: { "@tsdlt/core": "workspace:^" },
      },
    ];
    expect(findViolations(graph)).toEqual([]);
  });

  it("should fail when a stage declares another stage (normalize → extract)", () => {
    const graph = withPackage(goodGraph(), "@tsdlt/normalize", {
      dependencies: { "@tsdlt/core": "workspace:^", "@tsdlt/extract": "workspace:^" },
    });
    expect(findViolations(graph)).toEqual([
      "`@tsdlt/normalize` declares `@tsdlt/extract` in dependencies: stages depend on `@tsdlt/core` only and never on each other.",
    ]);
  });

  it("should fail when a stage imports another stage without declaring it", () => {
    const graph = withPackage(goodGraph(), "@tsdlt/normalize", {
      sourceImports: [
        { file: "packages/normalize/src/n.ts", specifier: "@tsdlt/core" },
        { file: "packages/normalize/src/n.ts", specifier: "@tsdlt/extract" },
      ],
    });
    const violations = findViolations(graph);
    expect(violations).toHaveLength(2);
    expect(violations[0]).toMatch(
      /`@tsdlt\/normalize` imports `@tsdlt\/extract` in packages\/normalize\/src\/n\.ts/,
    );
    expect(violations[1]).toMatch(/does not declare `@tsdlt\/extract` in dependencies/);
  });

  it("should fail when core depends on any workspace package", () => {
    const graph = withPackage(goodGraph(), "@tsdlt/core", {
      devDependencies: { "@tsdlt/sql": "workspace:^" },
    });
    expect(findViolations(graph)).toEqual([
      "`@tsdlt/core` declares `@tsdlt/sql` in devDependencies: `@tsdlt/core` depends on no workspace package.",
    ]);
  });

  it("should fail when a stage depends on the facade or on rest-client", () => {
    const graph = withPackage(goodGraph(), "@tsdlt/load", {
      dependencies: {
        "@tsdlt/core": "workspace:^",
        tsdlt: "workspace:^",
        "@tsdlt/rest-client": "workspace:^",
      },
    });
    expect(findViolations(graph)).toHaveLength(2);
  });

  it("should fail when rest-client depends on extract", () => {
    const graph: WorkspacePackage[] = [
      ...goodGraph(),
      {
        name: "@tsdlt/rest-client",
        kind: "package",
        dependencies: { "@tsdlt/core": "workspace:^", "@tsdlt/extract": "workspace:^" },
      },
    ];
    expect(findViolations(graph)).toEqual([
      "`@tsdlt/rest-client` declares `@tsdlt/extract` in dependencies: stages depend on `@tsdlt/core` only and never on each other.",
    ]);
  });

  it("should allow test tooling in devDependencies only", () => {
    const asDev = withPackage(goodGraph(), "@tsdlt/load", {
      devDependencies: { "@tsdlt/fixture-server": "workspace:*" },
    });
    expect(findViolations(asDev)).toEqual([]);
    const asRuntime = withPackage(goodGraph(), "@tsdlt/load", {
      dependencies: { "@tsdlt/core": "workspace:^", "@tsdlt/fixture-server": "workspace:*" },
    });
    expect(findViolations(asRuntime)).toEqual([
      "`@tsdlt/load` declares `@tsdlt/fixture-server` in dependencies: stages depend on `@tsdlt/core` only and never on each other.",
    ]);
  });

  it("should fail when a destination depends on a stage", () => {
    const graph = withPackage(goodGraph(), "@tsdlt/destination-duckdb", {
      sourceImports: [{ file: "d.ts", specifier: "@tsdlt/load" }],
    });
    const violations = findViolations(graph);
    expect(violations.some((v) => v.includes("imports `@tsdlt/load`") && v.includes("destinations"))).toBe(
      true,
    );
  });

  it("should fail when a destination has core as a regular dependency or not as a peer", () => {
    const asDependency = withPackage(goodGraph(), "@tsdlt/destination-duckdb", {
      dependencies: { "@tsdlt/core": "workspace:^", "@tsdlt/sql": "workspace:^" },
      peerDependencies: {},
    });
    expect(findViolations(asDependency)).toEqual([
      "`@tsdlt/destination-duckdb` declares `@tsdlt/core` in dependencies: plugins must peer-depend on core.",
    ]);
    const importsOnly = withPackage(goodGraph(), "@tsdlt/destination-duckdb", {
      peerDependencies: {},
      devDependencies: {},
    });
    expect(findViolations(importsOnly)).toContain(
      "`@tsdlt/destination-duckdb` uses `@tsdlt/core` but does not declare it in peerDependencies.",
    );
  });

  it("should fail when the facade depends on an app, and allow apps anything", () => {
    const graph = withPackage(goodGraph(), "tsdlt", { devDependencies: { "@tsdlt/cli": "workspace:*" } });
    expect(findViolations(graph)).toEqual([
      "`tsdlt` declares `@tsdlt/cli` in devDependencies: `tsdlt` may depend on packages/* but not on itself or an app.",
    ]);
  });

  it("should hold a third-party style destination under apps/ to the destination rules", () => {
    const plugin: WorkspacePackage = {
      name: "tsdlt-destination-jsonfiles",
      kind: "app",
      peerDependencies: { "@tsdlt/core": "workspace:^" },
      devDependencies: { "@tsdlt/core": "workspace:^", tsdlt: "workspace:*" },
    };
    expect(findViolations([...goodGraph(), plugin])).toEqual([
      "`tsdlt-destination-jsonfiles` declares `tsdlt` in devDependencies: destinations depend on `@tsdlt/core` (as a peer) and `@tsdlt/sql` only.",
    ]);
  });

  it("should fail for a package that has no place in the DAG", () => {
    const graph: WorkspacePackage[] = [...goodGraph(), { name: "@tsdlt/misc", kind: "package" }];
    expect(findViolations(graph)).toEqual([
      "`@tsdlt/misc` is not placed in the layer DAG of DESIGN §1; add it to tooling/test/dependency-direction.test.ts.",
    ]);
  });

  it("should ignore third-party and relative imports", () => {
    const graph = withPackage(goodGraph(), "@tsdlt/core", {
      sourceImports: [
        { file: "a.ts", specifier: "yaml" },
        { file: "a.ts", specifier: "node:crypto" },
        { file: "a.ts", specifier: "./errors.js" },
        { file: "a.ts", specifier: "@tsdlt/core" },
      ],
    });
    expect(findViolations(graph)).toEqual([]);
  });
});

describe("readWorkspace", () => {
  let root: string;

  beforeEach(() => {
    root = mkdtempSync(join(tmpdir(), "tsdlt-dag-"));
  });

  afterEach(() => {
    rmSync(root, { recursive: true, force: true });
  });

  function write(path: string, content: unknown): void {
    mkdirSync(dirname(join(root, path)), { recursive: true });
    writeFileSync(join(root, path), typeof content === "string" ? content : JSON.stringify(content));
  }

  it("should catch a stage that imports another stage on disk although its package.json is clean", () => {
    write("packages/core/package.json", { name: "@tsdlt/core" });
    write("packages/core/src/index.ts", "export const x = 1;\n");
    write("packages/extract/package.json", {
      name: "@tsdlt/extract",
      dependencies: { "@tsdlt/core": "workspace:^" },
    });
    write("packages/normalize/package.json", {
      name: "@tsdlt/normalize",
      dependencies: { "@tsdlt/core": "workspace:^" },
    });
    write(
      "packages/normalize/src/deep/normalize.ts",
      'import { x } from "@tsdlt/core";\nimport type { Resource } from "@tsdlt/extract";\n',
    );
    write("packages/not-a-package/README.md", "no package.json here");
    write("apps/cli/package.json", {
      name: "@tsdlt/cli",
      dependencies: { "@tsdlt/normalize": "workspace:*" },
    });

    const packages = readWorkspace(root);
    expect(packages.map((p) => [p.name, p.kind])).toEqual([
      ["@tsdlt/core", "package"],
      ["@tsdlt/extract", "package"],
      ["@tsdlt/normalize", "package"],
      ["@tsdlt/cli", "app"],
    ]);
    expect(packages[2]?.sourceImports).toEqual([
      { file: join("packages", "normalize", "src", "deep", "normalize.ts"), specifier: "@tsdlt/core" },
      { file: join("packages", "normalize", "src", "deep", "normalize.ts"), specifier: "@tsdlt/extract" },
    ]);
    const violations = findViolations(packages);
    expect(violations).toHaveLength(2);
    expect(violations.every((v) => v.startsWith("`@tsdlt/normalize` imports `@tsdlt/extract`"))).toBe(true);
  });
});

describe("the repository", () => {
  const root = fileURLToPath(new URL("../..", import.meta.url));

  it("should follow the layer DAG in every package.json and src import", () => {
    const packages = readWorkspace(root);
    const names = packages.map((p) => p.name);
    // Guard against a check that passes because it read nothing.
    expect(names).toEqual(expect.arrayContaining(["@tsdlt/core", "tsdlt"]));
    expect(packages.find((p) => p.name === "@tsdlt/core")?.sourceImports?.length).toBeGreaterThan(0);
    expect(findViolations(packages)).toEqual([]);
  });
});
