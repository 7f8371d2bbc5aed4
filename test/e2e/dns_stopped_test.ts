/** End-to-end: a stopped, Docker-less or gone cluster and the host's DNS: info and doctor say so with the fix; `cluster stop` takes the nameserver out and `apply` puts it back. */
import { assertEquals, assertMatch, assertNotMatch } from "../assert.ts";
import { type SimHost, testConfig, withSimHost } from "../sim/harness.ts";

const NAME = "firestream-local";

async function dnsCheck(h: SimHost, name = "cluster DNS") {
  const r = await h.run(["doctor", "--json"]);
  const checks = JSON.parse(r.stdout).checks as {
    name: string;
    status: string;
    detail: string;
    fix?: string;
  }[];
  return checks.find((c) => c.name === name);
}

async function infoDns(h: SimHost) {
  const r = await h.ok(["cluster", "info", "--json"]);
  return JSON.parse(r.stdout).host.dns;
}

Deno.test("dns: a cluster stopped outside firestream is a failed doctor check with the fix; `cluster stop` takes the nameserver out, `apply` puts it back", async () => {
  await withSimHost({ config: testConfig({ network: true }) }, async (h) => {
    const before = Deno.readTextFileSync(h.resolvConf);
    await h.ok(["cluster", "create", "--yes"]);
    const written = Deno.readTextFileSync(h.resolvConf);
    assertEquals((await dnsCheck(h))?.status, "pass");
    assertEquals((await infoDns(h)).present, true);

    await h.tool("k3d", ["cluster", "stop", NAME]);
    const stale = await dnsCheck(h);
    assertEquals(stale?.status, "fail");
    assertMatch(stale!.detail, `cluster ${NAME} is stopped, but`);
    assertMatch(stale!.detail, "every lookup on this host waits for it");
    assertMatch(stale!.fix!, "`firestream cluster stop` takes the nameserver out");
    const info = await h.ok(["cluster", "info"]);
    assertMatch(info.stdout, `cluster ${NAME} is stopped, but`);
    assertMatch(info.stdout, "fix: `firestream cluster stop`");

    h.clearCalls();
    const stop = await h.ok(["cluster", "stop"]);
    assertMatch(stop.stdout, "`firestream cluster start` starts it again");
    assertEquals(Deno.readTextFileSync(h.resolvConf), before, "the file's own bytes, exactly");
    assertEquals(h.mutatingCalls(), [], "stopped already: k3d is not asked to stop it again");
    const out = await dnsCheck(h);
    assertEquals(out?.status, "pass");
    assertMatch(out!.detail, "out of");
    assertEquals((await infoDns(h)).present, false);

    const plan = await h.ok(["plan"]);
    assertMatch(plan.stdout, "stopped nodes will be started");
    await h.ok(["apply", "--yes"]);
    assertEquals(Deno.readTextFileSync(h.resolvConf), written);
    assertEquals((await dnsCheck(h))?.status, "pass");

    // firestream stops a running cluster itself: blocks out first, then k3d
    h.clearCalls();
    await h.ok(["cluster", "stop"]);
    assertEquals(h.mutatingCalls(), [`k3d cluster stop ${NAME}`]);
    assertEquals(Deno.readTextFileSync(h.resolvConf), before);
    assertEquals((await h.ok(["cluster", "info", "--json"])).stdout.includes('"stopped"'), true);
    await h.ok(["apply", "--yes"]);
    assertEquals(Deno.readTextFileSync(h.resolvConf), written);
  });
});

Deno.test("dns: with Docker down, info still shows the cluster and doctor says the nameserver is stale; a cluster gone from k3d and another's leftover block are failures", async () => {
  await withSimHost({ config: testConfig({ network: true }) }, async (h) => {
    const before = Deno.readTextFileSync(h.resolvConf);
    await h.ok(["cluster", "create", "--yes"]);
    h.updateWorld((w) => {
      w.docker.running = false;
    });
    const info = await h.ok(["cluster", "info"]);
    assertMatch(info.stdout, `${NAME}  stopped`);
    assertMatch(info.stdout, "docker:     not running");
    assertMatch(info.stdout, "Docker is not running, but");
    const down = await dnsCheck(h);
    assertEquals(down?.status, "fail");
    assertMatch(down!.fix!, "(start Docker first)");
    await h.ok(["cluster", "stop"]);
    assertEquals(Deno.readTextFileSync(h.resolvConf), before);
    h.updateWorld((w) => {
      w.docker.running = true;
    });
    await h.ok(["apply", "--yes"]);

    await h.tool("k3d", ["cluster", "delete", NAME]);
    const gone = await dnsCheck(h);
    assertEquals(gone?.status, "fail");
    assertMatch(gone!.detail, `k3d has no cluster ${NAME}, but`);
    assertMatch(gone!.fix!, `firestream cluster delete ${NAME}`);
    await h.ok(["cluster", "delete", "--yes"]);
    assertEquals(Deno.readTextFileSync(h.resolvConf), before);

    // a block left by a cluster nobody has any more
    Deno.writeTextFileSync(
      h.resolvConf,
      "# BEGIN firestream ghost\nnameserver 10.53.0.10\n# END firestream ghost\n" + before,
    );
    const ghost = await dnsCheck(h, "cluster DNS (ghost)");
    assertEquals(ghost?.status, "fail");
    assertMatch(ghost!.fix!, "# BEGIN firestream ghost");
    assertNotMatch(JSON.stringify(await dnsCheck(h)), "ghost");
  });
});
