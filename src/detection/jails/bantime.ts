// Ban duration with fail2ban's bantime.increment (Jail.setBanTimeExtra and Observer.incrBanTime):
// the n-th ban of an address lasts formula(ban.Time = bantime, ban.Count = n - 1), or bantime times
// multipliers[n - 1] (the last multiplier repeating), capped by maxtime, plus up to rndtime seconds
// of noise so that a botnet cannot compute when it is let in again. A first ban is plain bantime.
import { compileExpr, evalExpr } from './expr.js';

export const DEFAULT_FORMULA = 'ban.Time * (1<<(ban.Count if ban.Count<20 else 20)) * banFactor';

export interface BanIncrement {
  /** Python expression, evaluated once (fail2ban evals it): "1", "2.0 / 2.885385". */
  factor: string;
  formula: string;
  /** When not empty, used instead of the formula. */
  multipliers: number[];
  maxtime: number | null;
  rndtime: number | null;
  /** Count earlier bans of the address in every jail, not only this one. */
  overalljails: boolean;
}

export interface BanPolicy {
  /** Seconds; a negative value bans for ever. */
  bantime: number;
  increment: BanIncrement | null;
}

/** Returns banTime(previousBans): the duration of a ban that follows `previousBans` recorded ones. */
export function banTimeFunction(p: BanPolicy, random: () => number = Math.random): (previousBans: number) => number {
  const inc = p.increment;
  if (!inc || p.bantime <= 0) return () => p.bantime;
  const banFactor = evalExpr(inc.factor);
  let grow: (count: number) => number;
  if (inc.multipliers.length) {
    const m = inc.multipliers;
    grow = (count) => p.bantime * banFactor * m[Math.min(count, m.length - 1)];
  } else {
    const f = compileExpr(inc.formula);
    // Evaluate once now so that a bad formula fails at configuration time, not at the first ban.
    f({ 'ban.Time': p.bantime, 'ban.Count': 1, banFactor });
    grow = (count) => Math.max(p.bantime, f({ 'ban.Time': p.bantime, 'ban.Count': count, banFactor }));
  }
  return (previousBans) => {
    if (previousBans <= 0) return p.bantime;
    let t = grow(previousBans);
    if (inc.maxtime != null) t = Math.min(t, inc.maxtime);
    if (inc.rndtime != null) t += random() * inc.rndtime;
    return t;
  };
}
