/**
 * The live view tests' target page and how they read the viewer: a page of colours no browser chrome
 * or empty desktop has, and the share of each colour on the viewer's noVNC canvas (no OCR here: a big
 * block of a unique colour where the page has it is the decisive check).
 */
import { listenOnPagePort } from './page-ports.ts';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Page } from 'playwright-core';

/** Colours no browser chrome or empty desktop has: the viewer must show them where the page has them. */
export const BACKGROUND = [18, 212, 160] as const;
const BUTTON = [250, 120, 0] as const;
const TEXT = [230, 20, 120] as const;
const rgb = (c: readonly number[]) => `rgb(${c.join(',')})`;
const PAGE = `<!doctype html><html><head><title>Live view target</title></head>
<body style="margin:0;height:100vh;background:${rgb(BACKGROUND)};font-family:sans-serif">
<h1 style="margin:0;padding:40px;font-size:160px;color:${rgb(TEXT)}">VENTUS 4711</h1>
<button id="b" style="position:absolute;left:200px;top:420px;width:600px;height:300px;border:0;
background:${rgb(BUTTON)};font-size:60px" onclick="window.clicks=(window.clicks||0)+1;this.textContent=window.clicks">
0</button></body></html>`;

export interface CanvasStats {
  width: number;
  height: number;
  /** Share of pixels close to each colour. */
  background: number;
  text: number;
  button: number;
  /** Where the button's colour is, in viewer page (CSS) coordinates. */
  buttonAt: { x: number; y: number } | null;
}

/** Reads the viewer's canvas (what noVNC drew) and measures the page's colours in it. */
export function canvasStats(viewer: Page): Promise<CanvasStats> {
  return viewer.evaluate(
    ({ background, text, button }) => {
      const canvas = document.querySelector('#screen canvas') as HTMLCanvasElement;
      const { width, height } = canvas;
      const data = canvas.getContext('2d')!.getImageData(0, 0, width, height).data;
      const near = (i: number, c: readonly number[]) =>
        Math.abs(data[i]! - c[0]!) < 40 &&
        Math.abs(data[i + 1]! - c[1]!) < 40 &&
        Math.abs(data[i + 2]! - c[2]!) < 40;
      let bg = 0;
      let tx = 0;
      let bt = 0;
      let sx = 0;
      let sy = 0;
      for (let y = 0; y < height; y += 2)
        for (let x = 0; x < width; x += 2) {
          const i = (y * width + x) * 4;
          if (near(i, background)) bg++;
          else if (near(i, text)) tx++;
          else if (near(i, button)) {
            bt++;
            sx += x;
            sy += y;
          }
        }
      const total = Math.ceil(width / 2) * Math.ceil(height / 2);
      const rect = canvas.getBoundingClientRect();
      return {
        width,
        height,
        background: bg / total,
        text: tx / total,
        button: bt / total,
        buttonAt:
          bt === 0
            ? null
            : {
                x: rect.left + ((sx / bt) * rect.width) / width,
                y: rect.top + ((sy / bt) * rect.height) / height,
              },
      };
    },
    { background: BACKGROUND, text: TEXT, button: BUTTON },
  );
}

/** Serves the target page on 127.0.0.1. */
export async function serveTargetPage(): Promise<{ url: string; close(): Promise<void> }> {
  const server = http.createServer((_req, res) =>
    res.writeHead(200, { 'content-type': 'text/html' }).end(PAGE),
  );
  await listenOnPagePort(server);
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/`,
    close: () => new Promise((resolve) => server.close(() => resolve())),
  };
}

/** Debian's Chromium for a browser the test drives (viewer, dashboard): never a downloaded one. */
export const VIEWER_LAUNCH = {
  executablePath: '/usr/bin/chromium',
  args: [
    '--no-sandbox',
    '--disable-background-networking',
    '--disable-component-update',
    '--disable-sync',
    '--no-first-run',
  ],
};
