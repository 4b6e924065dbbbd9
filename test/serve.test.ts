import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { BIN } from './helpers/cli.js';

/** Starts `madoguchi serve` (or demo) and resolves once it says where it serves. */
function startServe(args: string[], env: NodeJS.ProcessEnv = process.env) {
  const p = spawn(process.execPath, [BIN, ...args], { env, stdio: ['ignore', 'pipe', 'pipe'] });
  let stderr = '';
  const url = new Promise<string>((resolve, reject) => {
    p.stderr.on('data', (d) => {
      stderr += d;
      const m = /serving on (http:\/\/\S+)/.exec(stderr);
      if (m) resolve(m[1]);
    });
    p.on('exit', (code) => reject(new Error(`exited ${code} before serving: ${stderr}`)));
  });
  // A desk that is expected to refuse to start never serves: its rejection is read through `exited`.
  url.catch(() => undefined);
  const exited = new Promise<number | null>((r) => p.on('exit', (code) => r(code)));
  return { p, url, exited, stderr: () => stderr };
}

test('serve: answers on the given port, refuses a second desk on the same data dir, stops on SIGTERM', { timeout: 300_000 }, async () => {
  const dir = mkdtempSync(join(tmpdir(), 'serve-'));
  const env: NodeJS.ProcessEnv = { ...process.env, MADOGUCHI_SMTP_PORT: '0' };
  delete env.DATABASE_URL;
  const s = startServe(['--data-dir', dir, 'serve', '--http-port', '0', '--smtp-port', '0'], env);
  try {
    const url = await s.url;
    const h = await fetch(`${url}/api/v1/health`);
    assert.equal(h.status, 200);
    assert.deepEqual(await h.json(), { status: 'ok', database: 'pglite' });
    const spec = await (await fetch(`${url}/api/openapi.json`)).json() as { openapi: string; paths: Record<string, unknown> };
    assert.match(spec.openapi, /^3\./);
    const second = startServe(['--data-dir', dir, 'serve', '--http-port', '0', '--smtp-port', '0'], env);
    const code = await second.exited;
    assert.equal(code, 1);
    assert.match(second.stderr(), /in use by process \d+/);
  } finally {
    s.p.kill('SIGTERM');
    assert.equal(await s.exited, 0, s.stderr());
    rmSync(dir, { recursive: true, force: true });
  }
});

test('demo: loads the demo inventory into an empty desk and prints an operator key', { timeout: 300_000 }, async () => {
  const dir = mkdtempSync(join(tmpdir(), 'demo-'));
  const env = { ...process.env };
  delete env.DATABASE_URL;
  const s = startServe(['--data-dir', dir, 'demo', '--http-port', '0', '--smtp-port', '0'], env);
  try {
    const url = await s.url;
    const key = /operator API key \(shown once\): (\S+)/.exec(s.stderr())?.[1];
    assert.ok(key, s.stderr());
    const r = await fetch(`${url}/api/v1/attribute?resource=${encodeURIComponent('https://www.sakura-shoten.example/wp-login.php')}`, { headers: { authorization: `Bearer ${key}` } });
    assert.equal(r.status, 200);
    const a = await r.json() as { customer_id: string; service_type: string };
    assert.equal(a.customer_id, 'c1001');
    assert.equal(a.service_type, 'shared');
    const auth = { headers: { authorization: `Bearer ${key}` } };
    const reports = await (await fetch(`${url}/api/v1/reports`, auth)).json() as { reports: { parser: string | null; status: string }[] };
    assert.deepEqual(reports.reports.map((r) => r.parser).sort(), ['arf', 'fail2ban', 'freeform', 'shadowserver']);
    const cases = await (await fetch(`${url}/api/v1/cases?limit=100`, auth)).json() as { cases: { customer_id: string | null }[] };
    const customers = new Set(cases.cases.map((c) => c.customer_id));
    for (const c of ['c1001', 'c1002', 'c1003', 'c1004']) assert.ok(customers.has(c), `a case for ${c}: ${JSON.stringify(cases)}`);
  } finally {
    s.p.kill('SIGTERM');
    await s.exited;
    rmSync(dir, { recursive: true, force: true });
  }
});
