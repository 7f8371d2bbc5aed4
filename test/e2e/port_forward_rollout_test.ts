/**
 * Forwards that survive rollouts: a client asks a forwarded port at a steady 20 requests a second
 * while the deployment behind it is rolled out three times, its pods replaced one by one as a
 * Deployment's RollingUpdate does (a new pod ready, then an old one terminating, then gone). Through
 * the supervisor no request fails; through a bare `kubectl port-forward svc/web` (the reference)
 * they do, once the pod it chose is gone.
 */
import { assertEquals, assertMatch, assertOk } from "../assert.ts";
import { freeOffset, type SimHost, withSimHost } from "../sim/harness.ts";
import { until } from "../wait.ts";
import { entries, offsetConfig } from "./forwards.ts";

const CLUSTER = "firestream-local";

interface Result {
  /** when the request was sent, in requests sent before it */
  seq: number;
  pod?: string;
  error?: string;
}

/** A client sending one request every 50 ms to `port` until stopped. */
function steadyClient(port: number) {
  const results: Result[] = [];
  const pending = new Set<Promise<void>>();
  let seq = 0;
  const ask = async (n: number) => {
    try {
      const res = await fetch(`http://127.0.0.1:${port}/`, { signal: AbortSignal.timeout(30_000) });
      const body = await res.text();
      const pod = /^default\/(web-[0-9a-f]{9}-[0-9a-f]{5}):8080\n$/.exec(body)?.[1];
      results.push(pod ? { seq: n, pod } : { seq: n, error: `${res.status} ${body}` });
    } catch (err) {
      results.push({ seq: n, error: (err as Error).message });
    }
  };
  const timer = setInterval(() => {
    const p = ask(seq++);
    pending.add(p);
    p.finally(() => pending.delete(p));
  }, 50);
  return {
    results,
    /** requests sent so far */
    sent: () => seq,
    /** waits until `n` more requests than now have been answered (or failed) */
    async after(n: number) {
      const want = results.length + n;
      await until(`${n} more answers`, () => results.length >= want);
    },
    async stop() {
      clearInterval(timer);
      await Promise.all([...pending]);
    },
  };
}

interface Rollout {
  /** requests sent before the last old pod was gone */
  doneAt: number;
  /** requests sent before the next rollout began */
  nextAt: number;
  /** its new pods */
  pods: string[];
}

/** Rolls the deployment out three times, pod by pod, while the client runs. */
async function rollOut(h: SimHost, client: ReturnType<typeof steadyClient>): Promise<Rollout[]> {
  const rollouts: Rollout[] = [];
  for (let revision = 2; revision <= 4; revision++) {
    let old: string[] = [];
    h.kube(CLUSTER, (k, { deploymentPods }) => {
      old = deploymentPods(k, { namespace: "default", name: "web" });
    });
    const pods: string[] = [];
    for (const pod of old) {
      h.kube(CLUSTER, (k, { surgePod }) => {
        pods.push(surgePod(k, { namespace: "default", name: "web", revision }));
      });
      await client.after(5);
      h.kube(CLUSTER, (k, { terminatePod }) => terminatePod(k, { namespace: "default", pod }));
      await client.after(5);
      h.kube(CLUSTER, (k, { removePod }) => removePod(k, { namespace: "default", pod }));
      await client.after(5);
    }
    const doneAt = client.sent();
    await client.after(10);
    rollouts.push({ doneAt, nextAt: client.sent(), pods });
  }
  return rollouts;
}

async function withWeb(fn: (h: SimHost) => Promise<void>): Promise<void> {
  const offset = freeOffset();
  await withSimHost({ config: offsetConfig(offset) }, async (h) => {
    await h.ok(["cluster", "create", "--yes"]);
    h.kube(CLUSTER, (k, { addService, addDeployment }) => {
      addDeployment(k, { namespace: "default", name: "web", replicas: 2 });
      addService(k, { namespace: "default", name: "web", ports: [8080] });
    });
    await fn(h);
  });
}

Deno.test("port-forward rollout: 20 requests a second through three rolling updates, not one fails, and after each every answer comes from a new pod", async () => {
  await withWeb(async (h) => {
    await h.ok(["cluster", "port-forward", "--detach"]);
    const web = await until("web up", () => entries(h).find((e) => e.status === "up"));
    const client = steadyClient(web.local_port);
    let rollouts: Rollout[];
    try {
      await client.after(5);
      rollouts = await rollOut(h, client);
    } finally {
      await client.stop();
    }
    const failed = client.results.filter((r) => r.error);
    assertEquals(failed, [], "no request failed");
    assertOk(client.results.length >= 100, `${client.results.length} requests`);
    for (const [i, r] of rollouts.entries()) {
      // sent once the rollout was over, before the next began
      const after = client.results.filter((x) => x.seq >= r.doneAt && x.seq < r.nextAt);
      assertOk(after.length > 0);
      const stale = after.filter((x) => !r.pods.includes(x.pod!));
      assertEquals(stale, [], `after rollout ${i + 1} every answer is from ${r.pods.join(", ")}`);
    }
    const events = Deno.readTextFileSync(`${h.projectDir}/.firestream/port-forward.${CLUSTER}.log`);
    assertMatch(events, /"event":"(switching|exited)","key":"default\/web"/);
    await h.ok(["cluster", "port-forward", "--stop"]);
  });
});

