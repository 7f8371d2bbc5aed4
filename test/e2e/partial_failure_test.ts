/** A step that fails part-way tells the truth: state and machine agree, and a re-apply converges. */
import { assertEquals, assertMatch, assertNotMatch } from "../assert.ts";
import { type SimHost, testConfig, withSimHost } from "../sim/harness.ts";

const NAME = "firestream-local";

function withAgents(n: number, extra = ""): string {
  return testConfig({ extra }).replace(
    `[cluster.k3d]\nname = "${NAME}"\n`,
    `[cluster.k3d]\nname = "${NAME}"\nagents = ${n}\n`,
  );
}

function setAgents(h: SimHost, n: number): void {
  const path = `${h.projectDir}/firestream.toml`;
  Deno.writeTextFileSync(
    path,
    Deno.readTextFileSync(path).replace(/agents = \d+/, `agents = ${n}`),
  );
}

/** Agent containers k3d has for the cluster. */
function liveAgents(h: SimHost): string[] {
  return Object.values(h.world().containers).filter((c) =>
    c.labels["k3d.cluster"] === NAME && c.labels["k3d.role"] === "agent"
  ).map((c) => c.name).sort();
}

function nodeObjects(h: SimHost): string[] {
  return Object.keys(h.world().clusters[NAME].kube.objects.nodes ?? {}).sort();
}

async function recordedAgents(h: SimHost): Promise<number> {
  return (await h.state()).clusters[NAME].k3d_config.agents;
}

async function converges(h: SimHost, agents: number): Promise<void> {
  await h.ok(["apply", "--yes"]);
  assertEquals(liveAgents(h).length, agents);
  assertEquals(nodeObjects(h).filter((n) => n.includes("-agent-")).length, agents);
  assertEquals(await recordedAgents(h), agents);
  const plan = await h.run(["plan", "--detailed-exitcode"]);
  assertEquals(plan.code, 0, plan.stdout + plan.stderr);
}

Deno.test("agents 3→1: the second `k3d node delete` fails; 2 of 3 remain, the state says 2, a re-apply finishes", async () => {
  await withSimHost({ config: withAgents(3) }, async (h) => {
    await h.ok(["cluster", "create", "--yes"]);
    setAgents(h, 1);
    h.fault(`k3d node delete k3d-${NAME}-agent-1`, "FATA[0000] Failed to delete node: simulated");
    const r = await h.run(["apply", "--yes"]);
    assertEquals(r.code, 1, r.stderr);
    assertMatch(r.stderr, "2 of 3 agents remain; state updated; run `firestream apply` to finish");
    assertNotMatch(r.stderr, "nothing had been changed");
    assertEquals(liveAgents(h), [`k3d-${NAME}-agent-0`, `k3d-${NAME}-agent-1`]);
    assertEquals(await recordedAgents(h), 2);
    const node = h.world().clusters[NAME].kube.objects.nodes[`k3d-${NAME}-agent-1`];
    assertEquals(node.spec.unschedulable ?? false, false, "the node that stays is uncordoned");
    await converges(h, 1);
  });
});

Deno.test("agents 3→1: a failing `kubectl delete node` leaves its Node object recorded; the plan shows it and a re-apply deletes it", async () => {
  await withSimHost({ config: withAgents(3) }, async (h) => {
    await h.ok(["cluster", "create", "--yes"]);
    setAgents(h, 1);
    h.fault("kubectl delete node", "Error from server (InternalError): simulated");
    const r = await h.run(["apply", "--yes"]);
    assertEquals(r.code, 1, r.stderr);
    assertMatch(
      r.stderr,
      `2 of 3 agents remain (Node object k3d-${NAME}-agent-2 still to delete); state updated`,
    );
    const state = (await h.state()).clusters[NAME];
    assertEquals(state.k3d_config.agents, 2);
    assertEquals(state.resources.stale_nodes, [`k3d-${NAME}-agent-2`]);
    assertEquals(liveAgents(h).length, 2);
    const plan = await h.run(["plan", "--detailed-exitcode"]);
    assertEquals(plan.code, 2);
    await converges(h, 1);
    assertEquals((await h.state()).clusters[NAME].resources.stale_nodes, undefined);
  });
});

Deno.test("agents 3→1: the first removal fails; the node is uncordoned and the message says so", async () => {
  await withSimHost({ config: withAgents(3) }, async (h) => {
    await h.ok(["cluster", "create", "--yes"]);
    const before = (await h.state()).clusters[NAME].k3d_config;
    setAgents(h, 1);
    h.fault("k3d node delete", "FATA[0000] Failed to delete node: simulated");
    const r = await h.run(["apply", "--yes"]);
    assertEquals(r.code, 1, r.stderr);
    assertMatch(
      r.stderr,
      `no agent was removed; k3d-${NAME}-agent-2 was drained and is schedulable again`,
    );
    assertNotMatch(r.stderr, "nothing had been changed");
    assertEquals(liveAgents(h).length, 3);
    assertEquals((await h.state()).clusters[NAME].k3d_config, before);
    const nodes = h.world().clusters[NAME].kube.objects.nodes;
    assertEquals(Object.values(nodes).filter((n) => n.spec.unschedulable).length, 0);
    await converges(h, 1);
  });
});

function tlsConfig(): string {
  return testConfig().replace(
    "[cluster.k3d.tls]\nenabled = false",
    `[cluster.k3d.tls]\nenabled = true\nnamespaces = ["default", "apps"]`,
  );
}

