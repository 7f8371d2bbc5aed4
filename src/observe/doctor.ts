/** `firestream doctor`: checks the machine without changing anything; each check passes, warns or fails with its fix. */
import type { Workspace } from "../cluster/workspace.ts";
import { checkHostPorts } from "../host/ports.ts";
import { hostNetworkWanted, sudoCheck } from "../host/sudo.ts";
import { requireK3d } from "../host/tools_check.ts";
import { readBlock } from "../host/block.ts";
import {
  type ClusterLiveness,
  dnsStanding,
  hasResolvConfBlocks,
  resolvConfClusters,
} from "../host/dns.ts";
import { ingressStanding } from "../host/ingress_dns.ts";
import { ingressDomain } from "../config/schema.ts";
import { routesUnsupported } from "../host/platform.ts";
import { hostsFilePath, readSystemFile, resolvConfPath } from "../host/system_file.ts";
import { runningSupervisor } from "../portforward/control.ts";
import { forwardPaths } from "../portforward/files.ts";
import { describeHolder, isHolderDead, LOCK_FILE, readHolder } from "../state/lock.ts";
import { certPaths, readCert } from "../tls/certs.ts";
import {
  dockerServerVersion,
  inspectObjects,
  isContainer,
  publishedPorts,
} from "../tools/docker.ts";
import { folderOf, machineClusters, managedElsewhere, usersOf } from "../state/owners.ts";
import { isRoot } from "../tools/exec.ts";
import { FirestreamError } from "../errors.ts";
import { type K3dCluster, k3dVersion, listClusters, serverRunning } from "../tools/k3d.ts";
import { registryContainerOf } from "../tools/k3d_names.ts";
import { kubectlVersion } from "../tools/kubectl.ts";

/** One check's outcome. */
export interface Check {
  name: string;
  status: "pass" | "warn" | "fail";
  detail: string;
  fix?: string;
}

async function attempt(name: string, fn: () => Promise<Check | Check[]>): Promise<Check[]> {
  try {
    const r = await fn();
    return Array.isArray(r) ? r : [r];
  } catch (err) {
    const e = err as Error & { hint?: string };
    return [{ name, status: "fail", detail: e.message, fix: e.hint }];
  }
}

/** Whether the cluster's DNS on the host works, and that no gone cluster's nameserver slows it. */
async function clusterDns(session: Workspace): Promise<Check[]> {
  const k = session.loaded.config.cluster.k3d;
  const state = await session.store.read();
  let clusters: K3dCluster[] = [];
  let liveness: ClusterLiveness | undefined;
  try {
    clusters = await listClusters();
  } catch (err) {
    if (!(err instanceof FirestreamError) || !/Docker is not running/.test(err.message)) throw err;
    liveness = "docker-down";
  }
  const checks: Check[] = [];
  const rec = state.clusters[k.name]?.resources.dns;
  if (rec) {
    const found = clusters.find((c) => c.name === k.name);
    liveness ??= !found ? "missing" : serverRunning(found) ? "running" : "stopped";
    const blocks = rec.mode === "resolv.conf" &&
      hasResolvConfBlocks(await readSystemFile(rec.file!), k.name);
    checks.push({
      name: "cluster DNS",
      ...dnsStanding(rec, { cluster: k.name, liveness, blocks }),
    });
  } else {
    checks.push({
      name: "cluster DNS",
      status: "pass",
      detail: k.network.configure_dns
        ? "not set up yet (`firestream apply` does it)"
        : "configure_dns is off",
    });
  }
  if (liveness === "docker-down") return checks;
  // a cluster gone from k3d whose nameserver is still first in line slows every lookup
  const file = resolvConfPath();
  for (const name of resolvConfClusters(await readSystemFile(file))) {
    if (name === k.name || clusters.some((c) => c.name === name)) continue;
    checks.push({
      name: `cluster DNS (${name})`,
      status: "fail",
      detail:
        `${file} still asks the kube-dns of cluster ${name} first, which no longer exists: every lookup on this host waits for it`,
      fix: state.clusters[name]
        ? `run \`firestream cluster delete ${name}\``
        : `remove the blocks \`# BEGIN firestream ${name}\` and \`# BEGIN firestream ${name} search\` (each to its END line) from ${file}`,
    });
  }
  return checks;
}

/**
 * Who manages the config's cluster, and what each cluster this state manages depends on: its
 * registry and its CA. A missing one is a failed check with its fix.
 */
