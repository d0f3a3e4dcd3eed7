/**
 * The process's request metrics, as `/metrics` shows them: each serving worker's counts (asked
 * at scrape time), plus the counts of workers that were replaced or recycled, so the totals
 * never go down. A worker being retired is asked one last time; when it cannot answer (stuck in
 * wasm), its counts from the last scrape are kept instead.
 *
 * Boundary: supervisor-side, off the request path.
 *
 * @module
 */
import { addSnapshot, emptySnapshot, type MetricsSnapshot } from "../metrics_snapshot.ts";
import { askWorkers, type Slot } from "./ask.ts";
import { renderMetrics, type SupervisorCounters } from "./metrics_text.ts";

const ask = (slots: Slot[], timeoutMs: number) =>
  askWorkers({
    slots,
    want: "metrics",
    send: (s) => s.send({ type: "metrics" }),
    timeoutMs,
  });

/** Counts kept across worker replacements. */
export class MetricsBook {
  /** Counts of workers replaced or recycled… */
  #retired: MetricsSnapshot = emptySnapshot();
  /** …and each serving worker's counts at the last scrape, in case it cannot answer at the end. */
  readonly #lastSeen = new Map<number, MetricsSnapshot>();

  /**
   * The Prometheus page: every worker's counters (asked now) plus the supervisor's.
   *
   * @param slots the serving workers
   * @param counts the supervisor's own counters
   * @returns the page
   */
  async render(slots: Slot[], counts: SupervisorCounters): Promise<string> {
    const answers = await ask(slots, 2000);
    const workers = answers.flatMap((m) =>
      m.type === "metrics" ? [{ id: m.id, snapshot: m.snapshot }] : []
    );
    for (const w of workers) this.#lastSeen.set(w.id, w.snapshot);
    return renderMetrics(workers, counts, this.#retired);
  }

  /**
   * Keeps a worker's counts before it ends.
   *
   * @param slot the worker being replaced
   * @param waitMs how long it may take to answer (0: do not ask, e.g. metrics are off)
   */
  async retire(slot: Slot, waitMs: number): Promise<void> {
    let last = this.#lastSeen.get(slot.id);
    if (waitMs > 0) {
      try {
        const [answer] = await ask([slot], waitMs);
        if (answer.type === "metrics") last = answer.snapshot;
      } catch { /* a worker stuck in wasm: keep what the last scrape saw */ }
    }
    this.#lastSeen.delete(slot.id);
    if (last) this.#retired = addSnapshot(this.#retired, last);
  }
}
