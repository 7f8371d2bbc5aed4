/** kubectl's long-running forms: port-forward (real TCP on loopback), logs --follow and get --watch. */
import { bool, flag, type Parsed, readJson, simDir, SimExit } from "./core.ts";
import { podsBehind } from "./endpoints.ts";
import { logTargets, resolveCluster, watchedObjects } from "./kubectl.ts";
import type { KubeObject, World } from "./world.ts";

/**
 * The world as last read, with what identified its file then: every writer (the simulated tools,
 * the test harness) replaces the file whole, so a new world is a new inode.
 */
let last: { file: string; world: World } | undefined;

/**
 * The simulated world. These forms poll it for as long as they run, and a hundred of them run at
 * once in the forwarding bench: each rereads and parses the file only once it was replaced, so an
 * idle one costs a stat, as an idle kubectl costs nothing.
 */
function world(): World {
  let file = "";
  try {
    const s = Deno.statSync(`${simDir()}/world.json`);
    file = `${s.ino}:${s.mtime?.getTime()}:${s.size}`;
  } catch { /* no world yet */ }
  if (!file || last?.file !== file) {
    last = { file, world: readJson<World>("world.json", undefined as unknown as World) };
  }
  return last.world;
}

function write(text: string, stream: "out" | "err" = "out"): void {
  const bytes = new TextEncoder().encode(text);
  (stream === "out" ? Deno.stdout : Deno.stderr).writeSync(bytes);
}

/** `kubectl port-forward svc/NAME LOCAL:REMOTE [--address A]`: binds for real, answers each connection. */
export async function portForward(p: Parsed): Promise<number> {
  const w = world();
  const cluster = resolveCluster(w, p);
  const ns = flag(p, "namespace") ?? "default";
  const [target, ...specs] = p.args;
  if (!target || specs.length === 0) {
    throw new SimExit(1, "error: TYPE/NAME and list of ports are required for port-forward\n");
  }
  const [kindWord, name] = target.includes("/") ? target.split("/") : ["pod", target];
  const kind = {
    svc: "services",
    service: "services",
    services: "services",
    pod: "pods",
    pods: "pods",
    po: "pods",
  }[kindWord];
  if (!kind) throw new SimExit(98, `sim: port-forward to ${kindWord} is not simulated\n`);
  const obj: KubeObject | undefined = cluster.kube.objects[kind]?.[`${ns}/${name}`];
  if (!obj) throw new SimExit(1, `Error from server (NotFound): ${kind} "${name}" not found\n`);
  const pod = await forwardablePod(cluster.name, kind, obj, podRunningTimeout(p));
  const address = (flag(p, "address") ?? "localhost").split(",")[0];
  if (address !== "127.0.0.1" && address !== "localhost") {
    throw new SimExit(
      98,
      `sim: port-forward binds loopback only in tests (got --address ${address})\n`,
    );
  }
  if (pod.status?.phase !== "Running") {
    // kubectl pkg/cmd/portforward/portforward.go RunPortForward
    throw new SimExit(
      1,
      `error: unable to forward port because pod is not running. Current status=${pod.status?.phase}\n`,
    );
  }
  const listeners: Deno.TcpListener[] = [];
  const failed: string[] = [];
  for (const spec of specs) {
    const [localText, remoteText] = spec.includes(":") ? spec.split(":") : [spec, spec];
    const remote = Number(remoteText);
    let targetPort = remote;
    if (kind === "services") {
      const port = obj.spec.ports.find((x: KubeObject) => x.port === remote);
      if (!port) {
        throw new SimExit(1, `error: Service ${name} does not have a service port ${remote}\n`);
      }
      targetPort = port.targetPort ?? remote;
    }
    let listener: Deno.TcpListener;
    try {
      listener = Deno.listen({ hostname: "127.0.0.1", port: Number(localText || 0) });
    } catch (err) {
      if (err instanceof Deno.errors.AddrInUse) {
        // client-go tools/portforward/portforward.go forward(): a port that cannot be bound is
        // reported and skipped; kubectl fails only when no port could be bound
        write(
          `Unable to listen on port ${localText}: Listeners failed to create with the following errors: [unable to create listener: Error listen tcp4 127.0.0.1:${localText}: bind: address already in use]\n`,
          "err",
        );
        failed.push(`{${localText} ${targetPort}}`);
        continue;
      }
      throw err;
    }
    const local = (listener.addr as Deno.NetAddr).port;
    write(`Forwarding from 127.0.0.1:${local} -> ${targetPort}\n`);
    listeners.push(listener);
    serve(listener, local, `${kind === "services" ? "svc" : "pod"}/${ns}/${name}:${remote}`);
  }
  if (listeners.length === 0) {
    throw new SimExit(
      1,
      `error: unable to listen on any of the requested ports: [${failed.join(" ")}]\n`,
    );
  }
  // like kubectl, the forward ends when its pod goes away (a rollout replaces it), even when the
  // service stays: the stream is tied to the pod (client-go tools/portforward "lost connection to pod")
  while (true) {
    await new Promise((r) => setTimeout(r, 300));
    const now = world();
    const c = now?.clusters?.[cluster.name];
    const server = now?.containers?.[`k3d-${cluster.name}-server-0`];
    const current = c?.kube.objects.pods?.[`${ns}/${pod.metadata.name}`];
    if (!c || !server?.running || current?.status?.phase !== "Running") {
      write(
        `E0101 00:00:00.000000    1 portforward.go:413] "Unhandled Error" err="an error occurred forwarding: lost connection to pod"\nerror: lost connection to pod\n`,
        "err",
      );
      for (const l of listeners) l.close();
      return 1;
    }
  }
}

