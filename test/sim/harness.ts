/** Test helpers: a temp project on the simulated host, the CLI run as a subprocess, call-log assertions. */
import { runProgram, type RunResult } from "../run.ts";
import { type CallEntry, type Fault, replaceFile, withLockSync } from "./core.ts";
import {
  addDeployment,
  addEvent,
  addIngress,
  addNamespace,
  addPod,
  addService,
  deploymentPods,
  put,
  removePod,
  rollout,
  surgePod,
  terminatePod,
} from "./kube.ts";
import type { KubeStore, World } from "./world.ts";
import { newWorld } from "./world.ts";

const ROOT = new URL("../../", import.meta.url).pathname.replace(/\/$/, "");
const SIM_BIN = `${ROOT}/test/sim/bin`;

/** Deno's cache, shared with the subprocesses (their HOME is a temp dir; e2e runs offline). */
const DENO_DIR = Deno.env.get("DENO_DIR") ?? `${Deno.env.get("HOME")}/.cache/deno`;

/** Replaces the world file whole, as the simulated tools do (see {@link replaceFile}). */
function writeWorld(simDir: string, world: World): void {
  replaceFile(`${simDir}/world.json`, JSON.stringify(world));
}

/** Environment a subprocess keeps from the test runner: TLS trust for Deno and temp dirs. */
function passThrough(): Record<string, string> {
  const keep = [
    "SSL_CERT_FILE",
    "SSL_CERT_DIR",
    "DENO_CERT",
    "DENO_TLS_CA_STORE",
    "TMPDIR",
    "LANG",
    "USER",
  ];
  const env: Record<string, string> = { DENO_DIR, DENO_NO_UPDATE_CHECK: "1" };
  for (const k of keep) {
    const v = Deno.env.get(k);
    if (v !== undefined) env[k] = v;
  }
  return env;
}

/** Result of a CLI run. */
export type CliResult = RunResult;

/** Options for {@link simHost}. */
export interface SimHostOptions {
  /** registries as real containers in the Docker engine @default false */
  realDocker?: boolean;
  /** systemd-resolved present @default false */
  resolved?: boolean;
  /** firestream.toml content; `{ports}` placeholders are filled with free ports */
  config?: string;
}

/** A temporary machine: project dir, HOME, hosts file, resolv.conf and a simulated host. */
export class SimHost {
  readonly root: string;
  readonly projectDir: string;
  readonly home: string;
  readonly simDir: string;
  readonly hostsFile: string;
  readonly resolvConf: string;
  readonly env: Record<string, string>;

  constructor(root: string, options: SimHostOptions) {
    this.root = root;
    this.projectDir = `${root}/project`;
    this.home = `${root}/home`;
    this.simDir = `${root}/sim`;
    this.hostsFile = `${root}/etc/hosts`;
    this.resolvConf = `${root}/etc/resolv.conf`;
    this.env = {
      ...passThrough(),
      PATH: `${SIM_BIN}:${Deno.env.get("PATH")}`,
      HOME: this.home,
      FIRESTREAM_SIM_DIR: this.simDir,
      FIRESTREAM_SIM_ROOT: Deno.uid() === 0 ? "1" : "0",
      FIRESTREAM_HOSTS_FILE: this.hostsFile,
      FIRESTREAM_RESOLV_CONF: this.resolvConf,
      FIRESTREAM_DNS_PROBE: "off",
      // host-wide locks live under the user's runtime dir: one per simulated machine
      XDG_RUNTIME_DIR: `${root}/run`,
      NO_COLOR: "1",
      ...(options.realDocker ? { FIRESTREAM_SIM_DOCKER: "real" } : {}),
    };
  }

  /** Runs `firestream ARGS` in the project dir. */
  run(
    args: string[],
    options: { env?: Record<string, string>; cwd?: string; stdin?: string } = {},
  ): Promise<CliResult> {
    return runProgram(Deno.execPath(), ["run", "-A", "--quiet", `${ROOT}/main.ts`, ...args], {
      cwd: options.cwd ?? this.projectDir,
      env: { ...this.env, ...options.env },
      clearEnv: true,
      stdin: options.stdin,
    });
  }

