import type { Command } from '../command.js';
export const demo: Command = { name: 'demo', summary: 'demo', usage: '', async run() { return 0; } };
