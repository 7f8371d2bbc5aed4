/** Runs external programs through dax, with escaped arguments, logging and call accounting. */
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

// deno-lint-ignore no-explicit-any
let dax: Promise<any> | undefined;
function loadDax() {
  dax ??= import("dax").then((m) => m.default);
  return dax;
}

/** True when the process runs as root (no sudo needed). */
export function isRoot(): boolean {
  return Deno.build.os !== "windows" && Deno.uid?.() === 0;
}

/** Runs `argv`; arguments are escaped by dax, never joined into a shell string. */
export async function exec(argv: string[], options: ExecOptions = {}): Promise<ExecResult> {
  const $ = await loadDax();
  const full = options.sudo && !isRoot() ? ["sudo", "-n", ...argv] : argv;
  const started = performance.now();
  let cmd = $`${full}`.noThrow().quiet().stdout("piped").stderr("piped");
  if (options.stdin !== undefined) cmd = cmd.stdinText(options.stdin);
  if (options.env) cmd = cmd.env(options.env);
  if (options.cwd) cmd = cmd.cwd(options.cwd);
  if (options.timeoutMs) cmd = cmd.timeout(options.timeoutMs);
  let result: ExecResult;
  try {
    const r = await cmd;
    result = { code: r.code, stdout: r.stdout, stderr: r.stderr };
  } catch (err) {
    const message = (err as Error).message;
    result = { code: 124, stdout: "", stderr: message };
  }
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
  const $ = await loadDax();
  return (await $.which(program)) ?? undefined;
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
