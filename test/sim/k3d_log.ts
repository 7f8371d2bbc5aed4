/**
 * k3d's log lines, as its logger writes them (fixtures/k3d/README.md has the sources):
 * - k3d `cmd/root.go` initLogging: logrus with `ForceColors: true` unless `LOG_COLORS` parses as a
 *   bool (Go's strconv.ParseBool); level from `LOG_LEVEL` (default info); PANIC/FATAL/ERROR/WARN
 *   lines go to stderr, INFO/DEBUG/TRACE lines to stdout.
 * - logrus v1.9.3 `text_formatter.go`: coloured `\x1b[<c>m<LEVL>\x1b[0m[<secs %04d>] <msg %-44s> `,
 *   c = 31 error/fatal, 33 warn, 36 info, 37 debug; uncoloured it is logfmt:
 *   `time="<RFC3339>" level=<level> msg="<msg>"`, values quoted (Go %q) unless plain.
 */
import { SimExit } from "./core.ts";

/** A logrus level k3d uses. */
export type K3dLevel = "fatal" | "error" | "warning" | "info" | "debug";

const RANK: Record<K3dLevel, number> = { fatal: 1, error: 2, warning: 3, info: 4, debug: 5 };
const COLOR: Record<K3dLevel, number> = { fatal: 31, error: 31, warning: 33, info: 36, debug: 37 };

/** Go's strconv.ParseBool; undefined where Go returns an error. */
function parseBool(text: string | undefined): boolean | undefined {
  if (text === undefined) return undefined;
  if (["1", "t", "T", "TRUE", "true", "True"].includes(text)) return true;
  if (["0", "f", "F", "FALSE", "false", "False"].includes(text)) return false;
  return undefined;
}

/** logrus.ParseLevel (case-insensitive; "warn" and "warning" are one level). */
function parseLevel(text: string | undefined): K3dLevel | undefined {
  const t = text?.toLowerCase();
  if (t === "warn") return "warning";
  if (t === "trace") return "debug";
  return t && t in RANK ? t as K3dLevel : undefined;
}

/** Go's %q for the strings k3d logs (ASCII). */
function goQuote(text: string): string {
  return JSON.stringify(text);
}

function plain(text: string): boolean {
  return text.length > 0 && /^[A-Za-z0-9\-._/@^+]+$/.test(text);
}

/** One k3d run's log: lines for stdout and stderr in order. */
export class K3dLog {
  readonly out: string[] = [];
  readonly err: string[] = [];
  readonly colors: boolean;
  readonly level: K3dLevel;
  readonly started = Date.now();

  constructor(env: { get(name: string): string | undefined } = Deno.env) {
    this.colors = parseBool(env.get("LOG_COLORS")) ?? true;
    this.level = parseLevel(env.get("LOG_LEVEL")) ?? "info";
  }

  /** The formatted line (without newline). */
  format(level: K3dLevel, message: string): string {
    if (this.colors) {
      const secs = String(Math.floor((Date.now() - this.started) / 1000)).padStart(4, "0");
      const text = level === "warning" ? "WARN" : level.toUpperCase().slice(0, 4);
      return `\x1b[${COLOR[level]}m${text}\x1b[0m[${secs}] ${message.padEnd(44)} `;
    }
    const time = new Date().toISOString().replace(/\.\d+Z$/, "Z");
    const msg = plain(message) ? message : goQuote(message);
    return `time="${time}" level=${level} msg=${msg}`;
  }

  log(level: K3dLevel, message: string): void {
    if (RANK[level] > RANK[this.level]) return;
    const line = this.format(level, message);
    (RANK[level] <= RANK.warning ? this.err : this.out).push(line);
  }

  info(message: string): void {
    this.log("info", message);
  }

  debug(message: string): void {
    this.log("debug", message);
  }

  warn(message: string): void {
    this.log("warning", message);
  }

  error(message: string): void {
    this.log("error", message);
  }

  /** logrus Fatalln: the line, then exit 1 with everything logged so far. */
  fatal(message: string): SimExit {
    this.log("fatal", message);
    return new SimExit(1, this.text("err"), this.text("out"));
  }

  /** The lines of one stream as text. */
  text(stream: "out" | "err"): string {
    return (stream === "out" ? this.out : this.err).map((l) => l + "\n").join("");
  }
}
