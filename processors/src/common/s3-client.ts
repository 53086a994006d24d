import { createHash } from 'node:crypto';
import { S3, type S3ClientConfig } from '@aws-sdk/client-s3';

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
}

/**
 * The one S3 client factory of the server, the processors and the test kit: a client that works with S3-compatible stores as well as AWS:
 * - checksums only when an operation requires them (the SDK's default aws-chunked CRC bodies are
 *   rejected or mangled by Swift, MinIO versions and others);
 * - `Content-MD5` on DeleteObjects, which S3 requires and the SDK v3 no longer sends by itself
 *   (without it Swift refuses the delete, and a terminated upload would seem to linger);
 * - path-style addressing when configured (custom endpoints rarely have wildcard DNS).
 */
export function createS3Client(config: S3ClientSettings, overrides: Partial<S3ClientConfig> = {}): S3 {
  const client = new S3({
    region: config.region,
    endpoint: config.endpoint,
    forcePathStyle: config.forcePathStyle,
    credentials: config.credentials,
    requestChecksumCalculation: 'WHEN_REQUIRED',
    responseChecksumValidation: 'WHEN_REQUIRED',
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
  return client;
}
