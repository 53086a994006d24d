import { Uid, type Lock, type RequestRelease } from '@tus/server';
import { inSpan, traceparentOf, uploadEventId } from '@tus-edge/processors';
import type { AppContext } from '../context.js';
import { tusError } from '../errors.js';
import { sizeClass } from '../ops/metrics.js';
import { tombstoneRetentionMs, type ConcatRole, type UploadAccess, type UploadRecord } from '../records/types.js';
import type { ReceiveInput, ReceiveOutcome } from '../storage/receive.js';
import { UploadHashes } from './content-hash.js';
import { ContentFollower, reuseHint } from '../catalogue/content.js';
import { Handover } from './handover.js';
import { recordUploadUsage } from '../analytics/start.js';

export interface LoadedUpload {
  record: UploadRecord;
  /** Bytes stored; undefined for a final upload that is not assembled yet. */
  offset: number | undefined;
  /** What the storage read to know the offset, for a write that follows under the same lock. */
  basis?: unknown;
  /** The storage key holding the bytes: the upload id, or another upload's once deduplicated (catalogue). */
  location: string;
}

/** What a creation request asks for, validated by the protocol layer. */
export interface NewUpload {
  /** Total length; absent while deferred, and for a final upload (its partials give it). */
  size?: number;
  metadata: UploadRecord['metadata'];
  /** The `Upload-Metadata` header as received. */
  metadataHeader?: string;
  concat?: ConcatRole;
  /** A well-formed media type from the metadata, passed to storages that keep one. */
  contentType?: string;
  /** Owner, tenant and upload-token limits, from the security admission (absent with auth off). */
  access?: UploadAccess;
}

/** A write at the upload's current offset; `declaredLength` is a deferred length sent with it, already validated. */
export interface AppendInput extends ReceiveInput {
  declaredLength?: number;
}

export interface Appended {
  /** The offset after the write. */
  offset: number;
  finished: boolean;
  /** How the body ended. */
  end: ReceiveOutcome['end'];
}

/**
 * The uploads domain: create, load, append, finish, assemble, terminate and expire uploads. It is the
 * only writer of upload records, and writes each once per state change (created; write pending;
 * written, with the sliding expiry when due; finished with its event recorded; expired; abandoned).
 * The protocol layer (tus/) parses requests and formats answers around it.
 */
export class Uploads {
  /** The content hash of each upload, followed while receiving or read back at finish. */
  private readonly hashes: UploadHashes;
  /** Carries fingerprints and processing summaries of catalogued uploads into the catalogue. */
  readonly content: ContentFollower;
  /** The hand-over of finished uploads to the file catalogue. */
  readonly handover: Handover;

  constructor(private readonly deps: AppContext) {
    this.hashes = new UploadHashes(deps.config.dedup, (id) => deps.storage.read(id));
    this.content = new ContentFollower(deps);
    this.handover = new Handover(deps);
  }

  private save(record: UploadRecord): Promise<void> {
    return this.deps.records.set(record.id, record);
  }

  /**
   * Creates an upload: charged to its owner's quota (413/403 when over, nothing stored), then its empty
   * bytes, then its record. A failure after the charge gives it back.
   */
  async create(input: NewUpload): Promise<UploadRecord> {
    const now = this.deps.now().toISOString();
    const record: UploadRecord = {
      id: Uid.rand(),
      size: input.size,
      metadata: input.metadata,
      metadataHeader: input.metadataHeader,
      concat: input.concat,
      createdAt: now,
      updatedAt: now,
      expiresAt: this.nextExpiry(),
      ...input.access,
    };
    const { quotas } = this.deps.security.parts;
    await quotas.charge(record);
    try {
      const length = record.concat?.kind === 'final' ? await this.lengthOf(record) : input.size;
      await this.deps.storage.create(record.id, { length, contentType: input.contentType });
      await this.save(record);
    } catch (err) {
      await quotas.release(record);
      throw err;
    }
    this.deps.metrics.uploadsCreated.inc({ concat: record.concat?.kind ?? 'none' });
    this.deps.logger.debug('upload created', { uploadId: record.id, size: record.size, concat: record.concat?.kind });
    return record;
  }

