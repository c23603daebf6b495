/**
 * The data browser of `tsdlt pipeline <name> show` in a real headless Chromium (Debian's `chromium`,
 * driven by playwright-core; `.ci/run` installs it): what `browser.test.ts` and
 * `postgres.integration.test.ts` do the same way on a pipeline that loaded `USERS` (`helpers.ts`).
 */
import { existsSync } from "node:fs";
import { join } from "node:path";
import { type BrowserContext, chromium, type Page } from "playwright-core";
import { expect } from "vitest";

/** Debian's Chromium. */
const CHROMIUM = "/usr/bin/chromium";

/**
 * Whether {@link CHROMIUM} is installed. When it is not, warns that `what` is skipped, and how to
 * install it: the tests that need it are skipped, saying why.
 */
export function hasChromium(what: string): boolean {
  if (existsSync(CHROMIUM)) return true;
  console.warn(`[${what}] SKIPPED: ${CHROMIUM} not found. Install it with \`apt-get install -y chromium\`.`);
  return false;
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

/** Headless {@link CHROMIUM} with its profile in `root/chromium-profile`, 1100×900, and its first page. */
export async function openChromium(root: string): Promise<{ context: BrowserContext; page: Page }> {
  const context = await chromium.launchPersistentContext(join(root, "chromium-profile"), {
    executablePath: CHROMIUM,
    headless: true,
    args: CHROMIUM_ARGS,
    viewport: { width: 1100, height: 900 },
  });
  const page = context.pages()[0] ?? (await context.newPage());
  return { context, page };
}

/**
 * Opens the data browser at `url`, waits for its table list (with `users__tags`), opens table `users`
 * and checks that it shows the three `USERS` (`helpers.ts`) and the `bigint` type of `id`.
 */
export async function openUsersTable(page: Page, url: string): Promise<void> {
  await page.goto(url);
  await expect.poll(() => page.locator("#tables").textContent()).toContain("users__tags");
  await page.locator("a.table-link", { hasText: /^users$/ }).click();
  await page.waitForURL(/\/tables\/users$/);
  const rows = page.locator("#rows tbody tr");
  await expect.poll(() => rows.count()).toBe(3);
  for (const name of ["Alice", "Bob", "Carol"])
    expect(await page.locator("#rows").textContent()).toContain(name);
  expect(await page.locator("#columns").textContent()).toContain("bigint");
}

/** Types `sql` into the page's SQL box and runs it. */
export async function runSql(page: Page, sql: string): Promise<void> {
  await page.locator("#sql").fill(sql);
  await page.locator("#run-sql").click();
}

/**
 * Runs `SELECT id, name FROM <users> WHERE id >= 2 ORDER BY id` on the qualified table `users` and
 * checks that the result shows Bob and Carol under `id` and `name`.
 */
export async function expectQueryOfUsers(page: Page, users: string): Promise<void> {
  await runSql(page, `SELECT id, name FROM ${users} WHERE id >= 2 ORDER BY id`);
  const result = page.locator("#sql-result tbody tr");
  await expect.poll(() => result.count()).toBe(2);
  expect(await result.nth(0).textContent()).toBe("2Bob");
  expect(await result.nth(1).textContent()).toBe("3Carol");
  expect(await page.locator("#sql-result thead").textContent()).toBe("idname");
}
