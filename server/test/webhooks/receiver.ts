/**
 * A webhook receiver for the tests, on 127.0.0.1: it verifies every signature with the secret of the
 * path it was sent to, and answers by its mode: `fail` (500), `slow` (answers only after the sender's
 * timeout: nothing is acknowledged), `ok` (204). `/gone` always answers 410. Only deliveries it answered
 * 2xx to on an open connection count as accepted (what "nothing doubled" counts, per event id).
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { verifySignature } from '../../src/webhooks/signing.js';

export type ReceiverMode = 'fail' | 'slow' | 'ok';

export interface ReceivedEvent {
  id: string;
  type: string;
  tenant: string | null;
  owner: string | null;
  data: { uploadId: string; fileId: string | null; kind?: string; outcome?: string; errorCode?: string | null };
}

export interface Attempt {
  path: string;
  eventId: string;
  mode: ReceiverMode | 'gone';
  signed: boolean;
}

export class Receiver {
  mode: ReceiverMode = 'fail';
  readonly secrets = new Map<string, string>();
  readonly attempts: Attempt[] = [];
  /** Accepted deliveries per path and event id. */
  readonly accepted = new Map<string, Map<string, number>>();
  readonly events = new Map<string, ReceivedEvent>();
  private readonly server: http.Server;
  url = '';

  constructor(private readonly slowMs: number) {
    this.server = http.createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => void this.handle(req, res, Buffer.concat(chunks).toString('utf8')));
    });
  }

  async start(): Promise<this> {
    await new Promise<void>((resolve) => this.server.listen(0, '127.0.0.1', resolve));
    this.url = `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
    return this;
  }

  private async handle(req: http.IncomingMessage, res: http.ServerResponse, body: string): Promise<void> {
    const path = req.url ?? '/';
    const secret = this.secrets.get(path);
    const signed = !!secret && verifySignature(secret, { timestamp: header(req, 'webhook-timestamp'), signature: header(req, 'webhook-signature') }, body);
    let event: ReceivedEvent | undefined;
    try {
      event = JSON.parse(body) as ReceivedEvent;
    } catch {
      /* counted as unsigned garbage below */
    }
    const eventId = header(req, 'webhook-id') ?? '';
    const mode = path === '/gone' ? 'gone' : this.mode;
    this.attempts.push({ path, eventId, mode, signed: signed && event?.id === eventId });
    if (mode === 'gone') return void res.writeHead(410).end();
    if (mode === 'fail') return void res.writeHead(500).end('failing on purpose');
    if (mode === 'slow') await new Promise((r) => setTimeout(r, this.slowMs));
    // The sender gave up waiting (slow): this delivery was not acknowledged, it will come again.
    if (req.socket.destroyed || res.writableEnded) return;
    if (!signed || !event) return void res.writeHead(400).end('bad signature');
    res.writeHead(204).end();
    const seen = this.accepted.get(path) ?? new Map<string, number>();
    seen.set(eventId, (seen.get(eventId) ?? 0) + 1);
    this.accepted.set(path, seen);
    this.events.set(eventId, event);
  }

  /** Event ids accepted at `path`, each with how often. */
  acceptedAt(path: string): Map<string, number> {
    return this.accepted.get(path) ?? new Map();
  }

  async close(): Promise<void> {
    this.server.closeAllConnections();
    await new Promise((r) => this.server.close(r));
  }
}

function header(req: http.IncomingMessage, name: string): string | undefined {
  const v = req.headers[name];
  return Array.isArray(v) ? v[0] : v;
}

/** Polls `check` until it returns true (or throws the last failure after `ms`). */
export async function waitUntil(what: string, check: () => boolean | Promise<boolean>, ms = 60_000): Promise<void> {
  const deadline = Date.now() + ms;
  for (;;) {
    if (await check()) return;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}
