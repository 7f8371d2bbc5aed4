/**
 * A full-screen terminal view over ANSI escape sequences: the alternate screen, raw keys, frames
 * drawn row by row (only the rows that changed), boxes with titles, and a terminal left as it was
 * found on every way out. Used by `firestream ui` only.
 */

/** A key read from the terminal. */
export type Key =
  | "up"
  | "down"
  | "left"
  | "right"
  | "pageup"
  | "pagedown"
  | "home"
  | "end"
  | "tab"
  | "backtab"
  | "enter"
  | "escape"
  | "backspace"
  | "ctrl-c"
  | "ctrl-d"
  | "ctrl-l"
  | { char: string };

const ESC = "\x1b";
/** Sequences that put the terminal back: attributes reset, cursor shown, main screen. */
const RESTORE = `${ESC}[0m${ESC}[?25h${ESC}[?1049l`;

const SGR = {
  red: 31,
  green: 32,
  yellow: 33,
  blue: 34,
  cyan: 36,
  gray: 90,
  bold: 1,
  inverse: 7,
} as const;
/** A style for {@link Painter}. */
export type Style = keyof typeof SGR;
/** Paints text in a style, or returns it as it is when colour is off. */
export type Painter = (style: Style, text: string) => string;

/** Colour only on a terminal, never with `NO_COLOR` or `--no-color`. */
export function colorWanted(noColorFlag: boolean): boolean {
  return !noColorFlag && !Deno.env.get("NO_COLOR") && Deno.stdout.isTerminal();
}

/** A painter that colours with SGR codes, or one that leaves text plain. */
export function painter(color: boolean): Painter {
  return color ? (style, text) => `${ESC}[${SGR[style]}m${text}${ESC}[0m` : (_s, text) => text;
}