  /**
   * Appends a request body at `input.offset` (the caller checked it against the stored offset and holds
   * the upload's lock) and stores what changed. A checksummed write to a storage that verifies in place
   * is marked pending in the record before its first byte, so a crash mid-write is undone on the next
   * load. A declared length takes effect only with bytes that were accepted.
   */
  async append(record: UploadRecord, input: AppendInput): Promise<Appended> {
    const { receiver, metrics, security } = this.deps;
    await this.deps.staging.ensureRoom();
    // A deferred length declared now must fit the upload's own limit and its owner's quota; it is given
    // back below if the write is refused.
    const declaring = input.declaredLength !== undefined && record.size === undefined;
    const chargedBefore = record.charged?.bytes ?? 0;
    if (declaring) await security.declareLength(record, input.declaredLength!);
    const pending = (input.checksum !== undefined || input.trailerChecksum !== undefined) && receiver.verifiesInPlace;
    if (pending) {
      record.checksumPendingFrom = input.offset;
      await this.save(record);
    }
    metrics.uploadsInProgress.inc();
    const announced = input.lengthKnown ? input.limit : 0;
    metrics.bytesInFlight.inc(announced);
    let outcome: ReceiveOutcome;
    const hashed = this.hashes.begin(record.id, input.offset);
    try {
      // The storage time of a write, as a span of its own (S3 part uploads are its children).
      outcome = await inSpan('storage write', { attributes: { 'tus.upload_id': record.id, 'tus.offset': input.offset } }, async (span) => {
        const received = await receiver.receive(record.id, hashed ? { ...input, onChunk: hashed.onChunk } : input);
        span.setAttributes({ 'tus.bytes': received.bytes, 'tus.write_end': received.end });
        return received;
      });
    } catch (err) {
      hashed?.drop();
      if (declaring) await security.parts.quotas.undeclare(record, chargedBefore);
      if (pending) {
        delete record.checksumPendingFrom;
        await this.save(record);
      }
      throw err;
    } finally {
      metrics.uploadsInProgress.dec();
      metrics.bytesInFlight.dec(announced);
    }
    metrics.bytesReceived.inc(outcome.bytes);
    delete record.checksumPendingFrom;
    if (input.declaredLength !== undefined) record.size = input.declaredLength;
    const offset = input.offset + outcome.bytes;
    hashed?.settle(offset);
    const finished = record.size !== undefined && offset === record.size;
    if (finished) {
      record.updatedAt = this.deps.now().toISOString();
      await this.finish(record);
    } else if (pending || input.declaredLength !== undefined || this.expiryRefreshDue(record)) {
      record.updatedAt = this.deps.now().toISOString();
      record.expiresAt = this.nextExpiry();
      await this.save(record);
    }
    return { offset, finished, end: outcome.end };
  }

  /**
   * Completes an upload whose length was never declared at `length`, its offset (the IETF draft's
   * `Upload-Complete: ?1` on content of unknown length: the length is known once the content ended).
   * The length is checked and charged like a declared one, then the upload is finished. The caller
   * holds the upload's lock.
   */
  async completeAt(record: UploadRecord, length: number): Promise<void> {
    if (record.size !== undefined && record.size !== length) throw tusError('LENGTH_ALREADY_SET');
    if (record.size === undefined) {
      await this.deps.security.declareLength(record, length);
      record.size = length;
    }
    record.updatedAt = this.deps.now().toISOString();
    await this.finish(record);
  }

  /**
   * Runs `fn` holding the upload's lock. A later request for the same upload calls `onRelease`
   * (the holder should stop and let go) and waits.
   */
  async withLock<T>(id: string, signal: AbortSignal, onRelease: RequestRelease, fn: () => Promise<T>): Promise<T> {
    const lock: Lock = this.deps.locker.newLock(id);
    await inSpan('lock wait', { attributes: { 'tus.upload_id': id } }, () => lock.lock(signal, onRelease));
    try {
      return await fn();
    } finally {
      await lock.unlock();
    }
  }

