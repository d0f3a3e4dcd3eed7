/**
 * What a worker takes away from the JavaScript its Python can reach before the first interpreter
 * loads. Python reaches the worker's whole global scope (`import js`, or `Function` from any JS
 * function handed to it), so Deno's permissions for the worker bound what it can touch
 * (src/supervisor/permissions.ts); these are the few things permissions do not cover:
 *
 * - ending the thread: `Deno.exit`, `close()` (also on the global scope's prototypes) and
 *   `process.exit`/`abort`/`reallyExit` throw instead. A worker that ended silently would leave
 *   its connections without an answer, and the supervisor hears nothing when a worker exits;
 * - Deno's internal namespace (`Deno[Deno.internal]`, which reaches the runtime's core), removed
 *   once ./../serve/ws_abort.ts took the one function it needs from it.
 *
 * And one thing it adds: a refusal of Deno's permissions (`NotCapable`) says `code: "EACCES"`,
 * so Pyodide's file system (which maps node errors by their code) turns a refused read or write
 * into Python's `PermissionError` instead of failing the whole interpreter.
 *
 * Boundary: worker-side, once, at the top of each worker thread program.
 *
 * @module
 */

/**
 * Takes the thread-ending calls and Deno's internal namespace out of the worker's reach.
 *
 * @returns the names refused (for the tests)
 */
export function lockDown(): string[] {
  const refused: string[] = [];
  const refuse = (target: object | undefined, name: string, label: string) => {
    if (!target || !(name in target)) return;
    const fn = () => {
      throw new Error(
        `${label}() is not available in a siphon-deno worker: the server starts and ends workers`,
      );
    };
    Object.defineProperty(target, name, { value: fn, writable: false, configurable: false });
    refused.push(label);
  };
  refuse(Deno, "exit", "Deno.exit");
  for (let o: object | null = globalThis; o; o = Object.getPrototypeOf(o)) {
    if (Object.hasOwn(o, "close")) refuse(o, "close", "close");
  }
  const process = (globalThis as { process?: object }).process;
  for (const name of ["exit", "abort", "reallyExit"]) refuse(process, name, `process.${name}`);
  const NotCapable = (Deno.errors as Record<string, { prototype: object } | undefined>).NotCapable;
  if (NotCapable && !("code" in NotCapable.prototype)) {
    Object.defineProperty(NotCapable.prototype, "code", { get: () => "EACCES" });
  }
  const key = (Deno as unknown as { internal?: symbol }).internal;
  if (key) delete (Deno as unknown as Record<symbol, unknown>)[key];
  return refused;
}
