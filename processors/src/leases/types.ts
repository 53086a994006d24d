/**
 * Who runs a job right now, across every worker that shares the queue.
 *
 * JetStream redelivers a job whose heartbeats stop reaching it, also when its worker is alive and still
 * running it (the worker's link to NATS failed for longer than the ack wait). The status guard only
 * sees finished jobs, so without a lease that job would start a second time elsewhere. A worker takes
 * the job's lease before running it and renews it with every heartbeat; a delivery that finds the lease
 * taken is postponed, and a worker that finds its lease gone stops its run without settling the job.
 *
 * Implementations: {@link RedisJobLeases} (distributed, beside the Redis status) and
 * {@link LocalJobLeases} (one process: the embedded runtime and tests). Both pass `leases.contract.ts`.
 */
export interface JobLeases {
  /** Takes the lease on `jobId` for `ttlMs`, unless anyone (this holder included) holds it. */
  acquire(jobId: string, ttlMs: number): Promise<boolean>;
  /** Extends a lease this holder has; false when it no longer has it (it ran out, maybe taken since). */
  renew(jobId: string, ttlMs: number): Promise<boolean>;
  /** Gives the lease up if this holder has it. */
  release(jobId: string): Promise<void>;
  close(): Promise<void>;
}
