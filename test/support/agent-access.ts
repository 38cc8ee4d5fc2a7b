/** A pod-agent key for tests that build drivers themselves (a stack derives its own from the database). */
import { randomBytes } from 'node:crypto';
import { PodAgentAccess } from '../../core/runtime/agent.client.ts';

export const testAgentAccess = new PodAgentAccess(randomBytes(32).toString('base64url'));
