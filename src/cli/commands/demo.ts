import { serve } from './serve.js';
import type { Command } from '../command.js';

export const demo: Command = {
  name: 'demo',
  summary: 'load a small realistic inventory and a few reports, then serve the desk',
  usage: `[--http-port N] [--smtp-port N]

Same as 'madoguchi serve --demo': the demo data is loaded only into an empty database.`,
  async run(ctx, argv) {
    return serve.run(ctx, [...argv, '--demo']);
  },
};
