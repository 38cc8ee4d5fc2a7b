/**
 * The pod agent's settings from its environment (runtime-image/agent/agent.config.ts): defaults, the
 * DevTools port the runtime image fixes, and one clear error listing every bad value.
 */
import { describe, expect, it } from 'vitest';
import { readAgentConfig } from '../../runtime-image/agent/agent.config.ts';
import { AGENT_SECRET_ENV } from '../../runtime-image/agent/protocol.ts';

const base = { USER_DATA_DIR: '/data/user-data', [AGENT_SECRET_ENV]: 'a-secret-of-the-pod-0123' };

describe('readAgentConfig', () => {
  it('picks free ports by default, and the DevTools port the runtime image sets', () => {
    expect(readAgentConfig(base)).toMatchObject({ port: 0, devtoolsPort: 0, browserNetns: undefined });
    expect(readAgentConfig({ ...base, DEVTOOLS_PORT: '6666' }).devtoolsPort).toBe(6666);
  });

  it('relays CDP through the kernel relay only when KERNEL_RELAY names its program by absolute path', () => {
    expect(readAgentConfig(base).kernelRelay).toBeUndefined();
    expect(readAgentConfig({ ...base, KERNEL_RELAY: '/opt/ventus/kernel-relay' }).kernelRelay).toBe(
      '/opt/ventus/kernel-relay',
    );
    expect(() => readAgentConfig({ ...base, KERNEL_RELAY: 'kernel-relay' })).toThrow(
      'KERNEL_RELAY must be an absolute path',
    );
  });

  it('refuses every bad value at once, naming each', () => {
    const bad = {
      ...base,
      AGENT_PORT: '70000',
      DEVTOOLS_PORT: 'devtools',
      BROWSER_NETNS: 'true',
      [AGENT_SECRET_ENV]: 'short',
    };
    expect(() => readAgentConfig(bad)).toThrow(
      [
        'AGENT_PORT must be an integer 0..65535, got "70000"',
        `${AGENT_SECRET_ENV} is required (at least 16 characters)`,
        'BROWSER_NETNS=true needs BRIDGE_DIR, an absolute path',
        'DEVTOOLS_PORT must be an integer 0..65535, got "devtools"',
      ].join('\n'),
    );
    expect(() => readAgentConfig({ ...base, DEVTOOLS_PORT: '-1' })).toThrow(/DEVTOOLS_PORT must be/);
  });
});
