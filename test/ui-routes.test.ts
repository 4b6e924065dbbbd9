// The console's files as the server hands them out: security headers on every page response,
// only the shipped files, and source rules that keep report text away from any HTML parser.
import { strict as assert } from 'node:assert';
import { execFile } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { makeStore, type TestStore } from './helpers/stores.js';
import { makeDesk, type TestDesk } from './helpers/desk.js';
import { SECURITY_HEADERS, uiDir } from '../src/web/routes/ui.js';

function filesUnder(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) => e.isDirectory() ? filesUnder(join(dir, e.name)) : [join(dir, e.name)]);
}

describe('web console files', () => {
  let store: TestStore;
  let t: TestDesk;
  before(async () => {
    store = await makeStore('pglite');
    t = await makeDesk(store);
  });
  after(async () => {
    await t.close();
    await store.cleanup();
  });

  test('the page and its scripts come with a CSP that forbids inline script and framing', async () => {
    for (const [url, type] of [['/', 'text/html'], ['/ui/js/main.js', 'text/javascript'], ['/ui/app.css', 'text/css'], ['/ui/icon.svg', 'image/svg+xml']]) {
      const r = await t.app.inject({ url });
      assert.equal(r.statusCode, 200, url);
      assert.ok(String(r.headers['content-type']).startsWith(type), `${url}: ${r.headers['content-type']}`);
      for (const [name, value] of Object.entries(SECURITY_HEADERS)) assert.equal(r.headers[name.toLowerCase()], value, `${url} ${name}`);
    }
    const csp = SECURITY_HEADERS['Content-Security-Policy'];
    assert.match(csp, /default-src 'self'/);
    assert.match(csp, /script-src 'self'(;|$)/);
    assert.match(csp, /frame-ancestors 'none'/);
    assert.doesNotMatch(csp, /unsafe-inline|unsafe-eval/);
  });

  test('only shipped files are served: no path walks out of the console folder', async () => {
    for (const url of ['/ui/../../package.json', '/ui/%2e%2e/%2e%2e/package.json', '/ui/js/../../routes/ui.ts', '/ui/nothing.js', '/ui/']) {
      const r = await t.app.inject({ url });
      assert.equal(r.statusCode, 404, url);
      assert.doesNotMatch(r.body, /"name"\s*:\s*"madoguchi"/, url);
    }
  });

  test('a page the browser already holds is answered 304 by its ETag', async () => {
    const first = await t.app.inject({ url: '/ui/js/main.js' });
    const etag = String(first.headers.etag);
    assert.match(etag, /^"[\w-]+"$/);
    const again = await t.app.inject({ url: '/ui/js/main.js', headers: { 'if-none-match': etag } });
    assert.equal(again.statusCode, 304);
    assert.equal(again.body, '');
  });

  test('the API keeps its own answers: the console headers are not added to JSON routes', async () => {
    const r = await t.app.inject({ url: '/api/v1/health' });
    assert.equal(r.statusCode, 200);
    assert.equal(r.headers['content-security-policy'], undefined);
  });

  test('the console never hands data to an HTML parser and runs no inline script', () => {
    const dir = uiDir!;
    const scripts = filesUnder(dir).filter((f) => f.endsWith('.js'));
    assert.ok(scripts.length >= 10, 'the console scripts are there');
    for (const f of scripts) {
      const src = readFileSync(f, 'utf8');
      for (const sink of [/\.innerHTML\b/, /\.outerHTML\b/, /insertAdjacentHTML/, /document\.write/, /\beval\(/, /new Function\(/, /createContextualFragment/, /DOMParser/]) {
        assert.doesNotMatch(src, sink, `${f} uses ${sink}`);
      }
    }
    const html = readFileSync(join(dir, 'index.html'), 'utf8');
    for (const tag of html.match(/<script\b[^>]*>/g) ?? []) assert.match(tag, /\bsrc="\/ui\//, `inline script in index.html: ${tag}`);
    assert.doesNotMatch(html, /\son\w+=/, 'no inline event handlers');
    assert.doesNotMatch(html, /style=/, 'no inline styles');
  });

  test('the console scripts pass the type checker (an unimported name or a wrong import fails here, not in a browser)', async () => {
    // dist/test/ -> the checkout's node_modules (typescript exports no path to its command).
    const tsc = fileURLToPath(new URL('../../node_modules/typescript/bin/tsc', import.meta.url));
    const r = await promisify(execFile)(process.execPath, [tsc, '-p', uiDir!], { encoding: 'utf8' }).catch((e: { stdout: string; code: number }) => e);
    assert.equal(r.stdout.trim(), '', 'tsc -p src/web/ui found problems');
  });

  test('every label exists in Japanese and in English', () => {
    const src = readFileSync(join(uiDir!, 'js', 'i18n.js'), 'utf8');
    const block = (name: string) => {
      const m = new RegExp(`const ${name} = \\{([\\s\\S]*?)\\n\\};`).exec(src);
      assert.ok(m, `dictionary ${name}`);
      return new Set([...m[1].matchAll(/'([\w.]+)':/g)].map((x) => x[1]));
    };
    const ja = block('ja');
    const en = block('en');
    assert.ok(ja.size > 150, `ja has ${ja.size} labels`);
    assert.deepEqual([...ja].filter((k) => !en.has(k)), [], 'labels missing in English');
    assert.deepEqual([...en].filter((k) => !ja.has(k)), [], 'labels missing in Japanese');
  });
});
