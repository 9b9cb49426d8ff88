/**
 * Issue 8, arguments: a negative number after an option is its value (and refused with what the option
 * expects, not "argument is ambiguous"), counts are plain decimal integers, and hints name CLI flags.
 */
import assert from "node:assert/strict";
import { fileURLToPath } from "node:url";
import { parseCli, positiveInt, positiveNumber, UsageError } from "../src/harness/cli/common.ts";
import { oneError, task } from "./helpers/cli.ts";

const CIFAR_FIXTURE = fileURLToPath(new URL("./fixtures/cifar10", import.meta.url));
const OPTIONS = { lr: { type: "string" }, steps: { type: "string" }, resume: { type: "boolean" } } as const;

Deno.test("parseCli takes a negative number after an option as its value", () => {
  const parse = (...args: string[]) => parseCli({ args, options: OPTIONS, allowPositionals: true });
  const values = (...args: string[]) => ({ ...parse(...args).values });
  assert.deepEqual(values("--lr", "-1", "--steps", "-5"), { lr: "-1", steps: "-5" });
  assert.deepEqual(values("--lr", "-.5e-3", "--resume"), { lr: "-.5e-3", resume: true });
  assert.deepEqual(values("--lr=-2"), { lr: "-2" });
  // A boolean option takes no value: "-1" after it stays a positional, which is refused as usual.
  assert.deepEqual(parse("--resume", "x").positionals, ["x"]);
  assert.throws(() => parse("--lr", "--resume"), UsageError);
});

Deno.test("counts are plain decimal integers; rates are decimal numbers", () => {
  for (const bad of ["1e1", "0x5", "-5", "0", "+5", " 5", "5.0", "", "1_000", "Infinity"]) {
    assert.throws(() => positiveInt("steps", bad), {
      name: "Error",
      message: `--steps must be a positive integer in plain decimal, got ${JSON.stringify(bad)}`,
    }, bad);
  }
  assert.equal(positiveInt("steps", "10"), 10);
  assert.equal(positiveInt("steps", undefined, 7), 7);
  for (const bad of ["-1", "0", "0x5", "Infinity", "NaN", "", "1e", "e3"]) {
    assert.throws(() => positiveNumber("lr", bad, 1), {
      message: `--lr must be a positive number, got ${JSON.stringify(bad)}`,
    }, bad);
  }
  assert.equal(positiveNumber("lr", "1e-3", 1), 1e-3);
  assert.equal(positiveNumber("lr", ".5", 1), 0.5);
});

Deno.test("train: --lr -1, --steps -5, --steps 1e1 and --every 0x5 say what is expected", async () => {
  const ckpt = `${await Deno.makeTempDir()}/args.safetensors`;
  const base = ["--preset", "mnist-pixelcnn", "--checkpoint", ckpt];
  const cases: [string[], string][] = [
    [["--lr", "-1"], `--lr must be a positive number, got "-1"`],
    [["--steps", "-5"], `--steps must be a positive integer in plain decimal, got "-5"`],
    [["--steps", "1e1"], `--steps must be a positive integer in plain decimal, got "1e1"`],
    [["--every", "0x5"], `--every must be a positive integer in plain decimal, got "0x5"`],
  ];
  for (const [args, expected] of cases) {
    const r = await task("train", [...base, ...args]);
    assert.equal(oneError(r), `train: ${expected}`);
    assert.equal(r.code, 2);
  }
});

Deno.test("the hint for a partial CIFAR-10 directory names --allow-subset", async () => {
  const ckpt = `${await Deno.makeTempDir()}/cifar.safetensors`;
  const r = await task("train", [
    "--preset",
    "cifar10-row-lstm",
    "--data",
    CIFAR_FIXTURE,
    "--checkpoint",
    ckpt,
  ]);
  const line = oneError(r);
  assert.match(line, /\(--allow-subset loads fewer\)$/);
  assert.doesNotMatch(line, /allowSubset/);
});
