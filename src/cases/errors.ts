// Errors case work raises; the HTTP layer maps each to its status code.
export class CaseNotFound extends Error {
  constructor(what: string) { super(`no such ${what}`); }
}
/** Someone else changed the case since the caller read it (optimistic concurrency). */
export class VersionConflict extends Error {
  constructor(readonly current: number, given: number) {
    super(`the case was changed by someone else (version ${current}, you sent ${given}): reload it and try again`);
  }
}
/** A request that is well-formed but not possible in the case's situation. */
export class CaseRuleError extends Error {}
