/**
 * The data browser in a real headless Chromium (Debian's `chromium`, driven by playwright-core;
 * `.ci/run` installs it). Skipped, saying why, only when /usr/bin/chromium is absent.
 */
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { BrowserContext } from "playwright-core";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { expectQueryOfUsers, hasChromium, openChromium, openUsersTable, runSql } from "./chromium.js";
import { makePipeline, type ShowProcess, startShow, USERS } from "./helpers.js";

const chromiumInstalled = hasChromium("browser.test");

const PNG_SIGNATURE = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);

describe.skipIf(!chromiumInstalled)("tsdlt pipeline <name> show in headless Chromium", () => {
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

    const opened = await openChromium(root);
    context = opened.context;
    const page = opened.page;
    await openUsersTable(page, show.url);
    await expectQueryOfUsers(page, '"mydata"."users"');

    // a write is refused in the page
    await runSql(page, 'DROP TABLE "mydata"."users"');
    await expect.poll(() => page.locator("#sql-result .error").textContent()).toMatch(/read-only/);
    await runSql(page, 'SELECT name FROM "mydata"."users" WHERE name = \'Alice\'');
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
