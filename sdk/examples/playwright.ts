/**
 * Create a session, drive it with Playwright, release it on scope exit.
 *   VENTUS_API_KEY=vs_… node --import tsx sdk/examples/playwright.ts [url]
 * (a service on http://localhost:8080, or VENTUS_BASE_URL).
 */
import { VentusClient } from '../src/index.js';
import { connectOverCDP } from '../src/playwright.js';

const client = new VentusClient();
await using session = await client.createSession({ viewport: { width: 1280, height: 720 } }, { wait: true });
console.log(`session ${session.id} is ${session.status}`);

const browser = await connectOverCDP(session);
const page = await browser.contexts()[0]!.newPage();
await page.goto(process.argv[2] ?? 'about:blank');
console.log('title:', await page.title());
await browser.close();
// `await using`: the session is released here, also when anything above throws.
