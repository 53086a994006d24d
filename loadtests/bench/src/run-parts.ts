/**
 * The main of every benchmark entry (bench-all.ts, patch-bench.ts, distributed/main.ts): runs the
 * given parts one after the other and prints the one summary table of all their rows.
 * Exit 0; 2 when a part's watchdog (BENCH_TIMEOUT_S) stopped it (the next part still runs); 1 on an
 * error; 130 / 143 on SIGINT / SIGTERM, once the running part has stopped what it started.
 */
import { renderSummary, type HarnessOutcome, type SummaryRow } from './summary.js';

export interface BenchPart {
  name: string;
  /** Starts the part; may throw for a bad setting. */
  start(): { done: Promise<HarnessOutcome>; abort(): Promise<void> };
}

export async function runParts(parts: BenchPart[]): Promise<void> {
  let current: { abort(): Promise<void> } | undefined;
  let stopping = false;
  // `on`, not `once`: while a listener of ours stays registered, the test services' own signal hook
  // (testing/services/process.ts) leaves the shutdown to us instead of killing the process at once.
  for (const [signal, code] of [['SIGINT', 130], ['SIGTERM', 143]] as const) {
    process.on(signal, () => {
      if (stopping) return;
      stopping = true;
      void (current?.abort() ?? Promise.resolve()).finally(() => process.exit(code));
    });
  }
  const rows: SummaryRow[] = [];
  const timedOut: string[] = [];
  try {
    for (const { name, start } of parts) {
      if (stopping) break;
      const part = start();
      current = part;
      const outcome = await part.done;
      rows.push(...outcome.summary);
      if (outcome.timedOut) timedOut.push(name);
    }
  } catch (err) {
    if (!stopping) {
      console.error(err);
      await current?.abort();
      process.exit(1);
    }
  }
  // When a signal came, its handler exits once the running part has stopped.
  if (stopping) return;
  console.log(`\n${renderSummary(rows)}`);
  if (timedOut.length) console.log(`PARTIAL: the watchdog (BENCH_TIMEOUT_S) stopped the ${timedOut.join(' and ')} part${timedOut.length > 1 ? 's' : ''}.`);
  process.exit(timedOut.length ? 2 : 0);
}
