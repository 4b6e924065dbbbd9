import { openAttribution } from '../../attribution/service.js';
import type { AttributionIndex } from '../../attribution/index.js';
import { UsageError, type Command } from '../command.js';
import { parseArgs } from 'node:util';

export const attribute: Command = {
  name: 'attribute',
  summary: 'who holds (or held) an address, range, domain, host name or URL',
  usage: `[--at ISO-TIME] [--json] RESOURCE...
       madoguchi attribute [--at ISO-TIME] [--json] --stdin    (one resource per line, optionally RESOURCE<TAB>ISO-TIME)

Prints the customer, service, service type and brand holding each resource at the given time
(default: now). With --json, one object per input line, with nulls where nothing matches.`,
  async run(ctx, argv) {
    const { values, positionals } = parseArgs({ args: argv, allowPositionals: true, options: {
      at: { type: 'string' }, json: { type: 'boolean', default: false }, stdin: { type: 'boolean', default: false },
    } });
    const at = values.at === undefined ? Date.now() : Date.parse(values.at);
    if (Number.isNaN(at)) throw new UsageError(`--at: not an ISO time: ${values.at}`);
    if (!values.stdin && positionals.length === 0) throw new UsageError('give resources, or --stdin');
    const db = await ctx.openStore();
    const svc = await openAttribution(db);
    const index = svc.index;
    const out = new OutputBuffer(ctx.stdout);
    const fmt = formats(index);
    const line = values.json ? fmt.json : fmt.text;
    for (const r of positionals) out.write(line(r, at));
    if (values.stdin) {
      let rest = '';
      for await (const chunk of process.stdin) {
        const text = rest + (chunk as Buffer).toString('utf8');
        let start = 0;
        for (let nl = text.indexOf('\n'); nl >= 0; nl = text.indexOf('\n', start)) {
          const l = text.slice(start, nl);
          start = nl + 1;
          if (l.length) out.write(stdinLine(l, at, line));
        }
        rest = text.slice(start);
        if (out.blocked) await out.blocked;
      }
      if (rest.length) out.write(stdinLine(rest, at, line));
    }
    await out.end();
    return 0;
  },
};

type Format = (input: string, at: number) => string;

/**
 * Output lines for an index. The part after the input depends only on the inventory entry that
 * matched, so it is made once per entry: a stream of reports about the same customers costs one
 * lookup and one string concatenation per line.
 */
function formats(index: AttributionIndex): { json: Format; text: Format } {
  const jsonTail: string[] = [], textTail: string[] = [];
  const NONE = ',"customer_id":null,"service_id":null,"service_type":null,"brand":null}\n';
  return {
    json(input, at) {
      const id = Number.isNaN(at) ? -1 : index.find(input, at);
      let tail = id < 0 ? NONE : jsonTail[id];
      if (tail === undefined) {
        const a = index.entry(id);
        tail = jsonTail[id] = `,"customer_id":${JSON.stringify(a.customer_id)},"service_id":${JSON.stringify(a.service_id)},"service_type":${JSON.stringify(a.service_type)},"brand":${JSON.stringify(a.brand)},"resource":${JSON.stringify(a.resource)}}\n`;
      }
      // Addresses and names need no escaping; anything else goes through JSON.stringify.
      return (PLAIN.test(input) ? `{"input":"${input}"` : `{"input":${JSON.stringify(input)}`) + tail;
    },
    text(input, at) {
      const id = Number.isNaN(at) ? -1 : index.find(input, at);
      if (id < 0) return `${input}\t-\n`;
      let tail = textTail[id];
      if (tail === undefined) {
        const a = index.entry(id);
        tail = textTail[id] = `\t${a.customer_id}\t${a.service_id}\t${a.service_type}\t${a.brand}\t${a.resource}\n`;
      }
      return input + tail;
    },
  };
}

const PLAIN = /^[\w.:/@-]*$/;

function stdinLine(raw: string, at: number, fmt: Format): string {
  const l = raw.charCodeAt(raw.length - 1) === 13 ? raw.slice(0, -1) : raw;
  const tab = l.indexOf('\t');
  if (tab < 0) return fmt(l, at);
  // A time that does not parse matches nothing rather than silently meaning "now".
  return fmt(l.slice(0, tab), Date.parse(l.slice(tab + 1)));
}

/** Collects output into large writes and honours back-pressure (a pipe to `head` must not buffer without end). */
class OutputBuffer {
  // One growing string: V8 concatenates into a rope and flattens it once at write time, which is
  // cheaper than an array of line strings and a join.
  private pending = '';
  /** Set while the stream's buffer is full; the reader waits on it before taking more input. */
  blocked: Promise<void> | null = null;
  constructor(private readonly stream: NodeJS.WriteStream) {}
  write(s: string): void {
    this.pending += s;
    if (this.pending.length > 1 << 16) this.flush();
  }
  private flush(): void {
    if (!this.pending.length) return;
    const data = this.pending;
    this.pending = '';
    if (!this.stream.write(data) && !this.blocked) {
      this.blocked = new Promise((r) => this.stream.once('drain', () => { this.blocked = null; r(); }));
    }
  }
  async end(): Promise<void> {
    this.flush();
    if (this.blocked) await this.blocked;
  }
}
