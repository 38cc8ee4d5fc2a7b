import { describe, expect, it } from 'vitest';
import { readFileSync } from 'node:fs';
import { PROBLEMS } from '../../core/domain/problems.ts';

describe('problem registry', () => {
  it('documents every problem type with its status in docs/problems.md', () => {
    const doc = readFileSync(new URL('../../docs/problems.md', import.meta.url), 'utf8');
    for (const [type, { status }] of Object.entries(PROBLEMS)) {
      expect(doc, `docs/problems.md lacks ${type}`).toMatch(
        new RegExp(`\\|\\s*\`${type}\`\\s*\\|\\s*${status}\\s*\\|`),
      );
    }
  });
});
