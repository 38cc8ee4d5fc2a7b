/**
 * Plain JavaScript (Node 20+): the same with Puppeteer. The helper passes `defaultViewport: null`,
 * so the session's viewport holds.
 *   VENTUS_API_KEY=vs_… node puppeteer.mjs [url]
 * Needs `@ventus/sessions` and `puppeteer-core`.
 */
import { VentusClient } from '@ventus/sessions';
import { connect } from '@ventus/sessions/puppeteer';

const client = new VentusClient();
const session = await client.createSession({ keep_alive_seconds: 60 }, { wait: true });
try {
  const browser = await connect(session);
  const page = await browser.newPage();
  await page.goto(process.argv[2] ?? 'about:blank');
  console.log(
    'title:',
    await page.title(),
    'viewport:',
    await page.evaluate(() => [innerWidth, innerHeight]),
  );
  const extended = await session.keepAlive(300); // five more minutes before expires_at
  console.log('expires_at:', extended.expires_at);
  await browser.disconnect();
} finally {
  await session.release(); // keep_alive_seconds: 60 keeps it after the disconnect; end it now
}