async function ownership(session: Workspace): Promise<Check[]> {
  const k = session.loaded.config.cluster.k3d;
  const [state, machine] = await Promise.all([session.store.read(), machineClusters()]);
  const checks: Check[] = [];
  const other = managedElsewhere(machine, k.name, state.lineage);
  if (other) {
    const folder = folderOf(other.mark);
    checks.push(
      state.clusters[k.name]
        ? {
          name: "owner",
          status: "fail",
          detail: `cluster ${k.name} is now managed from ${folder}`,
          fix: `\`firestream state rm ${k.name}\` lets go of it here without touching it`,
        }
        : {
          name: "owner",
          status: "fail",
          detail: `cluster ${k.name} is managed from ${folder}`,
          fix:
            `work on it from ${folder}, or give this project its own cluster name (cluster.k3d.name)`,
        },
    );
  } else {
    checks.push({
      name: "owner",
      status: "pass",
      detail: state.clusters[k.name]
        ? `cluster ${k.name} is managed from here`
        : `no other folder manages a cluster named ${k.name}`,
    });
  }
  const records = Object.values(state.clusters).filter((r) =>
    !managedElsewhere(machine, r.name, state.lineage)
  );
  const registries = [
    ...new Set(
      records.flatMap((r) => r.resources.registry ? [r.resources.registry.container] : []),
    ),
  ];
  const objects = registries.length ? await inspectObjects(registries) : new Map();
  for (const r of records) {
    const reg = r.resources.registry;
    if (reg) {
      const info = objects.get(reg.container);
      const users = usersOf(
        state,
        machine,
        r.name,
        (o) => o.resources.registry?.container === reg.container,
      ).filter((u) => u.folder);
      const where = users.length
        ? ` (here, or in ${[...new Set(users.map((u) => u.folder))].join(", ")})`
        : "";
      if (!isContainer(info)) {
        checks.push({
          name: `registry (${r.name})`,
          status: "fail",
          detail: `registry ${reg.container} of cluster ${r.name} is missing`,
          fix: `run \`firestream apply\`${where} to make it again, then push the images again`,
        });
      } else if (!info.State.Running) {
        checks.push({
          name: `registry (${r.name})`,
          status: "fail",
          detail: `registry ${reg.container} of cluster ${r.name} is ${info.State.Status}`,
          fix: `\`docker start ${reg.container}\`, or \`firestream apply\`${where}`,
        });
      } else {
        checks.push({
          name: `registry (${r.name})`,
          status: "pass",
          detail: `${reg.container} runs on ${reg.host}:${reg.port}`,
        });
      }
    }
    const ca = r.resources.tls?.ca_cert;
    if (ca) {
      const present = await Deno.stat(ca).then(() => true, () => false);
      checks.push(
        present ? { name: `CA (${r.name})`, status: "pass", detail: `${ca} present` } : {
          name: `CA (${r.name})`,
          status: "fail",
          detail: `the CA ${ca} that signed cluster ${r.name}'s certificate is missing`,
          fix:
            "run `firestream apply` to make a new CA and certificate, then `firestream cluster trust` again",
        },
      );
    }
  }
  return checks;
}

/** The ingress domain: what its names answer with, and whether one resolves on this host now. */
async function ingressNames(session: Workspace): Promise<Check> {
  const k = session.loaded.config.cluster.k3d;
  if (!k.ingress.wildcard_dns) {
    return { name: "ingress names", status: "pass", detail: "wildcard_dns is off" };
  }
  const rec = (await session.store.read()).clusters[k.name]?.resources;
  if (!rec?.ingress_dns) {
    return {
      name: "ingress names",
      status: "pass",
      detail: `*.${ingressDomain(k)}: not set up yet (\`firestream apply\` does it)`,
    };
  }
  const found = (await listClusters().catch(() => [])).find((c) => c.name === k.name);
  const running = serverRunning(found);
  const s = await ingressStanding(rec.ingress_dns, {
    running,
    fallbackHosts: rec.hosts_block?.ingress_hosts,
  });
  return {
    name: "ingress names",
    status: s.status,
    detail: `*.${s.domain} → ${s.answer.join(", ")}: ${s.detail}`,
    ...(s.fix ? { fix: s.fix } : {}),
  };
}

