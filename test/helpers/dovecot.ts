// A real dovecot IMAP server for a test: its own config, passwd file and Maildir in a temp dir,
// on a free 127.0.0.1 port. Started under `timeout`, so it stops by itself even if the test dies.
import { spawn, type ChildProcess } from 'node:child_process';
import { chmodSync, chownSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { execFileSync } from 'node:child_process';

export interface Dovecot { port: number; user: string; password: string; dir: string; stop(): Promise<void> }

export async function freePort(): Promise<number> {
  const s = createServer();
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', r));
  const port = (s.address() as { port: number }).port;
  await new Promise((r) => s.close(r));
  return port;
}

function idOf(name: string, flag: '-u' | '-g'): number {
  return Number(execFileSync('id', [flag, name]).toString().trim());
}

export async function startDovecot(lifetimeSeconds = 600): Promise<Dovecot> {
  const dir = mkdtempSync(join(tmpdir(), 'madoguchi-dovecot-'));
  // dovecot's auth and mail processes run as the dovecot user and must reach the files here.
  chmodSync(dir, 0o755);
  const port = await freePort();
  const user = 'abuse', password = 'desk-secret';
  // Mail is owned by the unprivileged dovecot user (dovecot refuses to serve mail as root).
  const uid = idOf('dovecot', '-u'), gid = idOf('dovecot', '-g');
  const home = join(dir, 'home');
  mkdirSync(home);
  chownSync(home, uid, gid);
  writeFileSync(join(dir, 'passwd'), `${user}:{PLAIN}${password}:${uid}:${gid}::${home}\n`);
  writeFileSync(join(dir, 'dovecot.conf'), `
base_dir = ${dir}/run
state_dir = ${dir}/state
log_path = ${dir}/dovecot.log
protocols = imap
listen = 127.0.0.1
ssl = no
disable_plaintext_auth = no
auth_mechanisms = plain login
mail_location = maildir:~/Maildir
first_valid_uid = ${uid}
default_login_user = dovenull
default_internal_user = dovecot
passdb {
  driver = passwd-file
  args = scheme=PLAIN ${dir}/passwd
}
userdb {
  driver = passwd-file
  args = ${dir}/passwd
}
service imap-login {
  inet_listener imap {
    address = 127.0.0.1
    port = ${port}
  }
  inet_listener imaps {
    port = 0
  }
  chroot =
}
service anvil {
  chroot =
}
`);
  const child: ChildProcess = spawn('timeout', [String(lifetimeSeconds), 'dovecot', '-F', '-c', join(dir, 'dovecot.conf')], { stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  child.stderr!.on('data', (d) => { stderr += d; });
  for (let i = 0; ; i++) {
    if (child.exitCode !== null) throw new Error(`dovecot exited: ${stderr}${safeRead(join(dir, 'dovecot.log'))}`);
    if (await canConnect(port)) break;
    if (i > 100) throw new Error(`dovecot did not listen on ${port}: ${safeRead(join(dir, 'dovecot.log'))}`);
    await new Promise((r) => setTimeout(r, 100));
  }
  return {
    port, user, password, dir,
    async stop() {
      if (child.exitCode === null) {
        const gone = new Promise((r) => child.once('exit', r));
        child.kill('SIGTERM');
        await gone;
      }
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

function safeRead(p: string): string {
  try { return readFileSync(p, 'utf8'); } catch { return ''; }
}

function canConnect(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = connect(port, '127.0.0.1');
    s.once('connect', () => { s.destroy(); resolve(true); });
    s.once('error', () => resolve(false));
  });
}
