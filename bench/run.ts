// `npm run bench [-- NAME...]`: every benchmark (or the named ones) one after another, each in a
// process of its own so that one's heap and JIT state do not colour the next. Figures go to
// stdout; bench/RESULTS.md records them with the machine's load at the time.
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';

// In the order of the desk's data flow; the flags are those each script documents.
const BENCHES: { name: string; flags: string[] }[] = [
  { name: 'attribution', flags: ['--expose-gc'] },
  { name: 'inventory', flags: [] },
  { name: 'parse', flags: [] },
  { name: 'parse-hostile', flags: [] },
  { name: 'intake-csv', flags: [] },
  { name: 'intake-http', flags: [] },
  { name: 'cases', flags: [] },
  { name: 'blocklists', flags: [] },
  { name: 'detection', flags: [] },
  { name: 'jails', flags: [] },
];

const wanted = process.argv.slice(2);
const unknown = wanted.filter((w) => !BENCHES.some((b) => b.name === w));
if (unknown.length) {
  process.stderr.write(`unknown benchmark ${unknown.join(', ')}; there are: ${BENCHES.map((b) => b.name).join(' ')}\n`);
  process.exit(2);
}
let failed = 0;
for (const b of BENCHES.filter((x) => !wanted.length || wanted.includes(x.name))) {
  process.stdout.write(`\n## ${b.name}\n`);
  const script = fileURLToPath(new URL(`./${b.name}.js`, import.meta.url));
  const r = spawnSync(process.execPath, [...b.flags, script], { stdio: 'inherit' });
  if (r.status !== 0) { failed++; process.stderr.write(`${b.name}: exited with ${r.status ?? r.signal}\n`); }
}
process.exit(failed ? 1 : 0);
