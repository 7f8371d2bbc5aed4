/**
 * Firestream's marked blocks in system files (/etc/hosts, resolv.conf): added at the top or at the
 * end, replaced in place, removed exactly. Every byte outside the block is preserved, whatever the
 * line endings, including a missing final newline.
 */

/** The marker lines of the block named `id`. */
export function markers(id: string): { begin: string; end: string } {
  return { begin: `# BEGIN firestream ${id}`, end: `# END firestream ${id}` };
}

/** The file's line ending: CRLF when its first line ends so, else LF. */
export function lineEnding(text: string): "\r\n" | "\n" {
  const nl = text.indexOf("\n");
  return nl > 0 && text[nl - 1] === "\r" ? "\r\n" : "\n";
}

/** Where a line equal to `line` starts, at or after `from`, when it is a whole line. */
function findLine(text: string, line: string, from: number): number {
  let at = from;
  while (at <= text.length) {
    const i = text.indexOf(line, at);
    if (i < 0) return -1;
    const rest = i + line.length;
    const starts = i === 0 || text[i - 1] === "\n";
    const ends = rest === text.length || text.startsWith("\n", rest) ||
      text.startsWith("\r\n", rest);
    if (starts && ends) return i;
    at = i + 1;
  }
  return -1;
}

interface Found {
  /** offset of the begin marker */
  start: number;
  /** offset past the end marker's line ending (or the end of the file) */
  stop: number;
  /** the block's own line ending */
  eol: "\r\n" | "\n";
  /** the end marker is the file's last line, without a line ending */
  open: boolean;
}

/** Where the block sits. */
function find(text: string, id: string): Found | undefined {
  const { begin, end } = markers(id);
  const start = findLine(text, begin, 0);
  if (start < 0) return undefined;
  const j = findLine(text, end, start + begin.length);
  if (j < 0) return undefined;
  const eol = text.startsWith("\r\n", start + begin.length) ? "\r\n" : "\n";
  let stop = j + end.length;
  if (text.startsWith("\r\n", stop)) stop += 2;
  else if (text.startsWith("\n", stop)) stop += 1;
  return { start, stop, eol, open: stop === j + end.length };
}

/** The names of every firestream block in the file, in order. */
export function blockIds(text: string): string[] {
  return [...text.matchAll(/^# BEGIN firestream (.+?)\r?$/gm)].map((m) => m[1]);
}

/** The lines inside the block, or undefined when the file has none. */
export function readBlock(text: string, id: string): string[] | undefined {
  const at = find(text, id);
  if (!at) return undefined;
  const lines = text.slice(at.start, at.stop).split(at.eol);
  if (!at.open) lines.pop();
  return lines.slice(1, -1);
}

/** Where a new block goes. */
export interface BlockPlacement {
  /** "top" (default) or "end": after every line of the file */
  at?: "top" | "end";
}

/**
 * Adds the block (at the top, or at the end), or replaces its lines where it already is. At the end
 * of a file without a final newline, the block starts with one and ends without one, so that
 * {@link removeBlock} knows to take that newline away again.
 */
export function setBlock(
  text: string,
  id: string,
  lines: string[],
  placement: BlockPlacement = {},
): string {
  const { begin, end } = markers(id);
  const found = find(text, id);
  if (found) {
    const block = [begin, ...lines, end].join(found.eol) + (found.open ? "" : found.eol);
    return text.slice(0, found.start) + block + text.slice(found.stop);
  }
  const eol = lineEnding(text);
  const block = [begin, ...lines, end].join(eol);
  if (placement.at !== "end") return block + eol + text;
  if (text === "" || text.endsWith("\n")) return text + block + eol;
  return text + eol + block;
}

/** Removes the block; the rest of the file is returned byte for byte. */
export function removeBlock(text: string, id: string): string {
  const at = find(text, id);
  if (!at) return text;
  let start = at.start;
  // an open block at the end brought the newline before it
  if (at.open && start >= at.eol.length && text.slice(start - at.eol.length, start) === at.eol) {
    start -= at.eol.length;
  }
  return text.slice(0, start) + text.slice(at.stop);
}
