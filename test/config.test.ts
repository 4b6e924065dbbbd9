import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { defaults, loadConfig, ConfigError } from '../src/config/config.js';

const dir = mkdtempSync(join(tmpdir(), 'cfg-'));
const yaml = (text: string) => { const p = join(dir, `c${Math.random()}.yaml`); writeFileSync(p, text); return p; };

test('defaults, then the file, then the environment, then flags', () => {
  const c0 = loadConfig({ env: {} });
  assert.equal(c0.http.port, 8080);
  assert.equal(c0.data_dir, './data');
  const file = yaml('http:\n  port: 9001\nlog:\n  level: debug\n');
  const c1 = loadConfig({ file, env: {} });
  assert.equal(c1.http.port, 9001);
  assert.equal(c1.http.host, '127.0.0.1', 'keys the file leaves out keep their default');
  const c2 = loadConfig({ file, env: { MADOGUCHI_HTTP_PORT: '9002', DATABASE_URL: 'postgres://x@127.0.0.1/y', MADOGUCHI_SMTP_MAX_SIZE: '1000' } });
  assert.equal(c2.http.port, 9002);
  assert.equal(c2.database_url, 'postgres://x@127.0.0.1/y');
  assert.equal(c2.smtp.max_size, 1000);
  const c3 = loadConfig({ file, env: { MADOGUCHI_HTTP_PORT: '9002' }, overrides: { http: { port: 9003 } } });
  assert.equal(c3.http.port, 9003);
});

test('typos and wrong types stop with the key named', () => {
  assert.throws(() => loadConfig({ file: yaml('htpp:\n  port: 1\n'), env: {} }), (e: Error) => e instanceof ConfigError && /unknown key htpp/.test(e.message));
  assert.throws(() => loadConfig({ file: yaml('http:\n  port: "eighty"\n'), env: {} }), /http\.port must be a number/);
  assert.throws(() => loadConfig({ file: yaml('http: [1, 2]\n'), env: {} }), /http must be a mapping/);
  assert.throws(() => loadConfig({ file: yaml('http:\n  port: [\n'), env: {} }), ConfigError);
  assert.throws(() => loadConfig({ env: { MADOGUCHI_HTTP_PORT: 'x' } }), /MADOGUCHI_HTTP_PORT must be a number/);
});

test('docs/CONFIGURATION.md documents every key of the defaults', () => {
  const doc = readFileSync(fileURLToPath(new URL('../../docs/CONFIGURATION.md', import.meta.url)), 'utf8');
  const keys: string[] = [];
  const walk = (o: Record<string, unknown>, prefix: string) => {
    for (const [k, v] of Object.entries(o)) {
      if (v && typeof v === 'object' && !Array.isArray(v)) walk(v as Record<string, unknown>, `${prefix}${k}.`);
      else keys.push(`${prefix}${k}`);
    }
  };
  walk(defaults as unknown as Record<string, unknown>, '');
  const missing = keys.filter((k) => !doc.includes(`\`${k}\``));
  assert.deepEqual(missing, [], `undocumented keys: ${missing.join(', ')}`);
});
