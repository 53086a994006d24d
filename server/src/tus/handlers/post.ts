import { tusError } from '../../errors.js';
import type { ConcatRole, UploadRecord } from '../../records/types.js';
import type { AppContext } from '../../context.js';
import { idFromUploadUrl, parseConcat, parseMetadata, parseUploadLength } from '../protocol.js';
import { tusResponse } from '../respond.js';
import type { TusRequest } from '../request.js';
import type { Uploads } from '../../uploads/uploads.js';
import { appendBody, appendHeaders, type BodyHeaders, readBodyHeaders, stoppedError, takeBody } from './append.js';
import { describe } from './head.js';

/**
 * Creation (with upload, deferred length and concatenation). Every header is validated before
 * anything is stored, so a refused POST leaves no trace.
 */
export async function handlePost(deps: AppContext, uploads: Uploads, req: TusRequest): Promise<Response> {
  const { config } = deps;
  const concatHeader = req.header('upload-concat');
  const concat = concatHeader !== undefined ? parseConcat(concatHeader) : undefined;
  const lengthHeader = req.header('upload-length');
  const deferHeader = req.header('upload-defer-length');
  let size: number | undefined;
  if (concat?.kind === 'final') {
    // "The Client MUST NOT include the Upload-Length header in the final upload creation."
    if (lengthHeader !== undefined || deferHeader !== undefined) throw tusError('CONCAT_LENGTH_FORBIDDEN');
  } else {
    // "The Client MUST include either Upload-Length or Upload-Defer-Length: 1" (not both).
    if ((lengthHeader === undefined) === (deferHeader === undefined)) throw tusError('LENGTH_REQUIRED');
    if (deferHeader !== undefined && deferHeader.trim() !== '1') throw tusError('INVALID_DEFER_LENGTH');
    if (lengthHeader !== undefined) size = parseUploadLength(lengthHeader);
    // "If the length of the upload exceeds the maximum, which MAY be specified using the Tus-Max-Size
    // header, the Server MUST respond with the 413 Request Entity Too Large status."
    if (size !== undefined && size > config.maxSize) throw tusError('MAX_SIZE_EXCEEDED', `${size} > ${config.maxSize}`);
  }
  const metadataHeader = req.header('upload-metadata');
  const metadata = parseMetadata(metadataHeader, config.maxMetadataBytes);
  const hasBody = Number(req.header('content-length') ?? 0) > 0 || req.header('transfer-encoding') !== undefined;
  const body: BodyHeaders | undefined = hasBody ? { ...readBodyHeaders(req), stream: takeBody(deps, req) } : undefined;

  let role: ConcatRole | undefined;
  let unfinishedParts: string[] = [];
  let parts: UploadRecord[] = [];
  if (concat?.kind === 'final') {
    if (hasBody) throw tusError('INVALID_CONCAT', 'a final upload cannot carry a body');
    parts = await resolveParts(deps, uploads, concat.urls);
    unfinishedParts = parts.filter((p) => !p.completedAt).map((p) => p.id);
    const total = parts.reduce((sum, p) => sum + (p.size ?? 0), 0);
    if (total > config.maxSize) throw tusError('MAX_SIZE_EXCEEDED', `${total} > ${config.maxSize}`);
    role = { kind: 'final', parts: parts.map((p) => p.id), assembled: false, header: concatHeader!.trim() };
  } else if (concat?.kind === 'partial') {
    role = { kind: 'partial' };
  }

  // Whose it is and what an upload token allows; refused here (401/403/413/429), nothing was stored.
  const access = await deps.security.admitCreation(req.identity, size, parts, config.maxSize);
  const record = await uploads.create({
    size, metadata, metadataHeader: metadataHeader?.trim() || undefined, concat: role, contentType: contentTypeOf(metadata), access,
  });
  const location = locationOf(deps, req, record.id);

  if (role?.kind === 'final') {
    await uploads.linkFinal(record.id, unfinishedParts);
    await uploads.tryAssemble(record.id);
    const assembled = (await deps.records.get(record.id)) ?? record;
    return tusResponse(201, { Location: location, ...describe(assembled, await uploads.lengthOf(assembled)) });
  }
  if (!body) {
    if (size === 0) await uploads.finish(record);
    return tusResponse(201, { Location: location, ...describe(record, record.size) });
  }
  return createWithUpload(deps, uploads, req, record, body, location);
}

/**
 * creation-with-upload: the body is the first chunk. If the body is refused (checksum, length) the
 * upload is removed again, so a failed request creates nothing.
 */
async function createWithUpload(
  deps: AppContext, uploads: Uploads, req: TusRequest, record: UploadRecord, body: BodyHeaders, location: string,
): Promise<Response> {
  const stop = deps.lifecycle.startUpload();
  try {
    const appended = await uploads.withLock(record.id, req.signal, stop.release, async () => {
      try {
        return await appendBody(deps, uploads, req, record, { offset: 0 }, body, stop);
      } catch (err) {
        await uploads.remove(record);
        throw err;
      }
    });
    if (appended.stopped) throw stoppedError(appended);
    return tusResponse(201, { Location: location, ...describe(record, record.size), ...appendHeaders(record, appended) });
  } finally {
    stop.end();
  }
}

async function resolveParts(deps: AppContext, uploads: Uploads, urls: string[]): Promise<UploadRecord[]> {
  return Promise.all(
    urls.map(async (url) => {
      const id = idFromUploadUrl(url, deps.config.tusPath);
      const record = id ? await deps.records.get(id) : undefined;
      if (!record || record.concat?.kind !== 'partial' || record.expiredAt || uploads.isExpired(record)) {
        throw tusError('INVALID_CONCAT_PART', url);
      }
      return record;
    }),
  );
}

/** Absolute upload URL; X-Forwarded-Proto/Host are honoured only with TRUST_PROXY. */
export function locationOf(deps: AppContext, req: TusRequest, id: string): string {
  const proto = deps.config.trustProxy ? (req.header('x-forwarded-proto')?.split(',')[0].trim() ?? req.url.protocol.slice(0, -1)) : req.url.protocol.slice(0, -1);
  const host = deps.config.trustProxy ? (req.header('x-forwarded-host')?.split(',')[0].trim() ?? req.url.host) : req.url.host;
  return `${proto}://${host}${deps.config.tusPath}/${id}`;
}

/** A plain `type/subtype` media type from the client's metadata, if it gave a well-formed one (it may become an S3 header). */
function contentTypeOf(metadata: UploadRecord['metadata']): string | undefined {
  const value = metadata.filetype ?? metadata.contentType ?? metadata.type;
  return value && /^[A-Za-z0-9][\w.+-]*\/[A-Za-z0-9][\w.+-]*$/.test(value) ? value : undefined;
}
