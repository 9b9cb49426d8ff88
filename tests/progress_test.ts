import assert from "node:assert/strict";
import { formatDuration, Progress } from "../src/harness/progress.ts";

/** A writer that records what it is given, optionally accepting only a few bytes per call. */
class FakeOut {
  text = "";
  constructor(private readonly terminal: boolean, private readonly chunk = Infinity) {}
  isTerminal(): boolean {
    return this.terminal;
  }
  writeSync(b: Uint8Array): number {
    const n = Math.min(b.length, this.chunk);
    this.text += new TextDecoder().decode(b.subarray(0, n));
    return n;
  }
}

function clock(): { now: () => number; ms: number } {
  const c = { ms: 1000, now: () => c.ms };
  return c;
}

Deno.test("formatDuration gives h:mm:ss", () => {
  assert.equal(formatDuration(0), "0:00:00");
  assert.equal(formatDuration(59.4), "0:00:59");
  assert.equal(formatDuration(309), "0:05:09");
  assert.equal(formatDuration(3600 * 27 + 61), "27:01:01");
  assert.equal(formatDuration(NaN), "-:--:--");
  assert.equal(formatDuration(Infinity), "-:--:--");
  assert.equal(formatDuration(-1), "-:--:--");
});

Deno.test("Progress without a terminal prints plain lines at most every intervalMs, and the final line", () => {
  const out = new FakeOut(false, 7);
  const c = clock();
  const p = new Progress({
    total: 1000,
    unit: "step",
    label: "train row-lstm",
    out,
    now: c.now,
    intervalMs: 30_000,
  });
  c.ms += 10_000;
  p.update(50, { "images/s": 80, loss: "85.3 nats" });
  c.ms += 10_000;
  p.update(100, { loss: "84.0 nats" }); // within 30 s of the last line: not printed
  c.ms += 25_000;
  p.update(150, { "images/s": 53.33333, loss: 83.25 });
  c.ms += 5_000;
  p.update(1000, {});
  p.done("final nll 80.1 nats");
  const lines = out.text.split("\n");
  assert.deepEqual(lines, [
    "train row-lstm  step 50/1000  5.0%  5 step/s 80 images/s  elapsed 0:00:10  ETA 0:03:10  loss 85.3 nats",
    "train row-lstm  step 150/1000  15.0%  3.333 step/s 53.33 images/s  elapsed 0:00:45  ETA 0:04:15  loss 83.25",
    "train row-lstm  step 1000/1000  100.0%  20 step/s  elapsed 0:00:50  final nll 80.1 nats",
    "",
  ]);
  assert.ok(!out.text.includes("\r") && !out.text.includes("\x1b"), "no terminal control codes in logs");
});

Deno.test("Progress on a terminal redraws one live line at most every 100 ms", () => {
  const out = new FakeOut(true);
  const c = clock();
  const p = new Progress({ total: 10, unit: "image", label: "sample", out, now: c.now });
  p.update(0, {});
  c.ms += 50;
  p.update(1, {}); // too soon
  c.ms += 60;
  p.update(2, { "pixels/s": 1234.5678 });
  c.ms += 1890;
  p.done();
  const redraw = "\r\x1b[2K";
  const live = (s: string) => `${redraw}\x1b[?7l${s}\x1b[?7h`;
  assert.equal(
    out.text,
    live("sample  image 0/10  0.0%  0 image/s  elapsed 0:00:00  ETA -:--:--") +
      live("sample  image 2/10  20.0%  18.18 image/s 1235 pixels/s  elapsed 0:00:00  ETA 0:00:00") +
      `${redraw}sample  image 2/10  20.0%  1 image/s 1235 pixels/s  elapsed 0:00:02\n`,
  );
});

Deno.test("Progress handles an empty job and defaults", () => {
  const out = new FakeOut(false);
  const c = clock();
  const p = new Progress({ total: 0, unit: "batch", label: "eval", out, now: c.now });
  p.done();
  assert.equal(out.text, "eval  batch 0/0  100.0%  0 batch/s  elapsed 0:00:00\n");
});

Deno.test("Progress of a resumed run counts its rate and ETA from the units done when it began", () => {
  const out = new FakeOut(false);
  const c = clock();
  const p = new Progress({
    total: 2000,
    start: 1000,
    unit: "step",
    label: "train pixelcnn",
    out,
    now: c.now,
  });
  c.ms += 10_000;
  p.update(1050);
  p.done();
  assert.deepEqual(out.text.split("\n"), [
    "train pixelcnn  step 1050/2000  52.5%  5 step/s  elapsed 0:00:10  ETA 0:03:10",
    "train pixelcnn  step 1050/2000  52.5%  5 step/s  elapsed 0:00:10",
    "",
  ]);
});
