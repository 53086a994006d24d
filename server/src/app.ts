import { createApiApp, mountApiDocs, type ApiApp } from './http/openapi.js';
import { mountAnalyticsApi } from './api/analytics.js';
import { mountFilesApi } from './api/files.js';
import { mountFileContentApi } from './api/file-content.js';
import { mountAdminApi } from './admin/api.js';
import { mountAdminPage } from './admin/page.js';
import { mountResultsApi } from './api/results.js';
import { mountUploadApi } from './api/uploads.js';
import { mountVersionsApi } from './api/versions.js';
import { mountProcessApi } from './process/routes.js';
import { mountResultVersionsApi } from './process/result-versions.js';
import { mountWebhooksApi } from './api/webhooks.js';
import { cors, refuseWhileDraining, requestLog } from './http/middleware.js';
import { traceRequests } from './http/tracing.js';
import type { AppContext } from './context.js';
import { documented } from './http/openapi.js';
import { healthRoute, metricsRoute, readinessRoute } from './api/schemas/ops.js';
import { ALLOWED_HEADERS, ALLOWED_METHODS, EXPOSED_HEADERS } from './tus/protocol.js';
import { authenticate, limitApiBodies } from './auth/middleware.js';
import { mountSecurityApi } from './auth/routes.js';
import { mountStatic } from './static/static.js';
import { mountIetf } from './ietf/routes.js';
import { mountTus } from './tus/routes.js';
import { Uploads } from './uploads/uploads.js';

/** A backing service that does not answer within this is reported unavailable. */
const READY_CHECK_TIMEOUT_MS = 2000;

function withTimeout<T>(work: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`no answer within ${ms} ms`)), ms);
  });
  return Promise.race([work, timeout]).finally(() => clearTimeout(timer));
}

export interface App {
  hono: ApiApp;
  uploads: Uploads;
}

/** The HTTP surface: tus at `config.tusPath`, the upload API, and the operations endpoints. */
export function createApp(deps: AppContext): App {
  const { config, lifecycle, metrics, logger, checks } = deps;
  const hono = createApiApp();
  const routeOf = (p: string) =>
    p === config.tusPath || p.startsWith(`${config.tusPath}/`) ? 'tus' : p.startsWith('/api/') ? 'api' : 'ops';
  hono.use('*', traceRequests(routeOf));
  hono.use('*', requestLog(logger, metrics, routeOf));
  hono.use('*', refuseWhileDraining(lifecycle, metrics, logger));
  hono.use('*', cors({ origins: config.corsOrigins, allowMethods: ALLOWED_METHODS, allowHeaders: ALLOWED_HEADERS, exposeHeaders: EXPOSED_HEADERS }));
  hono.use('*', limitApiBodies(deps));
  hono.use('*', authenticate(deps));

  documented(hono, healthRoute, (c) => c.json({ status: 'ok' }));
  const readiness = async (): Promise<{ status: string; failed?: Record<string, string> }> => {
    if (!lifecycle.ready) return { status: lifecycle.draining ? 'draining' : 'starting' };
    const failed: Record<string, string> = {};
    await Promise.all(
      Object.entries(checks).map(([name, check]) =>
        withTimeout(check(), READY_CHECK_TIMEOUT_MS).catch((err: Error) => void (failed[name] = err.message || err.name)),
      ),
    );
    return Object.keys(failed).length > 0 ? { status: 'unavailable', failed } : { status: 'ready' };
  };
  metrics.watchReadiness(async () => (await readiness()).status === 'ready');
  documented(hono, readinessRoute, async (c) => {
    const state = await readiness();
    // Details: each circuit breaker's state (an open one answers its calls 503 at once) and each bulkhead's use.
    const details = { circuits: deps.circuits.states(), bulkheads: deps.circuits.bulkheadUse() };
    return c.json({ ...state, ...details }, state.status === 'ready' ? 200 : 503);
  });
  documented(hono, metricsRoute, async (c) =>
    c.body(await metrics.registry.metrics(), 200, { 'Content-Type': metrics.registry.contentType }),
  );

  // The IETF draft first: it hands every request that is not its own on to tus.
  const uploads = new Uploads(deps);
  mountIetf(hono, deps, uploads);
  mountTus(hono, deps, uploads);
  mountUploadApi(hono, deps, uploads);
  mountResultsApi(hono, deps);
  mountFilesApi(hono, deps, uploads);
  mountFileContentApi(hono, deps);
  mountVersionsApi(hono, deps, uploads);
  mountProcessApi(hono, deps, uploads);
  mountResultVersionsApi(hono, deps);
  mountAnalyticsApi(hono, deps);
  mountWebhooksApi(hono, deps);
  mountSecurityApi(hono, deps);
  mountStatic(hono, config.tusPath);
  mountAdminApi(hono, deps);
  mountAdminPage(hono);
  mountApiDocs(hono, '0.1.0');
  hono.notFound((c) => c.json({ error: { code: 'NOT_FOUND', message: 'no such route' } }, 404));
  return { hono, uploads };
}
