/** A set of parked promises that `wakeAll()` resolves; `wait(ms)` also resolves after `ms`. */
export class Waiters {
  private readonly parked = new Set<() => void>();

  wait(timeoutMs?: number): Promise<void> {
    return new Promise((resolve) => {
      let timer: NodeJS.Timeout | undefined;
      const done = () => {
        if (timer) clearTimeout(timer);
        this.parked.delete(done);
        resolve();
      };
      this.parked.add(done);
      if (timeoutMs !== undefined && Number.isFinite(timeoutMs)) timer = setTimeout(done, Math.max(0, timeoutMs));
    });
  }

  wakeAll(): void {
    for (const done of [...this.parked]) done();
  }
}

export const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));
