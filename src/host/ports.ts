/** Is a host port free, and if not, who holds it; the check preflight and doctor share. */
import type { K3dConfig } from "../config/schema.ts";
import type { ClusterRecord, StateDocument } from "../state/document.ts";
import { exec } from "../tools/exec.ts";
import { loadBalancerContainer, registryContainerOf } from "../tools/k3d_names.ts";

/** Result of probing one port. */
export type PortState = { free: true } | { free: false; holder?: string };

/** Tries to bind the port on all addresses and on loopback; a bind we may not do counts as free. */
export function probePort(port: number): PortState {
  for (const hostname of ["0.0.0.0", "127.0.0.1"]) {
    try {
      const listener = Deno.listen({ hostname, port });
      listener.close();
    } catch (err) {
      if (err instanceof Deno.errors.AddrInUse) return { free: false };
      if (err instanceof Deno.errors.PermissionDenied) continue;
      throw err;
    }
  }
  return { free: true };
}

/**
 * The process listening on a TCP port, when the system says: `ss` on Linux, `lsof` on macOS (and on
 * a Linux without `ss`).
 */
export async function listeningProcess(
  port: number,
  os: typeof Deno.build.os = Deno.build.os,
): Promise<string | undefined> {
  if (os === "linux") {
    const r = await exec(["ss", "-H", "-ltnp", `sport = :${port}`], { check: false });
    const m = /users:\(\("([^"]+)",pid=(\d+)/.exec(r.stdout);
    if (m) return `${m[1]} (pid ${m[2]})`;
    if (r.code === 0) return undefined;
  }
  // -F pc: one field a line, `p<pid>` then `c<command>`
  const r = await exec(["lsof", "-nP", `-iTCP:${port}`, "-sTCP:LISTEN", "-Fpc"], { check: false });
  return parseLsof(r.stdout);
}

/** `lsof -Fpc` output → "command (pid N)" of the first process. */
export function parseLsof(text: string): string | undefined {
  const pid = /^p(\d+)$/m.exec(text)?.[1];
  const command = /^c(.+)$/m.exec(text)?.[1];
  return pid ? `${command ?? "a process"} (pid ${pid})` : undefined;
}

/**
 * The host ports a cluster binds, by config key; an imported cluster's unpublished ports are left
 * out while `k` keeps their recorded value (they are defaults, not bindings).
 */
export function hostPorts(k: K3dConfig, record?: ClusterRecord): [string, number][] {
  const ports: [string, number][] = [["api_port", k.api_port], ["http_port", k.http_port], [
    "https_port",
    k.https_port,
  ]];
  if (k.registry.enabled) ports.push(["registry.port", k.registry.port]);
  const unpublished = record?.unpublished_ports ?? [];
  return ports.filter(([key, port]) =>
    !(unpublished as string[]).includes(key) ||
    port !== record!.k3d_config[key as "http_port"]
  );
}

/** What was found for one port. */
export interface PortCheck {
  key: string;
  port: number;
  ok: boolean;
  /** "free", "held by this cluster (k3d-x-serverlb)", or the problem */
  detail: string;
  fix?: string;
}

/** Checks every host port of the cluster: free, or held by this very cluster. */
export async function checkHostPorts(
  k: K3dConfig,
  options: {
    state: StateDocument;
    published: Map<number, string>;
    /** clusters other states on this machine manage */
    others?: ClusterRecord[];
  },
): Promise<PortCheck[]> {
  const lb = loadBalancerContainer(k.name);
  const registry = registryContainerOf(k.registry.name, {
    recorded: options.state.clusters[k.name]?.resources.registry,
  });
  const out: PortCheck[] = [];
  for (const [key, port] of hostPorts(k, options.state.clusters[k.name])) {
    const fix = `choose another port for cluster.k3d.${key} in firestream.toml`;
    const clash = [...Object.values(options.state.clusters), ...options.others ?? []].filter((o) =>
      o.name !== k.name
    ).flatMap((o) => {
      const shared = key === "registry.port" && o.k3d_config.registry.enabled &&
        registryContainerOf(o.k3d_config.registry.name, { recorded: o.resources.registry }) ===
          registry;
      return hostPorts(o.k3d_config, o).filter(([oKey, p]) =>
        p === port && !(shared && oKey === "registry.port")
      ).map(([oKey]) =>
        `${oKey} of managed cluster ${o.name}`
      );
    })[0];
    if (clash) {
      out.push({
        key,
        port,
        ok: false,
        detail: `port ${port} (cluster.k3d.${key}) is also ${clash}`,
        fix,
      });
      continue;
    }
    const holder = options.published.get(port);
    if (holder) {
      const ours = key === "registry.port" ? holder === registry : holder === lb;
      out.push(
        ours ? { key, port, ok: true, detail: `held by this cluster (${holder})` } : {
          key,
          port,
          ok: false,
          detail: `port ${port} (cluster.k3d.${key}) is already published by container ${holder}`,
          fix: `stop ${holder} or ${fix}`,
        },
      );
      continue;
    }
    if (!probePort(port).free) {
      const process = await listeningProcess(port);
      out.push({
        key,
        port,
        ok: false,
        detail: `port ${port} (cluster.k3d.${key}) is already in use by ${
          process ?? "another process"
        }`,
        fix: `stop that process or ${fix}`,
      });
      continue;
    }
    out.push({ key, port, ok: true, detail: "free" });
  }
  return out;
}
