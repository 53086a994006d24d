import http from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Registry } from 'prom-client';

export interface OpsServer {
  url: string;
  close(): Promise<void>;
}

/**
 * The runtime's own ops endpoint: `GET /healthz` (process alive), `GET /readyz` (200 while the job
 * source can deliver and the runtime is not draining, else 503; with `details`' fields, such as each
 * circuit breaker's state), `GET /metrics` (Prometheus).
 */
export async function startOpsServer(host: string, port: number, registry: Registry, ready: () => boolean, details: () => object = () => ({})): Promise<OpsServer> {
  const server = http.createServer((req, res) => {
    const url = (req.url ?? '/').split('?')[0];
    const send = (status: number, body: string, type = 'application/json') => {
      res.writeHead(status, { 'content-type': type, 'cache-control': 'no-store' });
      res.end(body);
    };
    if (req.method !== 'GET' && req.method !== 'HEAD') return send(405, '{"error":"method not allowed"}');
    if (url === '/healthz') return send(200, '{"status":"ok"}');
    if (url === '/readyz') {
      const ok = ready();
      return send(ok ? 200 : 503, JSON.stringify({ status: ok ? 'ready' : 'not ready', ...details() }));
    }
    if (url === '/metrics') {
      registry.metrics().then(
        (text) => send(200, text, registry.contentType),
        (err: Error) => send(500, JSON.stringify({ error: err.message })),
      );
      return;
    }
    send(404, '{"error":"not found"}');
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => resolve());
  });
  const { port: bound } = server.address() as AddressInfo;
  const shownHost = host === '0.0.0.0' || host === '::' ? '127.0.0.1' : host;
  return {
    url: `http://${shownHost}:${bound}`,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}
