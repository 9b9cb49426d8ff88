/**
 * How busy the machine was with other processes while a figure was sampled. The bench machines are
 * shared, and the software adapter runs on the same CPU cores as everything else, so a figure taken
 * while another process used a core can be half as fast; the table shows this next to each figure.
 * Reads /proc (Linux); elsewhere the meter reports nothing.
 */

/** Clock ticks per second of /proc/stat and /proc/self/stat (USER_HZ, 100 on Linux). */
const TICKS = 100;

interface Snapshot {
  /** Busy ticks of all CPUs together. */
  busy: number;
  /** Ticks this process (all threads) spent on a CPU. */
  own: number;
  ms: number;
}

function snapshot(): Snapshot | null {
  try {
    const cpu = Deno.readTextFileSync("/proc/stat").split("\n")[0].trim().split(/\s+/).slice(1).map(Number);
    // user nice system idle iowait irq softirq steal ...: everything but idle and iowait is busy.
    const busy = cpu.slice(0, 8).reduce((a, b) => a + b, 0) - cpu[3] - cpu[4];
    const self = Deno.readTextFileSync("/proc/self/stat");
    const fields = self.slice(self.lastIndexOf(")") + 2).split(" ");
    // Fields after the command name start at field 3 (state); utime and stime are fields 14 and 15.
    const own = Number(fields[11]) + Number(fields[12]);
    return { busy, own, ms: performance.now() };
  } catch {
    return null;
  }
}

/** Accumulates, over the intervals it is started and stopped, the CPU time other processes used. */
export class LoadMeter {
  private otherSeconds = 0;
  private seconds = 0;
  private open: Snapshot | null = null;

  start(): void {
    this.open = snapshot();
  }

  stop(): void {
    const a = this.open, b = snapshot();
    this.open = null;
    if (!a || !b) return;
    this.otherSeconds += Math.max(0, (b.busy - a.busy) - (b.own - a.own)) / TICKS;
    this.seconds += (b.ms - a.ms) / 1e3;
  }

  /** Average number of cores other processes kept busy, or null when unknown. */
  get otherCores(): number | null {
    return this.seconds > 0 ? this.otherSeconds / this.seconds : null;
  }
}
