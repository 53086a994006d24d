/** The operator's reopen (a dead-lettered job retried): only a `failed` job of the same event goes back. */
import { describe, expect, it } from 'vitest';
import { applyUpdate, type ProcessingStatus } from './types.js';

const now = new Date('2026-12-02T08:00:00.000Z');
const base = { uploadId: 'u1', eventId: 'upload-u1' };

function withJob(state: 'failed' | 'done' | 'skipped'): ProcessingStatus {
  const status = applyUpdate(null, { ...base, kind: 'documents', patch: { state, reason: 'CORRUPT_FILE: broken', code: 'CORRUPT_FILE', attempts: 2 } }, now)!;
  return applyUpdate(status, { ...base, kind: 'fingerprint', patch: { state: 'done' } }, now)!;
}

describe('reopening a job status', () => {
  it('takes a failed job back to queued, clears its reason, and the aggregate follows', () => {
    const failed = withJob('failed');
    expect(failed.state).toBe('failed');
    const patch = { state: 'queued' as const, attempts: 0, reason: undefined, code: undefined };
    expect(applyUpdate(failed, { ...base, kind: 'documents', patch }, now)).toBeNull();
    const reopened = applyUpdate(failed, { ...base, kind: 'documents', reopen: true, patch }, now)!;
    expect(reopened.jobs.documents).toMatchObject({ state: 'queued', attempts: 0 });
    expect(JSON.parse(JSON.stringify(reopened.jobs.documents)).reason).toBeUndefined();
    expect(reopened).toMatchObject({ state: 'queued' });
    expect(reopened.reason).toBeUndefined();
  });

  it('leaves done and skipped jobs final', () => {
    for (const state of ['done', 'skipped'] as const) {
      expect(applyUpdate(withJob(state), { ...base, kind: 'documents', reopen: true, patch: { state: 'queued' } }, now)).toBeNull();
    }
  });
});
