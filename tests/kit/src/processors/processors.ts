/** Test processors with scripted behaviour that record every run and every completed effect. */
import fs from 'node:fs';
import type { Processor, ProcessorContext, ProcessorResult, UploadCompletedEvent } from '@tus-edge/processors';

export interface RunRecord {
  eventId: string;
  attempt: number;
  startedAt: number;
  worker: string;
}

export type Behaviour = (event: UploadCompletedEvent, ctx: ProcessorContext) => Promise<ProcessorResult>;

export const wait = (ms: number, signal?: AbortSignal) =>
  new Promise<void>((resolve, reject) => {
    const timer = setTimeout(resolve, ms);
    signal?.addEventListener('abort', () => {
      clearTimeout(timer);
      reject(signal.reason);
    }, { once: true });
  });

/**
 * Records runs (`runs`) and completed effects (`effects`: one entry each time `behaviour` resolved).
 * With `logFile`, each run start and each effect is also appended as a JSON line (for child processes).
 */
export class ScriptedProcessor implements Processor {
  readonly runs: RunRecord[] = [];
  readonly effects: RunRecord[] = [];

  constructor(
    readonly kind: string,
    private readonly behaviour: Behaviour,
    private readonly worker = 'main',
    private readonly logFile?: string,
  ) {}

  accepts(): boolean {
    return true;
  }

  async run(event: UploadCompletedEvent, ctx: ProcessorContext): Promise<ProcessorResult> {
    const record = { eventId: event.eventId, attempt: ctx.attempt, startedAt: Date.now(), worker: this.worker };
    this.runs.push(record);
    this.log({ type: 'run', ...record });
    const result = await this.behaviour(event, ctx);
    this.effects.push(record);
    this.log({ type: 'effect', ...record });
    return { ...result, result: { ...result.result, worker: this.worker } };
  }

  private log(entry: object): void {
    if (this.logFile) fs.appendFileSync(this.logFile, `${JSON.stringify(entry)}\n`);
  }

  /** Completed effects per event id. */
  effectCounts(): Map<string, number> {
    const counts = new Map<string, number>();
    for (const e of this.effects) counts.set(e.eventId, (counts.get(e.eventId) ?? 0) + 1);
    return counts;
  }
}

/** Reads the JSON lines a child's {@link ScriptedProcessor} appended. */
export function readRunLog(file: string): Array<RunRecord & { type: 'run' | 'effect' }> {
  if (!fs.existsSync(file)) return [];
  return fs.readFileSync(file, 'utf8').split('\n').filter(Boolean).map((l) => JSON.parse(l));
}
