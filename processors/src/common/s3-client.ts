import { createHash } from 'node:crypto';
import { S3, type S3ClientConfig } from '@aws-sdk/client-s3';
import { SpanKind } from '@opentelemetry/api';
import { inSpan } from '../tracing/spans.js';

/** Where and how to reach an S3 (or S3-compatible) store; the `S3_*` variables of both packages. */
export interface S3ClientSettings {
  /** Custom endpoint for S3-compatible stores (`S3_ENDPOINT`); absent for AWS. */
  endpoint?: string;
  /** `S3_REGION`. */
  region: string;
  /** Static credentials; without them the standard AWS credential chain is used. */
  credentials?: { accessKeyId: string; secretAccessKey: string };
  /** Path-style addressing (`S3_FORCE_PATH_STYLE`). */
  forcePathStyle: boolean;
  /**
   * A request whose socket stays silent this long fails (`S3_REQUEST_TIMEOUT`), so a store that hangs
   * (paused, half-dead) is reported instead of waited for; absent: the SDK's default (none).
   */
  requestTimeoutMs?: number;
}

/** Told when an S3 command starts (+1) and ends (−1): the S3 part-upload bulkhead's gauge. */
export interface S3ClientHooks {
  inFlight?(command: string, delta: 1 | -1): void;
}

/**
 * The one S3 client factory of the server, the processors and the test kit: a client that works with S3-compatible stores as well as AWS:
 * - checksums only when an operation requires them (the SDK's default aws-chunked CRC bodies are
 *   rejected or mangled by Swift, MinIO versions and others);
 * - `Content-MD5` on DeleteObjects, which S3 requires and the SDK v3 no longer sends by itself
 *   (without it Swift refuses the delete, and a terminated upload would seem to linger);
 * - path-style addressing when configured (custom endpoints rarely have wildcard DNS).
 */
export function createS3Client(config: S3ClientSettings, overrides: Partial<S3ClientConfig> = {}, hooks: S3ClientHooks = {}): S3 {
  const client = new S3({
    region: config.region,
    endpoint: config.endpoint,
    forcePathStyle: config.forcePathStyle,
    credentials: config.credentials,
    requestChecksumCalculation: 'WHEN_REQUIRED',
    responseChecksumValidation: 'WHEN_REQUIRED',
    ...(config.requestTimeoutMs ? { requestHandler: { requestTimeout: config.requestTimeoutMs, connectionTimeout: Math.min(5000, config.requestTimeoutMs), throwOnRequestTimeout: true } } : {}),
    ...overrides,
  });
  client.middlewareStack.add(
    (next, context) => async (args) => {
      const request = args.request as { headers?: Record<string, string>; body?: unknown };
      if (context.commandName === 'DeleteObjectsCommand' && request.headers && (typeof request.body === 'string' || request.body instanceof Uint8Array)) {
        request.headers['content-md5'] = createHash('md5').update(request.body).digest('base64');
      }
      return next(args);
    },
    { step: 'build', name: 'deleteObjectsContentMd5' },
  );
  // One client span per S3 command (with its retries), a child of whatever span is active.
  client.middlewareStack.add(
    (next, context) => (args) => {
      const command = (context.commandName ?? 'S3Command').replace(/Command$/, '');
      hooks.inFlight?.(command, 1);
      const input = args.input as { Key?: string; PartNumber?: number };
      const attributes = { 'rpc.system': 'aws-api', 'rpc.service': 'S3', 'rpc.method': command, ...(input.PartNumber ? { 'aws.s3.part_number': input.PartNumber } : {}) };
      return inSpan(`S3 ${command}`, { kind: SpanKind.CLIENT, attributes }, () => next(args)).finally(() => hooks.inFlight?.(command, -1));
    },
    { step: 'initialize', name: 'traceS3Commands' },
  );
  return client;
}
