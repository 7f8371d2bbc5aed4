/** Runs external programs: arguments as an array (never a shell string), with logging and call accounting. */
import { FirestreamError } from "../errors.ts";
import { stripAnsi } from "../ui/ansi.ts";
import { debug } from "../ui/log.ts";
import { clusterOfContext } from "./k3d_names.ts";

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
  /** extra environment variables; `undefined` removes one from the inherited environment */
  env?: Record<string, string | undefined>;
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

/** Deno.Command's env for `env`: added on top of ours, or, to remove a variable, the whole of it. */
function childEnv(env: ExecOptions["env"]): { env?: Record<string, string>; clearEnv?: boolean } {
  if (!env) return {};
  const removes = Object.values(env).some((v) => v === undefined);
  const base = removes ? Deno.env.toObject() : {};
  for (const [k, v] of Object.entries(env)) {
    if (v === undefined) delete base[k];
    else base[k] = v;
  }
  return { env: base, clearEnv: removes };
}

/**
 * A pipe's text, decoded chunk by chunk as it arrives. `ChildProcess.output()` gathers each stream
 * into one buffer of its whole size; in a long-lived process that calls a command with a large
 * answer every few seconds (the port-forward supervisor's service list), those buffers leave the
 * native heap fragmented and the resident memory growing. Chunks stay small and short-lived.
 */
async function readText(stream: ReadableStream<Uint8Array>): Promise<string> {
  const decoder = new TextDecoder();
  let text = "";
  for await (const chunk of stream) text += decoder.decode(chunk, { stream: true });
  return text + decoder.decode();
}

