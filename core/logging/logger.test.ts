import { describe, expect, it } from 'vitest';
import Fastify from 'fastify';
import { createLogger } from './logger.ts';
import { REDACTED } from '../domain/scrubber.ts';

function capture() {
  const lines: Record<string, unknown>[] = [];
  const log = createLogger(
    'debug',
    { service: 'test' },
    {
      write: (line: string) => void lines.push(JSON.parse(line) as Record<string, unknown>),
    },
  );
  return { log, lines };
}

describe('logger: every part of a line passes the scrubber', () => {
  it('scrubs the merged object, the message and interpolated values', () => {
    const { log, lines } = capture();
    log.info(
      { job: { name: 'provision', data: { sessionId: 's1', storage_state: { cookies: [] } } } },
      'connect %s with %o',
      'ws://h/v1/sessions/s1/cdp?token=eyJ.abc',
      { password: 'hunter2' },
    );
    expect(lines[0]).toMatchObject({
      service: 'test',
      job: { name: 'provision', data: { sessionId: 's1', storage_state: REDACTED } },
      msg: `connect ws://h/v1/sessions/s1/cdp?token=${REDACTED} with {"password":"${REDACTED}"}`,
    });
  });

  it('scrubs child bindings, grandchildren included', () => {
    const { log, lines } = capture();
    log
      .child({ proxy: { url: 'http://user:pw@proxy:8080', password: 'pw' } })
      .child({ api_key: 'vs_x' })
      .info('hello');
    expect(lines[0]).toMatchObject({
      proxy: { url: `http://${REDACTED}@proxy:8080`, password: REDACTED },
      api_key: REDACTED,
      msg: 'hello',
    });
  });

  it("keeps an error's type and stack, with tokens removed from its message and stack", () => {
    const { log, lines } = capture();
    const err = new TypeError('fetch http://h/x?token=secret1 failed');
    log.error(err);
    log.warn({ err }, 'job failed');
    for (const line of lines) {
      const logged = line.err as { type: string; message: string; stack: string };
      expect(logged.type).toBe('TypeError');
      expect(logged.message).toBe(`fetch http://h/x?token=${REDACTED} failed`);
      expect(logged.stack).toMatch(/^TypeError: fetch http:\/\/h\/x\?token=\[REDACTED\] failed\n\s+at /);
      expect(JSON.stringify(line)).not.toContain('secret1');
    }
    expect(lines[0]!.msg).toBe(`fetch http://h/x?token=${REDACTED} failed`);
  });

  it("logs Fastify's requests as method and scrubbed URL, and replies as their status", async () => {
    const { log, lines } = capture();
    const app = Fastify({ loggerInstance: log });
    app.get('/v1/sessions/:id/cdp', async () => ({ ok: true }));
    await app.inject({
      method: 'GET',
      url: '/v1/sessions/s1/cdp?token=eyJ.secret2',
      headers: { authorization: 'Bearer vs_secret3' },
    });
    await app.close();
    expect(lines.find((l) => l.msg === 'incoming request')).toMatchObject({
      req: { method: 'GET', url: `/v1/sessions/s1/cdp?token=${REDACTED}` },
    });
    expect(lines.find((l) => l.msg === 'request completed')).toMatchObject({ res: { statusCode: 200 } });
    expect(JSON.stringify(lines)).not.toMatch(/secret2|secret3/);
  });
});