  /**
   * Loads an upload. 404 when unknown; 410 when expired (the spec's SHOULD for servers that track
   * expired uploads). With `locked`, an interrupted checksummed write is undone first.
   */
  async load(id: string, locked: boolean): Promise<LoadedUpload> {
    const record = await this.deps.records.get(id);
    if (!record) {
      // A finished upload's record ends some time after its hand-over: the catalogue answers for it.
      const archived = await this.handover.archived(id);
      if (archived) return { record: archived.record, offset: archived.record.size, location: archived.location };
      throw tusError('UPLOAD_NOT_FOUND');
    }
    if (record.expiredAt || this.isExpired(record)) throw tusError('UPLOAD_GONE');
    if (record.concat?.kind === 'final' && !record.concat.assembled) return { record, offset: undefined, location: id };
    const stored = await this.deps.storage.offset(id);
    if (stored === undefined) {
      // Deduplicated: its bytes are another upload's now.
      const archived = record.cataloguedAt ? await this.handover.archived(id) : undefined;
      if (archived) return { record, offset: archived.record.size, location: archived.location };
      throw tusError('UPLOAD_GONE', 'bytes are missing');
    }
    let offset = stored.bytes;
    let basis = stored.basis;
    const pending = record.checksumPendingFrom;
    if (pending !== undefined) {
      if (locked) {
        if (offset > pending) await this.deps.receiver.undo(id, pending);
        delete record.checksumPendingFrom;
        await this.save(record);
      }
      if (offset > pending) basis = undefined;
      offset = Math.min(offset, pending);
    }
    // Every byte arrived but the process stopped before the upload was marked finished: finish it now.
    if (locked && !record.completedAt && record.size !== undefined && offset === record.size) await this.finish(record);
    return { record, offset, basis, location: id };
  }

  /**
   * The upload's length if it can be known now: its own, or for a final upload not yet assembled the
   * sum of its partials' lengths once every partial has one.
   */
  async lengthOf(record: UploadRecord): Promise<number | undefined> {
    if (record.size !== undefined || record.concat?.kind !== 'final') return record.size;
    const parts = await Promise.all(record.concat.parts.map((p) => this.deps.records.get(p)));
    if (parts.some((p) => p?.size === undefined)) return undefined;
    return parts.reduce((sum, p) => sum + (p?.size ?? 0), 0);
  }

  /** An unfinished upload past its expiry. A final upload not assembled yet waits for its partials instead (see sweepExpired). */
  isExpired(record: UploadRecord): boolean {
    if (record.concat?.kind === 'final' && !record.concat.assembled) return false;
    return !record.completedAt && !!record.expiresAt && Date.parse(record.expiresAt) <= this.deps.now().getTime();
  }

  /** The next expiry time of an unfinished upload touched now. */
  nextExpiry(): string {
    return new Date(this.deps.now().getTime() + this.deps.config.uploadExpiryMs).toISOString();
  }

  /**
   * Whether a write that changed nothing else must store the record to slide its expiry: only once the
   * stored expiry lags the next one by 1 % of the expiry period (at most a minute). Rewriting the record
   * on every PATCH was a file created and renamed (or a Redis SET) per PATCH; the expiry a client is
   * told is the stored one, so it is never later than what the sweep will honour.
   */
  expiryRefreshDue(record: UploadRecord): boolean {
    const expiry = this.deps.config.uploadExpiryMs;
    const slack = Math.min(60_000, expiry / 100);
    return !record.expiresAt || Date.parse(record.expiresAt) < this.deps.now().getTime() + expiry - slack;
  }

