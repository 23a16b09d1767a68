// Benjamini–Hochberg q-values, as scipy.stats.false_discovery_control(ps, method='bh').

/**
 * q_(i) = min over j ≥ i of p_(j)·m/j (p sorted ascending), capped at 1, returned in input order.
 * NaN p-values (e.g. from a constant feature) come back as NaN and do not count in m, so an
 * undefined test neither gets a q-value nor inflates the others (scipy rejects NaN input).
 */
export function benjaminiHochberg(pValues: ArrayLike<number>): Float64Array {
  const q = new Float64Array(pValues.length).fill(NaN);
  const defined: number[] = [];
  for (let i = 0; i < pValues.length; i++) {
    const p = pValues[i]!;
    if (Number.isNaN(p)) continue;
    if (p < 0 || p > 1) throw new RangeError(`benjaminiHochberg: p-value ${p} outside [0, 1]`);
    defined.push(i);
  }
  const m = defined.length;
  defined.sort((a, b) => pValues[a]! - pValues[b]!);
  let running = 1;
  for (let rank = m; rank >= 1; rank--) {
    const index = defined[rank - 1]!;
    running = Math.min(running, (pValues[index]! * m) / rank);
    q[index] = running;
  }
  return q;
}
