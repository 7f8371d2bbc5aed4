/** End-to-end: `cluster logs` as kubectl and stern users type it: -c after `logs`, TYPE/NAME, -l, namespaces in the prefix, --json lines. */
import { assertEquals, assertMatch, assertNotMatch, assertOk } from "../assert.ts";
import { type SimHost, testConfig, withSimHost } from "../sim/harness.ts";

async function withApps(h: SimHost): Promise<void> {
  await h.ok(["cluster", "create", "--yes"]);
  h.kube("firestream-local", (k, { addDeployment, addPod }) => {
    k.objects.namespaces.shop = {
      apiVersion: "v1",
      kind: "Namespace",
      metadata: { name: "shop" },
      status: { phase: "Active" },
    };
    addDeployment(k, { namespace: "default", name: "web", replicas: 2, labels: { app: "web" } });
    addPod(k, {
      namespace: "default",
      name: "my-pod",
      labels: { app: "mine", tier: "front" },
      containers: ["sidecar", "main"],
      logs: { main: ["main says hi", "main again"], sidecar: ["sidecar says hi"] },
    });
    addPod(k, {
      namespace: "shop",
      name: "my-pod",
      labels: { app: "mine", tier: "back" },
      containers: ["main"],
      logs: { main: ["shop pod says hi"] },
    });
  });
}

function logsCalls(h: SimHost): string[] {
  return h.calls().filter((c) => c.tool === "kubectl" && c.argv.includes("logs")).map((c) =>
    c.argv.join(" ")
  );
}

Deno.test("logs pod my-pod -c main: -c after `logs` is the container; before `cluster` it is still the config", async () => {
  await withSimHost({ config: testConfig() }, async (h) => {
    await withApps(h);
    h.clearCalls();
    const r = await h.ok(["cluster", "logs", "pod", "my-pod", "-c", "main"]);
    assertEquals(r.stdout, "main says hi\nmain again\n");
    assertEquals(logsCalls(h), ["--context k3d-firestream-local -n default logs my-pod -c main"]);
    // kubectl's other spellings of the same flag
    assertEquals((await h.ok(["cluster", "logs", "my-pod", "-c=main"])).stdout, r.stdout);
    assertEquals((await h.ok(["cluster", "logs", "pod/my-pod", "-cmain"])).stdout, r.stdout);
    assertEquals(
      (await h.ok(["cluster", "logs", "my-pod", "--container", "main"])).stdout,
      r.stdout,
    );
    // the global -c before the command still names the config file: ./firestream.toml, which is
    // refused, is not read
    Deno.renameSync(`${h.projectDir}/firestream.toml`, `${h.projectDir}/other.toml`);
    Deno.writeTextFileSync(
      `${h.projectDir}/firestream.toml`,
      '[cluster.k3d]\nname = "Not A Name"\n',
    );
    const refused = await h.run(["cluster", "logs", "pod", "my-pod"]);
    assertEquals(refused.code, 1);
    assertMatch(refused.stderr, "cluster.k3d.name");
    // (the pod's first container, as kubectl picks without -c)
    assertEquals(
      (await h.ok(["-c", "other.toml", "cluster", "logs", "pod", "my-pod"])).stdout,
      "sidecar says hi\n",
    );
    const viaConfig = await h.ok([
      "-c",
      "other.toml",
      "cluster",
      "logs",
      "pod",
      "my-pod",
      "-c",
      "main",
    ]);
    assertEquals(viaConfig.stdout, r.stdout);
    const bad = await h.run(["-c", "other.toml", "cluster", "logs", "pod", "my-pod", "-c", "nope"]);
    assertEquals(bad.code, 1);
    assertMatch(bad.stderr, "pod my-pod has no container nope");
  });
});

Deno.test("logs TYPE/NAME and -l: deployment/web, svc/…, a label selector, and the clear refusals", async () => {
  await withSimHost({ config: testConfig() }, async (h) => {
    await withApps(h);
    const slash = await h.ok(["cluster", "logs", "deployment/web"]);
    const spaced = await h.ok(["cluster", "logs", "deployment", "web"]);
    assertEquals(slash.stdout, spaced.stdout);
    assertEquals(slash.stdout.trim().split("\n").length, 6, slash.stdout);
    assertMatch(slash.stdout, /^web-\w+-\w+\/web \| /m);
    assertEquals((await h.ok(["cluster", "logs", "deploy/web"])).stdout, slash.stdout);

    const selected = await h.ok(["cluster", "logs", "-l", "tier=front", "-c", "main"]);
    assertEquals(selected.stdout, "main says hi\nmain again\n");
    const both = await h.ok(["cluster", "logs", "--selector", "app=mine", "-A", "-c", "main"]);
    assertEquals(
      both.stdout,
      "default/my-pod/main | main says hi\ndefault/my-pod/main | main again\nshop/my-pod/main | shop pod says hi\n",
      "two pods named my-pod in two namespaces are told apart",
    );
    const none = await h.run(["cluster", "logs", "-l", "app=nothing"]);
    assertEquals(none.code, 1);
    assertMatch(
      none.stderr,
      "no pods to show logs for in namespace default with labels app=nothing",
    );
    const mixed = await h.run(["cluster", "logs", "deployment/web", "-l", "app=web"]);
    assertEquals(mixed.code, 1);
    assertMatch(mixed.stderr, "-l/--selector picks pods by label");
    const twice = await h.run(["cluster", "logs", "deployment/web", "web"]);
    assertEquals(twice.code, 1);
    assertMatch(twice.stderr, "give either deployment/web or deployment web");
    const kind = await h.run(["cluster", "logs", "statefulset/db"]);
    assertEquals(kind.code, 1);
    assertMatch(kind.stderr, 'unknown kind "statefulset": use pod, deployment or service');
  });
});

