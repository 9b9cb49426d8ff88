/**
 * Minimal reproduction of Deno's WebGPU teardown crash (see teardown-crash.md): threads (workers) that
 * only ask for a WebGPU adapter, no device, end while the process exits. Now and then the process
 * then dies in its exit handlers (SIGSEGV or glibc's "double free or corruption") instead of exiting 0.
 *
 *   for i in $(seq 50); do deno run -A docs/teardown_crash.ts; echo $?; done | sort | uniq -c
 */
const THREADS = 8;

if (self.name === "adapter thread") {
  const adapter = await navigator.gpu.requestAdapter();
  self.postMessage(adapter !== null);
} else {
  const workers = Array.from(
    { length: THREADS },
    () => new Worker(import.meta.url, { type: "module", name: "adapter thread" }),
  );
  await Promise.all(workers.map((w) => new Promise((done) => (w.onmessage = done))));
  for (const w of workers) w.terminate();
  Deno.exit(0);
}
