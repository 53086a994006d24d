/**
 * A local OTLP/HTTP receiver for tests: a small HTTP server on 127.0.0.1 that takes `POST /v1/traces`
 * with the OTLP JSON encoding (what `@opentelemetry/exporter-trace-otlp-http` sends) and keeps every
 * span, flattened, so a test can assert a trace's span tree.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';

/** One received span, with its resource's `service.name` and its attributes as plain values. */
export interface ReceivedSpan {
  traceId: string;
  spanId: string;
  parentSpanId: string | undefined;
  name: string;
  service: string;
  attributes: Record<string, string | number | boolean>;
  /** 2: error (OTLP status code). */
  statusCode: number;
  startNs: bigint;
  endNs: bigint;
}

export interface OtlpReceiver {
  /** Base URL, for `OTEL_EXPORTER_OTLP_ENDPOINT`. */
  url: string;
  spans: ReceivedSpan[];
  /** Export requests received (each a batch). */
  requests: number;
  /** Resolves once `predicate` holds for the spans received, or rejects after `ms`. */
  waitFor(predicate: (spans: ReceivedSpan[]) => boolean, ms?: number): Promise<ReceivedSpan[]>;
  close(): Promise<void>;
}

type AnyValue = { stringValue?: string; intValue?: string | number; boolValue?: boolean; doubleValue?: number };
type KeyValue = { key: string; value: AnyValue };

const plain = (v: AnyValue): string | number | boolean =>
  v.stringValue ?? (v.intValue !== undefined ? Number(v.intValue) : undefined) ?? v.boolValue ?? v.doubleValue ?? '';
const attrs = (list: KeyValue[] | undefined) => Object.fromEntries((list ?? []).map((a) => [a.key, plain(a.value)]));
/** OTLP JSON ids are hex; base64 is accepted too (some encoders send it). */
const hexId = (id: string | undefined) => (id && !/^[0-9a-f]+$/i.test(id) ? Buffer.from(id, 'base64').toString('hex') : id || undefined);

/** Starts the receiver on a random port. */
export async function startOtlpReceiver(): Promise<OtlpReceiver> {
  const spans: ReceivedSpan[] = [];
  let requests = 0;
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      if (req.method !== 'POST' || req.url !== '/v1/traces' || !/json/.test(req.headers['content-type'] ?? '')) {
        res.writeHead(415).end();
        return;
      }
      requests++;
      const body = JSON.parse(Buffer.concat(chunks).toString('utf8')) as {
        resourceSpans?: Array<{ resource?: { attributes?: KeyValue[] }; scopeSpans?: Array<{ spans?: Array<Record<string, unknown>> }> }>;
      };
      for (const rs of body.resourceSpans ?? []) {
        const service = String(attrs(rs.resource?.attributes)['service.name'] ?? '');
        for (const ss of rs.scopeSpans ?? []) {
          for (const s of ss.spans ?? []) {
            spans.push({
              traceId: hexId(s.traceId as string)!,
              spanId: hexId(s.spanId as string)!,
              parentSpanId: hexId(s.parentSpanId as string | undefined),
              name: String(s.name),
              service,
              attributes: attrs(s.attributes as KeyValue[]),
              statusCode: Number((s.status as { code?: number } | undefined)?.code ?? 0),
              startNs: BigInt(String(s.startTimeUnixNano ?? 0)),
              endNs: BigInt(String(s.endTimeUnixNano ?? 0)),
            });
          }
        }
      }
      res.writeHead(200, { 'Content-Type': 'application/json' }).end('{}');
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return {
    url,
    spans,
    get requests() {
      return requests;
    },
    async waitFor(predicate, ms = 20_000) {
      const deadline = Date.now() + ms;
      while (!predicate(spans)) {
        if (Date.now() > deadline) throw new Error(`spans not received within ${ms} ms; got: ${spans.map((s) => `${s.service}:${s.name}`).join(', ')}`);
        await new Promise((r) => setTimeout(r, 100));
      }
      return spans;
    },
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}