/** Go's time.ParseDuration for the simple forms kubectl users pass ("1m", "30s", "500ms", "1m30s"). */
function goDuration(text: string): number {
  let ms = 0;
  const re = /(\d+(?:\.\d+)?)(ms|s|m|h)/g;
  let matched = "";
  for (const m of text.matchAll(re)) {
    ms += Number(m[1]) * { ms: 1, s: 1000, m: 60000, h: 3600000 }[m[2] as "ms" | "s" | "m" | "h"];
    matched += m[0];
  }
  if (matched !== text || !text) {
    throw new SimExit(1, `error: invalid argument "${text}" for "--pod-running-timeout" flag\n`);
  }
  return ms;
}

/** --pod-running-timeout, 60s by default (pkg/cmd/portforward/portforward.go). */
function podRunningTimeout(p: Parsed): number {
  const ms = goDuration(flag(p, "pod-running-timeout") ?? "1m");
  if (ms <= 0) throw new SimExit(1, "error: --pod-running-timeout must be higher than zero\n");
  return ms;
}

/** podutils.ActivePods reversed, as attachablePodForObject sorts: running and ready first. */
function rank(pod: KubeObject): number {
  const phase = { Running: 2, Unknown: 1, Pending: 0 }[pod.status?.phase as string] ?? 0;
  const ready = (pod.status?.conditions ?? []).some((c: KubeObject) =>
    c.type === "Ready" && c.status === "True"
  );
  return phase * 2 + (ready ? 1 : 0);
}

/**
 * The pod kubectl forwards to (pkg/polymorphichelpers attachablePodForObject, GetFirstPod): the
 * pod itself, or the best pod behind a service's selector. With no pod yet it watches for one until
 * --pod-running-timeout ("timed out waiting for the condition"); a pod that is not Running is
 * refused (pkg/cmd/portforward/portforward.go RunPortForwardContext).
 */
async function forwardablePod(
  clusterName: string,
  kind: string,
  obj: KubeObject,
  timeoutMs: number,
): Promise<KubeObject> {
  let pod: KubeObject | undefined = kind === "pods" ? obj : undefined;
  if (!pod) {
    const selector: Record<string, string> | undefined = obj.spec.selector;
    if (!selector || Object.keys(selector).length === 0) {
      throw new SimExit(
        1,
        `error: cannot attach to *v1.Service: invalid service '${obj.metadata.name}': Service is defined without a selector\n`,
      );
    }
    const deadline = Date.now() + timeoutMs;
    while (!pod) {
      const now = world()?.clusters?.[clusterName];
      const pods = (now ? podsBehind(now, obj) : []).sort((a, b) => rank(b) - rank(a));
      pod = pods[0];
      if (pod) break;
      if (Date.now() >= deadline) {
        throw new SimExit(1, "error: timed out waiting for the condition\n");
      }
      await new Promise((r) => setTimeout(r, Math.min(300, Math.max(1, deadline - Date.now()))));
    }
  }
  if (pod.status?.phase !== "Running") {
    throw new SimExit(
      1,
      `error: unable to forward port because pod is not running. Current status=${
        pod.status?.phase ?? "Pending"
      }\n`,
    );
  }
  return pod;
}

