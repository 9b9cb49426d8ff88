/**
 * `deno task report:check [PAGE]`: renders the report page (default results/index.html) in headless
 * Chromium, saves a full-page screenshot next to it (report.png), and fails when the page logs a console
 * error, reaches for the network, shows a chart without marks or an image that did not load, or is blank.
 *
 * Chromium is Debian's `chromium` package (`apt-get install -y chromium`), driven by playwright-core.
 */
/// <reference lib="dom" />
import type { Buffer } from "node:buffer";
import { parseArgs } from "node:util";
import { dirname, join, resolve } from "node:path";
import { pathToFileURL } from "node:url";
import { type BrowserContext, chromium } from "playwright-core";
import { PNG } from "pngjs";
import { SCREENSHOT } from "../../src/harness/report/inputs.ts";

const ARGS = [
  "--headless",
  "--no-sandbox",
  "--disable-gpu",
  "--disable-quic",
  "--no-first-run",
  "--disable-background-networking",
  "--disable-component-update",
  "--disable-sync",
];

export interface CheckOptions {
  /** The Chromium binary (default /usr/bin/chromium, Debian's). */
  chromiumPath?: string;
  /** Where the full-page screenshot goes (default report.png next to the page). */
  screenshot?: string;
}

/** What the page shows, read in the browser. */
interface PageState {
  text: number;
  charts: number;
  emptyCharts: string[];
  images: number;
  brokenImages: string[];
}

/** Runs in the page: counts charts and their data marks (Vega's role-mark groups), images, and text. */
function inspect(): PageState {
  const charts = [...document.querySelectorAll("figure.chart")];
  const images = [...document.images];
  const name = (e: Element) =>
    (e.querySelector("svg")?.getAttribute("aria-label") ?? e.textContent ?? "").slice(0, 80);
  return {
    text: document.body.innerText.trim().length,
    charts: charts.length,
    emptyCharts: charts.filter((c) => !c.querySelector("svg g.role-mark > *")).map(name),
    images: images.length,
    brokenImages: images.filter((i) => !i.complete || i.naturalWidth === 0).map((i) =>
      i.alt || i.src.slice(0, 80)
    ),
  };
}

/** True when every pixel of the PNG has one colour. */
function uniform(png: Buffer): boolean {
  const { data } = PNG.sync.read(png);
  for (let i = 4; i < data.length; i += 4) {
    for (let c = 0; c < 4; c++) if (data[i + c] !== data[c]) return false;
  }
  return true;
}

/** Loads `url` in `context`, saves the screenshot and returns what is wrong with the page. */
async function render(context: BrowserContext, url: string, screenshot: string): Promise<CheckResult> {
  const failures: string[] = [];
  await context.route("**/*", (route) => {
    const requested = route.request().url();
    if (requested === url || requested.startsWith("data:")) return route.continue();
    failures.push(`the page requested ${requested.slice(0, 120)} (it must be self-contained)`);
    return route.abort();
  });
  const page = context.pages()[0] ?? await context.newPage();
  page.on("console", (m) => {
    if (m.type() === "error") failures.push(`console error: ${m.text()}`);
  });
  page.on("pageerror", (e) => failures.push(`page error: ${e.message}`));
  await page.goto(url, { waitUntil: "load" });
  const state = await page.evaluate(inspect);
  const shot = await page.screenshot({ fullPage: true, path: screenshot });
  for (const c of state.emptyCharts) failures.push(`a chart has no marks: ${c}`);
  for (const i of state.brokenImages) failures.push(`an image did not load: ${i}`);
  if (state.text === 0 || uniform(shot)) failures.push("the page is blank");
  const summary = `${state.charts} charts, ${state.images} images, ${state.text} characters of text`;
  return { failures, summary, screenshot };
}

export interface CheckResult {
  /** What is wrong, one line each; empty when the page passes. */
  failures: string[];
  /** What the page showed: charts, images, text. */
  summary: string;
  /** Where the full-page screenshot went. */
  screenshot: string;
}

/**
 * Checks the page at `path` in a fresh Chromium profile. Every request other than the page itself and
 * data: URIs is refused and reported.
 */
export async function checkPage(path: string, options: CheckOptions = {}): Promise<CheckResult> {
  const screenshot = options.screenshot ?? join(dirname(path), SCREENSHOT);
  const profile = await Deno.makeTempDir({ prefix: "report-check-profile-" });
  try {
    const context = await chromium.launchPersistentContext(profile, {
      executablePath: options.chromiumPath ?? "/usr/bin/chromium",
      args: ARGS,
      headless: true,
      viewport: { width: 1280, height: 900 },
    });
    try {
      return await render(context, pathToFileURL(resolve(path)).href, screenshot);
    } finally {
      await context.close();
    }
  } finally {
    await Deno.remove(profile, { recursive: true });
  }
}

async function main(): Promise<number> {
  const { values, positionals } = parseArgs({
    args: Deno.args,
    allowPositionals: true,
    options: { chromium: { type: "string" }, screenshot: { type: "string" } },
  });
  const page = positionals[0] ?? "results/index.html";
  if (!(await Deno.stat(page).then((s) => s.isFile, () => false))) {
    throw new Error(`${page}: not found (build it with deno task report)`);
  }
  const { failures, summary, screenshot } = await checkPage(page, {
    chromiumPath: values.chromium,
    screenshot: values.screenshot,
  });
  for (const f of failures) console.error(`report check: ${page}: ${f}`);
  console.error(`report check: ${page}: ${summary}; screenshot ${screenshot}`);
  console.error(`report check: ${failures.length ? `FAILED (${failures.length} problems)` : "ok"}`);
  return failures.length ? 1 : 0;
}

if (import.meta.main) {
  try {
    Deno.exit(await main());
  } catch (e) {
    // Usage mistakes, a missing page, Chromium that does not start: one line, not a stack trace.
    console.error(`report check: ${(e as Error).message.split("\n")[0]}`);
    Deno.exit(2);
  }
}
