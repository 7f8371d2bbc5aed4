/**
 * Firestream's marked blocks in system files (/etc/hosts, resolv.conf): added at the top, replaced in
 * place, removed exactly. Every byte outside the block is preserved, whatever the line endings.
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

/** Where the block sits: [start, end) offsets, end past its final line ending. */
function find(text: string, id: string): [number, number] | undefined {
  const { begin, end } = markers(id);
  let at = 0;
  while (at <= text.length) {
    const i = text.indexOf(begin, at);
    if (i < 0) return undefined;
    const lineStart = i === 0 || text[i - 1] === "\n";
    const after = text.slice(i + begin.length, i + begin.length + 2);
    const lineEnd = after.startsWith("\n") || after.startsWith("\r\n");
    if (lineStart && lineEnd) {
      const j = text.indexOf(end, i);
      if (j < 0) return undefined;
      let stop = j + end.length;
      if (text.startsWith("\r\n", stop)) stop += 2;
      else if (text.startsWith("\n", stop)) stop += 1;
      return [i, stop];
    }
    at = i + 1;
  }
  return undefined;
}

/** The lines inside the block, or undefined when the file has none. */
export function readBlock(text: string, id: string): string[] | undefined {
  const at = find(text, id);
  if (!at) return undefined;
  const eol = lineEnding(text);
  const lines = text.slice(at[0], at[1]).split(eol).filter((l, i, all) =>
    !(i === all.length - 1 && l === "")
  );
  return lines.slice(1, -1);
}

/** Adds the block at the top, or replaces its lines where it already is. */
export function setBlock(text: string, id: string, lines: string[]): string {
  const eol = lineEnding(text);
  const { begin, end } = markers(id);
  const block = [begin, ...lines, end].join(eol) + eol;
  const at = find(text, id);
  if (at) return text.slice(0, at[0]) + block + text.slice(at[1]);
  return block + text;
}

/** Removes the block; the rest of the file is returned byte for byte. */
export function removeBlock(text: string, id: string): string {
  const at = find(text, id);
  return at ? text.slice(0, at[0]) + text.slice(at[1]) : text;
}
