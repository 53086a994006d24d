import type { Registry } from 'prom-client';
import type { DeadLetter, QueueAdmin, QueueDepth } from '@tus-edge/processors';

/** Work of one node's processor runtime, by kind. */
export interface NodeWork {
  node: string;
  /** Worker slots per kind (`processor_workers`). */
  workers: Record<string, number>;
  /** Jobs running now per kind (`processor_jobs_in_flight`). */
  inFlight: Record<string, number>;
}

/** What `GET /api/admin/overview` answers. */
export interface Overview {
  at: string;
  node: string;
  /** `embedded`: processors run in this server on the directory queue; `distributed`: workers elsewhere, on JetStream. */
  deployment: 'embedded' | 'distributed';
  queue: QueueAdmin['name'];
  /** Live depth per kind and lane (every node's jobs: the queue is shared). */
  queues: QueueDepth[];
  /**
   * Runtimes whose work this node can see: its own (the embedded processors, or the maintenance kind of
   * a distributed node). Workers on other hosts report through their own `/metrics`.
   */
  nodes: NodeWork[];
  /** The newest dead letters (jobs that failed for good), with their reasons. */
  recentFailures: DeadLetter[];
  /** What could not be read (the queue unreachable…); the rest of the answer stands. */
  problems: string[];
}

/** Sums a gauge of the registry by its `kind` label; empty when the runtime is not in this process. */
async function byKind(registry: Registry, name: string): Promise<Record<string, number>> {
  const metric = registry.getSingleMetric(name);
  if (!metric) return {};
  const out: Record<string, number> = {};
  for (const v of (await metric.get()).values) {
    const kind = String(v.labels.kind ?? '');
    if (kind) out[kind] = (out[kind] ?? 0) + v.value;
  }
  return out;
}

/** How many dead letters the overview shows. */
export const RECENT_FAILURES = 10;

/**
 * Builds the overview: the queue's depth and newest dead letters, and this node's runtime (read from
 * the gauges the runtime registers on the server's registry). A part that fails is named in `problems`.
 */
export async function buildOverview(deps: { queueAdmin: QueueAdmin; registry: Registry; node: string; now: () => Date }): Promise<Overview> {
  const { queueAdmin, registry, node } = deps;
  const problems: string[] = [];
  const attempt = async <T>(what: string, work: () => Promise<T>, fallback: T): Promise<T> => {
    try {
      return await work();
    } catch (err) {
      problems.push(`${what}: ${(err as Error).message}`);
      return fallback;
    }
  };
  const [queues, failures, workers, inFlight] = await Promise.all([
    attempt('queue depth', () => queueAdmin.depth(), []),
    attempt('dead letters', () => queueAdmin.deadLetters({ limit: RECENT_FAILURES }), { items: [], nextCursor: null }),
    byKind(registry, 'processor_workers'),
    byKind(registry, 'processor_jobs_in_flight'),
  ]);
  const nodes = Object.keys(workers).length > 0 ? [{ node, workers, inFlight: Object.fromEntries(Object.keys(workers).map((k) => [k, inFlight[k] ?? 0])) }] : [];
  return {
    at: deps.now().toISOString(),
    node,
    deployment: queueAdmin.name === 'jetstream' ? 'distributed' : 'embedded',
    queue: queueAdmin.name,
    queues,
    nodes,
    recentFailures: failures.items,
    problems,
  };
}
