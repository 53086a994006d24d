import { notApplicable, type Processor, type ProcessorContext, type ProcessorResult, type UploadCompletedEvent } from '@tus-edge/processors';
import { runMaintenance, type MaintenanceDeps } from './apply.js';
import { isMaintenanceSlot, MAINTENANCE_KIND } from './schedule.js';
import type { MaintenanceTask } from '../analytics/rollup-task.js';

/**
 * The `maintenance` kind: applies the retention and tier policies (`FILE_POLICIES`) through the
 * catalogue, then runs its further `tasks` (the analytics rollup), once per scheduled slot. Implemented in the server (it needs the catalogue and the
 * storage tiers) and run by the processors' runtime, under the runtime's job lease: one node runs a
 * slot, the others settle it as a duplicate. Its result (what it did) is recorded in the slot's status.
 */
export class MaintenanceProcessor implements Processor {
  readonly kind = MAINTENANCE_KIND;
  readonly concurrency = 1;

  constructor(
    private readonly deps: Omit<MaintenanceDeps, 'logger'>,
    private readonly now: () => Date = () => new Date(),
    private readonly tasks: readonly MaintenanceTask[] = [],
  ) {}

  accepts(event: UploadCompletedEvent): boolean {
    return isMaintenanceSlot(event);
  }

  async run(event: UploadCompletedEvent, ctx: ProcessorContext): Promise<ProcessorResult> {
    if (!isMaintenanceSlot(event)) throw notApplicable('not a maintenance slot');
    const started = Date.now();
    ctx.working();
    const now = this.now();
    const summary: Record<string, unknown> = { ...(await runMaintenance({ ...this.deps, logger: ctx.logger }, now, ctx.signal)) };
    for (const task of this.tasks) {
      ctx.working();
      summary[task.name] = await task.run(now, ctx.signal);
    }
    ctx.logger.info('maintenance run finished', { slot: event.eventId, ...summary, ms: Date.now() - started });
    return { result: summary };
  }
}
