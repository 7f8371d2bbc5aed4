/** Registry containers: a real `registry:2` container when a Docker engine is in use, else a loopback process. */
import { simDir } from "./core.ts";
import { realTool } from "./real.ts";
import { runProgram } from "../run.ts";
import type { SimContainer } from "./world.ts";

/** The real docker binary (first `docker` on PATH that is not the simulated one). */
export function realDocker(): string | undefined {
  return Deno.env.get("FIRESTREAM_SIM_REAL_DOCKER") ?? realTool("docker");
}

/** True when registries should be real Docker containers. */
export function useRealDocker(): boolean {
  return Deno.env.get("FIRESTREAM_SIM_DOCKER") === "real";
}

/** The label that ties real containers to one simulation (so tests clean up only their own). */
export function simLabel(): string {
  return `firestream.sim=${simDir()}`;
}

/** Runs the real docker client. */
export function runRealDocker(args: string[], input?: string) {
  const docker = realDocker();
  if (!docker) throw new Error("sim: FIRESTREAM_SIM_DOCKER=real but no real docker client on PATH");
  return runProgram(docker, args, { stdin: input });
}

/** Starts what answers for a registry; returns how to find it again. */
export async function startRegistry(
  spec: { name: string; hostIp: string; hostPort: string; host: string },
): Promise<SimContainer["real"]> {
  if (useRealDocker()) {
    const r = await runRealDocker([
      "run",
      "-d",
      "--name",
      spec.name,
      "--label",
      "app=k3d",
      "--label",
      "k3d.role=registry",
      "--label",
      simLabel(),
      "-p",
      `${spec.hostIp}:${spec.hostPort}:5000`,
      "registry:2",
    ]);
    if (r.code !== 0) throw new Error(`sim: real registry container failed: ${r.stderr}`);
    return { kind: "docker" };
  }
  const child = new Deno.Command(Deno.execPath(), {
    args: [
      "run",
      "-A",
      "--quiet",
      new URL("./registry_server.ts", import.meta.url).pathname,
      spec.hostIp === "0.0.0.0" ? "127.0.0.1" : spec.hostIp,
      spec.hostPort,
    ],
    stdin: "null",
    stdout: "piped",
    // never hold the caller's stderr pipe open: the caller waits for it to close
    stderr: "null",
  }).spawn();
  const reader = child.stdout.getReader();
  await reader.read();
  reader.releaseLock();
  child.stdout.cancel().catch(() => {});
  child.unref();
  Deno.writeTextFileSync(`${simDir()}/pids`, `${child.pid}\n`, { append: true });
  return { kind: "process", pid: child.pid };
}

/**
 * Starts again what answers for a stopped registry container, on its published port. What was
 * pushed to it before is gone (a real engine keeps the container's data across stop and start).
 */
export async function restartRegistry(c: SimContainer): Promise<void> {
  const binding = c.ports["5000/tcp"]?.[0];
  if (!binding) throw new Error(`sim: registry ${c.name} publishes no port 5000`);
  c.real = await startRegistry({
    name: c.name,
    hostIp: binding.HostIp,
    hostPort: binding.HostPort,
    host: c.labels["k3d.registry.host"] ?? "",
  });
}

/** Stops what answers for a registry. */
export async function stopRegistry(c: SimContainer): Promise<void> {
  if (c.real?.kind === "docker") await runRealDocker(["rm", "-f", "-v", c.name]);
  if (c.real?.kind === "process") {
    // like `docker rm -f`, return only once what answered for the registry has stopped
    const pid = c.real.pid;
    try {
      Deno.kill(pid, "SIGTERM");
    } catch { /* already gone */ }
    for (let i = 0; running(pid); i++) {
      if (i === 100) {
        try {
          Deno.kill(pid, "SIGKILL");
        } catch { /* gone meanwhile */ }
      }
      await new Promise((r) => setTimeout(r, 50));
    }
  }
}

/** True while the process runs (a zombie, exited but not yet reaped, does not count). */
function running(pid: number): boolean {
  try {
    return !/^\d+ \(.*\) Z/.test(Deno.readTextFileSync(`/proc/${pid}/stat`));
  } catch {
    return false;
  }
}
