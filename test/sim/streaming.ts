/** kubectl's long-running forms: port-forward (real TCP on loopback) and get --watch (logs: logs.ts). */
import { bool, flag, type Parsed, readJson, simDir, SimExit } from "./core.ts";
import { podsBehind } from "./endpoints.ts";
import { resolveCluster, watchedObjects } from "./kubectl.ts";
import { hexId, type KubeObject, type World } from "./world.ts";

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
export function simWorld(): World {
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

export function write(text: string, stream: "out" | "err" = "out"): void {
  const bytes = new TextEncoder().encode(text);
  (stream === "out" ? Deno.stdout : Deno.stderr).writeSync(bytes);
}

/**
 * `kubectl port-forward svc/NAME|pod/NAME [LOCAL]:REMOTE… [--address A]`: binds for real and
 * answers each connection as the pod's server would. Like kubectl 1.32, it resolves the service to
 * one pod when it starts and never looks again; when that pod goes, the listener stays bound and the
 * next connection is accepted, then fails, and kubectl exits (see {@link lostPod}).
 */
export async function portForward(p: Parsed): Promise<number> {
  const w = simWorld();
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
  const listeners: Deno.TcpListener[] = [];
  const failed: string[] = [];
  const lost = Promise.withResolvers<void>();
  const forward: Forward = { cluster: cluster.name, pod, lost: lost.resolve };
  for (const spec of specs) {
    const [localText, remoteText] = spec.includes(":") ? spec.split(":") : [spec, spec];
    const remote = Number(remoteText);
    let targetPort = remote;
    if (kind === "services") {
      // pkg/cmd/portforward/portforward.go translateServicePortToTargetPort
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
    // client-go tools/portforward/portforward.go getListener (v0.32.0 line 304)
    write(`Forwarding from 127.0.0.1:${local} -> ${targetPort}\n`);
    listeners.push(listener);
    serve(listener, local, targetPort, forward);
  }
  if (listeners.length === 0) {
    throw new SimExit(
      1,
      `error: unable to listen on any of the requested ports: [${failed.join(" ")}]\n`,
    );
  }
  // The stream to the API server ends only when the server does (client-go portforward.go forward()
  // v0.32.0 lines 241–246: it waits for the stop channel or the connection's close); kubectl does
  // not look at its pod again. A connection to a pod that is gone ends it ({@link lostPod}).
  const apiGone = (async () => {
    while (true) {
      await new Promise((r) => setTimeout(r, 300));
      const now = simWorld();
      const server = now?.containers?.[`k3d-${cluster.name}-server-0`];
      if (!now?.clusters?.[cluster.name] || !server?.running) return;
    }
  })();
  await Promise.race([apiGone, lost.promise]);
  for (const l of listeners) {
    try {
      l.close();
    } catch { /* closed */ }
  }
  // kubectl pkg/cmd/portforward: the error ForwardPorts returned (client-go ErrLostConnectionToPod)
  write("error: lost connection to pod\n", "err");
  return 1;
}

/** What the connections of one port-forward share. */
interface Forward {
  cluster: string;
  pod: KubeObject;
  /** ends the command: its pod is gone */
  lost: () => void;
}

/** The pod as the cluster has it now, if it still runs. */
function stillRunning(f: Forward): KubeObject | undefined {
  const now = simWorld()?.clusters?.[f.cluster];
  const pod = now?.kube.objects.pods?.[`${f.pod.metadata.namespace}/${f.pod.metadata.name}`];
  return pod?.metadata.uid === f.pod.metadata.uid && pod?.status?.phase === "Running"
    ? pod
    : undefined;
}

/**
 * A connection to a pod that is gone: the kubelet writes its error on the error stream, kubectl logs
 * it through runtime.HandleError ("Unhandled Error", client-go portforward.go handleConnection,
 * v0.32.0 lines 366–372 and 421–426), closes the connection without a byte and its stream to the
 * API server, and ForwardPorts returns ErrLostConnectionToPod. The kubelet's message:
 * kubernetes pkg/kubelet/cri/streaming/portforward/httpstream.go ("error forwarding port %d to pod
 * %s, uid %v: %v", the pod being the sandbox id, the uid empty), with containerd's "failed to find
 * sandbox" for a removed sandbox.
 */
function lostPod(local: number, remote: number, f: Forward): void {
  const sandbox = hexId(`sandbox/${f.pod.metadata.uid}`).padEnd(64, "0").slice(0, 64);
  const t = new Date().toISOString();
  const stamp = `E${t.slice(5, 7)}${t.slice(8, 10)} ${t.slice(11, 23)}000`;
  write(
    `${stamp} ${
      String(Deno.pid).padStart(7)
    } portforward.go:424] "Unhandled Error" err="an error occurred forwarding ${local} -> ${remote}: error forwarding port ${remote} to pod ${sandbox}, uid : failed to find sandbox \\"${sandbox}\\" in store: not found"\n`,
    "err",
  );
  f.lost();
}

/** The longest body the simulated server sends (`GET /bytes/N`). */
const MAX_BODY = 256 * 1024 * 1024;

/**
 * Each connection as the pod's server answers it: one HTTP response naming the pod and its port
 * (`namespace/pod:port`), or `GET /bytes/N`: N bytes, for throughput.
 */
async function serve(
  listener: Deno.TcpListener,
  local: number,
  remote: number,
  f: Forward,
): Promise<void> {
  try {
    for await (const conn of listener) {
      // client-go portforward.go handleConnection (v0.32.0 line 345)
      write(`Handling connection for ${local}\n`);
      const pod = stillRunning(f);
      if (!pod) {
        lostPod(local, remote, f);
        conn.close();
        continue;
      }
      (async () => {
        try {
          const buf = new Uint8Array(4096);
          const n = await conn.read(buf).catch(() => null);
          const head = new TextDecoder().decode(buf.subarray(0, n ?? 0));
          const size = /^GET \/bytes\/(\d+) /.exec(head);
          if (size) {
            const total = Math.min(Number(size[1]), MAX_BODY);
            await writeAll(
              conn,
              new TextEncoder().encode(
                `HTTP/1.1 200 OK\r\ncontent-type: application/octet-stream\r\ncontent-length: ${total}\r\nconnection: close\r\n\r\n`,
              ),
            );
            const chunk = new Uint8Array(64 * 1024).fill(120);
            for (let sent = 0; sent < total; sent += chunk.length) {
              await writeAll(conn, chunk.subarray(0, Math.min(chunk.length, total - sent)));
            }
            return;
          }
          const body = `${pod.metadata.namespace}/${pod.metadata.name}:${remote}\n`;
          await writeAll(
            conn,
            new TextEncoder().encode(
              `HTTP/1.1 200 OK\r\ncontent-type: text/plain\r\ncontent-length: ${body.length}\r\nconnection: close\r\n\r\n${body}`,
            ),
          );
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

async function writeAll(conn: Deno.Conn, bytes: Uint8Array): Promise<void> {
  for (let off = 0; off < bytes.length;) off += await conn.write(bytes.subarray(off));
}

/** Go's time.ParseDuration for the simple forms kubectl users pass ("1m", "30s", "500ms", "1m30s"). */
export function goDuration(text: string, option = "pod-running-timeout"): number {
  let ms = 0;
  const re = /(\d+(?:\.\d+)?)(ms|s|m|h)/g;
  let matched = "";
  for (const m of text.matchAll(re)) {
    ms += Number(m[1]) * { ms: 1, s: 1000, m: 60000, h: 3600000 }[m[2] as "ms" | "s" | "m" | "h"];
    matched += m[0];
  }
  if (matched !== text || !text) {
    throw new SimExit(1, `error: invalid argument "${text}" for "--${option}" flag\n`);
  }
  return ms;
}

/** --pod-running-timeout, 60s by default (pkg/cmd/portforward/portforward.go). */
function podRunningTimeout(p: Parsed): number {
  const ms = goDuration(flag(p, "pod-running-timeout") ?? "1m");
  if (ms <= 0) throw new SimExit(1, "error: --pod-running-timeout must be higher than zero\n");
  return ms;
}

function isReady(pod: KubeObject): boolean {
  return (pod.status?.conditions ?? []).some((c: KubeObject) =>
    c.type === "Ready" && c.status === "True"
  );
}

/** When the pod became ready ("" when it is not): the Ready condition's lastTransitionTime. */
function readyTime(pod: KubeObject): string {
  return (pod.status?.conditions ?? []).find((c: KubeObject) =>
    c.type === "Ready" && c.status === "True"
  )?.lastTransitionTime ?? "";
}

function restarts(pod: KubeObject): number {
  return Math.max(
    0,
    ...(pod.status?.containerStatuses ?? []).map((c: KubeObject) => c.restartCount ?? 0),
  );
}

/** `a` is after `b`, a zero (empty) time counting as after any other (podutils afterOrZero). */
function afterOrZero(a: string, b: string): boolean {
  return !a || !b ? !a : a > b;
}

/**
 * The order kubectl picks a pod in: sort.Reverse(podutils.ActivePods) (kubectl
 * pkg/polymorphichelpers/attachablepodforobject.go v0.32.0 line 53; pkg/util/podutils/podutils.go
 * lines 133–173), best first: assigned to a node; Running, then Unknown, then Pending; ready; not
 * being deleted; of two being deleted, the later deletion; of two ready, the one ready longest;
 * fewer restarts; the older. A tie keeps name order (Go's sort is not stable: any order is real).
 */
export function activePodsFirst(a: KubeObject, b: KubeObject): number {
  // ActivePods.Less(b, a): b is "less" (worse) than a → a first
  return less(b, a) ? -1 : less(a, b) ? 1 : a.metadata.name < b.metadata.name ? -1 : 1;
}

function less(i: KubeObject, j: KubeObject): boolean {
  const ni = i.spec?.nodeName ?? "", nj = j.spec?.nodeName ?? "";
  if (ni !== nj && (!ni || !nj)) return !ni;
  const phase: Record<string, number> = { Pending: 0, Unknown: 1, Running: 2 };
  const pi = phase[i.status?.phase] ?? 0, pj = phase[j.status?.phase] ?? 0;
  if (pi !== pj) return pi < pj;
  if (isReady(i) !== isReady(j)) return !isReady(i);
  const di = i.metadata.deletionTimestamp ?? "", dj = j.metadata.deletionTimestamp ?? "";
  if (Boolean(di) !== Boolean(dj)) return Boolean(di);
  if (di && dj && di !== dj) return di < dj;
  if (isReady(i) && isReady(j) && readyTime(i) !== readyTime(j)) {
    return afterOrZero(readyTime(i), readyTime(j));
  }
  if (restarts(i) !== restarts(j)) return restarts(i) > restarts(j);
  const ci = i.metadata.creationTimestamp ?? "", cj = j.metadata.creationTimestamp ?? "";
  if (ci !== cj) return afterOrZero(ci, cj);
  return false;
}

/**
 * The order kubectl picks the pod to read logs from: podutils.ByLogging (kubectl
 * pkg/util/podutils/podutils.go v0.32.0 lines 96–125, sorted by GetPodList in
 * pkg/polymorphichelpers/helpers.go lines 53–54), best first: assigned to a node; Running (or any
 * phase outside the three, Go's zero value), then Unknown, then Pending; ready; of two ready, the
 * one ready longest; more restarts; the older. A tie keeps name order (any order is real).
 */
export function byLogging(a: KubeObject, b: KubeObject): number {
  return loggingLess(a, b)
    ? -1
    : loggingLess(b, a)
    ? 1
    : a.metadata.name < b.metadata.name
    ? -1
    : 1;
}

function loggingLess(i: KubeObject, j: KubeObject): boolean {
  const ni = i.spec?.nodeName ?? "", nj = j.spec?.nodeName ?? "";
  if (ni !== nj && (!ni || !nj)) return Boolean(ni);
  const phase: Record<string, number> = { Running: 0, Unknown: 1, Pending: 2 };
  const pi = phase[i.status?.phase] ?? 0, pj = phase[j.status?.phase] ?? 0;
  if (pi !== pj) return pi < pj;
  if (isReady(i) !== isReady(j)) return isReady(i);
  if (isReady(i) && isReady(j) && readyTime(i) !== readyTime(j)) {
    return afterOrZero(readyTime(j), readyTime(i));
  }
  if (restarts(i) !== restarts(j)) return restarts(i) > restarts(j);
  const ci = i.metadata.creationTimestamp ?? "", cj = j.metadata.creationTimestamp ?? "";
  if (ci !== cj) return afterOrZero(cj, ci);
  return false;
}

/**
 * The pod kubectl forwards to (pkg/polymorphichelpers attachablePodForObject, GetFirstPod): the
 * pod itself, or the first pod behind a service's selector in {@link activePodsFirst} order. With no
 * pod yet it watches for one until --pod-running-timeout ("timed out waiting for the condition");
 * a pod that is not Running is refused (pkg/cmd/portforward/portforward.go RunPortForwardContext,
 * v0.32.0 lines 428–429).
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
      const now = simWorld()?.clusters?.[clusterName];
      pod = (now ? podsBehind(now, obj) : []).sort(activePodsFirst)[0];
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

/**
 * `kubectl get TYPE --watch -o name` (or `--watch-only`): the objects there first (not with
 * `--watch-only`), then one line for each object added, changed or deleted, as kubectl prints a
 * watch event with the name printer (pkg/cmd/get/get.go, watch()). Ends when the cluster is gone,
 * as a watch ends when its server goes away.
 */
export async function watchObjects(p: Parsed): Promise<number> {
  let seen = watchedObjects(resolveCluster(simWorld(), p), p);
  if (!bool(p, "watch-only")) { for (const name of seen.keys()) write(`${name}\n`); }
  let last = JSON.stringify([...seen]);
  while (true) {
    await new Promise((r) => setTimeout(r, 250));
    const w = simWorld();
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
