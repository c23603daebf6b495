/**
 * Every changeset must be readable by `changeset version`: a front matter block of
 * `"<package>": major|minor|patch` lines between `---` fences, naming a publishable workspace package,
 * then a summary. (A markdown formatter once turned the front matter into `## "tsdlt": minor`, which
 * makes `changeset version` fail at release time.)
 */
import { readdirSync, readFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";

const REPO = join(dirname(fileURLToPath(import.meta.url)), "..", "..");
const CHANGESETS = join(REPO, ".changeset");

/** Names of the workspace packages changesets may release (not private, not ignored). */
function releasablePackages(): Set<string> {
  const config = JSON.parse(readFileSync(join(CHANGESETS, "config.json"), "utf8")) as { ignore: string[] };
  const names = new Set<string>();
  for (const group of ["packages", "apps"]) {
    for (const entry of readdirSync(join(REPO, group), { withFileTypes: true })) {
      if (!entry.isDirectory()) continue;
      let manifest: { name: string; private?: boolean };
      try {
        manifest = JSON.parse(readFileSync(join(REPO, group, entry.name, "package.json"), "utf8"));
      } catch {
        continue;
      }
      if (!manifest.private && !config.ignore.includes(manifest.name)) names.add(manifest.name);
    }
  }
  return names;
}

describe("changesets", () => {
  const files = readdirSync(CHANGESETS).filter((f) => f.endsWith(".md") && f !== "README.md");
  const packages = releasablePackages();

  it.each(files)("%s has a valid front matter and a summary", (file) => {
    const text = readFileSync(join(CHANGESETS, file), "utf8");
    const match = /^---\n((?:"[^"\n]+": (?:major|minor|patch)\n)+)---\n\n(\S[\s\S]*)$/.exec(text);
    expect(
      match,
      `${file}: expected ---, "<package>": <bump> lines, ---, a blank line, the summary`,
    ).not.toBeNull();
    for (const line of (match?.[1] ?? "").trimEnd().split("\n")) {
      const name = line.slice(1, line.indexOf('"', 1));
      expect(packages.has(name), `${file}: \`${name}\` is not a releasable workspace package`).toBe(true);
    }
  });
});
