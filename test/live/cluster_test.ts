/**
 * The seed's whole promise against real k3d, Docker and kubectl. Opt-in: FIRESTREAM_LIVE=1 as root
 * (routes, DNS and /etc/hosts are changed for real) on a machine that can pull rancher/k3s and
 * busybox. It creates and deletes a cluster named fs-live-<random> from the seed's config with free
 * ports; `.github/workflows/live.yml` runs it on a hosted runner with pinned k3d and kubectl.
 */
import { parse, stringify } from "smol-toml";
import { parse as parseYaml } from "yaml";
import { assertEquals, assertMatch, assertOk } from "../assert.ts";
import { run } from "../real/require.ts";
import { clusterList, type InspectDoc } from "../sim/k3d_types.ts";

const live = Deno.env.get("FIRESTREAM_LIVE") === "1";
if (!live) console.error("SKIPPED (opt-in): live k3d tests run only with FIRESTREAM_LIVE=1");

const ROOT = new URL("../../", import.meta.url).pathname.replace(/\/$/, "");

function freePort(): number {
  const l = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const port = (l.addr as Deno.NetAddr).port;
  l.close();
  return port;
}

/** Retries `fn` until it returns a value or `ms` pass; the last error is the failure. */
async function eventually<T>(what: string, ms: number, fn: () => Promise<T | undefined>) {
  const deadline = Date.now() + ms;
  let last = "no answer";
  while (Date.now() < deadline) {
    try {
      const v = await fn();
      if (v !== undefined) return v;
    } catch (e) {
      last = e instanceof Error ? e.message : String(e);
    }
    await new Promise((r) => setTimeout(r, 1000));
  }
  throw new Error(`${what}: not within ${ms / 1000}s (${last})`);
}

/** The body of an HTTP(S) GET with curl, when it answers 200. */
async function curl(url: string, extra: string[] = []): Promise<string | undefined> {
  const r = await run("curl", ["-fsS", "--max-time", "5", ...extra, url]);
  return r.code === 0 ? r.stdout : undefined;
}

const sh = async (program: string, ...args: string[]) => {
  const r = await run(program, args);
  assertEquals(r.code, 0, `${program} ${args.join(" ")}: ${r.stderr}`);
  return r.stdout;
};

/** An Ingress for `host` to live-web; without `secret`, Traefik's default certificate serves it. */
const INGRESS = (name: string, host: string, secret?: string) =>
  `apiVersion: networking.k8s.io/v1
kind: Ingress
metadata: { name: ${name} }
spec:
  tls: [{ hosts: ["${host}"]${secret ? `, secretName: ${secret}` : ""} }]
  rules:
    - host: ${host}
      http:
        paths:
          - path: /
            pathType: Prefix
            backend: { service: { name: live-web, port: { number: 8080 } } }
`;

const APP = (image: string, host: string, secret: string) => `
apiVersion: apps/v1
kind: Deployment
metadata: { name: live-web, labels: { app: live-web } }
spec:
  replicas: 1
  selector: { matchLabels: { app: live-web } }
  template:
    metadata: { labels: { app: live-web } }
    spec:
      containers:
        - name: web
          image: ${image}
          command: ["sh", "-c", "mkdir -p /www && echo hello-live > /www/index.html && echo serving-live && exec httpd -f -v -p 8080 -h /www"]
          ports: [{ containerPort: 8080 }]
---
apiVersion: v1
kind: Service
metadata: { name: live-web }
spec:
  selector: { app: live-web }
  ports: [{ name: http, port: 8080, targetPort: 8080 }]
---
${INGRESS("live-web", host, secret)}`;

/** A pod fetching `url` with the CA from the ConfigMap live-ca; curl retries while CoreDNS reloads. */
const CURL_POD = (url: string) => `
apiVersion: v1
kind: Pod
metadata: { name: live-curl }
spec:
  restartPolicy: Never
  containers:
    - name: curl
      image: curlimages/curl:8.11.1
      args: ["-fsS", "--retry", "60", "--retry-delay", "3", "--retry-all-errors", "--cacert", "/ca/ca.crt", "${url}"]
      volumeMounts: [{ name: ca, mountPath: /ca }]
  volumes: [{ name: ca, configMap: { name: live-ca } }]
`;