async function run(argv: string[], options: ExecOptions): Promise<ExecResult> {
  let child: Deno.ChildProcess;
  try {
    child = new Deno.Command(argv[0], {
      args: argv.slice(1),
      stdin: options.stdin !== undefined ? "piped" : "null",
      stdout: "piped",
      stderr: "piped",
      ...childEnv(options.env),
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
  const output = Promise.all([readText(child.stdout), readText(child.stderr), child.status]);
  if (options.stdin !== undefined) {
    const writer = child.stdin.getWriter();
    await writer.write(new TextEncoder().encode(options.stdin)).catch(() => {});
    await writer.close().catch(() => {});
  }
  const [stdout, stderr, status] = await output;
  clearTimeout(timer);
  if (timedOut) return { code: 124, stdout, stderr: `timed out after ${options.timeoutMs}ms` };
  return { code: status.code, stdout, stderr };
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
  const unreachable = dockerUnreachable(result.stderr);
  if (unreachable?.kind === "down") {
    throw new FirestreamError(`Docker is not running: ${firstLine(result.stderr)}`, {
      hint: "start Docker (e.g. `sudo systemctl start docker` or Docker Desktop) and try again",
    });
  }
  if (unreachable?.kind === "denied") {
    throw new FirestreamError(`Docker refused this user: ${firstLine(result.stderr)}`, {
      hint:
        "add your user to the `docker` group (`sudo usermod -aG docker $USER`), then log out and back in (or run `newgrp docker`)",
    });
  }
  // like a stopped daemon, no caller can work around a missing context: said with its fix
  const context = result.code !== 0 ? MISSING_CONTEXT.exec(stripAnsi(result.stderr)) : null;
  if (context) {
    const name = context[1] ?? context[2];
    const cluster = clusterOfContext(name);
    throw new FirestreamError(`kubeconfig has no context ${name}: ${firstLine(result.stderr)}`, {
      hint: cluster !== undefined
        ? `write it again with \`k3d kubeconfig merge ${cluster} --kubeconfig-merge-default\`, or check KUBECONFIG`
        : "check KUBECONFIG and `kubectl config get-contexts`",
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

/** Why a Docker client (docker itself, or k3d through its vendored client) could not reach the engine. */
export interface DockerUnreachable {
  /** `down`: no engine answers; `denied`: the socket refuses this user */
  kind: "down" | "denied";
  /** the client's words */
  text: RegExp;
  /** where the client words it */
  source: string;
}

/**
 * Every wording of an unreachable Docker engine that Firestream recognises. Docker CLI 29 moved to
 * the `github.com/moby/moby/client` module and re-worded both errors; k3d v5.9.0 still vendors
 * `github.com/docker/docker` v28.5.2 (its go.mod), so its messages keep the old words on any engine.
 */
export const DOCKER_UNREACHABLE: readonly DockerUnreachable[] = [
  {
    kind: "down",
    text: /Cannot connect to the Docker daemon at \S+\. Is the docker daemon running\?/,
    source:
      "docker/cli v28.5.2 vendor/github.com/docker/docker/client/errors.go:47 connectionFailed; v29.7.2 vendor/github.com/moby/moby/client/errors.go:40 (29: a socket that refuses connections)",
  },
  {
    kind: "down",
    text:
      /failed to connect to the docker API at \S+; check if the path is correct and if the daemon is running/,
    source:
      "docker/cli v29.0.0 vendor/github.com/moby/moby/client/request.go:189 (v29.7.2 :177): the socket does not exist",
  },
  {
    kind: "down",
    text: /Cannot connect to the Docker daemon\. Is the docker daemon running on this host\?/,
    source:
      "docker/cli v29.7.2 vendor/github.com/moby/moby/client/errors.go:38 connectionFailed (no host known)",
  },
  {
    kind: "down",
    // a DOCKER_HOST whose name does not resolve: the net.DNSError itself follows the host
    text: /failed to connect to the docker API at \S+: lookup /,
    source: "docker/cli v29.7.2 vendor/github.com/moby/moby/client/request.go:181 (net.DNSError)",
  },
  {
    kind: "denied",
    text: /permission denied while trying to connect to the Docker daemon socket at /,
    source: "docker/cli v28.5.2 vendor/github.com/docker/docker/client/request.go:149",
  },
  {
    kind: "denied",
    text: /permission denied while trying to connect to the docker API at /,
    source: "docker/cli v29.0.0 vendor/github.com/moby/moby/client/request.go:183 (v29.7.2 :171)",
  },
];

/** The unreachable-engine wording in a Docker or k3d error output, if any. */
export function dockerUnreachable(stderr: string): DockerUnreachable | undefined {
  const text = stripAnsi(stderr);
  return DOCKER_UNREACHABLE.find((d) => d.text.test(text));
}

/** kubectl's texts for a context missing from the kubeconfig (get; create --dry-run). */
const MISSING_CONTEXT =
  /context was not found for specified context: (\S+)|error: context "([^"]+)" does not exist/;

/** A klog header (`E1201 22:27:07.971877   24342 memcache.go:265] `): kubectl's noise lines. */
const KLOG = /^[IWEF]\d{4} \d{2}:\d{2}:\d{2}\.\d{6}\s+\d+ [^\]\s]+\] /;

/** A k3d log line, coloured (`ERRO[0002] msg`) or logfmt (`time="…" level=error msg="…"`). */
const K3D_COLOURED = /^(PANI|FATA|ERRO|WARN|INFO|DEBU|TRAC)\[[^\]]*\]\s?(.*)$/;
const K3D_LOGFMT = /^time="[^"]*" level=(\w+) msg=("(?:[^"\\]|\\.)*"|\S*)/;

/** k3d's words after the error that made a create fail. */
const K3D_ROLLBACK = /^Failed to create cluster >>> Rolling Back$|^Cluster creation FAILED/;

/** The level and message of a k3d log line, or undefined for any other line. */
export function k3dLogLine(line: string): { level: string; message: string } | undefined {
  const coloured = K3D_COLOURED.exec(line);
  if (coloured) return { level: coloured[1], message: coloured[2].trim() };
  const logfmt = K3D_LOGFMT.exec(line);
  if (!logfmt) return undefined;
  const level = { panic: "PANI", fatal: "FATA", error: "ERRO", warning: "WARN", info: "INFO" }[
    logfmt[1]
  ] ?? logfmt[1].slice(0, 4).toUpperCase();
  let message = logfmt[2];
  if (message.startsWith('"')) {
    try {
      message = JSON.parse(message);
    } catch { /* leave it quoted */ }
  }
  return { level, message: message.trim() };
}

/**
 * The decisive line of a tool's error output, without colour codes: k3d's first ERRO/FATA line
 * (its WARN and INFO lines are context, on either stream), kubectl's error past its klog noise
 * (`The connection to the server … was refused`), else the first `error:`/`Error` line, else the
 * first line.
 */
export function firstLine(text: string): string {
  const lines = stripAnsi(text).split("\n").map((l) => l.trim()).filter(Boolean);
  const k3d = lines.map(k3dLogLine);
  const failed = k3d.filter((l) => l && ["PANI", "FATA", "ERRO"].includes(l.level));
  // k3d's rollback lines (cmd/cluster/clusterCreate.go) follow the real error
  const cause = failed.find((l) => !K3D_ROLLBACK.test(l!.message)) ?? failed[0];
  if (cause) return cause.message.slice(0, 800);
  const rest = lines.filter((l, i) => !KLOG.test(l) && !k3d[i]);
  const decisive = rest.find((l) => /^error:|^Error|^The connection to the server/i.test(l));
  return (decisive ?? rest[0] ?? lines[0] ?? "").slice(0, 400);
}

function quote(arg: string): string {
  return /^[\w@%+=:,./-]+$/.test(arg) ? arg : `'${arg.replaceAll("'", `'\\''`)}'`;
}
