/**
 * Many small uploads: VUs that each create an upload, send it in PATCHes, confirm the offset with HEAD
 * and delete it, over and over (ramping-vus: ramp up, hold, ramp down).
 *
 *   k6 run loadtests/small-uploads.ts
 *   k6 run -e TUS_URL=https://uploads.example.com/files/ -e SMALL_VUS=100 -e SMALL_SIZE=1MiB loadtests/small-uploads.ts
 *
 * Parameters: TUS_URL, SMALL_SIZE (256KiB), SMALL_CHUNK (1MiB; at least SMALL_SIZE = one PATCH),
 * SMALL_VUS (20), SMALL_RAMP (10s), SMALL_DURATION (1m), SMALL_CREATION_WITH_UPLOAD (false: POST then
 * PATCH; true: the first chunk rides on the POST), CLEANUP (true).
 */
import { check } from 'k6';
import exec from 'k6/execution';
import { Counter, Trend } from 'k6/metrics';
import type { Options } from 'k6/options';
import { bool, CLEANUP, duration, int, size, TUS_URL } from './lib/env.ts';
import { appendAll, createUpload, deleteUpload, headUpload, offsetOf, payload } from './lib/tus.ts';

const SIZE = size('SMALL_SIZE', '256KiB');
const CHUNK = size('SMALL_CHUNK', '1MiB');
const VUS = int('SMALL_VUS', 20, 1);
const RAMP = duration('SMALL_RAMP', '10s');
const HOLD = duration('SMALL_DURATION', '1m');
const WITH_UPLOAD = bool('SMALL_CREATION_WITH_UPLOAD', false);

/** Creation to last byte acknowledged, per upload. */
const uploadDuration = new Trend('tus_upload_duration', true);
const completed = new Counter('tus_uploads_completed');

export const options: Options = {
  scenarios: {
    small_uploads: {
      executor: 'ramping-vus',
      startVUs: 0,
      stages: [
        { duration: RAMP, target: VUS },
        { duration: HOLD, target: VUS },
        { duration: RAMP, target: 0 },
      ],
      gracefulRampDown: '30s',
    },
  },
  thresholds: {
    http_req_failed: ['rate<0.01'],
    checks: ['rate>0.99'],
    'http_req_duration{tus:create}': ['p(95)<100', 'p(99)<250'],
    'http_req_duration{tus:patch}': ['p(95)<250', 'p(99)<1000'],
    'http_req_duration{tus:head}': ['p(99)<100'],
    tus_upload_duration: ['p(95)<500'],
    tus_uploads_completed: ['count>0'],
  },
};

export default function smallUpload(): void {
  const started = Date.now();
  const first = Math.min(SIZE, CHUNK);
  const created = createUpload(TUS_URL, SIZE, {
    metadata: { filename: `k6-small-${exec.vu.idInTest}-${exec.vu.iterationInScenario}.bin`, filetype: 'application/octet-stream' },
    body: WITH_UPLOAD ? payload(first) : undefined,
  });
  if (!created.url) return;
  const start = WITH_UPLOAD ? (offsetOf(created.res) ?? 0) : 0;
  const offset = appendAll(created.url, SIZE, CHUNK, start);
  if (offset === SIZE) {
    completed.add(1);
    uploadDuration.add(Date.now() - started);
  }
  const head = headUpload(created.url);
  check(head, { 'head: offset equals Upload-Length': (h) => h.offset === SIZE });
  if (CLEANUP) deleteUpload(created.url);
}
