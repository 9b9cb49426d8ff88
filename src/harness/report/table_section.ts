/**
 * One (table, tier) section of the report: paper vs ours for every row, how the rows were made, the
 * learning curves and the figures.
 */
import type { ResultRow } from "../csv.ts";
import { TABLES } from "../tables/mod.ts";
import { curveSpec, renderSvg } from "./charts.ts";
import { count, duration, esc, figureHtml, statusBadge, value } from "./html.ts";
import { tableRow, type TableSection } from "./inputs.ts";

/** The config JSON's fields the page shows; the rest stays in the CSV. */
interface Config {
  qualifier?: string | null;
  band?: [number, number];
}

function config(row: ResultRow): Config {
  // The results parser has checked that config is JSON.
  return JSON.parse(row.config) ?? {};
}

/** A row's `paper` cell, with the paper's "≈" or "≤" where it has one. */
function paperCell(row: ResultRow): string {
  if (row.paper === null) return "";
  const q = config(row).qualifier;
  return `${q ? `${esc(q)} ` : ""}${row.paper}`;
}

function acceptance(row: ResultRow): string {
  if (row.tolerance !== null) return `± ${row.tolerance}`;
  const band = config(row).band;
  return band ? `band ${band[0]}–${band[1]}` : "";
}

function delta(row: ResultRow): string {
  if ((row.status !== "pass" && row.status !== "fail") || row.paper === null || row.ours === null) return "";
  const d = row.ours - row.paper;
  return `${d >= 0 ? "+" : "−"}${value(Math.abs(d), row.unit)}`;
}

function resultsTable(rows: ResultRow[]): string {
  const head = ["Row", "Model / source", "Metric", "Paper", "Ours", "Ours − paper", "Accepted", "Status"]
    .concat(["Steps", "Images seen", "Wall time"]);
  const numeric = new Set([3, 4, 5, 8, 9, 10]);
  const nowrap = new Set([6]);
  const body = rows.map((r) => {
    const cells = [
      esc(r.row),
      esc(r.model),
      esc(r.metric),
      paperCell(r),
      r.ours === null ? "—" : value(r.ours, r.unit),
      delta(r),
      esc(acceptance(r)),
      statusBadge(r.status),
      count(r.steps),
      count(r.images_seen),
      duration(r.wall_s),
    ];
    const cls = (i: number) => numeric.has(i) ? ' class="num"' : nowrap.has(i) ? ' class="nowrap"' : "";
    const tds = cells.map((c, i) => `<td${cls(i)}>${c}</td>`).join("");
    return `<tr${r.status === "reference" ? ' class="reference"' : ""}>${tds}</tr>`;
  });
  const caption = `Negative log-likelihood in ${esc(rows[0]?.unit ?? "")}; lower is better.`;
  return `<table class="results"><caption>${caption}</caption>` +
    `<thead><tr>${head.map((h) => `<th>${h}</th>`).join("")}</tr></thead>` +
    `<tbody>${body.join("")}</tbody></table>`;
}

/** Each distinct value of a column among our rows, with the rows holding it when they differ. */
function distinct(rows: ResultRow[], get: (r: ResultRow) => string, mark = (v: string) => esc(v)): string {
  const groups = new Map<string, string[]>();
  for (const r of rows) groups.set(get(r), [...groups.get(get(r)) ?? [], r.row]);
  if (groups.size <= 1) return [...groups.keys()].map(mark).join("");
  const line = ([v, who]: [string, string[]]) =>
    `<div>${mark(v)} <span class="rows">(${esc(who.join("; "))})</span></div>`;
  return [...groups].map(line).join("");
}