  /** Starts `firestream ARGS` without waiting (for long-running commands and signals). */
  spawn(
    args: string[],
    options: { stdout?: "piped" | "null"; stderr?: "piped" | "null" } = {},
  ): Deno.ChildProcess {
    return new Deno.Command(Deno.execPath(), {
      args: ["run", "-A", "--quiet", `${ROOT}/main.ts`, ...args],
      cwd: this.projectDir,
      env: this.env,
      clearEnv: true,
      stdout: options.stdout ?? "null",
      stderr: options.stderr ?? "null",
    }).spawn();
  }

  /** Runs and fails the test when the exit code is not `code`. */
  async ok(args: string[], code = 0): Promise<CliResult> {
    const r = await this.run(args);
    if (r.code !== code) {
      throw new Error(
        `firestream ${
          args.join(" ")
        } exited ${r.code}, expected ${code}\n--- stdout\n${r.stdout}\n--- stderr\n${r.stderr}`,
      );
    }
    return r;
  }

  /** Runs a simulated tool directly (as a user would in a shell). */
  tool(tool: string, args: string[]): Promise<CliResult> {
    return runProgram(`${SIM_BIN}/${tool}`, args, { env: this.env, clearEnv: true });
  }

  /** Starts a simulated tool without waiting (long-running forms), its output piped. */
  spawnTool(tool: string, args: string[]): Deno.ChildProcess {
    return new Deno.Command(`${SIM_BIN}/${tool}`, {
      args,
      env: this.env,
      clearEnv: true,
      stdout: "piped",
      stderr: "piped",
    }).spawn();
  }

  /** Every call the simulated tools received, in order. */
  calls(): CallEntry[] {
    const lines = (file: string) => {
      try {
        return Deno.readTextFileSync(`${this.simDir}/${file}`).split("\n").filter(Boolean)
          .map((l) => JSON.parse(l));
      } catch {
        return [];
      }
    };
    const ends = new Map<number, string>(
      lines("calls_end.jsonl").map((e: { pid: number; end: string }) => [e.pid, e.end]),
    );
    return lines("calls.jsonl").map((c: CallEntry) =>
      ends.has(c.pid) ? { ...c, end: ends.get(c.pid) } : c
    );
  }

  /** Calls made by the command itself (not by a detached supervisor it left running). */
  ownCalls(): CallEntry[] {
    return this.calls().filter((c) => !c.supervisor);
  }

  /** Forgets the calls so far. */
  clearCalls(): void {
    Deno.writeTextFileSync(`${this.simDir}/calls.jsonl`, "");
    Deno.writeTextFileSync(`${this.simDir}/calls_end.jsonl`, "");
  }

  /** Calls that change something. */
  mutatingCalls(): string[] {
    return this.calls().filter((c) => c.mutating).map((c) => `${c.tool} ${c.argv.join(" ")}`);
  }

  /** The simulated world. */
  world(): World {
    try {
      return JSON.parse(Deno.readTextFileSync(`${this.simDir}/world.json`));
    } catch {
      return newWorld();
    }
  }

  /** Changes the simulated world, under the lock the simulated calls take. */
  updateWorld(fn: (w: World) => void): void {
    withLockSync(this.simDir, () => {
      const w = this.world();
      fn(w);
      writeWorld(this.simDir, w);
    });
  }

  /** Changes one cluster's Kubernetes objects (presets: services, pods, events). */
  kube(cluster: string, fn: (k: KubeStore, helpers: typeof kubeHelpers) => void): void {
    this.updateWorld((w) => fn(w.clusters[cluster].kube, kubeHelpers));
  }

