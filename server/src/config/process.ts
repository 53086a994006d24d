/**
 * Processing on request (`POST /api/files/:id/process`): which lane a request's jobs take. The lane
 * follows the owner's plan (the `plan` claim of a user token, mapped by `PROCESS_PLAN_PRIORITY`), and
 * a `priority` in the request may choose a lane up to `PROCESS_MAX_PRIORITY` (or its plan's, if higher).
 */
import { ConfigError, type Lane } from '@tus-edge/processors';
import type { RawEnv } from './config.js';

/** The variables this part reads (they join the server's ENV_KEYS). */
export const PROCESS_ENV_KEYS = ['PROCESS_PLAN_PRIORITY', 'PROCESS_MAX_PRIORITY', 'PROCESS_DEFAULT_PRIORITY', 'PROCESS_ALLOWED_MODELS'] as const;

/** Validated processing-request configuration. Every field has a documented default. */
export interface ProcessRequestConfig {
  /** Lane per plan, from a user token's `plan` claim (`PROCESS_PLAN_PRIORITY`, e.g. `free:normal,pro:high`; default none). */
  planLanes: Record<string, Lane>;
  /** Lane of a request whose owner has no plan, or a plan not in the map (`PROCESS_DEFAULT_PRIORITY`, default `normal`). */
  defaultLane: Lane;
  /**
   * Highest lane a request's `priority` may ask for (`PROCESS_MAX_PRIORITY`, default `normal`): a higher
   * one is lowered to it, or to the owner's plan lane when that is higher.
   */
  maxLane: Lane;
  /**
   * Chat models a request's `options.generate.model` may name (`PROCESS_ALLOWED_MODELS`, comma-separated;
   * default none: a request cannot choose the model, so a client cannot pick a costlier one).
   */
  allowedModels: string[];
}

const lane = (name: string, value: string): Lane => {
  const v = value.trim().toLowerCase();
  if (v !== 'high' && v !== 'normal') throw new ConfigError(`${name}: "${value}" is not a lane (high or normal)`);
  return v;
};

/** Turns the raw variables into a {@link ProcessRequestConfig}. */
export function parseProcessRequests(raw: RawEnv): ProcessRequestConfig {
  const planLanes: Record<string, Lane> = {};
  for (const entry of (raw.PROCESS_PLAN_PRIORITY ?? '').split(',').map((e) => e.trim()).filter(Boolean)) {
    const at = entry.lastIndexOf(':');
    const plan = entry.slice(0, at).trim();
    if (at < 1 || !plan) throw new ConfigError(`PROCESS_PLAN_PRIORITY: "${entry}" is not <plan>:<lane>`);
    planLanes[plan] = lane('PROCESS_PLAN_PRIORITY', entry.slice(at + 1));
  }
  return {
    planLanes,
    defaultLane: raw.PROCESS_DEFAULT_PRIORITY ? lane('PROCESS_DEFAULT_PRIORITY', raw.PROCESS_DEFAULT_PRIORITY) : 'normal',
    maxLane: raw.PROCESS_MAX_PRIORITY ? lane('PROCESS_MAX_PRIORITY', raw.PROCESS_MAX_PRIORITY) : 'normal',
    allowedModels: (raw.PROCESS_ALLOWED_MODELS ?? '').split(',').map((m) => m.trim()).filter(Boolean),
  };
}

const RANK: Record<Lane, number> = { normal: 0, high: 1 };

/**
 * The lane of a request: `requested` (the body's `priority`) when given, capped at the higher of
 * `maxLane` and the plan's lane; else the plan's lane (or `defaultLane`).
 */
export function laneOf(config: ProcessRequestConfig, plan: string | undefined, requested: Lane | undefined): Lane {
  const planLane = (plan !== undefined && Object.hasOwn(config.planLanes, plan) ? config.planLanes[plan] : undefined) ?? config.defaultLane;
  if (!requested) return planLane;
  const cap = RANK[planLane] > RANK[config.maxLane] ? planLane : config.maxLane;
  return RANK[requested] > RANK[cap] ? cap : requested;
}
