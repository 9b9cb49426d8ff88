/**
 * For the Slurm test: checks that a merged results file holds every row of its paper table, in order, with
 * none missing, and prints its NLL column, one "row / metric: ours" a line (so two runs can be diffed).
 *
 *   deno run -A scripts/slurm/whole-nll.ts <table> FILE
 */
import { readResultsFile } from "../../src/harness/csv.ts";
import { tableById } from "../../src/harness/tables/mod.ts";

const [id, file] = Deno.args;
const rows = await readResultsFile(file);
const want = tableById(id).rows.map((r) => r.label);
const got = [...new Set(rows.map((r) => r.row))];
const missing = rows.filter((r) => r.status === "missing").map((r) => r.row);
if (JSON.stringify(got) !== JSON.stringify(want) || missing.length) {
  console.error(
    `${file}: rows ${JSON.stringify(got)}, expected ${JSON.stringify(want)}; missing: ${missing}`,
  );
  Deno.exit(1);
}
for (const r of rows) if (r.status !== "reference") console.log(`${r.row} / ${r.metric}: ${r.ours}`);
