// A synthetic auth.log for the detection benchmark: realistic sshd lines mixed with the rest of
// what a busy host logs. Deterministic (seeded), so every run measures the same input.

let seed = 11;
const rnd = () => { seed = (seed * 1103515245 + 12345) & 0x7fffffff; return seed / 0x7fffffff; };
const pick = <T>(a: T[]): T => a[Math.floor(rnd() * a.length)];

/** A day of a busy host's auth.log: about a quarter sshd failures, the rest normal traffic and noise. */
export function syntheticAuthLog(n: number): string {
  const users = ['root', 'admin', 'test', 'oracle', 'ubuntu', 'git', 'postgres', 'user', 'deploy', 'pi'];
  const ip = () => `${pick([45, 61, 103, 112, 185, 193, 203, 218])}.${Math.floor(rnd() * 256)}.${Math.floor(rnd() * 256)}.${1 + Math.floor(rnd() * 254)}`;
  const kinds: Array<(pid: number) => string> = [
    (pid) => `sshd[${pid}]: Failed password for ${pick(users)} from ${ip()} port ${1024 + Math.floor(rnd() * 60000)} ssh2`,
    (pid) => `sshd[${pid}]: Failed password for invalid user ${pick(users)}${Math.floor(rnd() * 99)} from ${ip()} port ${1024 + Math.floor(rnd() * 60000)} ssh2`,
    (pid) => `sshd[${pid}]: Invalid user ${pick(users)}${Math.floor(rnd() * 99)} from ${ip()} port ${1024 + Math.floor(rnd() * 60000)}`,
    (pid) => `sshd[${pid}]: pam_unix(sshd:auth): authentication failure; logname= uid=0 euid=0 tty=ssh ruser= rhost=${ip()}  user=root`,
    (pid) => `sshd[${pid}]: Connection closed by authenticating user root ${ip()} port ${1024 + Math.floor(rnd() * 60000)} [preauth]`,
    (pid) => `sshd[${pid}]: Received disconnect from ${ip()} port ${1024 + Math.floor(rnd() * 60000)}:11: Bye Bye [preauth]`,
    (pid) => `sshd[${pid}]: Disconnected from invalid user ${pick(users)} ${ip()} port ${1024 + Math.floor(rnd() * 60000)} [preauth]`,
    (pid) => `sshd[${pid}]: Accepted publickey for deploy from 10.0.${Math.floor(rnd() * 4)}.${Math.floor(rnd() * 250)} port ${1024 + Math.floor(rnd() * 60000)} ssh2: RSA SHA256:${'x'.repeat(43)}`,
    (pid) => `sshd[${pid}]: pam_unix(sshd:session): session opened for user deploy(uid=1000) by (uid=0)`,
    (pid) => `sshd[${pid}]: pam_unix(sshd:session): session closed for user deploy`,
    (pid) => `CRON[${pid}]: pam_unix(cron:session): session opened for user root(uid=0) by (uid=0)`,
    (pid) => `CRON[${pid}]: pam_unix(cron:session): session closed for user root`,
    (pid) => `systemd-logind[${pid % 900}]: New session ${pid} of user deploy.`,
    (pid) => `systemd-logind[${pid % 900}]: Session ${pid} logged out. Waiting for processes to exit.`,
    () => `sudo:   deploy : TTY=pts/0 ; PWD=/home/deploy ; USER=root ; COMMAND=/usr/bin/systemctl restart nginx`,
    () => `kernel: [${(rnd() * 1e6).toFixed(6)}] [UFW BLOCK] IN=eth0 OUT= MAC=00:16:3e:00:00:01 SRC=${ip()} DST=203.0.113.10 LEN=40 TOS=0x00 PREC=0x00 TTL=243 ID=54321 PROTO=TCP SPT=${1024 + Math.floor(rnd() * 60000)} DPT=23 WINDOW=1024 RES=0x00 SYN URGP=0`,
  ];
  const weights = [16, 6, 6, 3, 6, 5, 3, 6, 8, 8, 10, 10, 4, 4, 4, 6];
  const table: number[] = [];
  weights.forEach((w, i) => { for (let k = 0; k < w; k++) table.push(i); });
  const start = Date.UTC(2026, 10, 26, 0, 0, 0) / 1000;
  const months = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];
  const out: string[] = [];
  for (let i = 0; i < n; i++) {
    const d = new Date((start + Math.floor(i * 86400 / n)) * 1000);
    const stamp = `${months[d.getUTCMonth()]} ${String(d.getUTCDate()).padStart(2, ' ')} ${d.toISOString().slice(11, 19)}`;
    out.push(`${stamp} web01 ${kinds[pick(table)](1000 + Math.floor(rnd() * 60000))}`);
  }
  return out.join('\n') + '\n';
}

/**
 * An attacked host's auth.log as fail2ban sees most of it: only the sshd lines of failed or
 * dropped logins (failed passwords, invalid users, pam failures, closed and reset connections,
 * disconnects), in the time order and proportions of syntheticAuthLog.
 */
export function attackAuthLog(n: number): string {
  const attack = /sshd\[\d+\]: (?:Failed|Invalid|pam_unix\(sshd:auth\)|Connection closed|Received disc|Disconnected)/;
  const lines = syntheticAuthLog(n * 3).split('\n').filter((l) => attack.test(l)).slice(0, n);
  return lines.join('\n') + '\n';
}
