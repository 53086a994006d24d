/**
 * An auth proxy in front of the real server that speaks the server's upload-token flow (AUTH_MODE=jwt):
 * `POST /api/upload-tokens` -> 201 `{ token }` (JWT-shaped, unsigned, with `exp`), then every request
 * needs `Authorization: Bearer <token>`; a missing, expired or revoked token gets 401 with a catalogue
 * body. PATCHes are slowed by 250 ms so an upload can outlive a token. Everything else is forwarded
 * as it is (with the Host header, so Location URLs point at the proxy).
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';

/** What browsers need to read the proxy's own answers (the server's answers carry the server's CORS). */
const CORS = { 'Access-Control-Allow-Origin': '*', 'Access-Control-Expose-Headers': 'Location, Upload-Offset, Upload-Length, Tus-Resumable' };

/** Starts the proxy on 127.0.0.1; `lifetimeMs` is how long each token lives. */
export async function startAuthProxy(target: string, lifetimeMs: number) {
  const valid = new Set<string>();
  const stats = { issued: 0, refused: 0, patches: 0 };
  let revokeAtPatch = -1;
  const b64 = (o: unknown) => Buffer.from(JSON.stringify(o)).toString('base64url');
  const proxy = http.createServer(async (req, res) => {
    if (req.method === 'POST' && req.url === '/api/upload-tokens') {
      const exp = Math.ceil((Date.now() + lifetimeMs) / 1000);
      const token = `${b64({ alg: 'none', typ: 'JWT' })}.${b64({ exp, n: stats.issued++ })}.sig`;
      valid.add(token);
      return res.writeHead(201, { 'Content-Type': 'application/json', ...CORS }).end(JSON.stringify({ token }));
    }
    // Preflights carry no credentials: the server answers them (and allows Authorization).
    if (req.method === 'OPTIONS') return forward(req, res);
    const token = /^Bearer (.+)$/.exec(req.headers.authorization ?? '')?.[1];
    const exp = token && valid.has(token) ? JSON.parse(Buffer.from(token.split('.')[1]!, 'base64url').toString()).exp * 1000 : 0;
    if (!token || !valid.has(token) || Date.now() >= exp) {
      stats.refused++;
      req.resume();
      return res.writeHead(401, { 'Content-Type': 'application/json', ...CORS }).end(JSON.stringify({ error: { code: 'UNAUTHORIZED', message: 'token missing, expired or revoked' } }));
    }
    if (req.method === 'PATCH') {
      stats.patches++;
      if (stats.patches === revokeAtPatch) valid.delete(token);
      await new Promise((r) => setTimeout(r, 250)); // a slow link, so the upload outlives a token
    }
    forward(req, res);
  });
  const forward = (req: http.IncomingMessage, res: http.ServerResponse) => {
    const upstream = http.request(`${target}${req.url}`, { method: req.method, headers: req.headers }, (up) => {
      res.writeHead(up.statusCode ?? 502, up.headers);
      up.pipe(res);
    });
    upstream.on('error', () => res.destroy());
    req.pipe(upstream);
  };
  await new Promise<void>((resolve) => proxy.listen(0, '127.0.0.1', resolve));
  const url = `http://127.0.0.1:${(proxy.address() as AddressInfo).port}`;
  return {
    url,
    stats,
    revokeAt: (n: number) => void (revokeAtPatch = n),
    close: () => new Promise<void>((resolve) => { proxy.closeAllConnections(); proxy.close(() => resolve()); }),
  };
}