  /**
   * Marks an upload finished and records its completion event, in one write: the event is published
   * (durably: outbox or directory) first, then the record says both. A process that dies in between
   * left a record that is not finished, which the next load under lock finishes again (the event id
   * makes the second publish harmless). A failed publish is logged and retried by
   * {@link republishMissingEvents}; it never fails the upload.
   */
  async finish(record: UploadRecord): Promise<void> {
    const { metrics, logger } = this.deps;
    await this.deps.storage.complete(record.id, record.size ?? 0);
    const now = this.deps.now().toISOString();
    record.completedAt = now;
    record.updatedAt = now;
    delete record.expiresAt;
    // The content hash, when it is cheap now (see UploadHashes); partial uploads are never catalogued.
    if (record.concat?.kind !== 'partial' && !record.sha256) {
      const { sha256, how } = await this.hashes.atFinish(record.id, record.size ?? 0);
      if (sha256) record.sha256 = sha256;
      metrics.contentHashes.inc({ how });
    } else this.hashes.forget(record.id);
    // "The Server SHOULD NOT process these partial uploads until they are concatenated to form a final
    // upload": a partial gets no completion event; its final upload does.
    if (record.concat?.kind !== 'partial') {
      try {
        await this.publishCompletion(record, now);
        record.eventRecordedAt = this.deps.now().toISOString();
      } catch (err) {
        logger.error('completion event not recorded; will retry', { uploadId: record.id, err });
      }
    }
    await this.deps.security.parts.quotas.finished(record);
    // After its event: into the catalogue (idempotent; a failure is left to the sweep).
    await this.handover.handOver(record);
    await this.save(record);
    // Its fingerprint and processing summary follow into the catalogue as the jobs finish.
    if (record.cataloguedAt) void this.content.follow(record.id);
    metrics.uploadsFinished.inc();
    const took = (Date.parse(now) - Date.parse(record.createdAt)) / 1000;
    if (took >= 0) metrics.uploadDuration.observe({ size_class: sizeClass(record.size ?? 0) }, took);
    logger.info('upload finished', { uploadId: record.id, size: record.size });
    if (record.concat?.kind === 'partial') await this.assembleWaitingFinals(record.id);
  }

  private async publishCompletion(record: UploadRecord, completedAt: string): Promise<void> {
    // Bytes the tenant already stores: the processors read the stored object and reuse its results.
    // Only a hint: a catalogue that does not answer must not hold the event back (the jobs then just run).
    const reuse = await reuseHint(this.deps.catalogue, this.deps.storage, record).catch((err) => {
      this.deps.logger.warn('dedup lookup failed; the completion event goes without a reuse hint', { uploadId: record.id, err: (err as Error).message });
      return undefined;
    });
    await this.deps.events.publish({
      version: 1,
      type: 'uploads.completed',
      eventId: uploadEventId(record.id),
      uploadId: record.id,
      size: record.size ?? 0,
      metadata: record.metadata,
      location: this.deps.storage.location(record.id),
      completedAt,
      node: this.deps.config.nodeName,
      ...(record.sha256 && { sha256: record.sha256 }),
      ...reuse,
      // The trace of the request that finished the upload continues in the dispatcher and every job.
      traceparent: traceparentOf(),
    });
  }

  /**
   * Publishes the events of finished uploads whose event was never recorded (the process died between
   * the last byte and the publish, or the publisher failed). Idempotent by event id.
   */
  async republishMissingEvents(): Promise<number> {
    let n = 0;
    for (const id of await this.deps.records.due(this.deps.now().getTime())) {
      const record = await this.deps.records.get(id);
      if (!record?.completedAt || record.eventRecordedAt || record.expiredAt || record.concat?.kind === 'partial') continue;
      await this.publishCompletion(record, record.completedAt);
      record.eventRecordedAt = this.deps.now().toISOString();
      await this.save(record);
      n++;
    }
    return n;
  }

  /** Records that `finalId` waits for each unfinished partial in `partIds`. */
  async linkFinal(finalId: string, partIds: string[]): Promise<void> {
    for (const partId of new Set(partIds)) {
      await this.withLock(`link-${partId}`, AbortSignal.timeout(10_000), () => undefined, async () => {
        const finals = (await this.deps.links.get(partId)) ?? [];
        if (!finals.includes(finalId)) await this.deps.links.set(partId, [...finals, finalId]);
      });
    }
  }

  private async assembleWaitingFinals(partId: string): Promise<void> {
    const finals = await this.withLock(`link-${partId}`, AbortSignal.timeout(10_000), () => undefined, async () => {
      const list = (await this.deps.links.get(partId)) ?? [];
      await this.deps.links.delete(partId);
      return list;
    });
    for (const finalId of finals) await this.tryAssemble(finalId);
  }

