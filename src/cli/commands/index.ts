// Every CLI command, in the order `madoguchi --help` lists them: the names each module defines and
// how to load it. Modules load only when one of their commands runs, so that `madoguchi regex`
// does not pay for the mail, HTTP and database libraries of the others.
// A test checks that these names are exactly the ones the modules export.
import type { Command } from '../command.js';

export interface CommandModule {
  names: string[];
  load(): Promise<Record<string, unknown>>;
}

export const commandModules: CommandModule[] = [
  { names: ['serve'], load: () => import('./serve.js') },
  { names: ['demo'], load: () => import('./demo.js') },
  { names: ['inventory import'], load: () => import('./inventory.js') },
  { names: ['attribute'], load: () => import('./attribute.js') },
  { names: ['apikey create', 'apikey revoke'], load: () => import('./apikey.js') },
  { names: ['parse'], load: () => import('./parse.js') },
  { names: ['ingest'], load: () => import('./ingest.js') },
  { names: ['reparse'], load: () => import('./reparse.js') },
  { names: ['regex'], load: () => import('./regex.js') },
  { names: ['blocklists check', 'blocklists sync', 'blocklists dnsbl', 'blocklists listings', 'blocklists report'], load: () => import('./blocklists.js') },
  { names: ['jails list', 'jails run', 'bans export', 'bans lift'], load: () => import('./jails.js') },
  { names: ['cases list', 'cases show', 'cases transition'], load: () => import('./cases.js') },
  { names: ['audit verify'], load: () => import('./audit.js') },
  { names: ['stats'], load: () => import('./stats.js') },
];

function isCommand(x: unknown): x is Command {
  return !!x && typeof x === 'object' && typeof (x as Command).name === 'string' && typeof (x as Command).run === 'function';
}

/** The commands a module exports, alone or in arrays. */
export async function loadCommands(m: CommandModule): Promise<Command[]> {
  const exports = Object.values(await m.load());
  // A module may export a command both alone and in a list.
  return [...new Set(exports.flatMap((x) => (Array.isArray(x) ? x.filter(isCommand) : isCommand(x) ? [x] : [])))];
}

/** The command whose name is the longest prefix of the words, loading only its module. */
export async function findCommand(words: string[]): Promise<Command | undefined> {
  let best: { m: CommandModule; name: string } | undefined;
  for (const m of commandModules) {
    for (const name of m.names) {
      const w = name.split(' ');
      if (w.every((x, k) => words[k] === x) && (!best || w.length > best.name.split(' ').length)) best = { m, name };
    }
  }
  if (!best) return undefined;
  return (await loadCommands(best.m)).find((c) => c.name === best!.name);
}

export async function allCommands(): Promise<Command[]> {
  const out: Command[] = [];
  for (const m of commandModules) {
    const cs = await loadCommands(m);
    for (const name of m.names) { const c = cs.find((x) => x.name === name); if (c) out.push(c); }
  }
  return out;
}
