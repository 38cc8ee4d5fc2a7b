/**
 * The machine's busy CPU time, from /proc/stat: every process's user, system, interrupt and steal
 * time summed over all cores. A difference over a run, divided by what the run did, is the CPU that
 * work cost the whole machine (service, browsers, databases and load generator alike); it is only
 * meaningful when nothing else runs.
 */
import { readFileSync } from 'node:fs';

const TICKS_PER_SECOND = 100; // USER_HZ, 100 on every Linux this runs on

/** Seconds of CPU the machine has spent busy since boot (Linux only; NaN elsewhere). */
export function busySeconds(): number {
  let line: string | undefined;
  try {
    line = readFileSync('/proc/stat', 'utf8').split('\n')[0];
  } catch {
    return NaN;
  }
  // cpu  user nice system idle iowait irq softirq steal guest guest_nice
  const [user, nice, system, , , irq, softirq, steal] = line!.trim().split(/\s+/).slice(1).map(Number);
  return (user! + nice! + system! + irq! + softirq! + steal!) / TICKS_PER_SECOND;
}
