// The life of a case. Every change of state goes through `checkTransition`, so an impossible move
// (closing a case twice, notifying a closed one) is refused with a sentence an operator understands.

export const STATES = ['new', 'triage', 'notified', 'customer_replied', 'resolved', 'no_action', 'escalated', 'closed'] as const;
export type CaseState = (typeof STATES)[number];

/** Cases in these states still take new events; resolved and no_action ones are reopened by them. */
export const OPEN_STATES: readonly CaseState[] = ['new', 'triage', 'notified', 'customer_replied', 'escalated'];
export const REOPENABLE_STATES: readonly CaseState[] = ['resolved', 'no_action'];

const TRANSITIONS: Record<CaseState, readonly CaseState[]> = {
  // An unattributed case leaves triage once someone names the customer, or is dropped.
  triage: ['new', 'no_action', 'closed'],
  new: ['notified', 'escalated', 'resolved', 'no_action', 'triage'],
  notified: ['customer_replied', 'escalated', 'resolved', 'no_action'],
  customer_replied: ['notified', 'escalated', 'resolved', 'no_action'],
  escalated: ['notified', 'customer_replied', 'resolved', 'no_action'],
  // New events after resolution reopen the case (back to new); otherwise it is closed for good.
  resolved: ['new', 'closed'],
  no_action: ['new', 'closed'],
  closed: [],
};

export const CLOSED_STATES: readonly CaseState[] = ['resolved', 'no_action', 'closed'];

export class InvalidTransition extends Error {
  constructor(readonly from: CaseState, readonly to: CaseState) {
    const allowed = TRANSITIONS[from];
    super(from === to
      ? `the case is already ${from}`
      : `a case cannot go from ${from} to ${to}` + (allowed.length ? ` (from ${from} it can go to: ${allowed.join(', ')})` : ` (${from} is final)`));
  }
}

export function isState(s: string): s is CaseState {
  return (STATES as readonly string[]).includes(s);
}

export function canTransition(from: CaseState, to: CaseState): boolean {
  return TRANSITIONS[from].includes(to);
}

export function checkTransition(from: CaseState, to: CaseState): void {
  if (!canTransition(from, to)) throw new InvalidTransition(from, to);
}

export function allowedTransitions(from: CaseState): readonly CaseState[] {
  return TRANSITIONS[from];
}
