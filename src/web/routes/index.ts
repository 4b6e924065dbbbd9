// Every route plugin of the HTTP API, one line each.
import type { FastifyInstance } from 'fastify';
import type { Desk } from '../../desk.js';
import type { RequireRole } from '../auth.js';
import { banRoutes } from './bans.js';
import { systemRoutes } from './system.js';
import { inventoryRoutes } from './inventory.js';
import { blocklistRoutes } from './blocklists.js';
import { reportRoutes } from './reports.js';
import { uiRoutes } from './ui.js';
import { caseRoutes } from './cases.js';

export interface RouteContext { desk: Desk; requireRole: RequireRole }
export type RoutePlugin = (app: FastifyInstance, ctx: RouteContext) => Promise<void>;

export const routes: RoutePlugin[] = [
  systemRoutes,
  inventoryRoutes,
  reportRoutes,
  uiRoutes,
  banRoutes,
  blocklistRoutes,
  caseRoutes,
];
