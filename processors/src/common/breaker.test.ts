import { describe, expect, it } from 'vitest';
import { CircuitBreaker, CircuitOpenError, type CircuitState } from './breaker.js';
import { Bulkhead } from './bulkhead.js';
import { Circuits } from './circuits.js';

const fail = () => Promise.reject(new Error('down'));
const ok = () => Promise.resolve('ok');

function breaker(now: { t: number }, changes: CircuitState[] = []) {
  return new CircuitBreaker({ service: 'svc', failureThreshold: 3, windowMs: 1000, openMs: 500, now: () => now.t, onStateChange: (s) => changes.push(s) });
}

describe('CircuitBreaker', () => {
  it('opens after N failures within the window, then refuses at once with the time left', async () => {
    const now = { t: 0 };
    const b = breaker(now);
    for (let i = 0; i < 2; i++) await expect(b.run(fail)).rejects.toThrow('down');
    expect(b.state()).toBe('closed');
    await expect(b.run(fail)).rejects.toThrow('down');
    expect(b.state()).toBe('open');
    now.t = 100;
    const refused = await b.run(ok).catch((e: unknown) => e);
    expect(refused).toBeInstanceOf(CircuitOpenError);
    expect((refused as CircuitOpenError).retryAfterMs).toBe(400);
  });

  it('forgets failures older than the window', async () => {
    const now = { t: 0 };
    const b = breaker(now);
    await b.run(fail).catch(() => undefined);
    await b.run(fail).catch(() => undefined);
    now.t = 1500;
    await b.run(fail).catch(() => undefined);
    expect(b.state()).toBe('closed');
  });

  it('a success resets the count; failures that do not count pass through', async () => {
    const now = { t: 0 };
    const b = breaker(now);
    await b.run(fail).catch(() => undefined);
    await b.run(fail).catch(() => undefined);
    await b.run(ok);
    await b.run(fail).catch(() => undefined);
    for (let i = 0; i < 5; i++) await b.run(fail, () => false).catch(() => undefined);
    expect(b.state()).toBe('closed');
  });

  it('half-open lets one probe through: success closes, failure opens for another period', async () => {
    const now = { t: 0 };
    const changes: CircuitState[] = [];
    const b = breaker(now, changes);
    for (let i = 0; i < 3; i++) await b.run(fail).catch(() => undefined);
    now.t = 500;
    expect(b.state()).toBe('half-open');
    let release!: () => void;
    const probe = b.run(() => new Promise<void>((r) => (release = r)).then(fail));
    await expect(b.run(ok)).rejects.toBeInstanceOf(CircuitOpenError); // one probe at a time
    release();
    await expect(probe).rejects.toThrow('down');
    expect(b.state()).toBe('open');
    now.t = 1000;
    await expect(b.run(ok)).resolves.toBe('ok');
    expect(b.state()).toBe('closed');
    expect(changes).toEqual(['open', 'half-open', 'open', 'half-open', 'closed']);
  });

  it('whenAllowed waits until the open period is over', async () => {
    const b = new CircuitBreaker({ service: 'svc', failureThreshold: 1, windowMs: 1000, openMs: 150 });
    await b.run(fail).catch(() => undefined);
    const started = Date.now();
    await b.whenAllowed();
    expect(Date.now() - started).toBeGreaterThanOrEqual(140);
    const aborted = new AbortController();
    await b.run(fail).catch(() => undefined);
    setTimeout(() => aborted.abort(new Error('stop')), 20);
    await expect(b.whenAllowed(aborted.signal)).rejects.toThrow('stop');
  });
});

describe('Bulkhead', () => {
  it('runs at most `limit` calls at once, the rest in order, and reports its use', async () => {
    const seen: number[] = [];
    const b = new Bulkhead('x', 2, (h) => seen.push(h.inUse));
    let running = 0;
    let peak = 0;
    const order: number[] = [];
    await Promise.all(
      [0, 1, 2, 3, 4].map((i) =>
        b.run(async () => {
          running++;
          peak = Math.max(peak, running);
          await new Promise((r) => setTimeout(r, 10));
          order.push(i);
          running--;
        }),
      ),
    );
    expect(peak).toBe(2);
    expect(order).toEqual([0, 1, 2, 3, 4]);
    expect(b.inUse).toBe(0);
    expect(Math.max(...seen)).toBe(2);
  });

  it('a waiting call leaves the queue when its signal aborts', async () => {
    const b = new Bulkhead('x', 1);
    let release!: () => void;
    const first = b.run(() => new Promise<void>((r) => (release = r)));
    const ac = new AbortController();
    const second = b.run(async () => 'never', ac.signal);
    expect(b.waiting).toBe(1);
    ac.abort(new Error('gone'));
    await expect(second).rejects.toThrow('gone');
    expect(b.waiting).toBe(0);
    release();
    await first;
  });
});

describe('CircuitBreaker.admit (calls that settle through callbacks)', () => {
  it('counts settled failures like run, refuses while open, and a settle counts once', () => {
    const now = { t: 0 };
    const b = breaker(now);
    for (let i = 0; i < 3; i++) {
      const call = b.admit();
      call.settle(true);
      call.settle(true); // a second settle of the same call changes nothing
      if (i < 2) expect(b.state()).toBe('closed');
    }
    expect(b.state()).toBe('open');
    expect(() => b.admit()).toThrow(CircuitOpenError);
  });

  it('half-open: probe: false refuses instead of becoming the probe; the probe settles the state', () => {
    const now = { t: 0 };
    const b = breaker(now);
    for (let i = 0; i < 3; i++) b.admit().settle(true);
    now.t = 500;
    expect(() => b.admit({ probe: false })).toThrow(CircuitOpenError);
    const probe = b.admit();
    expect(() => b.admit()).toThrow(CircuitOpenError); // one probe at a time
    probe.settle(false);
    expect(b.state()).toBe('closed');
    b.admit({ probe: false }).settle(false);
  });
});

describe('Circuits', () => {
  it('one breaker per service, states and bulkheads reported, listeners told', async () => {
    const c = new Circuits({ failureThreshold: 1, windowMs: 1000, openMs: 60_000 });
    const heard: string[] = [];
    c.onStateChange((service, state) => heard.push(`${service}:${state}`));
    expect(c.breaker('s3')).toBe(c.breaker('s3'));
    await c.breaker('openai').run(fail).catch(() => undefined);
    c.addBulkhead(new Bulkhead('openai', 3));
    expect(c.states()).toEqual({ s3: 'closed', openai: 'open' });
    expect(c.bulkheadUse()).toEqual({ openai: { limit: 3, inUse: 0, waiting: 0 } });
    expect(heard).toEqual(['openai:open']);
  });
});