  /**
   * Concatenates a final upload once every partial is finished. Safe to call any number of times
   * from any request: the first caller that sees all partials finished assembles, others return.
   * A final upload one of whose partials was terminated or expired can never be assembled: it is
   * turned into a tombstone at once (410), instead of answering "not assembled yet" until it expires.
   */
  async tryAssemble(finalId: string): Promise<void> {
    await this.withLock(finalId, AbortSignal.timeout(30_000), () => undefined, async () => {
      const record = await this.deps.records.get(finalId);
      if (record?.concat?.kind !== 'final' || record.concat.assembled || record.expiredAt) return;
      const parts = await Promise.all(record.concat.parts.map((p) => this.deps.records.get(p)));
      if (parts.some((p) => !p || p.expiredAt)) {
        await this.removeContents(finalId);
        await this.deps.security.parts.quotas.release(record);
        record.expiredAt = this.deps.now().toISOString();
        await this.save(record);
        this.deps.logger.info('final upload abandoned: one of its partial uploads is gone', { uploadId: finalId });
        return;
      }
      if (parts.some((p) => !p?.completedAt)) return;
      await this.deps.storage.concatenate(finalId, record.concat.parts);
      record.size = parts.reduce((sum, p) => sum + (p?.size ?? 0), 0);
      record.concat.assembled = true;
      await this.finish(record);
    });
  }

  /**
   * Deletes an upload's bytes, its processing results and status, and its record (termination); final
   * uploads that were waiting for it, if it was a partial, are abandoned (see tryAssemble).
   */
  async remove(record: UploadRecord): Promise<void> {
    // A catalogued upload is a file now: removed as one (its bytes may be shared with other files).
    const found = record.completedAt ? await this.deps.catalogue.byUpload(record.id) : undefined;
    if (found) {
      await this.handover.removeFile({ tenant: found.file.tenant, owner: found.file.owner }, found.file.id);
      return;
    }
    await this.removeContents(record.id);
    await this.deps.security.parts.quotas.release(record);
    await this.deps.records.delete(record.id);
    if (record.concat?.kind === 'partial') await this.assembleWaitingFinals(record.id);
  }

  /** Everything of an upload but its record: bytes, processing results, processing status. */
  private async removeContents(id: string): Promise<void> {
    this.hashes.forget(id);
    await this.deps.storage.remove(id);
    await this.deps.results.remove(id);
    await this.deps.status.remove(id);
  }

  /**
   * Removes the bytes of expired unfinished uploads, keeping a tombstone record so clients get 410;
   * tombstones are dropped after {@link tombstoneRetentionMs}. Returns how many uploads were expired.
   */
  async sweepExpired(): Promise<number> {
    const { records, config, metrics, logger } = this.deps;
    const now = this.deps.now().getTime();
    let expired = 0;
    for (const id of await records.due(now)) {
      const record = await records.get(id);
      if (!record) continue;
      if (record.expiredAt) {
        if (Date.parse(record.expiredAt) + tombstoneRetentionMs(config.uploadExpiryMs) <= now) {
          // Once more for the status: a job that was still running at expiry may have written it since.
          await this.deps.status.remove(id);
          await records.delete(id);
        }
        continue;
      }
      if (record.concat?.kind === 'final' && !record.concat.assembled) {
        if (Date.parse(record.expiresAt ?? '') <= now) await this.recheckWaitingFinal(id);
        continue;
      }
      if (!this.isExpired(record)) continue;
      await this.withLock(id, AbortSignal.timeout(10_000), () => undefined, async () => {
        await this.removeContents(id);
        await this.deps.security.parts.quotas.release(record);
        record.expiredAt = new Date(now).toISOString();
        await this.save(record);
      });
      if (record.concat?.kind === 'partial') await this.assembleWaitingFinals(id);
      expired++;
      await recordUploadUsage(this.deps, record, 'abandoned');
      metrics.uploadsExpired.inc();
      logger.info('upload expired', { uploadId: id });
    }
    return expired;
  }

  /**
   * A final upload past its own expiry lives as long as its partials can still finish (their writes
   * slide their expiry, not the final's): it is assembled if they all finished (a crash may have
   * skipped that), abandoned if one is gone, and otherwise looked at again one expiry period later.
   */
  private async recheckWaitingFinal(id: string): Promise<void> {
    await this.tryAssemble(id);
    await this.withLock(id, AbortSignal.timeout(10_000), () => undefined, async () => {
      const record = await this.deps.records.get(id);
      if (!record || record.expiredAt || record.concat?.kind !== 'final' || record.concat.assembled) return;
      record.expiresAt = this.nextExpiry();
      await this.save(record);
    });
  }
}
