/** Items by key, in their original order within each group. */
export function groupBy<T>(items: Iterable<T>, key: (item: T) => string): Map<string, T[]> {
  const out = new Map<string, T[]>();
  for (const x of items) {
    const k = key(x), g = out.get(k);
    if (g) g.push(x); else out.set(k, [x]);
  }
  return out;
}
