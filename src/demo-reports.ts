// How the demo takes in its sample reports: through the same intake every channel uses.
import type { Desk } from './desk.js';
import { ingestReport } from './intake/ingest.js';

export const demoReportHooks: ((desk: Desk, raw: Buffer, filename: string) => Promise<void>)[] = [
  async (desk, raw, filename) => { await ingestReport(desk, raw, 'file', { filename }); },
];