/** Runs every check. */
export async function runDoctor(session: Workspace): Promise<Check[]> {
  const k = session.loaded.config.cluster.k3d;
  const checks = await Promise.all([
    attempt(
      "docker",
      async () => ({
        name: "docker",
        status: "pass",
        detail: `Docker engine ${await dockerServerVersion()} answers`,
      }),
    ),
    attempt("k3d", async () => {
      const v = await k3dVersion();
      requireK3d(v);
      return { name: "k3d", status: "pass", detail: `k3d ${v} (5.5+ needed)` };
    }),
    attempt(
      "kubectl",
      async () => ({
        name: "kubectl",
        status: "pass",
        detail: `kubectl ${await kubectlVersion()}`,
      }),
    ),
    attempt("ports", async () => {
      const state = await session.store.read();
      const published = await publishedPorts().catch(() => new Map<number, string>());
      return (await checkHostPorts(k, { state, published })).map((p) => ({
        name: `port ${p.port} (${p.key})`,
        status: p.ok ? "pass" as const : "fail" as const,
        detail: p.detail,
        fix: p.fix,
      }));
    }),
    attempt("sudo", async () => {
      if (!hostNetworkWanted(k)) {
        return { name: "sudo", status: "pass", detail: "not needed: host networking is off" };
      }
      if (isRoot()) return { name: "sudo", status: "pass", detail: "running as root" };
      await sudoCheck(); // a refusal becomes a failed check with its fix
      return { name: "sudo", status: "pass", detail: "sudo works without a prompt" };
    }),
    attempt("platform", () => {
      const why = k.network.configure_routes ? routesUnsupported() : undefined;
      return Promise.resolve(
        why
          ? { name: "platform", status: "warn", detail: `routes will be skipped: ${why}` }
          : { name: "platform", status: "pass", detail: `${Deno.build.os} ${Deno.build.arch}` },
      );
    }),
    attempt("registry name", async () => {
      if (!k.registry.enabled) {
        return { name: "registry name", status: "pass", detail: "no registry configured" };
      }
      const recorded = (await session.store.read()).clusters[k.name]?.resources.registry;
      const host = registryContainerOf(k.registry.name, { recorded });
      const text = await readSystemFile(hostsFilePath());
      const listed = text.split(/\r?\n/).some((l) =>
        !l.trim().startsWith("#") && l.trim().split(/\s+/).slice(1).includes(host)
      );
      return listed
        ? {
          name: "registry name",
          status: "pass",
          detail: `${host} resolves from ${hostsFilePath()}${
            readBlock(text, k.name) ? " (firestream's block)" : ""
          }`,
        }
        : {
          name: "registry name",
          status: "warn",
          detail:
            `${host} is not in ${hostsFilePath()}, so \`docker push ${host}:${k.registry.port}/…\` may not resolve`,
          fix: k.network.patch_etc_hosts
            ? "run `firestream apply` to write the hosts block"
            : "set patch_etc_hosts = true and run `firestream apply`",
        };
    }),
    attempt("cluster DNS", () => clusterDns(session)),
    attempt("owner", () => ownership(session)),
    attempt("ingress names", () => ingressNames(session)),
    attempt("certificate", async () => {
      if (!k.tls.enabled) return { name: "certificate", status: "pass", detail: "TLS is off" };
      const p = certPaths(k.tls.certs_dir, k.name);
      try {
        await Deno.stat(p.cert);
      } catch {
        return {
          name: "certificate",
          status: "warn",
          detail: `no certificate yet at ${p.cert}`,
          fix: "run `firestream apply`",
        };
      }
      const { info } = await readCert(p.cert);
      const days = Math.floor((info.notAfter.getTime() - Date.now()) / 86400_000);
      if (days < 0) {
        return {
          name: "certificate",
          status: "fail",
          detail: `expired on ${info.notAfter.toISOString().slice(0, 10)}`,
          fix: "run `firestream apply` to reissue it",
        };
      }
      if (days < 30) {
        return {
          name: "certificate",
          status: "warn",
          detail: `expires in ${days} days`,
          fix: "run `firestream apply` to renew it",
        };
      }
      return {
        name: "certificate",
        status: "pass",
        detail: `valid for ${days} more days (${info.sans.dns.join(", ")})`,
      };
    }),
    attempt("state", async () => {
      await session.store.read();
      const holder = await readHolder(`${session.stateDir}/${LOCK_FILE}`);
      if (!holder) {
        return {
          name: "state",
          status: "pass",
          detail: `${session.store.path} readable, not locked`,
        };
      }
      if (isHolderDead(holder)) {
        return {
          name: "state",
          status: "warn",
          detail: `stale lock of ${describeHolder(holder)}, which is gone`,
          fix:
            "`firestream rollback` (or any apply) takes it over; `firestream state unlock` removes it",
        };
      }
      return { name: "state", status: "warn", detail: `locked by ${describeHolder(holder)}` };
    }),
    attempt("port forwards", async () => {
      const state = await session.store.read();
      const rec = state.clusters[k.name];
      const running = await runningSupervisor(
        forwardPaths({
          projectDir: session.loaded.projectDir,
          stateDir: session.stateDir,
          cluster: k.name,
        }),
      );
      if (running) {
        return {
          name: "port forwards",
          status: "pass",
          detail: `supervisor running (pid ${running.pid})`,
        };
      }
      if (rec?.resources.port_forwards) {
        return {
          name: "port forwards",
          status: "warn",
          detail: "dev mode is on but its supervisor is not running",
          fix: "run `firestream apply` or `firestream cluster port-forward --detach`",
        };
      }
      return { name: "port forwards", status: "pass", detail: "none expected" };
    }),
  ]);
  return checks.flat();
}
