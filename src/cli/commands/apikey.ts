import { parseArgs } from 'node:util';
import { createApiKey, revokeApiKey, ROLES, type Role } from '../../web/auth.js';
import { UsageError, type Command } from '../command.js';

export const apikeyCreate: Command = {
  name: 'apikey create',
  summary: 'make an API key for a reporter, operator, legal staff, customer or tool',
  usage: `--name NAME --role ROLE [--role ROLE...] [--reporter ID] [--customer ID]

Roles: ${ROLES.join(', ')}. The key is printed once; only its hash is stored.`,
  async run(ctx, argv) {
    const { values } = parseArgs({ args: argv, options: {
      name: { type: 'string' }, role: { type: 'string', multiple: true }, reporter: { type: 'string' }, customer: { type: 'string' },
    } });
    if (!values.name || !values.role?.length) throw new UsageError('--name and --role are required');
    const db = await ctx.openStore();
    try {
      const k = await createApiKey(db, { name: values.name, roles: values.role as Role[], reporterId: values.reporter, customerId: values.customer });
      ctx.stdout.write(`${k.key}\n`);
      ctx.stderr.write(`key ${k.id} for ${values.name} (${values.role.join(', ')}); store it now, it is not shown again\n`);
      return 0;
    } catch (e) { throw new UsageError((e as Error).message); }
  },
};

export const apikeyRevoke: Command = {
  name: 'apikey revoke',
  summary: 'revoke an API key by its number',
  usage: 'ID',
  async run(ctx, argv) {
    const id = Number(argv[0]);
    if (!Number.isInteger(id)) throw new UsageError('give the key number');
    const db = await ctx.openStore();
    const ok = await revokeApiKey(db, id);
    ctx.stderr.write(ok ? `key ${id} revoked\n` : `no live key ${id}\n`);
    return ok ? 0 : 1;
  },
};
