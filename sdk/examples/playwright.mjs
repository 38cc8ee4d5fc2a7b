/**
 * Plain JavaScript (Node 20+, no TypeScript): create a session, drive it with Playwright, release it.
 *   VENTUS_API_KEY=vs_… node playwright.mjs [url]
 * (a service on http://localhost:8080, or VENTUS_BASE_URL). Needs `@ventus/sessions` and `playwright-core`.
 */
import { VentusClient } from '@ventus/sessions';
import { connectOverCDP } from '@ventus/sessions/playwright';

const client = new VentusClient();
try {
  // Retries 503/429 as the service asks; throws on a wrong key, a session that ends before RUNNING
  // (SessionEndedError) or a deadline, and releases what it created in those cases.
  const session = await client.createSession({ viewport: { width: 1280, height: 720 } }, { wait: true });
  // `await using` is a SyntaxError in plain JavaScript before Node 24: try/finally releases instead.
  try {
    console.log(`session ${session.id} is ${session.status}`);
    const browser = await connectOverCDP(session);
    const page = await browser.contexts()[0].newPage();
    await page.goto(process.argv[2] ?? 'about:blank');
    console.log('title:', await page.title());
    await browser.close();
  } finally {
    const ended = await session.release();
    console.log(`session ${ended.id} is ${ended.status}`);
  }
} catch (err) {
  // One line that says what went wrong (e.g. "POST /v1/sessions: 401 Unauthorized: …"), not a stack trace.
  console.error(err instanceof Error ? err.message : err);
  process.exitCode = 1;
}
