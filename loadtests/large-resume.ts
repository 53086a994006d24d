/**
 * One large upload with interruptions and resume, as a client on a bad connection does it: PATCH in
 * chunks; every LARGE_INTERRUPT_EVERY-th request carries a bigger body and a timeout short enough that
 * k6 cuts it mid-body; then wait, HEAD for the offset the server kept, and carry on from there.
 * Verifies what the protocol promises: no acknowledged byte is ever lost, and the upload completes.
 *
 *   k6 run loadtests/large-resume.ts
 *   k6 run -e LARGE_SIZE=5GiB -e LARGE_VUS=4 -e LARGE_MIN_MIBPS=50 loadtests/large-resume.ts
 *
 * Parameters: TUS_URL, LARGE_SIZE (1GiB), LARGE_CHUNK (8MiB), LARGE_VUS (1 upload per VU, in parallel),
 * LARGE_INTERRUPT_EVERY (16; 0 = never), LARGE_INTERRUPT_BYTES (64MiB, body of the request that is cut),
 * LARGE_INTERRUPT_AFTER (50ms, its timeout), LARGE_RESUME_DELAY_MS (500), LARGE_MIN_MIBPS (20),
 * LARGE_MAX_DURATION (10m), CLEANUP.
 */
import { check, sleep } from 'k6';
import exec from 'k6/execution';
import { Counter, Rate, Trend } from 'k6/metrics';
import type { Options } from 'k6/options';
import { CLEANUP, duration, int, size, TUS_URL } from './lib/env.ts';
import { createUpload, deleteUpload, ERR_REQUEST_TIMEOUT, headUpload, offsetOf, patchUpload, payload } from './lib/tus.ts';

const MiB = 1024 * 1024;
const SIZE = size('LARGE_SIZE', '1GiB');
const CHUNK = size('LARGE_CHUNK', '8MiB');
const VUS = int('LARGE_VUS', 1, 1);
const INTERRUPT_EVERY = int('LARGE_INTERRUPT_EVERY', 16, 0);
const INTERRUPT_BYTES = size('LARGE_INTERRUPT_BYTES', '64MiB');
const INTERRUPT_AFTER = duration('LARGE_INTERRUPT_AFTER', '50ms');
const RESUME_DELAY_S = int('LARGE_RESUME_DELAY_MS', 500, 0) / 1000;
const MIN_MIBPS = int('LARGE_MIN_MIBPS', 20, 0);
const MAX_DURATION = duration('LARGE_MAX_DURATION', '10m');
/** Resume attempts in a row without progress before the upload is given up. */
const MAX_STALLS = 5;

const completed = new Rate('tus_upload_completed');
/** Per resume: the server's offset is at least every offset it acknowledged with a 204. */
const ackedKept = new Rate('tus_acked_bytes_kept');
/** PATCHes sent with the normal timeout that got 204 and the right Upload-Offset. */
const patchOk = new Rate('tus_patch_ok');
const interruptions = new Counter('tus_interruptions');
/** Bytes of cut requests the server kept (the resume did not have to send them again). */
const keptFromCut = new Counter('tus_bytes_kept_from_cut_requests');
const mibps = new Trend('tus_upload_mibps');

export const options: Options = {
  scenarios: {
    large_resume: { executor: 'per-vu-iterations', vus: VUS, iterations: 1, maxDuration: MAX_DURATION },
  },
  thresholds: {
    tus_upload_completed: ['rate==1'],
    tus_acked_bytes_kept: ['rate==1'],
    tus_patch_ok: ['rate>0.99'],
    'http_req_failed{tus:create}': ['rate==0'],
    'http_req_failed{tus:head}': ['rate==0'],
    // A reconnecting client learns its offset quickly even while the cut request still holds the lock.
    'http_req_duration{tus:head}': ['p(99)<1000'],
    tus_upload_mibps: [`min>${MIN_MIBPS}`],
  },
};

export default function largeUpload(): void {
  const { url } = createUpload(TUS_URL, SIZE, {
    metadata: { filename: `k6-large-${exec.vu.idInTest}.bin`, filetype: 'application/octet-stream' },
  });
  if (!url) {
    completed.add(false);
    return;
  }
  const started = Date.now();
  let offset = 0;
  let acked = 0;
  let sent = 0;
  let stalls = 0;
  while (offset < SIZE && stalls < MAX_STALLS) {
    sent++;
    const cut = INTERRUPT_EVERY > 0 && sent % INTERRUPT_EVERY === 0;
    const n = Math.min(cut ? INTERRUPT_BYTES : CHUNK, SIZE - offset);
    const res = cut
      ? patchUpload(url, offset, payload(n), { timeout: INTERRUPT_AFTER, tags: { interrupt: 'yes' } })
      : patchUpload(url, offset, payload(n));
    if (res.status === 204 && offsetOf(res) === offset + n) {
      if (!cut) patchOk.add(true);
      offset = acked = offset + n;
      stalls = 0;
      continue;
    }
    if (cut && res.error_code === ERR_REQUEST_TIMEOUT) interruptions.add(1);
    else if (!cut) patchOk.add(false);
    // Resume: the client came back; ask the server what it kept.
    sleep(RESUME_DELAY_S);
    const head = headUpload(url, { tags: { phase: 'resume' } });
    if (head.offset === undefined) {
      stalls++;
      continue;
    }
    ackedKept.add(head.offset >= acked);
    if (cut && head.offset > offset) keptFromCut.add(head.offset - offset);
    stalls = head.offset > offset ? 0 : stalls + 1;
    offset = head.offset;
  }
  const seconds = (Date.now() - started) / 1000;
  completed.add(offset === SIZE);
  if (offset === SIZE) mibps.add(SIZE / MiB / seconds);
  const final = headUpload(url);
  check(final, { 'head: complete upload has offset = length': (h) => h.offset === SIZE });
  if (CLEANUP) deleteUpload(url);
}
