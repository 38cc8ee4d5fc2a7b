/**
 * The banner's key commands work from where the newcomer typed `npm start` (npm runs the script from
 * the package's folder and passes the caller's directory as INIT_CWD).
 */
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { banner, ventusCommand } from '../../cli/up.command.ts';

const ROOT = path.resolve(import.meta.dirname, '../..');
/** A directory outside the checkout and not above it (CI clones under /tmp: '/tmp' would be above). */
const ELSEWHERE = path.join(path.dirname(ROOT), 'not-the-checkout');

describe('ventus up banner', () => {
  it('names bin/ventus.js relatively from the checkout and absolutely from anywhere else', () => {
    expect(ventusCommand(ROOT)).toBe('node bin/ventus.js');
    expect(ventusCommand(ELSEWHERE)).toBe(`node ${path.join(ROOT, 'bin/ventus.js')}`);
  });

  it('uses npm start’s INIT_CWD, the directory the newcomer is in', () => {
    const before = process.env.INIT_CWD;
    process.env.INIT_CWD = ELSEWHERE;
    try {
      expect(banner('http://localhost:8080', 8080)).toContain(
        `node ${path.join(ROOT, 'bin/ventus.js')} keys create --workspace acme`,
      );
    } finally {
      if (before === undefined) delete process.env.INIT_CWD;
      else process.env.INIT_CWD = before;
    }
  });
});
