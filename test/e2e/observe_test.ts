/** End-to-end: every `cluster logs` form of the seed, diagnostics as one document, doctor's checks. */
import { assertEquals, assertMatch, assertOk } from "../assert.ts";
import { type SimHost, testConfig, withSimHost } from "../sim/harness.ts";
import { HANG_MS, until } from "../wait.ts";

async function withApps(h: SimHost): Promise<void> {
  await h.ok(["cluster", "create", "--yes"]);
  h.kube("firestream-local", (k, { addDeployment, addPod, addService, addEvent }) => {
    addDeployment(k, {
      namespace: "default",
      name: "my-deployment",
      replicas: 2,
      labels: { app: "shop" },
    });
    addService(k, {
      namespace: "default",
      name: "my-service",
      ports: [8080],
      selector: { app: "shop" },
    });
    addPod(k, {
      namespace: "default",
      name: "my-pod",
      containers: ["app", "sidecar"],
      restarts: 1,
      logs: { app: ["app says hi"], sidecar: ["sidecar says hi"] },
    });
    addEvent(k, {
      namespace: "default",
      type: "Warning",
      reason: "BackOff",
      message: "Back-off restarting failed container",
      object: "my-pod",
      time: "2026-01-02T00:00:00Z",
    });
    addEvent(k, {
      namespace: "default",
      reason: "Pulled",
      message: "Container image pulled",
      object: "my-pod",
      time: "2026-01-01T00:00:00Z",
    });
  });
}

function logsCalls(h: SimHost): string[] {
  return h.calls().filter((c) => c.tool === "kubectl" && c.argv.includes("logs")).map((c) =>
    c.argv.join(" ")
  );
}

Deno.test("logs: each form of the seed becomes the right kubectl calls, always with --context", async () => {
  await withSimHost({ config: testConfig() }, async (h) => {
    await withApps(h);
    h.clearCalls();
    const all = await h.ok(["cluster", "logs"]);
    assertMatch(all.stdout, "my-pod/app | app says hi");
    assertMatch(
      all.stdout,
      /my-deployment-\w+-\w+\/my-deployment \| my-deployment-\w+-\w+\/my-deployment line 1/,
    );
    assertEquals(logsCalls(h).length, 3);
    for (const c of h.calls().filter((c) => c.tool === "kubectl")) {
      assertMatch(c.argv.join(" "), /^--context k3d-firestream-local /);
    }

    h.clearCalls();
    const pod = await h.ok(["cluster", "logs", "pod", "my-pod"]);
    assertEquals(pod.stdout, "app says hi\n");
    assertEquals(logsCalls(h), ["--context k3d-firestream-local -n default logs my-pod -c app"]);

    const both = await h.ok(["cluster", "logs", "pod", "my-pod", "--all-containers"]);
    assertEquals(both.stdout, "my-pod/app | app says hi\nmy-pod/sidecar | sidecar says hi\n");

    h.clearCalls();
    const prev = await h.ok([
      "cluster",
      "logs",
      "pod",
      "my-pod",
      "--previous",
      "--tail",
      "5",
      "--timestamps",
    ]);
    assertMatch(prev.stdout, "previous instance");
    assertEquals(logsCalls(h), [
      "--context k3d-firestream-local -n default logs my-pod -c app --previous --tail=5 --timestamps",
    ]);

    h.clearCalls();
    const dep = await h.ok(["cluster", "logs", "deployment", "my-deployment", "--since", "10m"]);
    assertEquals(dep.stdout.trim().split("\n").length, 6, dep.stdout);
    assertOk(logsCalls(h).every((c) => c.endsWith("--since=10m")));

    const sys = await h.ok(["cluster", "logs", "-n", "kube-system"]);
    assertMatch(sys.stdout, "coredns");

    const typo = await h.run(["cluster", "logs", "deployment", "my-deploymnt"]);
    assertEquals(typo.code, 1);
    assertMatch(typo.stderr, "no deployment named my-deploymnt in namespace default");
    assertMatch(typo.stderr, "did you mean my-deployment?");
  });
});

