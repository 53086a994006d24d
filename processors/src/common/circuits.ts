import { CircuitBreaker, type BreakerSettings, type CircuitState } from './breaker.js';
import type { Bulkhead } from './bulkhead.js';

/**
 * The circuit breakers and bulkheads of one process, by name, built once at start-up (server context,
 * processor runtime) and shared by everything that calls the same service. Metrics and `/readyz`
 * read their state here; listeners hear every breaker state change.
 */
export class Circuits {
  private readonly breakers = new Map<string, CircuitBreaker>();
  private readonly bulkheads = new Map<string, Bulkhead>();
  private readonly listeners: Array<(service: string, state: CircuitState) => void> = [];

  constructor(readonly settings: BreakerSettings) {}

  /** The breaker of `service`, created on first use with this process's settings. */
  breaker(service: string): CircuitBreaker {
    let breaker = this.breakers.get(service);
    if (!breaker) {
      breaker = new CircuitBreaker({ ...this.settings, service, onStateChange: (state) => this.listeners.forEach((l) => l(service, state)) });
      this.breakers.set(service, breaker);
    }
    return breaker;
  }

  /** Records a bulkhead so it is reported with the others. */
  addBulkhead(bulkhead: Bulkhead): Bulkhead {
    this.bulkheads.set(bulkhead.name, bulkhead);
    return bulkhead;
  }

  /** Calls `listener` on every state change of any breaker (also of breakers created later). */
  onStateChange(listener: (service: string, state: CircuitState) => void): void {
    this.listeners.push(listener);
  }

  /** Every breaker's state now, by service. */
  states(): Record<string, CircuitState> {
    return Object.fromEntries([...this.breakers].map(([name, b]) => [name, b.state()]));
  }

  /** Every bulkhead's use now, by name. */
  bulkheadUse(): Record<string, { limit: number; inUse: number; waiting: number }> {
    return Object.fromEntries([...this.bulkheads].map(([name, b]) => [name, { limit: b.limit, inUse: b.inUse, waiting: b.waiting }]));
  }

  /** Resolves once none of `services`' breakers refuses calls (closed, or half-open with no probe out). */
  async whenAllowed(services: readonly string[], signal?: AbortSignal): Promise<void> {
    for (const service of services) await this.breaker(service).whenAllowed(signal);
  }
}
