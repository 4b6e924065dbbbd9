#!/usr/bin/env node
// Thin launcher: the CLI is compiled to dist/ by `npm install` (prepare) or `npm run build`.
import { existsSync } from 'node:fs';

const entry = new URL('../dist/src/cli/main.js', import.meta.url);
if (!existsSync(entry)) {
  process.stderr.write('madoguchi: not built yet; run `npm install` or `npm run build` first\n');
  process.exit(1);
}
// A reader that goes away (`madoguchi attribute --stdin | head`) ends the command, as for other tools.
process.stdout.on('error', (e) => { if (e.code === 'EPIPE') process.exit(0); throw e; });
const { main } = await import(entry.href);
process.exitCode = await main(process.argv.slice(2));
