/**
 * CPU time and peak RSS of server processes read from Linux /proc by PID, for processes this benchmark
 * did not fork itself (the local stack's nodes, Swift) as well as those it did. Every function
 * answers undefined / false where /proc is unavailable or a process is gone.
 */
import fs from 'node:fs';

/** User+system CPU seconds of the given PIDs so far (undefined when none or unreadable). */
export function pidsCpuS(pids: readonly number[]): number | undefined {
  if (pids.length === 0) return undefined;
  let ticks = 0;
  try {
    for (const pid of pids) {
      const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
      const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      ticks += Number(fields[11]) + Number(fields[12]);
    }
  } catch {
    return undefined;
  }
  return ticks / 100; // USER_HZ is 100 on Linux
}

/** Restarts the kernel's peak-RSS counter (VmHWM) of each PID from its current RSS; false if any could not be reset. */
export function resetPeakRss(pids: readonly number[]): boolean {
  try {
    for (const pid of pids) fs.writeFileSync(`/proc/${pid}/clear_refs`, '5');
    return pids.length > 0;
  } catch {
    return false;
  }
}

/** The highest VmHWM (peak RSS since start or the last reset) of the given PIDs, MiB. */
export function pidsPeakRssMiB(pids: readonly number[]): number | undefined {
  if (pids.length === 0) return undefined;
  let peakKiB = 0;
  try {
    for (const pid of pids) {
      const m = /^VmHWM:\s+(\d+) kB$/m.exec(fs.readFileSync(`/proc/${pid}/status`, 'utf8'));
      if (!m) return undefined;
      peakKiB = Math.max(peakKiB, Number(m[1]));
    }
  } catch {
    return undefined;
  }
  return peakKiB / 1024;
}
