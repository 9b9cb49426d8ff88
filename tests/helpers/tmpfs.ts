/**
 * A small tmpfs, the test's stand-in for a disk that fills up: mounting one needs root (and a kernel
 * that lets this process mount), so tests that use it are skipped elsewhere.
 */

async function run(cmd: string, ...args: string[]): Promise<boolean> {
  const out = await new Deno.Command(cmd, { args, stdout: "null", stderr: "null" }).output().catch(() =>
    null
  );
  return out?.success ?? false;
}

async function mount(dir: string, bytes: number): Promise<boolean> {
  return await run("mount", "-t", "tmpfs", "-o", `size=${bytes}`, "tmpfs", dir);
}

/** Whether this process can mount a tmpfs (tried once, on a throwaway folder). */
export const CAN_MOUNT_TMPFS = Deno.build.os === "linux" && Deno.uid() === 0 &&
  await (async () => {
    const dir = await Deno.makeTempDir();
    const ok = await mount(dir, 4096);
    if (ok) await run("umount", dir);
    await Deno.remove(dir);
    return ok;
  })();

/** Runs `fn` with a fresh tmpfs of `bytes` mounted on a temporary folder, unmounted afterwards. */
export async function withTmpfs(bytes: number, fn: (dir: string) => Promise<void>): Promise<void> {
  const dir = await Deno.makeTempDir({ prefix: "full-disk-" });
  if (!await mount(dir, bytes)) throw new Error(`cannot mount a tmpfs on ${dir}`);
  try {
    await fn(dir);
  } finally {
    await run("umount", dir);
    await Deno.remove(dir);
  }
}