function provenance(s: TableSection): string {
  const ours = s.rows.filter((r) => r.status !== "reference");
  const subset = (v: string) => esc(v) + (/subset/i.test(v) ? ' <span class="subset">subset</span>' : "");
  const items: [string, string][] = [
    ["Tier", esc(s.tier)],
    ["Results file", s.sources.map(esc).join(", ")],
  ];
  if (ours.length) {
    items.push(
      ["Dataset", distinct(ours, (r) => r.dataset, subset)],
      ["Fingerprint", `<code>${distinct(ours, (r) => r.dataset_fingerprint)}</code>`],
      ["Adapter", distinct(ours, (r) => r.adapter)],
      ["Commit", `<code>${distinct(ours, (r) => r.git_commit)}</code>`],
    );
  }
  return `<dl class="provenance">${items.map(([k, v]) => `<dt>${k}</dt><dd>${v}</dd>`).join("")}</dl>`;
}

const TIER_NOTE: Record<string, string> = {
  paper: "Paper tier: the paper's configuration; each row is compared with the paper's value, within the " +
    "stated tolerance, and the paper's value is drawn on its learning curve.",
  quick: "Quick tier: reduced models trained for minutes; rows are checked against the tier's own band " +
    "and are not comparable with the paper's values, which are listed for reference only.",
  smoke: "Smoke tier: tiny models that prove the pipeline runs; rows are checked against a plausibility " +
    "band and are not comparable with the paper's values.",
};

async function curves(s: TableSection): Promise<string> {
  const ours = s.rows.filter((r) => r.status !== "reference");
  const byRow = s.curves?.byRow ?? new Map();
  const charts: string[] = [];
  const without: string[] = [];
  const drawn = new Set<string>();
  for (const r of ours) {
    const id = tableRow(s.table, r.row)?.id ?? r.row;
    drawn.add(id);
    const points = byRow.get(id) ?? [];
    if (!points.length) {
      without.push(r.row);
      continue;
    }
    const paper = s.tier === "paper" && r.paper !== null ? r.paper : undefined;
    const svg = await renderSvg(curveSpec({ title: r.row, points, unit: r.unit, paper }));
    charts.push(`<figure class="chart">${svg}</figure>`);
  }
  // Curves of rows without a result row (a table still running, or a results line left out).
  const unit = ours[0]?.unit ?? s.rows[0]?.unit ?? TABLES.find((t) => t.id === s.table)?.unit ?? "";
  for (const [id, points] of byRow) {
    if (drawn.has(id) || !points.length) continue;
    const row = tableRow(s.table, id);
    const paper = s.tier === "paper" ? row?.paper : undefined;
    const title = `${row?.label ?? id} (no result row)`;
    const svg = await renderSvg(curveSpec({ title, points, unit, paper }));
    charts.push(`<figure class="chart">${svg}</figure>`);
  }
  const notes = [];
  if (!s.curves) notes.push(`No curve file (${esc(`${s.table}-${s.tier}-curves.csv`)}) in this folder.`);
  else if (without.length) {
    notes.push(`No learning curve in ${esc(s.curves.file)} for: ${esc(without.join("; "))}.`);
  }
  if (s.tier !== "paper" && charts.length) {
    notes.push("The paper's values are not drawn: this tier is not comparable.");
  }
  return `<h3>Learning curves</h3>${notes.map((n) => `<p class="note">${n}</p>`).join("")}` +
    (charts.length ? `<div class="charts">${charts.join("")}</div>` : "");
}

/** The HTML of one section; `id` is its anchor. */
export async function tableSection(s: TableSection, id: string): Promise<string> {
  const figures = s.figures.length
    ? `<div class="figures">${s.figures.map(figureHtml).join("")}</div>`
    : `<p class="note">No figures (${esc(`${s.table}-${s.tier}-*.png`)}) in this folder.</p>`;
  return `<section id="${esc(id)}"><h2>${esc(s.title)} <span class="tier">${esc(s.tier)} tier</span></h2>` +
    `<p class="note">${esc(TIER_NOTE[s.tier] ?? "")}</p>` +
    (s.rows.length ? resultsTable(s.rows) : `<p class="note">No results rows for this table and tier.</p>`) +
    provenance(s) + await curves(s) + `<h3>Figures</h3>${figures}</section>`;
}
