import { Hono } from 'hono';
import { mountUploadApi } from './api/uploads.js';
import { cors, refuseWhileDraining, requestLog } from './ops/middleware.js';
import type { TusDeps } from './tus/deps.js';
import { mountTus } from './tus/routes.js';
import { Uploads } from './tus/uploads.js';

export interface App {
  hono: Hono;
  uploads: Uploads;
}

/** The HTTP surface: tus at `config.tusPath`, the upload API, and the operations endpoints. */
export function createApp(deps: TusDeps): App {
  const { config, lifecycle, metrics, logger, storage } = deps;
  const hono = new Hono();
  const routeOf = (p: string) =>
    p === config.tusPath || p.startsWith(`${config.tusPath}/`) ? 'tus' : p.startsWith('/api/') ? 'api' : 'ops';
  hono.use('*', requestLog(logger, metrics, routeOf));
  hono.use('*', refuseWhileDraining(lifecycle, metrics, logger));
  hono.use('*', cors(config.corsOrigins));

  hono.get('/healthz', (c) => c.json({ status: 'ok' }));
  hono.get('/readyz', async (c) => {
    if (!lifecycle.ready) return c.json({ status: lifecycle.draining ? 'draining' : 'starting' }, 503);
    try {
      await storage.check();
      return c.json({ status: 'ready' });
    } catch (err) {
      return c.json({ status: 'unavailable', reason: (err as Error).message }, 503);
    }
  });
  hono.get('/metrics', async (c) =>
    c.body(await metrics.registry.metrics(), 200, { 'Content-Type': metrics.registry.contentType }),
  );

  const uploads = mountTus(hono, deps, new Uploads(deps));
  mountUploadApi(hono, deps, uploads);
  hono.notFound((c) => c.json({ error: { code: 'NOT_FOUND', message: 'no such route' } }, 404));
  return { hono, uploads };
}
