/** Small HTML pieces of the report: escaping, status badges, numbers, inlined figures. */
import { Buffer } from "node:buffer";
import type { Figure } from "./inputs.ts";

/** Text made safe for HTML content and attribute values. */
export function esc(s: string): string {
  return s.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

/** Status words, with a symbol so that colour is never the only cue. */
const STATUS: Record<string, string> = {
  pass: "✓ pass",
  fail: "✗ fail",
  "not-comparable": "○ not comparable",
  reference: "reference",
  missing: "? missing",
};

/** A row's status as a coloured badge that also says it in words. */
export function statusBadge(status: string): string {
  const known = status in STATUS;
  return `<span class="status ${known ? `status-${status}` : ""}">${esc(STATUS[status] ?? status)}</span>`;
}

/** "1,234,567" */
export function count(n: number | null): string {
  return n === null ? "" : n.toLocaleString("en-US");
}

/** Seconds as "42s", "3m05s" or "2h07m". */
export function duration(s: number | null): string {
  if (s === null) return "";
  const t = Math.round(s);
  if (t < 60) return `${t}s`;
  if (t < 3600) return `${Math.floor(t / 60)}m${String(t % 60).padStart(2, "0")}s`;
  return `${Math.floor(t / 3600)}h${String(Math.floor((t % 3600) / 60)).padStart(2, "0")}m`;
}

/** A value in the table's unit: nats to 2 decimals, bits/dim to 3. */
export function value(v: number | null, unit: string): string {
  return v === null ? "" : v.toFixed(unit === "nats" ? 2 : 3);
}

/** A PNG figure inlined as a data URI, small images shown at twice their size with sharp pixels. */
export function figureHtml(f: Figure): string {
  const scale = f.width <= 300 ? 2 : 1;
  const src = `data:image/png;base64,${Buffer.from(f.png).toString("base64")}`;
  return `<figure class="image"><img src="${src}" width="${f.width * scale}" height="${f.height * scale}" ` +
    `alt="${esc(f.caption)}"><figcaption>${esc(f.caption)} <span class="file">${esc(f.file)}</span>` +
    `</figcaption></figure>`;
}
