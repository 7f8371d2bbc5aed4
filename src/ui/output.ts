/** Human and JSON output: results on stdout, progress and warnings on stderr, color only on a TTY. */

/** Output settings resolved from flags and environment. */
export interface OutputOptions {
  /** machine-readable output on stdout @default false */
  json?: boolean;
  /** --no-color given */
  noColor?: boolean;
  /** suppress progress lines @default false */
  quiet?: boolean;
}

const CODES = {
  red: 31,
  green: 32,
  yellow: 33,
  blue: 34,
  magenta: 35,
  cyan: 36,
  gray: 90,
  bold: 1,
};
/** A color name usable with {@link Output.paint}. */
export type Color = keyof typeof CODES;

/** Where everything a command prints goes through. */
export class Output {
  readonly json: boolean;
  readonly quiet: boolean;
  readonly #colorOut: boolean;
  readonly #colorErr: boolean;
  readonly #encoder = new TextEncoder();

  constructor(options: OutputOptions = {}) {
    this.json = options.json ?? false;
    this.quiet = options.quiet ?? false;
    const allowed = !options.noColor && !Deno.env.get("NO_COLOR");
    this.#colorOut = allowed && Deno.stdout.isTerminal();
    this.#colorErr = allowed && Deno.stderr.isTerminal();
  }

  /** Wraps text in an ANSI color when stdout is a color terminal. */
  paint(color: Color, text: string, stream: "out" | "err" = "out"): string {
    const on = stream === "out" ? this.#colorOut : this.#colorErr;
    return on ? `\x1b[${CODES[color]}m${text}\x1b[0m` : text;
  }

  /** A result line on stdout (suppressed in JSON mode). */
  line(text = ""): void {
    if (!this.json) this.#write(Deno.stdout, text + "\n");
  }

  /** A JSON document on stdout. */
  data(value: unknown): void {
    this.#write(Deno.stdout, JSON.stringify(value, null, 2) + "\n");
  }

  /** A progress line on stderr. */
  progress(text: string): void {
    if (!this.quiet) this.#write(Deno.stderr, text + "\n");
  }

  /** A warning on stderr. */
  warn(text: string): void {
    this.#write(Deno.stderr, `${this.paint("yellow", "warning:", "err")} ${text}\n`);
  }

  /** An error on stderr. */
  error(text: string, hint?: string): void {
    this.#write(Deno.stderr, `${this.paint("red", "error:", "err")} ${text}\n`);
    if (hint) this.#write(Deno.stderr, `  ${this.paint("gray", "hint:", "err")} ${hint}\n`);
  }

  /** Aligned columns on stdout, header in bold. */
  table(header: string[], rows: string[][]): void {
    if (this.json) return;
    formatTable([header, ...rows]).forEach((text, n) =>
      this.line(n === 0 ? this.paint("bold", text) : text)
    );
  }

  #write(stream: { writeSync(p: Uint8Array): number }, text: string): void {
    const bytes = this.#encoder.encode(text);
    let written = 0;
    while (written < bytes.length) written += stream.writeSync(bytes.subarray(written));
  }
}

/** Rows padded into columns three spaces apart (the last column is not padded). */
export function formatTable(rows: string[][]): string[] {
  const widths = (rows[0] ?? []).map((_, i) => Math.max(...rows.map((r) => (r[i] ?? "").length)));
  return rows.map((r) =>
    r.map((c, i) => (i === r.length - 1 ? c : c.padEnd(widths[i]))).join("   ")
  );
}