async function serve(listener: Deno.TcpListener, local: number, identity: string): Promise<void> {
  try {
    for await (const conn of listener) {
      write(`Handling connection for ${local}\n`);
      (async () => {
        try {
          const buf = new Uint8Array(4096);
          await conn.read(buf).catch(() => null);
          const body = `${identity}\n`;
          await conn.write(new TextEncoder().encode(
            `HTTP/1.1 200 OK\r\ncontent-type: text/plain\r\ncontent-length: ${body.length}\r\nconnection: close\r\n\r\n${body}`,
          ));
        } catch {
          /* client went away */
        } finally {
          try {
            conn.close();
          } catch { /* closed */ }
        }
      })();
    }
  } catch { /* listener closed */ }
}

/** `kubectl logs -f`: prints what is there, then new lines as the simulation appends them. */
export async function followLogs(p: Parsed): Promise<number> {
  const w = world();
  const cluster = resolveCluster(w, p);
  const targets = logTargets(cluster, p);
  const seen = new Map<string, number>();
  const prefix = (pod: string, c: string) => (bool(p, "prefix") ? `[pod/${pod}/${c}] ` : "");
  const tail = flag(p, "tail");
  for (const t of targets) {
    const key = `${t.pod.metadata.namespace}/${t.pod.metadata.name}/${t.container}`;
    let lines = cluster.kube.logs[key] ?? [];
    if (tail !== undefined && Number(tail) >= 0) lines = lines.slice(-Number(tail));
    for (const l of lines) write(`${prefix(t.pod.metadata.name, t.container)}${l}\n`);
    seen.set(key, (cluster.kube.logs[key] ?? []).length);
  }
  while (true) {
    await new Promise((r) => setTimeout(r, 150));
    const now = world()?.clusters?.[cluster.name];
    if (!now) return 1;
    let alive = 0;
    for (const t of targets) {
      const key = `${t.pod.metadata.namespace}/${t.pod.metadata.name}/${t.container}`;
      if (!now.kube.objects.pods?.[`${t.pod.metadata.namespace}/${t.pod.metadata.name}`]) continue;
      alive++;
      const lines = now.kube.logs[key] ?? [];
      for (const l of lines.slice(seen.get(key) ?? 0)) {
        write(`${prefix(t.pod.metadata.name, t.container)}${l}\n`);
      }
      seen.set(key, lines.length);
    }
    if (alive === 0) return 0;
  }
}

/**
 * `kubectl get TYPE --watch -o name` (or `--watch-only`): the objects there first (not with
 * `--watch-only`), then one line for each object added, changed or deleted, as kubectl prints a
 * watch event with the name printer (pkg/cmd/get/get.go, watch()). Ends when the cluster is gone,
 * as a watch ends when its server goes away.
 */
export async function watchObjects(p: Parsed): Promise<number> {
  let seen = watchedObjects(resolveCluster(world(), p), p);
  if (!bool(p, "watch-only")) { for (const name of seen.keys()) write(`${name}\n`); }
  let last = JSON.stringify([...seen]);
  while (true) {
    await new Promise((r) => setTimeout(r, 250));
    const w = world();
    if (!w?.clusters) return 1;
    let now: Map<string, KubeObject>;
    try {
      now = watchedObjects(resolveCluster(w, p), p);
    } catch {
      return 1;
    }
    const text = JSON.stringify([...now]);
    if (text === last) continue;
    last = text;
    for (const [name, obj] of now) {
      if (JSON.stringify(seen.get(name)) !== JSON.stringify(obj)) write(`${name}\n`);
    }
    for (const name of seen.keys()) if (!now.has(name)) write(`${name}\n`);
    seen = now;
  }
}
