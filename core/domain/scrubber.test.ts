import { describe, expect, it } from 'vitest';
import { REDACTED, scrub, scrubUrl } from './scrubber.ts';

describe('scrubber', () => {
  it('redacts the allowlisted keys at any depth, case-insensitively', () => {
    const out = scrub({
      Authorization: 'Bearer vs_x',
      nested: { proxy: { url: 'http://h:1', password: 'pw' }, storage_state: { cookies: [{ value: 's' }] } },
      list: [{ api_key: 'k', connect_url: 'ws://x?token=abc', ok: 'visible' }],
      refresh_token: 't',
    });
    expect(out).toEqual({
      Authorization: REDACTED,
      nested: { proxy: { url: 'http://h:1', password: REDACTED }, storage_state: REDACTED },
      list: [{ api_key: REDACTED, connect_url: REDACTED, ok: 'visible' }],
      refresh_token: REDACTED,
    });
  });

  it('redacts the camelCase spellings code uses too', () => {
    expect(
      scrub({ storageState: {}, connectUrl: 'ws://x', jwtSecret: 's', metricsToken: 't', sessionId: 'kept' }),
    ).toEqual({
      storageState: REDACTED,
      connectUrl: REDACTED,
      jwtSecret: REDACTED,
      metricsToken: REDACTED,
      sessionId: 'kept',
    });
  });

  it('removes tokens, URL credentials and API keys from free text', () => {
    expect(scrubUrl('GET /v1/sessions/1/cdp?token=eyJabc.def&x=1')).toBe(
      `GET /v1/sessions/1/cdp?token=${REDACTED}&x=1`,
    );
    expect(scrubUrl('proxy http://user:hunter2@proxy.local:8080')).toBe(
      `proxy http://${REDACTED}@proxy.local:8080`,
    );
    expect(scrubUrl('key vs_01JC1AMQX4N3PWV9MR2BCKDH7E.abcdefghijklmnopqrstuvwxyz012345 used')).toBe(
      `key ${REDACTED} used`,
    );
  });
});
