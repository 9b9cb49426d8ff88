/**
 * Progress lines for long work (training, evaluation, sampling). On a terminal one live line is redrawn
 * in place; in logs (CI, files, pipes) a plain line is printed now and then, so logs stay short.
 */

/** Where progress goes: anything shaped like `Deno.stderr`. */
export interface ProgressOutput {
  isTerminal(): boolean;
  writeSync(b: Uint8Array): number;
}

/** Options for {@link Progress}. */
export interface ProgressOptions {
  /** Units of work in all, e.g. training steps. */
  total: number;
  /** Units already done when this progress began (a resumed run); rate and ETA count from here. Default 0. */
  start?: number;
  /** Name of one unit, e.g. "step". */
  unit: string;
  /** What is running, e.g. "train diagonal-bilstm". */
  label: string;
  /** Default `Deno.stderr`. */
  out?: ProgressOutput;
  /** Least time between plain (non-terminal) lines in ms; default 30 000. */
  intervalMs?: number;
  /** Clock in ms; default `performance.now`. */
  now?: () => number;
}

/** Least time between redraws of the live terminal line. */
const TTY_INTERVAL_MS = 100;
/** Carriage return, then erase the whole line. */
const REDRAW = "\r\x1b[2K";
/**
 * Turn terminal auto-wrap off / on around the live line: a line wider than the terminal is cut off instead
 * of wrapping, since "\r" only returns to the start of the last wrapped row and redraws would pile up.
 */
const NO_WRAP = "\x1b[?7l";
const WRAP = "\x1b[?7h";

/** Formats seconds as h:mm:ss (e.g. 0:05:09, 27:00:00); "-:--:--" when unknown. */
export function formatDuration(seconds: number): string {
  if (!Number.isFinite(seconds) || seconds < 0) return "-:--:--";
  const s = Math.round(seconds);
  const two = (n: number) => String(n).padStart(2, "0");
  return `${Math.floor(s / 3600)}:${two(Math.floor(s / 60) % 60)}:${two(s % 60)}`;
}

/** Integers as they are; other numbers to 4 significant digits, without exponent for ordinary sizes. */
function formatNumber(x: number): string {
  if (Number.isInteger(x)) return String(x);
  if (Math.abs(x) >= 1000) return x.toFixed(0);
  return String(Number(x.toPrecision(4)));
}

/**
 * Reports progress of `total` units of work. Each line shows the label, done/total, percentage, the rate
 * in units/s, elapsed time, ETA and the caller's fields. A field whose name ends in "/s" (for example
 * `"images/s"`) is a rate and is shown as `218 images/s` next to the unit rate; other fields are shown as
 * `name value` (for example `loss 85.3 nats` from `{ loss: "85.3 nats" }`).
 */
export class Progress {
  private readonly out: ProgressOutput;
  private readonly tty: boolean;
  private readonly interval: number;
  private readonly now: () => number;
  private readonly start: number;
  private lastWrite = -Infinity;
  private doneCount: number;
  private fields: Record<string, string | number> = {};

  constructor(private readonly opts: ProgressOptions) {
    this.out = opts.out ?? Deno.stderr;
    this.tty = this.out.isTerminal();
    this.interval = this.tty ? TTY_INTERVAL_MS : opts.intervalMs ?? 30_000;
    this.now = opts.now ?? (() => performance.now());
    this.start = this.now();
    this.doneCount = opts.start ?? 0;
  }

  /** Records that `done` units are complete, with the current fields; writes a line if one is due. */
  update(done: number, fields: Record<string, string | number> = {}): void {
    this.doneCount = done;
    this.fields = fields;
    const t = this.now();
    if (t - this.lastWrite < this.interval) return;
    this.lastWrite = t;
    const line = this.line(t, false);
    this.write(this.tty ? REDRAW + NO_WRAP + line + WRAP : line + "\n");
  }

  /** Writes the final line (no ETA), with `summary` appended, and ends the live line on a terminal. */
  done(summary?: string): void {
    const line = this.line(this.now(), true) + (summary ? `  ${summary}` : "");
    this.write((this.tty ? REDRAW : "") + line + "\n");
  }

  private line(t: number, final: boolean): string {
    const { total, unit, label } = this.opts;
    const elapsed = (t - this.start) / 1000;
    const rate = elapsed > 0 ? (this.doneCount - (this.opts.start ?? 0)) / elapsed : 0;
    const pct = total > 0 ? (100 * this.doneCount) / total : 100;
    const rates = [`${formatNumber(rate)} ${unit}/s`];
    const others: string[] = [];
    for (const [name, value] of Object.entries(this.fields)) {
      const text = typeof value === "number" ? formatNumber(value) : value;
      if (name.endsWith("/s")) rates.push(`${text} ${name}`);
      else others.push(`${name} ${text}`);
    }
    const parts = [
      label,
      `${unit} ${this.doneCount}/${total}`,
      `${pct.toFixed(1)}%`,
      rates.join(" "),
      `elapsed ${formatDuration(elapsed)}`,
      ...(final ? [] : [`ETA ${formatDuration(rate > 0 ? (total - this.doneCount) / rate : NaN)}`]),
      ...others,
    ];
    return parts.join("  ");
  }

  private write(text: string): void {
    const bytes = new TextEncoder().encode(text);
    for (let at = 0; at < bytes.length;) at += this.out.writeSync(bytes.subarray(at));
  }
}