/** Control characters of outside text (log lines, names) shown as nothing: they would move the cursor. */
export function printable(text: string): string {
  // deno-lint-ignore no-control-regex
  return text.replace(/\x1b\[[0-9;?]*[A-Za-z]/g, "").replace(/[\x00-\x08\x0a-\x1f\x7f]/g, "")
    .replace(/\t/g, "  ");
}

/**
 * `text` cut or padded to exactly `width` visible columns; escape sequences in it count for
 * nothing and a cut one is closed with a reset.
 */
export function fit(text: string, width: number): string {
  let out = "";
  let visible = 0;
  let styled = false;
  for (let i = 0; i < text.length && visible < width;) {
    if (text[i] === ESC) {
      // deno-lint-ignore no-control-regex
      const m = /^\x1b\[[0-9;?]*[A-Za-z]/.exec(text.slice(i));
      if (m) {
        out += m[0];
        styled = m[0] !== `${ESC}[0m`;
        i += m[0].length;
        continue;
      }
    }
    const ch = String.fromCodePoint(text.codePointAt(i)!);
    out += ch;
    visible++;
    i += ch.length;
  }
  if (styled) out += `${ESC}[0m`;
  return out + " ".repeat(Math.max(0, width - visible));
}

/** A titled box of `width`×`height` cells around `lines` (the ones that fit), as rows of text. */
export function box(
  title: string,
  lines: string[],
  size: { width: number; height: number },
  options: { focused?: boolean; paint: Painter },
): string[] {
  const { width, height } = size;
  if (width < 4 || height < 2) return Array(Math.max(0, height)).fill(" ".repeat(width));
  const inner = width - 2;
  const label = fit(` ${title} `, Math.min(inner - 2, title.length + 2));
  const head = options.focused ? options.paint("bold", `[${label.trim()}]`) : label;
  const headWidth = options.focused ? label.trim().length + 2 : label.length;
  const edge = (s: string) => (options.focused ? options.paint("cyan", s) : s);
  const rows = [
    edge("┌─") + head + edge("─".repeat(Math.max(0, inner - 1 - headWidth)) + "┐"),
  ];
  for (let i = 0; i < height - 2; i++) {
    rows.push(edge("│") + fit(lines[i] ?? "", inner) + edge("│"));
  }
  rows.push(edge("└" + "─".repeat(inner) + "┘"));
  return rows;
}

/** Places blocks of rows side by side. */
export function beside(...blocks: string[][]): string[] {
  const height = Math.max(...blocks.map((b) => b.length));
  return Array.from({ length: height }, (_, i) => blocks.map((b) => b[i] ?? "").join(""));
}

/** Parses raw terminal input into keys (xterm's sequences for arrows and paging). */
export function parseKeys(input: string): Key[] {
  const keys: Key[] = [];
  const seqs: Record<string, Key> = {
    "[A": "up",
    "[B": "down",
    "[C": "right",
    "[D": "left",
    "OA": "up",
    "OB": "down",
    "OC": "right",
    "OD": "left",
    "[5~": "pageup",
    "[6~": "pagedown",
    "[H": "home",
    "[F": "end",
    "[1~": "home",
    "[4~": "end",
    "[Z": "backtab",
  };
  for (let i = 0; i < input.length;) {
    const c = input[i];
    if (c === ESC) {
      // deno-lint-ignore no-control-regex
      const m = /^\x1b(\[[0-9;]*[~A-Za-z]|O[A-D])/.exec(input.slice(i));
      if (m) {
        const key = seqs[m[1]];
        if (key) keys.push(key);
        i += m[0].length;
        continue;
      }
      keys.push("escape");
      i++;
      continue;
    }
    i++;
    if (c === "\r" || c === "\n") keys.push("enter");
    else if (c === "\t") keys.push("tab");
    else if (c === "\x7f" || c === "\b") keys.push("backspace");
    else if (c === "\x03") keys.push("ctrl-c");
    else if (c === "\x04") keys.push("ctrl-d");
    else if (c === "\x0c") keys.push("ctrl-l");
    else if (c >= " ") keys.push({ char: c });
  }
  return keys;
}

/** The terminal in full-screen mode: enter, draw frames, read keys, leave. */
export class Screen {
  #previous: string[] = [];
  #active = false;
  #encoder = new TextEncoder();
  #restoreOnUnload = () => this.leave();

  /** The terminal's size (80×24 when it cannot be asked). */
  size(): { columns: number; rows: number } {
    try {
      const { columns, rows } = Deno.consoleSize();
      return { columns: columns || 80, rows: rows || 24 };
    } catch {
      return { columns: 80, rows: 24 };
    }
  }

  /** Alternate screen, hidden cursor, raw keys. */
  enter(): void {
    if (this.#active) return;
    Deno.stdin.setRaw(true);
    this.#active = true;
    globalThis.addEventListener("unload", this.#restoreOnUnload);
    this.#write(`${ESC}[?1049h${ESC}[?25l${ESC}[2J`);
    this.#previous = [];
  }

  /** Puts the terminal back as it was; safe to call more than once. */
  leave(): void {
    if (!this.#active) return;
    this.#active = false;
    globalThis.removeEventListener("unload", this.#restoreOnUnload);
    try {
      this.#write(RESTORE);
    } catch { /* the terminal went away */ }
    try {
      Deno.stdin.setRaw(false);
    } catch { /* not a terminal any more */ }
  }

  /** Forgets the last frame, so that the next one is drawn whole (after a resize or Ctrl-L). */
  invalidate(): void {
    this.#previous = [];
    if (this.#active) this.#write(`${ESC}[2J`);
  }

  /** Draws `rows`, writing only those that differ from the last frame. */
  draw(rows: string[]): void {
    if (!this.#active) return;
    let out = "";
    for (let i = 0; i < rows.length; i++) {
      if (this.#previous[i] === rows[i]) continue;
      out += `${ESC}[${i + 1};1H${rows[i]}${ESC}[0m${ESC}[K`;
    }
    this.#previous = rows.slice();
    if (out) this.#write(out);
  }

  #write(text: string): void {
    const bytes = this.#encoder.encode(text);
    let done = 0;
    while (done < bytes.length) done += Deno.stdout.writeSync(bytes.subarray(done));
  }
}

/** Reads keys from stdin until it ends or `signal` aborts. */
export async function* readKeys(signal: AbortSignal): AsyncGenerator<Key> {
  const buf = new Uint8Array(256);
  const decoder = new TextDecoder();
  while (!signal.aborted) {
    const n = await Deno.stdin.read(buf);
    if (n === null) return;
    for (const k of parseKeys(decoder.decode(buf.subarray(0, n), { stream: true }))) yield k;
  }
}
