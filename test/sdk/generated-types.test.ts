import { readFile } from 'node:fs/promises';
import { describe, expect, it } from 'vitest';
import { GENERATED_TYPES_PATH, renderGeneratedTypes } from '../../sdk/scripts/generate-types.ts';

describe('SDK generated types', () => {
  it('match /openapi.json (run `npm run sdk:types` after changing a route schema)', async () => {
    const committed = await readFile(GENERATED_TYPES_PATH, 'utf8');
    const fresh = await renderGeneratedTypes();
    // A plain boolean first: a 9,000-line diff helps nobody; the hint says what to do.
    expect(fresh === committed, 'sdk/src/generated/openapi.d.ts is stale: run `npm run sdk:types`').toBe(
      true,
    );
  });
});