Deno.test("logs --follow: a service's two pods stream at once, a third is picked up, an ended stream is told", async () => {
  await withSimHost({ config: testConfig() }, async (h) => {
    await withApps(h);
    const child = h.spawn(["cluster", "logs", "service", "my-service", "--follow"], {
      stdout: "piped",
      stderr: "piped",
    });
    let seen = "";
    let errors = "";
    (async () => {
      for await (const chunk of child.stderr.pipeThrough(new TextDecoderStream())) errors += chunk;
    })();
    const reader = child.stdout.pipeThrough(new TextDecoderStream()).getReader();
    const readUntil = async (pattern: RegExp) => {
      const end = Date.now() + HANG_MS;
      while (!pattern.test(seen)) {
        if (Date.now() > end) throw new Error(`no ${pattern} in:\n${seen}`);
        const { value, done } = await reader.read();
        if (done) throw new Error(`output ended:\n${seen}`);
        seen += value;
      }
    };
    await readUntil(/(my-deployment-\w+-\w+\/my-deployment \| .*line 3[\s\S]*){2}/);
    const pods = Object.values(h.world().clusters["firestream-local"].kube.objects.pods).filter((
      p,
    ) => p.metadata.labels?.app === "shop").map((p) => p.metadata.name);
    assertEquals(pods.length, 2);
    h.updateWorld((w) => {
      const k = w.clusters["firestream-local"].kube;
      k.logs[`default/${pods[0]}/my-deployment`].push("fresh line from the first pod");
      k.logs[`default/${pods[1]}/my-deployment`].push("fresh line from the second pod");
    });
    await readUntil(/fresh line from the first pod[\s\S]*|fresh line from the second pod/);
    await readUntil(/second pod/);
    h.kube(
      "firestream-local",
      (k, { addPod }) =>
        addPod(k, {
          namespace: "default",
          name: "shop-third",
          labels: { app: "shop" },
          containers: ["my-deployment"],
          logs: { "my-deployment": ["third pod is here"] },
        }),
    );
    await readUntil(/shop-third\/my-deployment \| third pod is here/);
    h.updateWorld((w) =>
      delete w.clusters["firestream-local"].kube.objects.pods["default/shop-third"]
    );
    await until(
      "the end of shop-third's stream told",
      () => errors.includes("stream of shop-third/my-deployment ended"),
    );
    child.kill("SIGINT");
    const status = await child.status;
    reader.releaseLock();
    assertEquals(status.code, 130);
    const follows = h.calls().filter((c) => c.tool === "kubectl" && c.argv.includes("--follow"));
    assertEquals(follows.length, 3);
  });
});

Deno.test("diagnostics: --all --json holds every section; a failing section reports its error in place", async () => {
  await withSimHost({ config: testConfig() }, async (h) => {
    await withApps(h);
    const report = JSON.parse((await h.ok(["cluster", "diagnostics", "--all", "--json"])).stdout);
    assertEquals(Object.keys(report.sections).sort(), ["events", "nodes", "pods", "services"]);
    assertEquals(report.sections.nodes.items.length, 3);
    assertOk(report.sections.pods.items.some((p: { name: string }) => p.name === "my-pod"));
    assertEquals(report.sections.events.items.map((e: { reason: string }) => e.reason), [
      "Pulled",
      "BackOff",
      "Starting",
    ], "sorted by time");
    assertEquals(report.metrics.ok, true);

    h.fault("kubectl get events", "Error from server (Forbidden): events is forbidden: simulated");
    h.updateWorld((w) => (w.clusters["firestream-local"].kube.metrics = false));
    const text = await h.ok(["cluster", "diagnostics", "--all", "-n", "all"]);
    assertMatch(text.stdout, "Events\n  failed: ");
    assertMatch(text.stdout, "events is forbidden");
    assertMatch(text.stdout, "resource usage: metrics-server does not answer");
    assertMatch(text.stdout, "coredns");

    const summary = await h.ok(["cluster", "diagnostics"]);
    assertMatch(summary.stdout, "3 nodes");
    assertMatch(summary.stdout, "1 warnings");
    const pods = JSON.parse(
      (await h.ok(["cluster", "diagnostics", "--pods", "-n", "default", "--json"])).stdout,
    );
    assertEquals(Object.keys(pods.sections), ["pods"]);
  });
});

Deno.test("doctor: reports a missing k3d and a busy port, each with its fix; exit 1", async () => {
  await withSimHost({ config: testConfig() }, async (h) => {
    const bin = `${h.root}/bin-without-k3d`;
    Deno.mkdirSync(bin);
    for (const tool of ["docker", "kubectl", "ip", "resolvectl", "sudo"]) {
      Deno.symlinkSync(new URL(`../sim/bin/${tool}`, import.meta.url).pathname, `${bin}/${tool}`);
    }
    const config = Deno.readTextFileSync(`${h.projectDir}/firestream.toml`);
    const listener = Deno.listen({
      hostname: "127.0.0.1",
      port: Number(/api_port = (\d+)/.exec(config)![1]),
    });
    try {
      const r = await h.run(["doctor", "--json"], {
        env: { PATH: `${bin}:/usr/bin:/bin:/usr/sbin:/sbin` },
      });
      assertEquals(r.code, 1, r.stderr);
      const report = JSON.parse(r.stdout);
      const k3d = report.checks.find((c: { name: string }) => c.name === "k3d");
      assertEquals(k3d.status, "fail");
      assertMatch(k3d.detail, "k3d is not installed");
      assertMatch(k3d.fix, "install.sh | bash");
      const port = report.checks.find((c: { name: string }) => c.name.includes("(api_port)"));
      assertEquals(port.status, "fail");
      assertMatch(port.detail, "already in use");
      assertMatch(port.fix, "choose another port for cluster.k3d.api_port");
      assertEquals(report.checks.find((c: { name: string }) => c.name === "docker").status, "pass");
      const text = await h.run(["doctor"], {
        env: { PATH: `${bin}:/usr/bin:/bin:/usr/sbin:/sbin` },
      });
      assertMatch(text.stdout, "✗ fail  k3d: k3d is not installed");
      assertMatch(text.stdout, "fix: install k3d");
    } finally {
      listener.close();
    }
  });
});
