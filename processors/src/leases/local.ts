import { randomUUID } from 'node:crypto';
import type { JobLeases } from './types.js';

/** The leases of one process, by job id; holders that share one exclude each other. */
export type LeaseTable = Map<string, { holder: string; expiresAt: number }>;

/**
 * {@link JobLeases} inside one process. Holders that should exclude each other share one `leases` map
 * (the embedded runtime has a single holder; tests give two holders one map to play two workers).
 */
export class LocalJobLeases implements JobLeases {
  private readonly holder = randomUUID();

  constructor(
    private readonly leases: LeaseTable = new Map(),
    private readonly now: () => number = Date.now,
  ) {}

  async acquire(jobId: string, ttlMs: number): Promise<boolean> {
    const current = this.leases.get(jobId);
    if (current && current.expiresAt > this.now()) return false;
    this.leases.set(jobId, { holder: this.holder, expiresAt: this.now() + ttlMs });
    return true;
  }

  async renew(jobId: string, ttlMs: number): Promise<boolean> {
    const current = this.leases.get(jobId);
    if (!current || current.holder !== this.holder || current.expiresAt <= this.now()) return false;
    current.expiresAt = this.now() + ttlMs;
    return true;
  }

  async release(jobId: string): Promise<void> {
    if (this.leases.get(jobId)?.holder === this.holder) this.leases.delete(jobId);
  }

  async close(): Promise<void> {}
}
