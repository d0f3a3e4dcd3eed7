/**
 * Process signals, caught from the first moment of the process. `main.ts` creates
 * {@link Signals} before it loads anything else (on a cold module cache that load takes seconds),
 * so a SIGTERM that arrives while the server boots is remembered instead of killing it; `serve`
 * then drains once it is up. Commands that do not drain {@link Signals.release} the handlers.
 *
 * Boundary: no imports, so it costs nothing to load before the rest.
 *
 * @module
 */

const STOP_SIGNALS = ["SIGINT", "SIGTERM"] as const;

/** SIGINT/SIGTERM (stop) and SIGHUP (reload), recorded until someone takes them. */
export class Signals {
  #stops = 0;
  #reloads = 0;
  #onStop: (() => void) | null = null;
  #onReload: (() => void) | null = null;
  readonly #stop = () => {
    // A second stop signal ends the process at once, draining or not.
    if (++this.#stops > 1) Deno.exit(130);
    this.#onStop?.();
  };
  readonly #reload = () => {
    this.#reloads++;
    this.#onReload?.();
  };

  /** Installs the listeners. */
  constructor() {
    for (const s of STOP_SIGNALS) Deno.addSignalListener(s, this.#stop);
    Deno.addSignalListener("SIGHUP", this.#reload);
  }

  /** Whether a stop signal has arrived. */
  get stopping(): boolean {
    return this.#stops > 0;
  }

  /**
   * Calls `fn` on the first stop signal, at once if one already came.
   *
   * @param fn starts the drain
   */
  onStop(fn: () => void): void {
    this.#onStop = fn;
    if (this.#stops > 0) fn();
  }

  /**
   * Calls `fn` on every SIGHUP, once at once if some came earlier (and no stop signal did).
   *
   * @param fn reloads
   */
  onReload(fn: () => void): void {
    this.#onReload = fn;
    if (this.#reloads > 0 && this.#stops === 0) fn();
  }

  /**
   * Gives the signals back their default actions (for commands that do not drain); a stop
   * signal that already came ends the process now.
   */
  release(): void {
    for (const s of STOP_SIGNALS) Deno.removeSignalListener(s, this.#stop);
    Deno.removeSignalListener("SIGHUP", this.#reload);
    if (this.#stops > 0) Deno.exit(130);
  }
}
