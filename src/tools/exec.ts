/** Runs external programs: arguments as an array (never a shell string), with logging and call accounting. */
import { FirestreamError } from "../errors.ts";
import { debug } from "../ui/log.ts";

/** Result of a finished command. */
export interface ExecResult {
  code: number;
  stdout: string;
  stderr: string;
}

/** Options for {@link exec}. */
export interface ExecOptions {
  /** text written to the command's stdin */
  stdin?: string;
  /** run through `sudo -n` when not root (host-network commands only) @default false */
  sudo?: boolean;
  /** throw a FirestreamError on a non-zero exit @default true */
  check?: boolean;
  /** kill the command after this many milliseconds */
  timeoutMs?: number;
  /** extra environment variables */
  env?: Record<string, string>;
  /** working directory */
  cwd?: string;
}

/** What to tell a user who lacks a program. */
export const INSTALL_HINTS: Record<string, string> = {
  k3d: "install k3d: curl -s https://raw.githubusercontent.com/k3d-io/k3d/main/install.sh | bash",
  kubectl: "install kubectl: https://kubernetes.io/docs/tasks/tools/",
  docker: "install Docker: https://docs.docker.com/engine/install/",
  ip: "install iproute2 (e.g. `sudo apt-get install iproute2`)",
  ss: "install iproute2 (e.g. `sudo apt-get install iproute2`)",
};

/** True when the process runs as root (no sudo needed). */
export function isRoot(): boolean {
  return Deno.build.os !== "windows" && Deno.uid?.() === 0;
}

async function run(argv: string[], options: ExecOptions): Promise<ExecResult> {
  let child: Deno.ChildProcess;
  try {
    child = new Deno.Command(argv[0], {
      args: argv.slice(1),
      stdin: options.stdin !== undefined ? "piped" : "null",
      stdout: "piped",
      stderr: "piped",
      env: options.env,
      cwd: options.cwd,
    }).spawn();
  } catch (err) {
    if (err instanceof Deno.errors.NotFound) {
      return { code: 127, stdout: "", stderr: `${argv[0]}: command not found` };
    }
    throw err;
  }
  let timedOut = false;
  const timer = options.timeoutMs
    ? setTimeout(() => {
      timedOut = true;
      try {
        child.kill("SIGKILL");
      } catch { /* already gone */ }
    }, options.timeoutMs)
    : undefined;
  // read while writing: a child that answers before reading all of its input never blocks
  const output = child.output();
  if (options.stdin !== undefined) {
    const writer = child.stdin.getWriter();
    await writer.write(new TextEncoder().encode(options.stdin)).catch(() => {});
    await writer.close().catch(() => {});
  }
  const out = await output;
  clearTimeout(timer);
  const decoder = new TextDecoder();
  if (timedOut) {
    return {
      code: 124,
      stdout: decoder.decode(out.stdout),
      stderr: `timed out after ${options.timeoutMs}ms`,
    };
  }
  return { code: out.code, stdout: decoder.decode(out.stdout), stderr: decoder.decode(out.stderr) };
}

/** Runs `argv` directly (no shell, each argument passed as is). */
export async function exec(argv: string[], options: ExecOptions = {}): Promise<ExecResult> {
  const full = options.sudo && !isRoot() ? ["sudo", "-n", ...argv] : argv;
  const started = performance.now();
  const result = await run(full, options);
  const ms = performance.now() - started;
  debug(
    `exec ${full.map(quote).join(" ")} → exit ${result.code} in ${ms.toFixed(0)}ms at +${
      started.toFixed(0)
    }ms`,
  );
  if (result.code === 127 && /command not found/.test(result.stderr) && options.check !== false) {
    const program = argv[0];
    throw new FirestreamError(`${program} is not installed`, {
      hint: INSTALL_HINTS[program] ?? `install ${program} and make sure it is on PATH`,
    });
  }
  if (/Cannot connect to the Docker daemon/.test(result.stderr)) {
    throw new FirestreamError(`Docker is not running: ${firstLine(result.stderr)}`, {
      hint: "start Docker (e.g. `sudo systemctl start docker` or Docker Desktop) and try again",
    });
  }
  if (result.code !== 0 && options.check !== false) {
    throw new FirestreamError(
      `\`${full.slice(0, 3).join(" ")}\` failed (exit ${result.code}): ${
        firstLine(result.stderr) || firstLine(result.stdout) || "no output"
      }`,
    );
  }
  return result;
}

/** The path of a program on PATH, or undefined. */
export async function which(program: string): Promise<string | undefined> {
  if (program.includes("/")) return (await executable(program)) ? program : undefined;
  for (const dir of (Deno.env.get("PATH") ?? "").split(":")) {
    const path = `${dir || "."}/${program}`;
    if (await executable(path)) return path;
  }
  return undefined;
}

async function executable(path: string): Promise<boolean> {
  try {
    const info = await Deno.stat(path);
    return info.isFile && (info.mode === null || (info.mode & 0o111) !== 0);
  } catch {
    return false;
  }
}

/** The most telling line of an error output (k3d prints FATA/ERRO lines last). */
export function firstLine(text: string): string {
  const lines = text.split("\n").map((l) => l.trim()).filter(Boolean);
  const fatal = lines.find((l) => /^(FATA|ERRO)|^error:|^Error/i.test(l));
  return (fatal ?? lines[0] ?? "").slice(0, 400);
}

function quote(arg: string): string {
  return /^[\w@%+=:,./-]+$/.test(arg) ? arg : `'${arg.replaceAll("'", `'\\''`)}'`;
}
