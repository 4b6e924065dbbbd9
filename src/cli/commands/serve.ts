import type { Command } from '../command.js';
export const serve: Command = { name: 'serve', summary: 'run the desk', usage: '', async run() { return 0; } };
