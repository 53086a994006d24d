import type { DeadLetterInfo, Job, JobSource, Lane, PendingCount, SourceStartOptions, UploadCompletedEvent } from '@tus-edge/processors';

/** The processor kind of the maintenance job. */
export const MAINTENANCE_KIND = 'maintenance';
/** Event and upload ids of maintenance slots start with this (never an upload id: those have no `.`). */
export const SLOT_PREFIX = 'maintenance.';

/** Whether `event` is a maintenance slot rather than an upload. */
export function isMaintenanceSlot(event: Pick<UploadCompletedEvent, 'eventId'>): boolean {
  return event.eventId.startsWith(SLOT_PREFIX);
}

export interface ScheduleOptions {
  intervalMs: number;
  nodeName: string;
  now?: () => number;
}

/**
 * A {@link JobSource} that hands out one `maintenance` job per interval slot (`maintenance.<n>`, n =
 * time / interval), the same id on every node, so the runtime's job lease lets one node run a slot and
 * its status guard makes the others settle it as a duplicate. A slot whose job asks to be retried comes
 * back after its delay, unless a newer slot has started (which does the same work).
 */
export class MaintenanceSchedule implements JobSource {
  readonly name = 'schedule' as const;
  private readonly now: () => number;
  private stopped = false;
  private wake: (() => void) | undefined;
  private timer: NodeJS.Timeout | undefined;
  /** The newest slot handed out, and a retry waiting for its time. */
  private lastSlot = -1;
  private retryAt: { slot: number; at: number; delivery: number } | undefined;

  constructor(private readonly options: ScheduleOptions) {
    this.now = options.now ?? Date.now;
  }

  async start(_options: SourceStartOptions): Promise<void> {}

  async next(kind: string): Promise<Job | null> {
    if (kind !== MAINTENANCE_KIND) return null;
    while (!this.stopped) {
      const now = this.now();
      const slot = Math.floor(now / this.options.intervalMs);
      if (this.retryAt && this.retryAt.slot < slot) this.retryAt = undefined;
      if (slot > this.lastSlot) {
        this.lastSlot = slot;
        this.retryAt = undefined;
        return this.jobOf(slot, 1);
      }
      if (this.retryAt && this.retryAt.at <= now) {
        const { slot: again, delivery } = this.retryAt;
        this.retryAt = undefined;
        return this.jobOf(again, delivery);
      }
      const nextSlotAt = (slot + 1) * this.options.intervalMs;
      await this.sleep(Math.max(1, Math.min(nextSlotAt, this.retryAt?.at ?? Infinity) - now));
    }
    return null;
  }

  private async jobOf(slot: number, delivery: number): Promise<Job> {
    const id = `${SLOT_PREFIX}${slot}`;
    const startedAt = new Date(slot * this.options.intervalMs);
    const event: UploadCompletedEvent = {
      version: 1, type: 'uploads.completed', eventId: id, uploadId: id, size: 0, metadata: {},
      location: { kind: 'file', path: '' }, completedAt: startedAt.toISOString(), node: this.options.nodeName,
    };
    // Not routed through the runtime's dispatch (which would plan the upload kinds in the slot's
    // status): the run itself records the slot's status (processing, then done or failed).
    const lane: Lane = 'normal';
    const settle = async () => undefined;
    return {
      id: `${id}:${MAINTENANCE_KIND}`, kind: MAINTENANCE_KIND, lane, event, deliveryCount: delivery, persistedAt: startedAt,
      working: settle,
      ack: settle,
      retry: async (delayMs) => {
        if (slot === this.lastSlot) this.retryAt = { slot, at: this.now() + delayMs, delivery: delivery + 1 };
        this.wake?.();
      },
      deadLetter: async (_info: DeadLetterInfo) => undefined,
    };
  }

  private sleep(ms: number): Promise<void> {
    return new Promise((resolve) => {
      this.wake = () => {
        clearTimeout(this.timer);
        this.wake = undefined;
        resolve();
      };
      this.timer = setTimeout(() => this.wake?.(), ms);
    });
  }

  async pending(): Promise<PendingCount[]> {
    return [{ kind: MAINTENANCE_KIND, lane: 'normal', count: this.retryAt ? 1 : 0 }];
  }

  async dispatchingKinds(): Promise<string[]> {
    return [MAINTENANCE_KIND];
  }

  ready(): boolean {
    return !this.stopped;
  }

  async stop(): Promise<void> {
    this.stopped = true;
    this.wake?.();
  }
}

/**
 * The upload events' source with the maintenance schedule beside it, for the one runtime of an
 * embedded server: `maintenance` jobs come from the schedule, every other kind from `uploads` (which
 * never dispatches upload events to `maintenance`).
 */
export class WithMaintenance implements JobSource {
  readonly name: JobSource['name'];

  constructor(private readonly uploads: JobSource, private readonly schedule: MaintenanceSchedule) {
    this.name = uploads.name;
  }

  async start(options: SourceStartOptions): Promise<void> {
    await this.uploads.start({ ...options, kinds: options.kinds.filter((k) => k !== MAINTENANCE_KIND) });
    await this.schedule.start(options);
  }

  next(kind: string): Promise<Job | null> {
    return kind === MAINTENANCE_KIND ? this.schedule.next(kind) : this.uploads.next(kind);
  }

  async pending(): Promise<PendingCount[]> {
    return [...(await this.uploads.pending()), ...(await this.schedule.pending())];
  }

  dispatchingKinds(): Promise<string[]> {
    return this.uploads.dispatchingKinds();
  }

  ready(): boolean {
    return this.uploads.ready();
  }

  async stop(): Promise<void> {
    await this.schedule.stop();
    await this.uploads.stop();
  }
}