  /** Makes the first matching call(s) fail. */
  fault(
    prefix: string,
    stderr: string,
    options: { exit?: number; times?: number; skip?: number } = {},
  ): void {
    const path = `${this.simDir}/faults.json`;
    withLockSync(this.simDir, () => {
      let faults: Fault[] = [];
      try {
        faults = JSON.parse(Deno.readTextFileSync(path));
      } catch { /* none yet */ }
      faults.push({
        prefix,
        stderr,
        exit: options.exit ?? 1,
        times: options.times,
        ...(options.skip ? { skip: options.skip } : {}),
      });
      replaceFile(path, JSON.stringify(faults));
    });
  }

  /** Adds latency to every call (and per command prefix). */
  latency(defaultMs: number, per: Record<string, number> = {}): void {
    Deno.writeTextFileSync(
      `${this.simDir}/latency.json`,
      JSON.stringify({ default_ms: defaultMs, per }),
    );
  }

  /**
   * Holds every call whose command words start with `prefix` (after its latency) until
   * {@link release}: the call is logged at once, then waits, so a test can act while it runs.
   */
  hold(prefix: string): void {
    const path = `${this.simDir}/holds.json`;
    const holds = this.#holds();
    if (!holds.includes(prefix)) replaceFile(path, JSON.stringify([...holds, prefix]));
  }

  /** Lets the calls held by {@link hold} of `prefix` go on. */
  release(prefix: string): void {
    replaceFile(
      `${this.simDir}/holds.json`,
      JSON.stringify(this.#holds().filter((p) => p !== prefix)),
    );
  }

  #holds(): string[] {
    try {
      return JSON.parse(Deno.readTextFileSync(`${this.simDir}/holds.json`));
    } catch {
      return [];
    }
  }

  /** Starts the loopback DNS responder; returns "127.0.0.1:PORT" for FIRESTREAM_DNS_PROBE. */
  async startDns(): Promise<string> {
    const child = new Deno.Command(Deno.execPath(), {
      args: ["run", "-A", "--quiet", `${ROOT}/test/sim/dns_server.ts`, "0"],
      env: this.env,
      clearEnv: true,
      stdout: "piped",
      stderr: "null",
    }).spawn();
    const reader = child.stdout.getReader();
    const { value } = await reader.read();
    reader.releaseLock();
    child.stdout.cancel().catch(() => {});
    Deno.writeTextFileSync(`${this.simDir}/pids`, `${child.pid}\n`, { append: true });
    const port = /listening (\d+)/.exec(new TextDecoder().decode(value))![1];
    return `127.0.0.1:${port}`;
  }

  /** Writes firestream.toml. */
  writeConfig(text: string): void {
    Deno.writeTextFileSync(`${this.projectDir}/firestream.toml`, text);
  }

  /** Writes the state lock as process `pid` (`firestream apply` of ci@this host) would hold it. */
  holdLock(pid: number): void {
    Deno.mkdirSync(`${this.projectDir}/.firestream`, { recursive: true });
    Deno.writeTextFileSync(
      `${this.projectDir}/.firestream/state.lock`,
      JSON.stringify({
        pid,
        user: "ci",
        host: Deno.hostname(),
        command: "firestream apply",
        time: new Date().toISOString(),
      }),
    );
  }

  /** The state document via `state show --json`. */
  async state() {
    const r = await this.ok(["state", "show", "--json"]);
    return JSON.parse(r.stdout);
  }

  /** Raw bytes of the state file, or undefined. */
  stateBytes(): string | undefined {
    try {
      return Deno.readTextFileSync(`${this.projectDir}/.firestream/state.json`);
    } catch {
      return undefined;
    }
  }

