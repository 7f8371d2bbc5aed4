/** Debug logging to stderr and `.firestream/firestream.log`, enabled by -v, --log-level or env. */

/** Log levels, most severe first. */
export type LogLevel = "error" | "warn" | "info" | "debug";
const ORDER: LogLevel[] = ["error", "warn", "info", "debug"];

interface LogSettings {
  level: LogLevel;
  file?: string;
}

const settings: LogSettings = { level: levelFromEnv() };
const pending: string[] = [];

/** The level asked for by FIRESTREAM_LOG or RUST_LOG (the seed documents `RUST_LOG=debug`). */
export function levelFromEnv(): LogLevel {
  const raw = (Deno.env.get("FIRESTREAM_LOG") ?? Deno.env.get("RUST_LOG") ?? "").toLowerCase();
  const match = ORDER.find((l) => raw === l || raw.startsWith(`${l},`) || raw.includes(`=${l}`));
  if (raw === "trace") return "debug";
  return match ?? "warn";
}

/** Sets the level and, once the state directory is known, the log file. */
export function configureLog(options: { level?: LogLevel; file?: string }): void {
  if (options.level) settings.level = options.level;
  if (options.file !== undefined) settings.file = options.file;
}

/** True when debug lines are wanted. */
export function debugEnabled(): boolean {
  return settings.level === "debug";
}

/** Writes a debug line (external commands, decisions). */
export function debug(message: string): void {
  if (!debugEnabled()) return;
  const line = `${new Date().toISOString()} DEBUG ${message}`;
  console.error(line);
  pending.push(line);
  if (settings.file) flushLog();
}

/** Appends buffered debug lines to the log file. */
export function flushLog(): void {
  if (!settings.file || pending.length === 0) return;
  try {
    const dir = settings.file.slice(0, settings.file.lastIndexOf("/"));
    Deno.mkdirSync(dir, { recursive: true });
    Deno.writeTextFileSync(settings.file, pending.join("\n") + "\n", { append: true });
    pending.length = 0;
  } catch {
    // logging must never break a command
  }
}