Deno.test("port-forward rollout: the reference, a bare kubectl port-forward svc/web, fails requests once its pod is gone", async () => {
  await withWeb(async (h) => {
    const child = h.spawnTool("kubectl", [
      "--context",
      `k3d-${CLUSTER}`,
      "port-forward",
      "svc/web",
      ":8080",
    ]);
    const out = child.stdout.pipeThrough(new TextDecoderStream()).getReader();
    const port = Number(/127\.0\.0\.1:(\d+) -> 8080/.exec((await out.read()).value ?? "")?.[1]);
    out.releaseLock();
    child.stdout.cancel().catch(() => {});
    const client = steadyClient(port);
    try {
      await client.after(5);
      await rollOut(h, client);
    } finally {
      await client.stop();
      try {
        child.kill("SIGKILL");
      } catch { /* it ended: its pod was gone */ }
      await child.status;
    }
    const failed = client.results.filter((r) => r.error);
    assertOk(failed.length > 0, "the reference fails requests during rollouts");
    // the first one fails on kubectl's side, every later one finds nothing listening
    const stderr = new TextDecoder().decode(await new Response(child.stderr).arrayBuffer());
    assertMatch(stderr, "error: lost connection to pod");
  });
});

interface Listed {
  service: string;
  status: string;
  pod: string | null;
}

async function listed(h: SimHost): Promise<Listed> {
  const r = await h.ok(["cluster", "port-forward", "--list", "--json"]);
  return JSON.parse(r.stdout).forwards.find((e: Listed) => e.service === "web");
}

/** Polls `--list` until `done`; every row seen after the first `done` one must pass `done` too. */
async function listUntil(h: SimHost, what: string, done: (e: Listed) => boolean): Promise<Listed> {
  const seen = await until(what, async () => {
    const e = await listed(h);
    return done(e) && e;
  });
  for (let i = 0; i < 3; i++) {
    const e = await listed(h);
    assertOk(done(e), `${what}, then ${JSON.stringify(e)}`);
  }
  return seen;
}

Deno.test("port-forward rollout: --list names the pod of each forward; a deleted pod gives way to `waiting`, then to the new pod, never back", async () => {
  await withWeb(async (h) => {
    h.kube(CLUSTER, (k, { deploymentPods, removePod }) => {
      // one pod only
      removePod(k, {
        namespace: "default",
        pod: deploymentPods(k, { namespace: "default", name: "web" })[1],
      });
    });
    await h.ok(["cluster", "port-forward", "--detach"]);
    const first = await listUntil(h, "web up", (e) => e.status === "up");
    let pods: string[] = [];
    h.kube(CLUSTER, (k, { deploymentPods }) => {
      pods = deploymentPods(k, { namespace: "default", name: "web" });
    });
    assertEquals(first.pod, pods[0]);
    const table = (await h.ok(["cluster", "port-forward", "--list"])).stdout;
    assertMatch(table, new RegExp(`web\\s+8080\\s+127\\.0\\.0\\.1:\\d+\\s+up\\s+${first.pod}\\s`));

    // the pod is deleted and no other is ready: waiting, with no pod
    h.kube(CLUSTER, (k, { removePod }) => removePod(k, { namespace: "default", pod: first.pod! }));
    const waiting = await listUntil(h, "web waiting", (e) => e.status === "waiting" && !e.pod);
    assertEquals(waiting.pod, null);
    assertMatch(
      (await h.ok(["cluster", "port-forward", "--list"])).stdout,
      /web\s+8080\s+127\.0\.0\.1:\d+\s+waiting\s+waiting\s/,
    );

    // a new pod is ready: the forward goes to it
    let fresh = "";
    h.kube(CLUSTER, (k, { surgePod }) => {
      fresh = surgePod(k, { namespace: "default", name: "web", revision: 2 });
    });
    await listUntil(h, "web up on the new pod", (e) => e.status === "up" && e.pod === fresh);
    const info = JSON.parse((await h.ok(["cluster", "info", "--json"])).stdout);
    assertMatch(JSON.stringify(info), fresh);

    // deleted while another pod is ready: straight to the other one, never `up` on the gone one
    let other = "";
    h.kube(CLUSTER, (k, { surgePod, removePod }) => {
      other = surgePod(k, { namespace: "default", name: "web", revision: 3 });
      removePod(k, { namespace: "default", pod: fresh });
    });
    await listUntil(h, "web on the other pod", (e) => e.pod === other && e.status !== "waiting");
    await h.ok(["cluster", "port-forward", "--stop"]);
  });
});
