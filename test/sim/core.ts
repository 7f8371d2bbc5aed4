/** The simulated host's shared machinery: state on disk, call log, faults, latency, flag parsing. */

/** Thrown by a simulated tool to end with the real tool's output and exit code. */
export class SimExit extends Error {
  constructor(readonly code: number, readonly stderr = "", readonly stdout = "") {
    super(stderr || `exit ${code}`);
  }
}

/** The simulation directory (per test). */
export function simDir(): string {
  const dir = Deno.env.get("FIRESTREAM_SIM_DIR");
  if (!dir) {
    throw new SimExit(
      97,
      "sim: FIRESTREAM_SIM_DIR is not set; the simulated host needs a state directory\n",
    );
  }
  return dir;
}

/** Where the reference data (k3d schema, CLI flags) lives. */
export function referenceDir(): string {
  const override = Deno.env.get("FIRESTREAM_SIM_REFERENCE");
  if (override) return override;
  return new URL("./reference", import.meta.url).pathname;
}

let flagsCache:
  | Record<string, Record<string, Record<string, { short: string | null; value: boolean }>>>
  | undefined;

/** Flags the real tools accept, keyed by tool then subcommand path ("" for global). */
export function cliFlags() {
  flagsCache ??= JSON.parse(Deno.readTextFileSync(`${referenceDir()}/cli-flags.json`));
  return flagsCache!;
}

// ---------- state, locked across concurrent calls ----------

/**
 * Runs `fn` holding the sim dir's lock: an exclusive `flock` on `.lock`, waited for as long as it
 * takes (a busy machine only makes the wait longer) and dropped by the kernel when its holder dies,
 * so a call killed mid-update never leaves it behind.
 */
async function withLock<T>(fn: () => Promise<T> | T): Promise<T> {
  const file = await Deno.open(`${simDir()}/.lock`, { create: true, write: true });
  try {
    await file.lock(true);
    return await fn();
  } finally {
    file.close();
  }
}

/**
 * {@link withLock} for the test process, which changes the sim dir of `dir` between calls: a
 * simulated call running meanwhile cannot write back a world read before the change.
 */
export function withLockSync<T>(dir: string, fn: () => T): T {
  const file = Deno.openSync(`${dir}/.lock`, { create: true, write: true });
  try {
    file.lockSync(true);
    return fn();
  } finally {
    file.close();
  }
}

/** Reads a JSON file of the sim dir, or `fallback`. */
export function readJson<T>(name: string, fallback: T): T {
  try {
    return JSON.parse(Deno.readTextFileSync(`${simDir()}/${name}`));
  } catch {
    return fallback;
  }
}

/**
 * Replaces `path` whole (a new file renamed over it): no reader sees half of it, and the
 * long-running tools tell a new world by its new file.
 */
export function replaceFile(path: string, text: string): void {
  const temp = `${path}.tmp-${Deno.pid}`;
  Deno.writeTextFileSync(temp, text);
  Deno.renameSync(temp, path);
}

/** Writes a JSON file of the sim dir atomically. */
export function writeJson(name: string, value: unknown): void {
  replaceFile(`${simDir()}/${name}`, JSON.stringify(value, null, 1));
}

/** Runs `fn` on the state named `name` under the lock and saves what it returns. */
export function update<T, R>(
  name: string,
  fallback: T,
  fn: (state: T) => R | Promise<R>,
): Promise<R> {
  return withLock(async () => {
    const state = readJson(name, fallback);
    const result = await fn(state);
    writeJson(name, state);
    return result;
  });
}

// ---------- call log ----------

/** One logged call. */
export interface CallEntry {
  tool: string;
  argv: string[];
  mutating: boolean;
  time: string;
  pid: number;
  /** the process that ran the tool (the CLI, or its detached supervisor) */
  ppid?: number;
  /** made by a detached port-forward supervisor, not by the command being run */
  supervisor?: boolean;
  /** when the call ended (from calls_end.jsonl, joined by pid) */
  end?: string;
}

/** Appends a call to calls.jsonl (one write, so concurrent appends do not interleave). */
export function logCall(tool: string, argv: string[], mutating: boolean): void {
  const entry: CallEntry = {
    tool,
    argv,
    mutating,
    time: new Date().toISOString(),
    pid: Deno.pid,
    ppid: Deno.ppid,
    ...(bySupervisor() ? { supervisor: true } : {}),
  };
  Deno.writeTextFileSync(`${simDir()}/calls.jsonl`, JSON.stringify(entry) + "\n", { append: true });
}

/** True when the parent process is firestream's detached supervisor (`__supervise SPEC`). */
function bySupervisor(): boolean {
  try {
    return Deno.readTextFileSync(`/proc/${Deno.ppid}/cmdline`).split("\0").includes("__supervise");
  } catch {
    return false;
  }
}

/** Notes when this tool process ends, so overlapping calls can be told apart. */
export function logCallEnd(): void {
  const entry = { pid: Deno.pid, end: new Date().toISOString() };
  try {
    Deno.writeTextFileSync(`${simDir()}/calls_end.jsonl`, JSON.stringify(entry) + "\n", {
      append: true,
    });
  } catch {
    // no sim dir (a tool run outside a simulated host): nothing to note
  }
}

// ---------- faults and latency ----------

/** A fault: the first matching call(s) fail with this output. */
export interface Fault {
  /** matched against "tool sub command words…" (flags removed), e.g. "k3d cluster create" */
  prefix: string;
  stderr: string;
  exit: number;
  /** how many calls it hits @default 1 */
  times?: number;
  /** how many matching calls it lets through first @default 0 */
  skip?: number;
}

