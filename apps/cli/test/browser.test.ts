/**
 * The data browser in a real headless Chromium (Debian's `chromium`, driven by playwright-core;
 * `.ci/run` installs it). Skipped, saying why, only when /usr/bin/chromium is absent.
 */
import { existsSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { type BrowserContext, chromium } from "playwright-core";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { makePipeline, type ShowProcess, startShow, USERS } from "./helpers.js";

const CHROMIUM = "/usr/bin/chromium";
const hasChromium = existsSync(CHROMIUM);
if (!hasChromium) {
  console.warn(
    `[browser.test] SKIPPED: ${CHROMIUM} not found. Install it with \`apt-get install -y chromium\`.`,
  );
}

/** Flags for Chromium on machines without a network or GPU. */
const CHROMIUM_ARGS = [
  "--no-sandbox",
  "--disable-gpu",
  "--disable-quic",
  "--no-first-run",
  "--disable-background-networking",
  "--disable-component-update",
  "--disable-sync",
];

const PNG_SIGNATURE = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);

describe.skipIf(!hasChromium)("tsdlt pipeline <name> show in headless Chromium", () => {
  let root: string;
  let show: ShowProcess | undefined;
  let context: BrowserContext | undefined;
  beforeEach(() => {
    root = mkdtempSync(join(tmpdir(), "tsdlt-browser-"));
  });
  afterEach(async () => {
    await context?.close();
    context = undefined;
    await show?.stop();
    show = undefined;
    rmSync(root, { recursive: true, force: true });
  });

  it("should open a table, run a SQL query and show its rows", { timeout: 120_000 }, async () => {
    const p = makePipeline(root, "browser_demo");
    await p.run(USERS, { tableName: "users" });
    show = await startShow(join(root, "pipelines"), "browser_demo");

    context = await chromium.launchPersistentContext(join(root, "chromium-profile"), {
      executablePath: CHROMIUM,
      headless: true,
      args: CHROMIUM_ARGS,
      viewport: { width: 1100, height: 900 },
    });
    const page = context.pages()[0] ?? (await context.newPage());
    await page.goto(show.url);
    await expect.poll(() => page.locator("#tables").textContent()).toContain("users__tags");

    await page.locator("a.table-link", { hasText: /^users$/ }).click();
    await page.waitForURL(/\/tables\/users$/);
    const rows = page.locator("#rows tbody tr");
    await expect.poll(() => rows.count()).toBe(3);
    for (const name of ["Alice", "Bob", "Carol"])
      expect(await page.locator("#rows").textContent()).toContain(name);
    expect(await page.locator("#columns").textContent()).toContain("bigint");

    await page.locator("#sql").fill('SELECT id, name FROM "mydata"."users" WHERE id >= 2 ORDER BY id');
    await page.locator("#run-sql").click();
    const result = page.locator("#sql-result tbody tr");
    await expect.poll(() => result.count()).toBe(2);
    expect(await result.nth(0).textContent()).toBe("2Bob");
    expect(await result.nth(1).textContent()).toBe("3Carol");
    expect(await page.locator("#sql-result thead").textContent()).toBe("idname");

    // a write is refused in the page
    await page.locator("#sql").fill('DROP TABLE "mydata"."users"');
    await page.locator("#run-sql").click();
    await expect.poll(() => page.locator("#sql-result .error").textContent()).toMatch(/read-only/);
    await page.locator("#sql").fill('SELECT name FROM "mydata"."users" WHERE name = \'Alice\'');
    await page.locator("#run-sql").click();
    await expect.poll(() => page.locator("#sql-result tbody").textContent()).toBe("Alice");

    const file = join(root, "show.png");
    await page.screenshot({ path: file, fullPage: true });
    const png = readFileSync(file);
    expect(png.subarray(0, 8).equals(PNG_SIGNATURE)).toBe(true);
    expect(png.readUInt32BE(16)).toBe(1100); // IHDR width
    expect(png.readUInt32BE(20)).toBeGreaterThan(300); // IHDR height
    expect(png.length).toBeGreaterThan(10_000);
    if (process.env.TSDLT_KEEP_SCREENSHOT) {
      const { copyFileSync } = await import("node:fs");
      copyFileSync(file, process.env.TSDLT_KEEP_SCREENSHOT);
    }
  });
});