/** Namespaces holding a secret named `name`. */
function secretsNamed(h: SimHost, name: string): string[] {
  return Object.keys(h.world().clusters[NAME].kube.objects.secrets ?? {})
    .filter((k) => k.endsWith(`/${name}`)).map((k) => k.split("/")[0]).sort();
}

function defaultCertificate(h: SimHost): string {
  return h.world().clusters[NAME].kube.objects.tlsstores["kube-system/default"].spec
    .defaultCertificate.secretName;
}

function renameSecret(h: SimHost, name: string): void {
  const path = `${h.projectDir}/firestream.toml`;
  Deno.writeTextFileSync(
    path,
    Deno.readTextFileSync(path).replace(
      "[cluster.k3d.tls]\n",
      `[cluster.k3d.tls]\nsecret_name = "${name}"\n`,
    ),
  );
}

Deno.test("secret rename: the new secret is in place before the old goes; a failure at either end leaves the old one whole", async () => {
  await withSimHost({ config: tlsConfig() }, async (h) => {
    await h.ok(["cluster", "create", "--yes"]);
    const all = ["apps", "default", "kube-system"];
    assertEquals(secretsNamed(h, "firestream-tls"), all);
    renameSecret(h, "web-tls");

    for (const prefix of ["kubectl apply", "kubectl delete secret"]) {
      h.fault(prefix, "Error from server (InternalError): simulated");
      const r = await h.run(["apply", "--yes"]);
      assertEquals(r.code, 1, r.stderr);
      assertEquals(secretsNamed(h, "firestream-tls"), all, `${prefix}: old secrets`);
      assertEquals(secretsNamed(h, "web-tls"), [], `${prefix}: new secrets were taken back`);
      assertEquals(defaultCertificate(h), "firestream-tls", prefix);
      const rec = (await h.state()).clusters[NAME];
      assertEquals(rec.resources.tls.secret.name, "firestream-tls", prefix);
      assertEquals(rec.k3d_config.tls.secret_name, "firestream-tls", prefix);
    }

    h.clearCalls();
    await h.ok(["apply", "--yes"]);
    assertEquals(secretsNamed(h, "web-tls"), all);
    assertEquals(secretsNamed(h, "firestream-tls"), []);
    assertEquals(defaultCertificate(h), "web-tls");
    const m = h.mutatingCalls();
    const lastApply = m.findLastIndex((c) => c.startsWith("kubectl") && c.includes(" apply"));
    const firstDelete = m.findIndex((c) => c.includes("delete secret firestream-tls"));
    assertEquals(firstDelete > lastApply, true, `old deleted before new applied:\n${m.join("\n")}`);
    assertEquals((await h.state()).clusters[NAME].resources.tls.secret.name, "web-tls");
    const plan = await h.run(["plan", "--detailed-exitcode"]);
    assertEquals(plan.code, 0, plan.stdout);
  });
});

function dnsOff(): string {
  return testConfig({ network: true }).replace("configure_dns = true", "configure_dns = false");
}

Deno.test("DNS on: a failing `resolvectl domain` takes back `resolvectl dns`; the state has no DNS; a re-apply sets both", async () => {
  await withSimHost({ config: dnsOff(), resolved: true }, async (h) => {
    await h.ok(["cluster", "create", "--yes"]);
    const bridge = h.world().networks[`k3d-${NAME}`].bridge;
    h.writeConfig(
      Deno.readTextFileSync(`${h.projectDir}/firestream.toml`).replace(
        "configure_dns = false",
        "configure_dns = true",
      ),
    );
    h.fault(
      `resolvectl domain ${bridge} ~cluster.local ~firestream.local`,
      "Failed to set domain configuration",
    );
    h.clearCalls();
    const r = await h.run(["apply", "--yes"]);
    assertEquals(r.code, 1, r.stderr);
    assertMatch(r.stderr, "nothing had been changed");
    const link = h.world().links[bridge];
    assertEquals(link?.dns ?? [], [], "the server set by the first call was taken back");
    assertEquals((await h.state()).clusters[NAME].resources.dns, undefined);
    assertEquals(
      h.mutatingCalls().filter((c) => c.startsWith("resolvectl")),
      [
        `resolvectl dns ${bridge} 10.43.0.10`,
        `resolvectl domain ${bridge} ~cluster.local ~firestream.local`,
        `resolvectl revert ${bridge}`,
      ],
    );
    await h.ok(["apply", "--yes"]);
    assertEquals(h.world().links[bridge], {
      dns: ["10.43.0.10"],
      domains: ["~cluster.local", "~firestream.local"],
    });
    assertEquals((await h.state()).clusters[NAME].resources.dns.interface, bridge);
    const plan = await h.run(["plan", "--detailed-exitcode"]);
    assertEquals(plan.code, 0, plan.stdout);
  });
});

Deno.test("DNS: a failing `resolvectl status` on a host with systemd-resolved is an error; the run is undone", async () => {
  await withSimHost({ config: testConfig({ network: true }), resolved: true }, async (h) => {
    h.fault("resolvectl status", "Failed to get global data: Connection timed out", { times: 5 });
    const r = await h.run(["cluster", "create", "--yes"]);
    assertEquals(r.code, 1, r.stderr);
    assertMatch(
      r.stderr,
      "resolvectl status failed: Failed to get global data: Connection timed out",
    );
    assertEquals(Object.keys(h.world().containers), []);
    assertEquals(h.world().clusters, {});
    assertEquals(
      Deno.readTextFileSync(h.resolvConf),
      "nameserver 192.0.2.53\nsearch example.internal\n",
    );
    const state = h.stateBytes();
    assertEquals(state === undefined || Object.keys(JSON.parse(state).clusters).length === 0, true);
  });
});
