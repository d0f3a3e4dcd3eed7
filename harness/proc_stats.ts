/**
 * What a server process uses, read from /proc for tests and benchmarks: resident memory (once,
 * or its peak over a piece of work) and CPU time.
 *
 * Deno lets a program read /proc only with `--allow-all`. The test and measurement permission
 * sets (deno.json) grant `run` instead, so /proc is read by a small shell command.
 *
 * @module
 */

async function sh(script: string): Promise<string> {
  const out = await new Deno.Command("sh", { args: ["-c", script], stdout: "piped" }).output();
  return new TextDecoder().decode(out.stdout);
}

const pidsOf = (pid: number, children: boolean) =>
  children ? `${pid} $(cat /proc/${pid}/task/*/children 2>/dev/null)` : String(pid);

const sumKb = (text: string) =>
  [...text.matchAll(/VmRSS:\s+(\d+)/g)].reduce((kb, m) => kb + Number(m[1]), 0);

/**
 * Resident set size of a process (and its direct children, e.g. uvicorn's workers).
 *
 * @param pid process id
 * @param options `children`: add the children's RSS @default false
 * @returns MiB
 */
export async function rssMiB(pid: number, options: { children?: boolean } = {}): Promise<number> {
  const pids = pidsOf(pid, options.children ?? false);
  return sumKb(await sh(`for p in ${pids}; do grep VmRSS /proc/$p/status; done`)) / 1024;
}

/**
 * Runs `work` while sampling the process's RSS every 20 ms.
 *
 * @param pid process id
 * @param work what to measure
 * @param options `children`: sum its direct children's RSS in too (uvicorn's workers)
 *   @default false
 * @returns the work's result and the RSS peak's growth over the start, in MiB
 */
export async function peakGrowth<T>(
  pid: number,
  work: () => Promise<T>,
  options: { children?: boolean } = {},
): Promise<[T, number]> {
  const children = options.children ?? false;
  const before = await rssMiB(pid, { children });
  const pids = (await sh(`echo ${pidsOf(pid, children)}`)).trim();
  const sampler = new Deno.Command("sh", {
    args: [
      "-c",
      `while kill -0 ${pid}; do for p in ${pids}; do grep VmRSS /proc/$p/status; done; ` +
      "echo .; sleep 0.02; done",
    ],
    stdout: "piped",
    stderr: "null",
  }).spawn();
  let peak = before;
  const reading = (async () => {
    let pending = "";
    for await (const chunk of sampler.stdout.pipeThrough(new TextDecoderStream())) {
      pending += chunk;
      const samples = pending.split(".\n");
      pending = samples.pop()!;
      for (const sample of samples) peak = Math.max(peak, sumKb(sample) / 1024);
    }
  })();
  try {
    return [await work(), peak - before];
  } finally {
    sampler.kill("SIGKILL");
    await sampler.status;
    await reading;
  }
}

/**
 * CPU time a process (every thread) has used so far: user + system, from /proc/PID/stat.
 *
 * @param pid process id
 * @param options `children`: add its direct children's @default false
 * @returns seconds
 */
export async function cpuSeconds(
  pid: number,
  options: { children?: boolean } = {},
): Promise<number> {
  const pids = pidsOf(pid, options.children ?? false);
  const text = await sh(`for p in ${pids}; do cat /proc/$p/stat; echo; done`);
  let ticks = 0;
  for (const line of text.split("\n")) {
    // Fields after the command name (which may hold spaces) start at state; utime, stime are
    // fields 14 and 15 of the line, i.e. 11 and 12 after ") ".
    const rest = line.slice(line.lastIndexOf(") ") + 2).split(" ");
    if (rest.length > 12) ticks += Number(rest[11]) + Number(rest[12]);
  }
  return ticks / 100; // USER_HZ is 100 on Linux
}
