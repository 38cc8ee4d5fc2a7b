/** The conformance suite against headful local pods (real Chromium on a private Xvfb display). */
import { describe } from 'vitest';
import { xvfbAvailable } from '../../core/runtime/local.driver.ts';
import { describeDriverConformance } from './driver.conformance.ts';
import { localHarness } from './local.harness.ts';

if (xvfbAvailable()) describeDriverConformance('local, headful on Xvfb', () => localHarness(false));
else describe.skip('RuntimeDriver conformance: local, headful on Xvfb (no Xvfb on PATH)', () => undefined);
