import type http from 'node:http';
import type { AddressInfo } from 'node:net';

/**
 * Listens on a free loopback port with the timeouts a benchmark target needs (no request timeout for
 * 1 GiB bodies; long keep-alive, since targets sit idle while the others are measured).
 */
export async function listenLoopback(server: http.Server): Promise<string> {
  server.requestTimeout = 0;
  server.headersTimeout = 60_000;
  server.keepAliveTimeout = 65_000;
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
}
