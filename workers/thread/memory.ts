/**
 * What a worker's memory is: its interpreter's wasm memory (Python's heap lives in it; it grows
 * and never shrinks) plus the worker's V8 heap — measured for `recycle.max_memory_mb` and for
 * the leak checks' stats.
 *
 * Boundary: worker-side, off the request path (once a second, and when asked).
 *
 * @module
 */
import type { PyodideAPI } from "pyodide";
import type { PyProxy } from "pyodide/ffi";
import type { WorkerStats } from "../../src/protocol.ts";

/**
 * @param py an interpreter
 * @returns the size of its wasm memory, bytes
 */
export function wasmBytes(py: PyodideAPI): number {
  // deno-lint-ignore no-explicit-any
  return ((py as any)._module?.HEAP8?.byteLength ?? 0) as number;
}

/**
 * What `recycle.max_memory_mb` asks of a worker now: nothing; a fresh interpreter (over the
 * bound); or its replacement outright (over twice the bound: the recycle did not come in time,
 * or the old interpreter keeps growing).
 *
 * @param py the serving interpreter
 * @param maxMb the bound (0: off)
 * @returns what to do, and why
 */
export function memoryVerdict(
  py: PyodideAPI,
  maxMb: number,
): { act: "none" | "recycle" | "replace"; why: string } {
  if (maxMb <= 0) return { act: "none", why: "" };
  const mb = (wasmBytes(py) + Deno.memoryUsage().heapTotal) / 1048576;
  const held = `holds ${Math.round(mb)} MiB (wasm + V8 heap)`;
  if (mb > 2 * maxMb) {
    return { act: "replace", why: `${held}, over twice recycle.max_memory_mb (${maxMb})` };
  }
  if (mb > maxMb) return { act: "recycle", why: `${held} > recycle.max_memory_mb ${maxMb}` };
  return { act: "none", why: "" };
}

/**
 * Memory after a full collection in V8 (needs --expose-gc) and in Python.
 *
 * @param id the worker
 * @param py its interpreter
 * @param runtime Python's `siphon._runtime` in it
 * @returns the stats
 */
export function memoryStats(id: number, py: PyodideAPI, runtime: PyProxy): WorkerStats {
  (globalThis as { gc?: () => void }).gc?.();
  const pyObjects: number = runtime.memory_stats();
  return { id, heapUsed: Deno.memoryUsage().heapUsed, wasmBytes: wasmBytes(py), pyObjects };
}
