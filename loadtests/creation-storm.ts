/**
 * Creation storm: POSTs arriving at a fixed, ramping rate whatever the latency (ramping-arrival-rate),
 * the way a burst of clients starting uploads at once hits the server. Each new upload is deleted
 * right away unless CLEANUP=false (the DELETEs are tagged apart and do not count in the POST SLOs).
 *
 *   k6 run loadtests/creation-storm.ts
 *   k6 run -e CREATE_RATE=1000 -e CREATE_MAX_VUS=500 loadtests/creation-storm.ts
 *
 * Parameters: TUS_URL, CREATE_RATE (200 POST/s at the plateau), CREATE_RAMP (10s), CREATE_DURATION
 * (30s at the plateau), CREATE_MAX_VUS (200), CREATE_LENGTH (1MiB, the announced Upload-Length), CLEANUP.
 */
import exec from 'k6/execution';
import type { Options } from 'k6/options';
import { CLEANUP, duration, int, size, TUS_URL } from './lib/env.ts';
import { createUpload, deleteUpload } from './lib/tus.ts';

const RATE = int('CREATE_RATE', 200, 1);
const RAMP = duration('CREATE_RAMP', '10s');
const HOLD = duration('CREATE_DURATION', '30s');
const MAX_VUS = int('CREATE_MAX_VUS', 200, 1);
const LENGTH = size('CREATE_LENGTH', '1MiB');

export const options: Options = {
  scenarios: {
    creation_storm: {
      executor: 'ramping-arrival-rate',
      startRate: 0,
      timeUnit: '1s',
      preAllocatedVUs: Math.min(50, MAX_VUS),
      maxVUs: MAX_VUS,
      stages: [
        { duration: RAMP, target: RATE },
        { duration: HOLD, target: RATE },
      ],
    },
  },
  thresholds: {
    'http_req_failed{tus:create}': ['rate<0.001'],
    'http_req_duration{tus:create}': ['p(50)<50', 'p(99)<250'],
    checks: ['rate>0.999'],
    // Iterations k6 could not start because every VU was still waiting on the server.
    dropped_iterations: [`count<${RATE}`],
  },
};

export default function createOne(): void {
  const { url } = createUpload(TUS_URL, LENGTH, {
    metadata: { filename: `k6-storm-${exec.vu.idInTest}-${exec.vu.iterationInScenario}.bin` },
  });
  if (url && CLEANUP) deleteUpload(url);
}
