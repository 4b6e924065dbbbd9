// Playbooks: what happens to a case, by kind of abuse and service type. They are YAML files an
// operator can edit (cases.playbooks_dir); the shipped ones live in src/cases/playbooks/.
// On shared hosting the provider can disable a URL or stop a program; on a VPS, dedicated server
// or IaaS it can only notify and act at the network edge, so each playbook has variants.
import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parse as parseYaml } from 'yaml';
import type { Event } from '../events/event.js';

export const CATEGORIES = ['spam_phishing', 'security_incident', 'rights_infringement', 'other_illegal'] as const;
export type Category = (typeof CATEGORIES)[number];

export const ACTIONS = ['suspend', 'unsuspend', 'null_route', 'remove_null_route', 'block_url', 'unblock_url', 'stop_program'] as const;
export type ActionName = (typeof ACTIONS)[number];
/** The action that undoes each restriction. */
export const UNDO: Partial<Record<ActionName, ActionName>> = {
  suspend: 'unsuspend', null_route: 'remove_null_route', block_url: 'unblock_url',
};

export interface EscalationStep {
  /** Time after the first notice. */
  afterMs: number;
  /** Template of the notice sent to the customer at this step, if any. */
  notice?: string;
  /** A restriction proposed at this step; an operator carries it out. */
  action?: ActionName;
}

export interface ActionPolicy {
  /** A second person, not the one who asked, must approve before it runs. */
  approval: boolean;
}

export interface PlaybookVariant {
  serviceTypes: string[];
  /** Notice template name: files <template>.<lang>.txt. */
  template: string;
  /** Time the customer has to answer, from the notice. */
  deadlineMs: number;
  /** Reminder times after the first notice. */
  remindersMs: number[];
  escalation: EscalationStep[];
  /** Restrictions possible on this kind of service, and whether each needs approval. */
  actions: Partial<Record<ActionName, ActionPolicy>>;
  /** Send the first notice as soon as the case opens, without an operator. */
  autoNotice: boolean;
}

export interface Playbook {
  id: string;
  title: { en: string; ja: string };
  category: Category;
  /** classification.type values whose events this playbook handles. */
  types: string[];
  /**
   * classification.taxonomy values whose events this playbook handles whatever their type: the
   * published feed schemas type some merely vulnerable hosts `infected-system` (Shadowserver's
   * scan_exchange), which must not send them down the compromised-host playbook.
   */
  taxonomies: string[];
  variants: PlaybookVariant[];
}

export class PlaybookError extends Error {}

const here = dirname(fileURLToPath(import.meta.url));
export const shippedPlaybooksDir = [join(here, 'playbooks'), join(here, '../../../src/cases/playbooks')]
  .find((d) => { try { return readdirSync(d).some((f) => f.endsWith('.yaml')); } catch { return false; } })!;

export interface PlaybookSet {
  all: Playbook[];
  get(id: string): Playbook | undefined;
  /** The playbook for a classification type; `other` when none names it. */
  forType(type: string | undefined): Playbook;
  /** The playbook for an event: the one claiming its taxonomy, else forType of its type. */
  forEvent(event: Event): Playbook;
  variant(pb: Playbook, serviceType: string | null | undefined): PlaybookVariant;
}

export function loadPlaybooks(dir = shippedPlaybooksDir): PlaybookSet {
  let files: string[];
  try {
    files = readdirSync(dir).filter((f) => /\.ya?ml$/.test(f)).sort();
  } catch (e) {
    throw new PlaybookError(`cannot read playbooks from ${dir}: ${(e as Error).message}`);
  }
  const all = files.map((f) => {
    const where = join(dir, f);
    let doc: unknown;
    try { doc = parseYaml(readFileSync(where, 'utf8')); } catch (e) { throw new PlaybookError(`${where}: ${(e as Error).message}`); }
    return parsePlaybook(doc, where);
  });
  const byId = new Map<string, Playbook>();
  const byType = new Map<string, Playbook>();
  const byTaxonomy = new Map<string, Playbook>();
  for (const pb of all) {
    if (byId.has(pb.id)) throw new PlaybookError(`two playbooks have the id '${pb.id}'`);
    byId.set(pb.id, pb);
    for (const t of pb.types) {
      if (byType.has(t)) throw new PlaybookError(`classification type '${t}' is claimed by playbooks ${byType.get(t)!.id} and ${pb.id}`);
      byType.set(t, pb);
    }
    for (const t of pb.taxonomies) {
      if (byTaxonomy.has(t)) throw new PlaybookError(`classification taxonomy '${t}' is claimed by playbooks ${byTaxonomy.get(t)!.id} and ${pb.id}`);
      byTaxonomy.set(t, pb);
    }
  }
  const fallback = byId.get('other');
  if (!fallback) throw new PlaybookError(`${dir}: a playbook with id 'other' is needed for events no playbook names`);
  return {
    all,
    get: (id) => byId.get(id),
    forType: (type) => (type && byType.get(type)) || fallback,
    forEvent(event) {
      const taxonomy = event['classification.taxonomy'];
      const type = event['classification.type'];
      return (typeof taxonomy === 'string' && byTaxonomy.get(taxonomy)) || this.forType(typeof type === 'string' ? type : undefined);
    },
    variant(pb, serviceType) {
      const st = serviceType ?? '';
      return pb.variants.find((v) => v.serviceTypes.includes(st)) ?? pb.variants.find((v) => v.serviceTypes.includes('*'))!;
    },
  };
}