Deno.test({
  name: "live: the seed's config on real k3d: registry, TLS through Traefik, routes, DNS, hosts, " +
    "every name of the ingress domain, dev-mode forwarding, logs, agents in place, k3d's listing " +
    "as the simulator reads it, forwards back after k3d cluster stop and start, and a delete " +
    "that leaves nothing",
  ignore: !live,
}, async () => {
  const dir = await Deno.makeTempDir({ prefix: "firestream-live-" });
  const name = `fs-live-${crypto.randomUUID().slice(0, 6)}`;
  const host = `${name}.firestream.local`;
  const registry = `${name}-registry.localhost`;
  const registryPort = freePort();
  const https = freePort();
  const forwarded = freePort();
  // the seed's file, with only what must differ on a shared machine changed
  const seed = parse(await Deno.readTextFile(`${ROOT}/test/fixtures/seed.toml`)) as {
    cluster: { k3d: Record<string, Record<string, unknown> | unknown> };
  };
  const k = seed.cluster.k3d as Record<string, Record<string, unknown>> & Record<string, unknown>;
  Object.assign(k, { name, api_port: freePort(), http_port: freePort(), https_port: https });
  Object.assign(k.registry, { name: registry, port: registryPort });
  Object.assign(k.tls, { certs_dir: `${dir}/certs` });
  Object.assign(k.network, { hosts: [host] });
  Object.assign(k.dev_mode, { port_offset: forwarded - 8080, namespaces: ["default"] });
  await Deno.writeTextFile(`${dir}/firestream.toml`, stringify(seed));

  const fs = (...args: string[]) =>
    run(Deno.execPath(), [
      "run",
      "-A",
      "--quiet",
      `${ROOT}/main.ts`,
      "-c",
      `${dir}/firestream.toml`,
      ...args,
    ], { cwd: dir });
  const hostsBefore = await Deno.readFile("/etc/hosts");
  const resolvBefore = await Deno.readFile("/etc/resolv.conf");
  const routesBefore = await sh("ip", "route", "show");
  const kubectl = (...args: string[]) => sh("kubectl", "--context", `k3d-${name}`, ...args);

  try {
    const created = await fs("cluster", "create", "--yes", "--strict");
    assertEquals(created.code, 0, created.stderr);
    const info = JSON.parse((await fs("cluster", "info", "--json")).stdout);
    assertEquals([info.status, info.servers.running, info.agents.running], ["running", 1, 2]);
    assertEquals(info.registry.healthy, true);

    // the local registry: a push from the host, then a pod in the cluster runs that image
    const image = `k3d-${registry}:${registryPort}/live/busybox:1`;
    await sh("docker", "pull", "busybox:1.36");
    await sh("docker", "tag", "busybox:1.36", image);
    await sh("docker", "push", image);
    await kubectl(
      "run",
      "live-pull",
      `--image=${image}`,
      "--restart=Never",
      "--",
      "echo",
      "pulled",
    );
    await eventually("the pod from the local registry", 120_000, async () => {
      const phase = await kubectl("get", "pod", "live-pull", "-o", "jsonpath={.status.phase}");
      return phase === "Succeeded" ? phase : undefined;
    });
    assertMatch(await kubectl("logs", "live-pull"), /pulled/);

    // TLS through Traefik: the hosts block resolves the name, the CA verifies the certificate
    const app = `${dir}/app.yaml`;
    await Deno.writeTextFile(app, APP(image, host, "firestream-tls"));
    await kubectl("apply", "-f", app);
    await kubectl("rollout", "status", "deployment/live-web", "--timeout=180s");
    const caFile = `${dir}/certs/firestream-ca.crt`;
    const body = await eventually(
      "https through Traefik",
      180_000,
      () => curl(`https://${host}:${https}/`, ["--cacert", caFile]),
    );
    assertMatch(body, /hello-live/);

    // host DNS and routes: the cluster's names resolve on the host and a ClusterIP answers
    const resolved = await eventually(
      "kubernetes.default.svc.cluster.local on the host",
      60_000,
      async () => {
        const r = await run("getent", ["hosts", "kubernetes.default.svc.cluster.local"]);
        return r.code === 0 ? r.stdout : undefined;
      },
    );
    assertMatch(resolved, /^10\.43\.0\.1\s/);
    const clusterIp = await kubectl(
      "get",
      "service",
      "live-web",
      "-o",
      "jsonpath={.spec.clusterIP}",
    );
    assertMatch(
      await eventually(
        "the ClusterIP over the routes",
        60_000,
        () => curl(`http://${clusterIp}:8080/`),
      ),
      /hello-live/,
    );

    // every name of the ingress domain: an Ingress for a name written nowhere resolves on the
    // host (kube-dns answers the domain through the routing domain or resolv.conf) and in a pod,
    // and answers through Traefik with the wildcard certificate
    const wildcard = `never-written-${crypto.randomUUID().slice(0, 6)}.firestream.local`;
    const traefikIp = await kubectl(
      "get",
      "service",
      "traefik",
      "-n",
      "kube-system",
      "-o",
      "jsonpath={.spec.clusterIP}",
    );
    const wildcardFile = `${dir}/wildcard.yaml`;
    // an Ingress for a name written nowhere: Traefik's default certificate (the wildcard) serves it
    await Deno.writeTextFile(wildcardFile, INGRESS("live-wildcard", wildcard));
    await kubectl("apply", "-f", wildcardFile);
    // CoreDNS loads the coredns-custom key within about a minute (kubelet sync, then reload)
    const answered = await eventually(`getent hosts ${wildcard}`, 150_000, async () => {
      const r = await run("getent", ["hosts", wildcard]);
      return r.code === 0 ? r.stdout : undefined;
    });
    assertEquals(answered.trim().split(/\s+/)[0], traefikIp);
    assertMatch(
      await eventually(
        `https://${wildcard}/ from the host`,
        60_000,
        () => curl(`https://${wildcard}/`, ["--cacert", caFile]),
      ),
      /hello-live/,
    );
    await kubectl("create", "configmap", "live-ca", `--from-file=ca.crt=${caFile}`);
    const curlPod = `${dir}/curl.yaml`;
    await Deno.writeTextFile(curlPod, CURL_POD(`https://${wildcard}/`));
    await kubectl("apply", "-f", curlPod);
    await eventually("the same URL from a pod", 300_000, async () => {
      const phase = await kubectl("get", "pod", "live-curl", "-o", "jsonpath={.status.phase}");
      if (phase === "Failed") throw new Error(await kubectl("logs", "live-curl"));
      return phase === "Succeeded" ? phase : undefined;
    });
    assertMatch(await kubectl("logs", "live-curl"), /hello-live/);
    const ingressInfo = JSON.parse((await fs("cluster", "info", "--json")).stdout);
    assertEquals(ingressInfo.ingress.domain, "firestream.local");
    assertEquals(ingressInfo.ingress.status, "pass", JSON.stringify(ingressInfo.ingress));

    // dev mode: the service on 127.0.0.1:<port + offset>, back within 2 s after its forward dies
    await fs("cluster", "port-forward", "--detach");
    assertMatch(
      await eventually(
        "the dev-mode forward",
        60_000,
        () => curl(`http://127.0.0.1:${forwarded}/`),
      ),
      /hello-live/,
    );
    await sh("pkill", "-9", "-f", "port-forward.*svc/live-web");
    const killedAt = Date.now();
    await eventually(
      "the forward after kill -9",
      2_000,
      () => curl(`http://127.0.0.1:${forwarded}/`),
    );
    console.error(`forward back after ${Date.now() - killedAt} ms`);

    // logs, diagnostics, a converged plan
    const logs = await fs("cluster", "logs", "deployment", "live-web");
    assertEquals(logs.code, 0, logs.stderr);
    assertMatch(logs.stdout, /serving-live/);
    const diagnostics = await fs("cluster", "diagnostics", "--all", "--json");
    assertEquals(diagnostics.code, 0, diagnostics.stderr);
    assertOk(typeof JSON.parse(diagnostics.stdout) === "object");
    const plan = await fs("plan", "--detailed-exitcode");
    assertEquals(plan.code, 0, plan.stdout + plan.stderr);

    // agents in place: +1 then -1, the servers and the app untouched
    const toml = await Deno.readTextFile(`${dir}/firestream.toml`);
    for (const agents of [3, 2]) {
      await Deno.writeTextFile(
        `${dir}/firestream.toml`,
        toml.replace(/agents = \d+/, `agents = ${agents}`),
      );
      const applied = await fs("apply", "--yes");
      assertEquals(applied.code, 0, applied.stderr);
      assertEquals(
        JSON.parse((await fs("cluster", "info", "--json")).stdout).agents.running,
        agents,
      );
    }
    assertMatch(await curl(`https://${host}:${https}/`, ["--cacert", caFile]) ?? "", /hello-live/);

    // the simulator's k3d (test/sim/k3d_types.ts) reads the engine as this k3d does: its listing
    // of the containers Docker lists equals `k3d cluster list -o json`
    const ids = (await sh(
      "docker",
      "ps",
      "-a",
      "--no-trunc",
      "--filter",
      "label=app=k3d",
      "--format",
      "{{.ID}}",
    ))
      .trim().split("\n");
    const docs = JSON.parse(await sh("docker", "container", "inspect", ...ids)) as InspectDoc[];
    const mine = (list: { name: string }[]) => list.filter((c) => c.name === name);
    assertEquals(
      mine(clusterList(docs, [], { volumes: () => [], lbConfig: () => undefined }) ?? []),
      mine(JSON.parse(await sh("k3d", "cluster", "list", "-o", "json"))),
    );
    // `cluster list NAME` (ClusterGet) also carries the cluster's volumes and the load balancer's
    // config file, both read here from the engine
    const volumes =
      (await sh("docker", "volume", "ls", "-q", "--filter", `label=k3d.cluster=${name}`))
        .trim().split("\n").filter(Boolean);
    const lbConfig = parseYaml(
      await sh("docker", "exec", `k3d-${name}-serverlb`, "cat", "/etc/confd/values.yaml"),
    );
    const got = JSON.parse(await sh("k3d", "cluster", "list", name, "-o", "json"));
    assertEquals(
      clusterList(docs, [name], { volumes: () => volumes, lbConfig: () => lbConfig }),
      got,
    );
    // what the simulated k3d makes (test/sim/k3d.ts), as this k3d made it: global labels, the
    // image volume and NodeCreate's env on every node, the API host defaulting to its IP, the load
    // balancer's null Cmd, its ports to servers and the agents of the create (agents added later
    // leave the file as it was)
    const nodes = got[0].nodes as {
      name: string;
      role: string;
      env: string[];
      volumes: string[];
      Cmd: string[] | null;
      runtimeLabels: Record<string, string>;
    }[];
    for (const n of nodes) {
      assertEquals(n.runtimeLabels["k3d.server.loadbalancer"], `k3d-${name}-serverlb`, n.name);
      assertEquals(n.runtimeLabels["k3d.cluster.network.external"], "false", n.name);
      assertOk(n.env.includes("K3S_KUBECONFIG_OUTPUT=/output/kubeconfig.yaml"), n.name);
      assertOk(n.volumes.includes(`k3d-${name}-images:/k3d/images`), n.name);
    }
    const server = nodes.find((n) => n.role === "server")!;
    assertEquals(server.runtimeLabels["k3d.server.api.host"], "127.0.0.1");
    assertEquals(server.Cmd?.slice(-4), [
      "--tls-san",
      "127.0.0.1",
      "--tls-san",
      `k3d-${name}-serverlb`,
    ]);
    assertEquals(nodes.find((n) => n.role === "loadbalancer")!.Cmd, null);
    assertOk(lbConfig.ports["80.tcp"].includes(`k3d-${name}-agent-0`), JSON.stringify(lbConfig));

    // stopped and started outside Firestream: the supervisor waits, then forwards again
    await sh("k3d", "cluster", "stop", name);
    await sh("k3d", "cluster", "start", name);
    assertMatch(
      await eventually(
        "the dev-mode forward after k3d cluster stop and start",
        300_000,
        () => curl(`http://127.0.0.1:${forwarded}/`),
      ),
      /hello-live/,
    );
  } finally {
    const deleted = await fs("cluster", "delete", "--yes", "--purge-certs");
    assertEquals(deleted.code, 0, deleted.stderr);
    const gone = await run("getent", ["hosts", `never-written.firestream.local`]);
    assertEquals(gone.code, 2, `an ingress name still resolves after delete: ${gone.stdout}`);
    const list = await run("k3d", ["cluster", "list", "-o", "json"]);
    assertEquals(JSON.parse(list.stdout).some((c: { name: string }) => c.name === name), false);
    assertEquals(await Deno.readFile("/etc/hosts"), hostsBefore);
    assertEquals(await Deno.readFile("/etc/resolv.conf"), resolvBefore);
    assertEquals(await sh("ip", "route", "show"), routesBefore);
    assertEquals((await sh("docker", "ps", "-aq", "--filter", `name=${name}`)).trim(), "");
    assertEquals(
      (await sh("docker", "network", "ls", "-q", "--filter", `name=k3d-${name}`)).trim(),
      "",
    );
    const contexts = await sh("kubectl", "config", "get-contexts", "-o", "name");
    assertEquals(contexts.split("\n").includes(`k3d-${name}`), false);
    await run("pkill", ["-f", `k3d-${name}`]);
    await Deno.remove(dir, { recursive: true }).catch(() => {});
  }
});
