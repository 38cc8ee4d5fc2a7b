/**
 * Descriptors this process holds open without close-on-exec: a spawn passes them on to the child.
 * Node opens all of its own with close-on-exec (its IPC channel included), so beyond stdin, stdout
 * and stderr these are ones a parent left open by accident. Linux (/proc/self/fdinfo); elsewhere none.
 */
import { readdirSync, readFileSync } from 'node:fs';

const O_CLOEXEC = 0o2000000;

export function inheritableDescriptors(): number[] {
  let fds: string[];
  try {
    fds = readdirSync('/proc/self/fd');
  } catch {
    return [];
  }
  return fds.map(Number).filter((fd) => {
    if (fd < 3) return false;
    try {
      const flags = /^flags:\s+([0-7]+)/m.exec(readFileSync(`/proc/self/fdinfo/${fd}`, 'utf8'))?.[1];
      return flags !== undefined && (parseInt(flags, 8) & O_CLOEXEC) === 0;
    } catch {
      return false; // the directory's own descriptor, closed by now
    }
  });
}
