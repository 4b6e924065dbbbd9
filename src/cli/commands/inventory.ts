import type { Command } from '../command.js';
export const inventoryImport: Command = { name: 'inventory import', summary: 'import inventory', usage: 'FILE', async run() { return 0; } };
