import { jetstream, jetstreamManager } from '@nats-io/jetstream';
import type { NatsConnection } from '@nats-io/transport-node';
import type { StreamSettings } from '../../config/config.js';
import type { Logger } from '../../logger.js';
import type { UploadCompletedEvent } from '../event.js';
import type { EventPublisher } from '../publisher.js';
import { connectNats } from './connect.js';
import { JetStreamEventPublisher } from './publisher.js';
import { ensureStreams } from './streams.js';

/**
 * The server's {@link EventPublisher} to JetStream: connects in the background (retrying while NATS is down, so the
 * server starts and takes uploads anyway), creates or updates the streams idempotently, then
 * publishes `uploads.completed` with msgID = event id. Until connected, `publish` rejects at once and
 * the caller's outbox keeps the event.
 */
export class JetStreamLink implements EventPublisher {
  private connection: NatsConnection | undefined;
  private publisher: JetStreamEventPublisher | undefined;
  private closed = false;
  /** False between a disconnect and the reconnect, so publishes fail at once instead of waiting. */
  private linkUp = false;
  private readonly connecting: Promise<void>;

  constructor(
    private readonly servers: string[],
    private readonly streams: StreamSettings,
    private readonly name: string,
    private readonly logger: Logger,
    private readonly retryMs = 1000,
  ) {
    this.connecting = this.connectLoop();
  }

  async publish(event: UploadCompletedEvent): Promise<void> {
    if (!this.publisher || !this.linkUp) throw new Error('not connected to NATS');
    await this.publisher.publish(event);
  }

  /** The NATS connection while it is up (the operator's queue view reads the streams through it), else undefined. */
  nats(): NatsConnection | undefined {
    return this.linkUp && this.connection && !this.connection.isClosed() ? this.connection : undefined;
  }

  /** Resolves once connected and the streams exist (for tests and start-up ordering). */
  async ready(): Promise<void> {
    await this.connecting;
  }

  /** Rejects while NATS is unreachable (readiness reports it; uploads still succeed). */
  async check(): Promise<void> {
    if (!this.publisher || !this.linkUp || this.connection?.isClosed()) throw new Error('NATS not connected');
  }

  async close(): Promise<void> {
    this.closed = true;
    await this.connection?.drain().catch(() => undefined);
  }

  private async followStatus(nc: NatsConnection): Promise<void> {
    for await (const s of nc.status()) {
      if (s.type === 'disconnect') this.linkUp = false;
      else if (s.type === 'reconnect') this.linkUp = true;
    }
  }

  private async connectLoop(): Promise<void> {
    while (!this.closed) {
      try {
        const nc = await connectNats(this.servers, { name: this.name, logger: this.logger });
        if (this.closed) return void (await nc.close());
        await ensureStreams(await jetstreamManager(nc), this.streams, this.logger);
        this.connection = nc;
        this.publisher = new JetStreamEventPublisher(jetstream(nc));
        this.linkUp = true;
        void this.followStatus(nc);
        this.logger.info('jetstream connected', { servers: this.servers });
        return;
      } catch (err) {
        this.logger.warn('jetstream not reachable; retrying', { err: (err as Error).message });
        await new Promise((r) => setTimeout(r, this.retryMs).unref());
      }
    }
  }
}
