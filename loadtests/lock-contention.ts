/**
 * Lock contention on one upload: every VU appends to the same upload at once (HEAD for the offset,
 * then PATCH there), the worst case of a client that retries while its earlier request is still
 * running, or of two tabs resuming the same file. Only one request may write at a time; the others
 * must get a protocol answer (409 offset moved, 423 locked, or our 400 UPLOAD_INTERRUPTED when a newer
 * request took the lock over) and the offset must never go backwards.
 *
 *   k6 run loadtests/lock-contention.ts
 *   k6 run -e CONTENTION_VUS=32 -e CONTENTION_CHUNK=4MiB loadtests/lock-contention.ts
 *
 * Parameters: TUS_URL, CONTENTION_VUS (8), CONTENTION_DURATION (30s), CONTENTION_CHUNK (1MiB),
 * CONTENTION_SIZE (4GiB, Upload-Length of the shared upload; must fit the server's Tus-Max-Size), CLEANUP.
 */
import { check, sleep } from 'k6';
import { Counter, Rate } from 'k6/metrics';
import type { Options } from 'k6/options';
import { CLEANUP, duration, int, size, TUS_URL } from './lib/env.ts';
import { CONTENDED_PATCH, createUpload, deleteUpload, headUpload, offsetOf, patchUpload, payload } from './lib/tus.ts';

const VUS = int('CONTENTION_VUS', 8, 2);
const HOLD = duration('CONTENTION_DURATION', '30s');
const CHUNK = size('CONTENTION_CHUNK', '1MiB');
const SIZE = size('CONTENTION_SIZE', '4GiB');

/** PATCH outcomes, tagged outcome=won|offset-moved|interrupted|locked|other. */
const outcomes = new Counter('tus_contention_outcomes');
/** Every Upload-Offset a VU sees is at least the highest it saw before. */
const monotonic = new Rate('tus_offset_monotonic');
/** PATCHes answered with an offset beyond the one they were sent at (by their own bytes or a rival's): not livelocked. */
const progress = new Rate('tus_patch_progress');

export const options: Options = {
  scenarios: {
    lock_contention: { executor: 'constant-vus', vus: VUS, duration: HOLD },
  },
  thresholds: {
    // Every response is a protocol answer: no 5xx, no reset connections.
    http_req_failed: ['rate<0.001'],
    tus_offset_monotonic: ['rate==1'],
    'tus_contention_outcomes{outcome:won}': ['count>0'],
    'tus_contention_outcomes{outcome:other}': ['count==0'],
    tus_patch_progress: ['rate>0.5'],
    // Release-on-contention: a HEAD does not wait for the PATCH holding the lock to finish.
    'http_req_duration{tus:head}': ['p(95)<250', 'p(99)<1000'],
  },
};

interface Shared {
  url: string;
}

export function setup(): Shared {
  const { url } = createUpload(TUS_URL, SIZE, { metadata: { filename: 'k6-contention.bin' } });
  if (!url) throw new Error(`could not create the shared upload at ${TUS_URL}`);
  return { url };
}

/** Highest offset this VU has seen (VU-local: each VU runs its own copy of this module). */
let highest = 0;

function saw(offset: number | undefined): void {
  if (offset === undefined) return;
  monotonic.add(offset >= highest);
  highest = Math.max(highest, offset);
}

const OUTCOME: Record<number, string> = { 204: 'won', 409: 'offset-moved', 400: 'interrupted', 423: 'locked' };

export default function contend(shared: Shared): void {
  const { offset } = headUpload(shared.url);
  saw(offset);
  if (offset === undefined) return;
  if (offset >= SIZE) {
    sleep(1);
    return;
  }
  const n = Math.min(CHUNK, SIZE - offset);
  const res = patchUpload(shared.url, offset, payload(n), { expected: CONTENDED_PATCH });
  const after = offsetOf(res);
  saw(after);
  outcomes.add(1, { outcome: OUTCOME[res.status] ?? 'other' });
  progress.add(after !== undefined && after > offset);
  check(res, {
    'contended patch: a protocol answer': (r) => r.status in OUTCOME,
    'contended patch: 204 moved the offset by the body': (r) => r.status !== 204 || after === offset + n,
  });
}

export function teardown(shared: Shared): void {
  const { offset } = headUpload(shared.url);
  console.log(`shared upload reached ${offset} bytes`);
  if (CLEANUP) deleteUpload(shared.url);
}
