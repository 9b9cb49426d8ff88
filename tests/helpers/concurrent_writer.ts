/**
 * One of the processes of tests/lock_test.ts: adds `count` rows, one at a time, to a results file and to
 * a table's curve file, as `repro` does after each row.
 * Usage: deno run -A concurrent_writer.ts RESULTS CURVES TAG COUNT
 */
import type { ResultRow } from "../../src/harness/csv.ts";
import { collectCurve, CURVE_COLUMNS } from "../../src/harness/curves.ts";
import { updateResultsFile } from "../../src/harness/results_update.ts";

const [results, curves, tag, count] = Deno.args;
const curve = await Deno.makeTempFile({ suffix: ".curve.csv" });
await Deno.writeTextFile(curve, `${CURVE_COLUMNS.join(",")}\n1,4,0.5,90,0.001,\n2,8,1,80,0.001,85\n`);

for (let i = 0; i < Number(count); i++) {
  const row: ResultRow = {
    table: "mnist",
    row: `${tag} ${i}`,
    model: "pixelcnn 1x4",
    dataset: "binarized-mnist",
    dataset_fingerprint: "",
    tier: "smoke",
    metric: "nll-test",
    unit: "nats",
    paper: 80,
    ours: 100 + i,
    tolerance: null,
    status: "not-comparable",
    steps: 2,
    images_seen: 8,
    wall_s: 1,
    adapter: "test",
    git_commit: "abc1234",
    config: "{}",
  };
  await updateResultsFile(results, [row]);
  await collectCurve(curves, `${tag}-${i}`, curve, []);
}
