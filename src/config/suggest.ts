/** "Did you mean" suggestions by edit distance. */

/** Levenshtein distance between two strings. */
export function editDistance(a: string, b: string): number {
  const prev = Array.from({ length: b.length + 1 }, (_, i) => i);
  for (let i = 1; i <= a.length; i++) {
    let diag = prev[0];
    prev[0] = i;
    for (let j = 1; j <= b.length; j++) {
      const up = prev[j];
      prev[j] = Math.min(prev[j] + 1, prev[j - 1] + 1, diag + (a[i - 1] === b[j - 1] ? 0 : 1));
      diag = up;
    }
  }
  return prev[b.length];
}

/** The candidate closest to `word`, when it is close enough to be a likely typo. */
export function nearest(word: string, candidates: readonly string[]): string | undefined {
  let best: string | undefined;
  let bestDistance = Infinity;
  for (const c of candidates) {
    const d = editDistance(word.toLowerCase(), c.toLowerCase());
    if (d < bestDistance) {
      best = c;
      bestDistance = d;
    }
  }
  const limit = Math.max(2, Math.floor(word.length / 2));
  return bestDistance <= limit ? best : undefined;
}

/**
 * Edit distance counting a swap of two neighbours as one edit (optimal string alignment); words
 * whose lengths differ by more than `cap` are as far apart as the longer one is long.
 */
function swapDistance(a: string, b: string, cap: number): number {
  if (Math.abs(a.length - b.length) > cap) return Math.max(a.length, b.length);
  const d = Array.from({ length: a.length + 1 }, (_, i) => [i, ...new Array(b.length).fill(0)]);
  for (let j = 0; j <= b.length; j++) d[0][j] = j;
  for (let j = 1; j <= b.length; j++) {
    for (let i = 1; i <= a.length; i++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      d[i][j] = Math.min(d[i - 1][j] + 1, d[i][j - 1] + 1, d[i - 1][j - 1] + cost);
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) {
        d[i][j] = Math.min(d[i][j], d[i - 2][j - 2] + 1);
      }
    }
  }
  return d[a.length][b.length];
}

/**
 * The command line's "did you mean": the candidates (longer than one character, more than 40%
 * alike) at the smallest distance under 3, sorted — commander's rule, which users of it know.
 * Returns `--x`, `one of a, b`, or undefined.
 */
export function similarWords(word: string, candidates: readonly string[]): string | undefined {
  const dashes = word.startsWith("--") ? "--" : "";
  const bare = word.slice(dashes.length);
  let best = 3;
  let found: string[] = [];
  for (const c of new Set(candidates.map((c) => c.slice(dashes.length)))) {
    if (c.length <= 1) continue;
    const distance = swapDistance(bare, c, 3);
    const length = Math.max(bare.length, c.length);
    if ((length - distance) / length <= 0.4) continue;
    if (distance < best) [best, found] = [distance, [c]];
    else if (distance === best) found.push(c);
  }
  const names = found.sort((a, b) => a.localeCompare(b)).map((c) => `${dashes}${c}`);
  if (names.length > 1) return `one of ${names.join(", ")}`;
  return names[0];
}