Deno.test("logs --json: one object per line with namespace, pod, container, timestamp and message; -o yaml documents", async () => {
  await withSimHost({ config: testConfig() }, async (h) => {
    await withApps(h);
    const r = await h.ok(["cluster", "logs", "--json", "-A", "-l", "app=mine", "--all-containers"]);
    const lines = r.stdout.trim().split("\n");
    assertEquals(lines.length, 4, r.stdout);
    const records = lines.map((l) => JSON.parse(l));
    for (const rec of records) {
      assertEquals(Object.keys(rec), ["namespace", "pod", "container", "timestamp", "message"]);
      assertMatch(rec.timestamp, /^\d{4}-\d\d-\d\dT[\d:.]+Z$/);
    }
    assertEquals(records.map((x) => `${x.namespace}/${x.pod}/${x.container}: ${x.message}`), [
      "default/my-pod/sidecar: sidecar says hi",
      "default/my-pod/main: main says hi",
      "default/my-pod/main: main again",
      "shop/my-pod/main: shop pod says hi",
    ]);
    assertNotMatch(r.stdout, " | ");
    const o = await h.ok(["cluster", "logs", "pod", "my-pod", "-c", "main", "-o", "json"]);
    assertEquals(o.stdout.trim().split("\n").map((l) => JSON.parse(l).message), [
      "main says hi",
      "main again",
    ]);
    const { parseAllDocuments } = await import("yaml");
    const y = await h.ok(["cluster", "logs", "pod", "my-pod", "-c", "main", "-o", "yaml"]);
    const docs = parseAllDocuments(y.stdout).map((d) => d.toJS());
    assertEquals(docs.map((d) => [d.pod, d.message]), [["my-pod", "main says hi"], [
      "my-pod",
      "main again",
    ]]);
  });
});

Deno.test("logs deployment/web -f: Ctrl-C ends it with `cancelled`, exit 130, and no kubectl left running", async () => {
  await withSimHost({ config: testConfig() }, async (h) => {
    await withApps(h);
    const child = h.spawn(["cluster", "logs", "deployment/web", "-f", "--json"], {
      stdout: "piped",
      stderr: "piped",
    });
    let errors = "";
    const stderrDone = (async () => {
      for await (const chunk of child.stderr.pipeThrough(new TextDecoderStream())) errors += chunk;
    })();
    const reader = child.stdout.pipeThrough(new TextDecoderStream()).getReader();
    let seen = "";
    const end = Date.now() + 120_000;
    while (seen.split("\n").filter((l) => l.includes('line 3"')).length < 2) {
      if (Date.now() > end) throw new Error(`no lines:\n${seen}\n${errors}`);
      const { value, done } = await reader.read();
      if (done) throw new Error(`output ended:\n${seen}\n${errors}`);
      seen += value;
    }
    // each streamed line is a whole JSON object
    for (const line of seen.split("\n").filter(Boolean)) {
      const rec = JSON.parse(line);
      assertEquals(rec.namespace, "default");
      assertMatch(rec.pod, /^web-/);
    }
    const follows = h.calls().filter((c) => c.tool === "kubectl" && c.argv.includes("--follow"));
    assertEquals(follows.length, 2);
    const kubectlPids = () =>
      [...Deno.readDirSync("/proc")].filter((e) => /^\d+$/.test(e.name)).filter((e) => {
        try {
          const cmd = Deno.readTextFileSync(`/proc/${e.name}/cmdline`);
          return cmd.includes(h.simDir) || (cmd.includes("kubectl") && cmd.includes("--follow") &&
            Deno.readTextFileSync(`/proc/${e.name}/environ`).includes(h.simDir));
        } catch {
          return false;
        }
      }).map((e) => e.name);
    child.kill("SIGINT");
    const status = await child.status;
    reader.releaseLock();
    await stderrDone;
    assertEquals(status.code, 130);
    assertMatch(errors, "cancelled");
    assertEquals(kubectlPids(), [], "no kubectl logs process outlives the command");
  });
});

/** Each command fails with exactly `line` on stderr, nothing on stdout, exit 1. */
async function refusedWith(h: SimHost, commands: string[][], line: string): Promise<void> {
  for (const args of commands) {
    const r = await h.run(args);
    assertEquals([r.code, r.stderr, r.stdout], [1, `error: ${line}\n`, ""], args.join(" "));
  }
}

Deno.test("logs, diagnostics and port-forward on a missing or stopped cluster: one line, exit 1", async () => {
  await withSimHost({ config: testConfig() }, async (h) => {
    await refusedWith(
      h,
      [["cluster", "logs"], ["cluster", "diagnostics", "--all"], ["cluster", "port-forward"]],
      "cluster firestream-local does not exist; create it with `firestream cluster create`",
    );
    await h.ok(["cluster", "create", "--yes"]);
    const stop = await h.tool("k3d", ["cluster", "stop", "firestream-local"]);
    assertEquals(stop.code, 0, stop.stderr);
    await refusedWith(
      h,
      [["cluster", "logs", "-f"], ["cluster", "diagnostics", "--json"], [
        "cluster",
        "port-forward",
        "--detach",
      ]],
      "cluster firestream-local is stopped; start it with `k3d cluster start firestream-local`",
    );
    assertOk(!h.calls().some((c) => c.tool === "kubectl" && c.argv.includes("logs")));
  });
});
