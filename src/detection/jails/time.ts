// fail2ban's time expressions (MyTime.str2seconds): "10m", "1h 30m", "1d12h", "1year-6mo", "600",
// "-1". Units are rewritten to multiplications exactly as fail2ban's regular expressions do, then
// the arithmetic is evaluated (safely, see expr.ts). "m" is minutes; months are "mo"/"mon".
import { evalExpr, ExprError } from './expr.js';

const YEAR = (365 * 3 + 366) * 24 * 60 * 60 / 4;
const sub = (units: string) => new RegExp(`(?<=[\\d\\s])(${units})\\b`, 'gi');
const PARTS: [RegExp, string][] = [
  [sub('days?|da|dd?'), `*${24 * 60 * 60}`],
  [sub('weeks?|wee?|ww?'), `*${7 * 24 * 60 * 60}`],
  [sub('months?|mon?'), `*${YEAR / 12}`],
  [sub('years?|yea?|yy?'), `*${YEAR}`],
  [sub('seconds?|sec?|ss?'), '*1'],
  [sub('minutes?|min?|mm?'), '*60'],
  [sub('hours?|hou?|hh?'), `*${60 * 60}`],
];

export class TimeError extends Error {}

export function str2seconds(value: string | number): number {
  if (typeof value === 'number') return value;
  let v = value.replace(/(?<=[a-z])(\d)/gi, ' $1');
  for (const [re, rpl] of PARTS) v = v.replace(re, rpl);
  v = v.replace(/(\d)\s+(\d)/g, '$1+$2');
  try {
    return evalExpr(v);
  } catch (e) {
    if (e instanceof ExprError) throw new TimeError(`not a time: '${value}' (use seconds or units like 10m, 1h, 1d, 1w)`);
    throw e;
  }
}
