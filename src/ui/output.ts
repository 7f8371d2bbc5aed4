/** Human and JSON output: results on stdout, progress and warnings on stderr, color only on a TTY. */

/** How structured results are printed: text for people, JSON or YAML for scripts. */
export type OutputFormat = "text" | "json" | "yaml";

/** Output settings resolved from flags and environment. */
export interface OutputOptions {
  /** machine-readable output on stdout (JSON unless `format` says YAML) @default false */
  json?: boolean;
  /** `-o json|yaml`; wins over `json` */
  format?: OutputFormat;
  /** tables without their header line */
  noHeaders?: boolean;
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

let yamlStringify: ((value: unknown) => string) | undefined;

/** Makes YAML output available (the library is loaded only when `-o yaml` is asked for). */
export function useYaml(stringify: (value: unknown) => string): void {
  yamlStringify = stringify;
}

/** Thrown when stdout was closed by its reader (`| head -1`): the command ends quietly, exit 0. */
export class StdoutClosed extends Error {
  constructor() {
    super("stdout was closed");
    this.name = "StdoutClosed";
  }
}

/** True for the error a write to a closed pipe raises. */
export function isBrokenPipe(err: unknown): boolean {
  return err instanceof StdoutClosed || err instanceof Deno.errors.BrokenPipe ||
    (err instanceof Error && /Broken pipe|os error 32/.test(err.message));
}

/** Where everything a command prints goes through. */
export class Output {
  /** structured output (JSON or YAML) on stdout */
  readonly json: boolean;
  readonly format: OutputFormat;
  readonly quiet: boolean;
  readonly noHeaders: boolean;
  readonly #colorOut: boolean;
  readonly #colorErr: boolean;
  readonly #encoder = new TextEncoder();
  readonly #liveErr: boolean;
  #status = "";

  constructor(options: OutputOptions = {}) {
    this.format = options.format && options.format !== "text"
      ? options.format
      : options.json
      ? "json"
      : "text";
    this.json = this.format !== "text";
    this.quiet = options.quiet ?? false;
    this.noHeaders = options.noHeaders ?? false;
    const allowed = !options.noColor && !Deno.env.get("NO_COLOR");
    this.#colorOut = allowed && Deno.stdout.isTerminal();
    this.#colorErr = allowed && Deno.stderr.isTerminal();
    this.#liveErr = !this.quiet && Deno.stderr.isTerminal() && Deno.env.get("TERM") !== "dumb";
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

  /** A JSON (or YAML) document on stdout. */
  data(value: unknown): void {
    if (this.format === "yaml") return this.#write(Deno.stdout, this.#yaml(value));
    this.#write(Deno.stdout, JSON.stringify(value, null, 2) + "\n");
  }

  /** One record of a stream: a JSON object on one line, or a YAML document after `---`. */
  record(value: unknown): void {
    if (this.format === "yaml") return this.#write(Deno.stdout, `---\n${this.#yaml(value)}`);
    this.#write(Deno.stdout, JSON.stringify(value) + "\n");
  }

  #yaml(value: unknown): string {
    if (!yamlStringify) throw new Error("YAML output was not loaded");
    // a round trip through JSON drops undefined values and keeps key order, as the JSON output does
    return yamlStringify(JSON.parse(JSON.stringify(value ?? null)));
  }

  /** A progress line on stderr (not with --quiet). */
  progress(text: string): void {
    if (!this.quiet) this.#err(text + "\n");
  }

  /** A warning on stderr. */
  warn(text: string): void {
    this.#err(`${this.paint("yellow", "warning:", "err")} ${text}\n`);
  }

  /** An error on stderr. */
  error(text: string, hint?: string): void {
    this.#err(`${this.paint("red", "error:", "err")} ${text}\n`);
    if (hint) this.#err(`  ${this.paint("gray", "hint:", "err")} ${hint}\n`);
  }

  /** True when a live status line can be shown: stderr is a terminal and not --quiet. */
  get live(): boolean {
    return this.#liveErr;
  }

  /**
   * The live status line at the bottom of a terminal (rewritten in place, cleared with ""). Other
   * stderr lines print above it. Without a terminal it is never shown.
   */
  status(text: string): void {
    if (!this.#liveErr) return;
    const width = (() => {
      try {
        return Deno.consoleSize().columns || 80;
      } catch {
        return 80;
      }
    })();
    // one row only, or the next redraw would leave the wrapped part behind
    const next = text.length >= width ? text.slice(0, Math.max(width - 2, 1)) + "…" : text;
    if (next === this.#status) return;
    this.#write(Deno.stderr, `\r\x1b[2K${next}`);
    this.#status = next;
  }

  #err(text: string): void {
    if (!this.#status) return this.#write(Deno.stderr, text);
    this.#write(Deno.stderr, `\r\x1b[2K${text}${this.#status}`);
  }

  /** Aligned columns on stdout, header in bold. */
  table(header: string[], rows: string[][]): void {
    if (this.json) return;
    formatTable([header, ...rows]).forEach((text, n) => {
      if (n > 0) this.line(text);
      else if (!this.noHeaders) this.line(this.paint("bold", text));
    });
  }

  #write(stream: { writeSync(p: Uint8Array): number }, text: string): void {
    const bytes = this.#encoder.encode(text);
    let written = 0;
    try {
      while (written < bytes.length) written += stream.writeSync(bytes.subarray(written));
    } catch (err) {
      if (isBrokenPipe(err)) throw new StdoutClosed();
      throw err;
    }
  }
}

/** Rows padded into columns three spaces apart (the last column is not padded). */
export function formatTable(rows: string[][]): string[] {
  const widths = (rows[0] ?? []).map((_, i) => Math.max(...rows.map((r) => (r[i] ?? "").length)));
  return rows.map((r) =>
    r.map((c, i) => (i === r.length - 1 ? c : c.padEnd(widths[i]))).join("   ")
  );
}
