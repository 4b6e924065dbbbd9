// The operators' console: static pages (plain ES modules, no build step) under a strict
// Content-Security-Policy. The server renders no data into them: every page fetches the JSON API
// with the operator's key and writes what it gets as text, so report content (hostile by nature)
// never meets an HTML parser, and the policy stops any script the desk did not ship.
import { createHash } from 'node:crypto';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, extname, join, relative, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { FastifyReply } from 'fastify';
import type { RoutePlugin } from './index.js';

const here = dirname(fileURLToPath(import.meta.url));
/** The pages live beside this file in a checkout (src/) and are not compiled: dist/ finds them in src/. */
export const uiDir = [join(here, '../ui'), join(here, '../../../../src/web/ui')]
  .find((d) => { try { return statSync(join(d, 'index.html')).isFile(); } catch { return false; } });

export const SECURITY_HEADERS: Record<string, string> = {
  'Content-Security-Policy': [
    "default-src 'self'", "script-src 'self'", "style-src 'self'", "img-src 'self'", "connect-src 'self'",
    "object-src 'none'", "base-uri 'none'", "form-action 'self'", "frame-ancestors 'none'",
  ].join('; '),
  'X-Content-Type-Options': 'nosniff',
  'X-Frame-Options': 'DENY',
  'Referrer-Policy': 'no-referrer',
  'Cross-Origin-Opener-Policy': 'same-origin',
  'Cross-Origin-Resource-Policy': 'same-origin',
  'Permissions-Policy': 'camera=(), microphone=(), geolocation=(), payment=()',
};

const TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.svg': 'image/svg+xml',
};

interface Asset { body: Buffer; type: string; etag: string }

/** Every shippable file under the UI folder, keyed by its URL path below /ui/. */
function loadAssets(dir: string): Map<string, Asset> {
  const assets = new Map<string, Asset>();
  const walk = (d: string) => {
    for (const e of readdirSync(d, { withFileTypes: true })) {
      const path = join(d, e.name);
      if (e.isDirectory()) { walk(path); continue; }
      const type = TYPES[extname(e.name)];
      if (!type) continue;
      const body = readFileSync(path);
      assets.set(relative(dir, path).split(sep).join('/'), { body, type, etag: `"${createHash('sha256').update(body).digest('base64url').slice(0, 22)}"` });
    }
  };
  walk(dir);
  return assets;
}

export const uiRoutes: RoutePlugin = async (app) => {
  if (!uiDir) throw new Error('the web console files (src/web/ui) are missing from this installation');
  const assets = loadAssets(uiDir);
  // This plugin's scope holds only the pages, so the headers reach every page response and no API one.
  app.addHook('onSend', async (_req, reply) => { reply.headers(SECURITY_HEADERS); });

  const send = (reply: FastifyReply, a: Asset | undefined, ifNoneMatch: string | undefined) => {
    if (!a) return reply.code(404).type('text/plain; charset=utf-8').send('not found');
    reply.header('ETag', a.etag).header('Cache-Control', 'no-cache');
    if (ifNoneMatch === a.etag) return reply.code(304).send();
    return reply.type(a.type).send(a.body);
  };
  const page = { schema: { hide: true } };
  app.get('/', page, async (req, reply) => send(reply, assets.get('index.html'), req.headers['if-none-match']));
  app.get('/ui/*', page, async (req, reply) => send(reply, assets.get((req.params as { '*': string })['*']), req.headers['if-none-match']));
  app.get('/favicon.ico', page, async (req, reply) => send(reply, assets.get('icon.svg'), req.headers['if-none-match']));
};
