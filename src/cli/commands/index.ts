// Every CLI command, in the order `madoguchi --help` lists them. One line per command module.
import type { Command } from '../command.js';
import { ingest } from './ingest.js';
import { reparse } from './reparse.js';
import { jailCommands } from './jails.js';
import { blocklistCommands } from './blocklists.js';
import { serve } from './serve.js';
import { inventoryImport } from './inventory.js';
import { attribute } from './attribute.js';
import { demo } from './demo.js';
import { apikeyCreate, apikeyRevoke } from './apikey.js';
import { parse } from './parse.js';
import { regex } from './regex.js';
import { caseCommands } from './cases.js';
import { auditVerify } from './audit.js';
import { stats } from './stats.js';

export const commands: Command[] = [
  serve,
  demo,
  inventoryImport,
  attribute,
  apikeyCreate,
  apikeyRevoke,
  parse,
  ingest,
  reparse,
  regex,
  ...blocklistCommands,
  ...jailCommands,
  ...caseCommands,
  auditVerify,
  stats,
];