  /** Stops every process and real container the simulation started, and removes the temp dir. */
  async cleanup(): Promise<void> {
    try {
      for (const pid of Deno.readTextFileSync(`${this.simDir}/pids`).split("\n").filter(Boolean)) {
        try {
          Deno.kill(Number(pid), "SIGKILL");
        } catch { /* gone */ }
      }
    } catch { /* none */ }
    const { realTool } = await import("./real.ts");
    const docker = realTool("docker");
    if (docker && this.env.FIRESTREAM_SIM_DOCKER === "real") {
      const ids = await new Deno.Command(docker, {
        args: ["ps", "-aq", "--filter", `label=firestream.sim=${this.simDir}`],
        stdout: "piped",
        stderr: "null",
      }).output();
      const list = new TextDecoder().decode(ids.stdout).split("\n").filter(Boolean);
      if (list.length) {
        await new Deno.Command(docker, {
          args: ["rm", "-f", "-v", ...list],
          stdout: "null",
          stderr: "null",
        }).output();
      }
    }
    await Deno.remove(this.root, { recursive: true }).catch(() => {});
  }
}

const kubeHelpers = {
  addDeployment,
  addPod,
  addService,
  addEvent,
  addIngress,
  addNamespace,
  put,
  rollout,
  deploymentPods,
  surgePod,
  terminatePod,
  removePod,
};

/** A free TCP port on loopback (bound and released). */
export function freePort(): number {
  for (;;) {
    const l = Deno.listen({ hostname: "127.0.0.1", port: 0 });
    const port = (l.addr as Deno.NetAddr).port;
    l.close();
    // the kernel may hand a just-closed port out again: one config must never get it twice
    if (handedOut.has(port)) continue;
    handedOut.add(port);
    return port;
  }
}

/** Every port {@link freePort} has returned in this process. */
const handedOut = new Set<number>();

/**
 * A dev-mode port offset for tests: each forwarded port (service port + offset) lies below the
 * kernel's ephemeral range (32768 up), where freePort, kubectl's own ports and outgoing connections
 * land, and is free when chosen.
 */
export function freeOffset(ports = [80, 443, 8080, 8081, 9090, 9091]): number {
  for (;;) {
    const offset = 10000 + Math.floor(Math.random() * 12000);
    const open: Deno.Listener[] = [];
    try {
      for (const p of ports) open.push(Deno.listen({ hostname: "127.0.0.1", port: p + offset }));
      return offset;
    } catch {
      // one of them is taken: another offset
    } finally {
      for (const l of open) l.close();
    }
  }
}

/** A config with free ports for every host port; `extra` is appended. */
export function testConfig(
  options: { name?: string; extra?: string; network?: boolean; registry?: boolean } = {},
): string {
  const net = options.network ?? false;
  return `[project]
name = "test"

[cluster.k3d]
name = "${options.name ?? "firestream-local"}"
api_port = ${freePort()}
http_port = ${freePort()}
https_port = ${freePort()}

[cluster.k3d.registry]
enabled = ${options.registry ?? true}
port = ${freePort()}

[cluster.k3d.tls]
enabled = false

[cluster.k3d.network]
configure_routes = ${net}
configure_dns = ${net}
patch_etc_hosts = ${net}

[cluster.k3d.dev_mode]
port_forward_all = false
${options.extra ?? ""}`;
}

/** A fresh simulated machine; call `cleanup()` when done. */
export async function simHost(options: SimHostOptions = {}): Promise<SimHost> {
  const root = await Deno.makeTempDir({ prefix: "firestream-e2e-" });
  const host = new SimHost(root, options);
  for (const d of [host.projectDir, host.home, host.simDir, `${root}/etc`]) {
    await Deno.mkdir(d, { recursive: true });
  }
  Deno.writeTextFileSync(host.hostsFile, "127.0.0.1\tlocalhost\n::1\tlocalhost ip6-localhost\n");
  Deno.writeTextFileSync(host.resolvConf, "nameserver 192.0.2.53\nsearch example.internal\n");
  const world = newWorld();
  world.resolved = options.resolved ?? false;
  writeWorld(host.simDir, world);
  if (options.config !== undefined) host.writeConfig(options.config);
  return host;
}

/** Runs `fn` with a fresh SimHost and always cleans up. */
export async function withSimHost(
  options: SimHostOptions,
  fn: (h: SimHost) => Promise<void>,
): Promise<void> {
  const host = await simHost(options);
  try {
    await fn(host);
  } finally {
    await host.cleanup();
  }
}
