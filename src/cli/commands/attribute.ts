import type { Command } from '../command.js';
export const attribute: Command = { name: 'attribute', summary: 'attribute', usage: '', async run() { return 0; } };
