import { parseConfig as parseProcessorsConfig, startRuntime, type JobSource, type ProcessorsConfig, type Runtime } from '@tus-edge/processors';
import type { AppContext } from '../context.js';
import { maintenanceCounter, type MaintenanceDeps } from './apply.js';
import { MaintenanceProcessor } from './processor.js';
import { MaintenanceSchedule, WithMaintenance } from './schedule.js';
import { analyticsRollupTask } from '../analytics/rollup-task.js';

/** The maintenance kind of one node: its processor and its schedule. */
export interface Maintenance {
  processor: MaintenanceProcessor;
  schedule: MaintenanceSchedule;
}

/**
 * The `maintenance` kind for this node (`FILE_POLICIES`, `MAINTENANCE_INTERVAL`, and the analytics
 * rollup with `ANALYTICS_HISTORY`), or undefined when it has nothing to do. Registers `tus_maintenance_actions_total` with a zero per policy and action.
 */
export function planMaintenance(
  deps: AppContext, removal: Pick<MaintenanceDeps, 'removeFile' | 'drainDeletes'>, overrides: Partial<Pick<MaintenanceDeps, 'onStep'>> = {},
): Maintenance | undefined {
  const { config } = deps;
  const tasks = config.analytics.history
    ? [analyticsRollupTask({ history: deps.history, results: deps.results, rawRetentionMs: config.analytics.rawRetentionMs, logger: deps.logger })]
    : [];
  if (config.lifecycle.policies.length === 0 && tasks.length === 0) return undefined;
  const counter = maintenanceCounter(deps.metrics.registry);
  for (const p of config.lifecycle.policies) for (const action of ['delete', 'cold', 'failed']) counter.inc({ action, policy: p.name }, 0);
  return {
    processor: new MaintenanceProcessor({
      catalogue: deps.catalogue, storage: deps.storage, tiers: deps.tiers, policies: config.lifecycle.policies, ...removal, counter, ...overrides,
    }, deps.now, tasks),
    schedule: new MaintenanceSchedule({ intervalMs: config.lifecycle.maintenanceIntervalMs, nodeName: config.nodeName }),
  };
}

/**
 * A server running the processors in-process: its one runtime runs the maintenance kind too, its jobs
 * from the schedule beside the upload events of whatever source the runtime builds (the directory
 * outbox, or JetStream).
 */
export function withMaintenance(maintenance: Maintenance): (uploads: JobSource) => JobSource {
  return (uploads) => new WithMaintenance(uploads, maintenance.schedule);
}

/**
 * Distributed server (processors run elsewhere, on JetStream): the node runs a runtime of its own with
 * only the maintenance kind, fed by the schedule. Its job leases are in Redis beside the shared status,
 * so of all nodes one runs each slot and the others settle it as a duplicate.
 */
export function startDistributedMaintenance(deps: AppContext, maintenance: Maintenance): Promise<Runtime> {
  const { config } = deps;
  const runtimeConfig: ProcessorsConfig = {
    ...parseProcessorsConfig({}),
    ...config.processing,
    kinds: [],
    shutdownTimeoutMs: config.shutdownTimeoutMs,
    logLevel: config.logLevel,
    nodeName: config.nodeName,
  };
  return startRuntime({
    config: runtimeConfig,
    logger: deps.logger.child({ component: 'maintenance' }),
    processors: [maintenance.processor],
    source: maintenance.schedule,
    status: deps.status,
    registry: deps.metrics.registry,
    http: false,
    circuits: deps.circuits,
  });
}