type Tree = Record<string, unknown>;

export function parsePlaybook(doc: unknown, where: string): Playbook {
  const fail = (msg: string): never => { throw new PlaybookError(`${where}: ${msg}`); };
  if (!doc || typeof doc !== 'object' || Array.isArray(doc)) fail('a playbook is a mapping');
  const d = doc as Tree;
  const id = str(d.id, 'id', fail);
  if (!/^[a-z0-9][a-z0-9-]*$/.test(id)) fail(`id '${id}' must be lower-case letters, digits and dashes`);
  const title = d.title as Tree | undefined;
  if (!title || typeof title.en !== 'string' || typeof title.ja !== 'string') fail('title needs en and ja');
  const category = str(d.category, 'category', fail) as Category;
  if (!CATEGORIES.includes(category)) fail(`category '${category}' is not one of ${CATEGORIES.join(', ')}`);
  const types = list(d.types ?? [], 'types', fail).map((t) => str(t, 'types[]', fail));
  const taxonomies = list(d.taxonomies ?? [], 'taxonomies', fail).map((t) => str(t, 'taxonomies[]', fail));
  const variantDocs = list(d.variants, 'variants', fail);
  if (!variantDocs.length) fail('at least one variant is needed');
  const variants = variantDocs.map((v, i) => parseVariant(v, (m) => fail(`variants[${i}]: ${m}`)));
  if (!variants.some((v) => v.serviceTypes.includes('*'))) fail(`one variant must have service_types ['*'] for the services no other variant names`);
  return { id, title: { en: title!.en as string, ja: title!.ja as string }, category, types, taxonomies, variants };
}

function parseVariant(v: unknown, fail: (m: string) => never): PlaybookVariant {
  if (!v || typeof v !== 'object') fail('a variant is a mapping');
  const d = v as Tree;
  const actions: PlaybookVariant['actions'] = {};
  const ad = (d.actions ?? {}) as Tree;
  if (typeof ad !== 'object' || Array.isArray(ad)) fail('actions is a mapping of action: {approval: true|false}');
  for (const [name, p] of Object.entries(ad)) {
    if (!ACTIONS.includes(name as ActionName)) fail(`unknown action '${name}' (actions: ${ACTIONS.join(', ')})`);
    const approval = (p as Tree | null)?.approval;
    if (typeof approval !== 'boolean') fail(`actions.${name}.approval must be true or false`);
    actions[name as ActionName] = { approval: approval as boolean };
  }
  // Undoing a restriction is always possible when the restriction is.
  for (const [a, undo] of Object.entries(UNDO)) if (actions[a as ActionName] && !actions[undo!]) actions[undo!] = { approval: false };
  const escalation = list(d.escalation ?? [], 'escalation', fail).map((s, i) => {
    const sd = s as Tree;
    const step: EscalationStep = { afterMs: duration(sd?.after, `escalation[${i}].after`, fail) };
    if (sd.notice !== undefined) step.notice = str(sd.notice, `escalation[${i}].notice`, fail);
    if (sd.action !== undefined) {
      const a = str(sd.action, `escalation[${i}].action`, fail) as ActionName;
      if (!actions[a]) fail(`escalation[${i}] proposes ${a}, which this variant's actions do not list`);
      step.action = a;
    }
    return step;
  });
  return {
    serviceTypes: list(d.service_types, 'service_types', fail).map((t) => str(t, 'service_types[]', fail)),
    template: str(d.template, 'template', fail),
    deadlineMs: duration(d.deadline, 'deadline', fail),
    remindersMs: list(d.reminders ?? [], 'reminders', fail).map((r, i) => duration(r, `reminders[${i}]`, fail)),
    escalation,
    actions,
    autoNotice: d.auto_notice === true,
  };
}

function str(v: unknown, what: string, fail: (m: string) => never): string {
  if (typeof v !== 'string' || !v) fail(`${what} must be a non-empty string`);
  return v as string;
}
function list(v: unknown, what: string, fail: (m: string) => never): unknown[] {
  if (!Array.isArray(v)) fail(`${what} must be a list`);
  return v as unknown[];
}

const UNITS: Record<string, number> = { m: 60_000, h: 3_600_000, d: 86_400_000 };

/** '30m', '24h', '3d'. */
export function duration(v: unknown, what: string, fail: (m: string) => never): number {
  const m = typeof v === 'string' ? /^(\d{1,5})([mhd])$/.exec(v.trim()) : null;
  if (!m) fail(`${what} must be a duration like 30m, 24h or 3d`);
  return Number(m![1]) * UNITS[m![2]];
}
