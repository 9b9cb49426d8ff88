/** Every calibration run a paper-tier recipe cites agrees with its committed learning curve. */
import { ok, strictEqual } from "node:assert/strict";
import { CURVE_COLUMNS } from "../src/harness/curves.ts";
import { TABLES } from "../src/harness/tables/mod.ts";

const ROOT = new URL("../", import.meta.url);

Deno.test("recipe evidence: each cited curve exists under results/calibration/ and holds the figures cited", () => {
  let cited = 0;
  for (const table of TABLES) {
    for (const row of table.rows) {
      for (const run of row.tiers?.paper.recipe?.evidence ?? []) {
        cited++;
        const what = `${table.id}/${row.id}: ${run.curve}`;
        ok(run.curve.startsWith("results/calibration/"), `${what}: not under results/calibration/`);
        const [head, ...lines] = Deno.readTextFileSync(new URL(run.curve, ROOT)).trim().split("\n");
        strictEqual(head, CURVE_COLUMNS.join(","), `${what}: header`);
        const points = lines.map((l) => l.split(",").map((v) => (v === "" ? NaN : Number(v))));
        const last = points[points.length - 1];
        strictEqual(run.steps, last[0], `${what}: steps`);
        strictEqual(run.imagesSeen, last[1], `${what}: images seen`);
        const validated = points.filter((p) => !Number.isNaN(p[5]));
        ok(validated.length > 0, `${what}: no validation in the curve`);
        const best = validated.reduce((a, b) => (b[5] < a[5] ? b : a));
        strictEqual(run.bestStep, best[0], `${what}: best step`);
        strictEqual(run.bestValidNll, best[5], `${what}: best validation NLL`);
      }
    }
  }
  ok(cited > 0, "no recipe cites a calibration run");
});
