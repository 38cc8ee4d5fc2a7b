/**
 * The same with Puppeteer (the helper passes `defaultViewport: null`, so the session's viewport holds).
 *   VENTUS_API_KEY=vs_… node --import tsx sdk/examples/puppeteer.ts [url]
 */
import { VentusClient } from '../src/index.js';
import { connect } from '../src/puppeteer.js';

const client = new VentusClient();
await using session = await client.createSession({ keep_alive_seconds: 60 }, { wait: true });
const browser = await connect(session);
const page = await browser.newPage();
await page.goto(process.argv[2] ?? 'about:blank');
console.log('title:', await page.title(), 'viewport:', await page.evaluate(() => [innerWidth, innerHeight]));
await session.keepAlive(300); // five more minutes before expires_at
await browser.disconnect();