/** Consumes a matching fault, if any. */
export async function takeFault(command: string): Promise<Fault | undefined> {
  return await withLock(() => {
    const faults = readJson<Fault[]>("faults.json", []);
    const i = faults.findIndex((f) => command === f.prefix || command.startsWith(f.prefix + " "));
    if (i < 0) return undefined;
    const fault = faults[i];
    if (fault.skip) {
      faults[i] = { ...fault, skip: fault.skip - 1 };
      writeJson("faults.json", faults);
      return undefined;
    }
    const left = (fault.times ?? 1) - 1;
    if (left <= 0) faults.splice(i, 1);
    else faults[i] = { ...fault, times: left };
    writeJson("faults.json", faults);
    return fault;
  });
}

/** Milliseconds to wait before answering `command`. */
export function latencyFor(command: string): number {
  const cfg = readJson<{ default_ms?: number; per?: Record<string, number> }>("latency.json", {});
  let best = -1;
  let ms = cfg.default_ms ?? 0;
  for (const [prefix, value] of Object.entries(cfg.per ?? {})) {
    if (command.startsWith(prefix) && prefix.length > best) {
      best = prefix.length;
      ms = value;
    }
  }
  return ms;
}

/**
 * Whether `command` is held (`holds.json`, a list of command prefixes): the call waits, after its
 * latency, until its prefix is released, so a test decides when it goes on instead of a clock.
 */
export function heldFor(command: string): boolean {
  return readJson<string[]>("holds.json", []).some((prefix) => command.startsWith(prefix));
}

// ---------- flag parsing against the real tools' flag lists ----------

/** A parsed command line. */
export interface Parsed {
  /** the subcommand path found in the flag table, e.g. "cluster create" */
  path: string;
  /** positional arguments after the path */
  args: string[];
  /** flags by long name (without dashes); repeated flags collect */
  flags: Record<string, string[]>;
}

/** How each tool reports a bad flag. */
const UNKNOWN_FLAG: Record<string, (flag: string, path: string) => SimExit> = {
  k3d: (f, p) =>
    new SimExit(
      1,
      `Error: unknown flag: ${f}\nFATA[0000] unknown flag: ${f}\nUsage: k3d ${p} [flags]\n`,
    ),
  kubectl: (f, p) =>
    new SimExit(1, `error: unknown flag: ${f}\nSee 'kubectl ${p} --help' for usage.\n`),
  docker: (f, p) =>
    new SimExit(
      125,
      `unknown flag: ${f}\n\nUsage:  docker ${p} [OPTIONS]\n\nRun 'docker ${p} --help' for more information\n`,
    ),
};

/** Parses argv for `tool`, rejecting flags the real tool does not accept. */
export function parseArgs(tool: "k3d" | "kubectl" | "docker", argv: string[]): Parsed {
  const table = cliFlags()[tool];
  const global = table[""] ?? {};
  // first pass: positional words, skipping global flags and their values
  const words: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (a === "--") break;
    if (a.startsWith("-") && a !== "-") {
      const spec = lookup(global, a);
      if (spec?.spec.value && !a.includes("=") && !isShortWithValue(a)) i++;
      continue;
    }
    words.push(a);
  }
  let path = "";
  for (let n = Math.min(words.length, 3); n > 0; n--) {
    const candidate = words.slice(0, n).join(" ");
    if (candidate in table) {
      path = candidate;
      break;
    }
  }
  const specs = { ...global, ...(table[path] ?? {}) };
  const flags: Record<string, string[]> = {};
  const args: string[] = [];
  let pathWordsLeft = path ? path.split(" ").length : 0;
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (a === "--") {
      args.push(...argv.slice(i + 1));
      break;
    }
    if (a.startsWith("-") && a !== "-") {
      const [name, inline] = a.includes("=")
        ? [a.slice(0, a.indexOf("=")), a.slice(a.indexOf("=") + 1)]
        : [a, undefined];
      const spec = lookup(specs, isShortWithValue(name) ? name.slice(0, 2) : name);
      if (!spec) {
        throw UNKNOWN_FLAG[tool](name.startsWith("--") ? name : `-${name.slice(1, 2)}`, path);
      }
      let value = inline;
      if (isShortWithValue(name)) value = name.slice(2);
      if (spec.spec.value && value === undefined) {
        value = argv[++i];
        if (value === undefined) throw new SimExit(1, `Error: flag needs an argument: ${name}\n`);
      }
      (flags[spec.name] ??= []).push(value ?? "true");
      continue;
    }
    if (pathWordsLeft > 0) {
      pathWordsLeft--;
      continue;
    }
    args.push(a);
  }
  return { path, args, flags };

  function isShortWithValue(a: string): boolean {
    return /^-[a-zA-Z].+/.test(a) && !a.startsWith("--");
  }
}

function lookup(specs: Record<string, { short: string | null; value: boolean }>, flag: string) {
  if (flag.startsWith("--")) {
    const spec = specs[flag];
    return spec ? { name: flag.slice(2), spec } : undefined;
  }
  const short = flag.slice(1, 2);
  for (const [long, spec] of Object.entries(specs)) {
    if (spec.short === short) return { name: long.slice(2), spec };
  }
  return undefined;
}

/** The last value of a flag. */
export function flag(p: Parsed, name: string): string | undefined {
  return p.flags[name]?.at(-1);
}

/** True when a boolean flag is set. */
export function bool(p: Parsed, name: string): boolean {
  const v = flag(p, name);
  return v !== undefined && v !== "false";
}
