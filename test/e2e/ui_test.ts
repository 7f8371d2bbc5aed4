/** End-to-end: `firestream ui` in a real terminal (tmux) on the simulated host, and `cluster info --watch`. */
import { assertEquals, assertMatch, assertOk } from "../assert.ts";
import { freeOffset, type SimHost, testConfig, withSimHost } from "../sim/harness.ts";
import { until } from "../wait.ts";
import { entries } from "./forwards.ts";
import { PROMPT, Terminal } from "./tmux.ts";

const TITLES = ["Cluster", "Host", "Registry", "Forwards", "Workloads", "Logs"];

/** A cluster with host network, a forwarded service, a pod with log lines and a pushed image. */
async function seeded(h: SimHost, offset: number): Promise<void> {
  await h.ok(["cluster", "create", "--yes"]);
  h.kube("firestream-local", (k, { addDeployment, addService, addPod, addEvent }) => {
    addDeployment(k, { namespace: "default", name: "web" });
    addService(k, { namespace: "default", name: "web", ports: [8080] });
    addPod(k, {
      namespace: "default",
      name: "my-pod",
      containers: ["app"],
      logs: { app: ["hello one", "error two", "hello three"] },
    });
    addEvent(k, {
      namespace: "default",
      type: "Warning",
      reason: "BackOff",
      message: "Back-off restarting failed container",
      object: "my-pod",
      time: "2026-01-02T00:00:00Z",
    });
  });
  await h.ok(["cluster", "port-forward", "--detach", "--offset", String(offset)]);
  await until(
    "web forwarded",
    () => entries(h).find((e) => e.service === "web" && e.status === "up"),
  );
  const state = JSON.parse(h.stateBytes()!);
  const port = state.clusters["firestream-local"].resources.registry.port;
  Deno.writeTextFileSync(
    `${h.simDir}/registry-${port}.json`,
    JSON.stringify({ "shop/web": ["1.0", "latest"] }),
  );
}

Deno.test("ui: the seed cluster's nodes, host items, registry and forwards; a killed forward restarts; hosts drift; logs with a filter; the plan; q gives the terminal back", async () => {
  const offset = freeOffset();
  await withSimHost({ config: testConfig({ network: true }) }, async (h) => {
    await seeded(h, offset);
    const t = new Terminal(h);
    try {
      await t.start(120, 40);
      await t.firestream(["ui"]);
      await t.waitFor(
        "the nodes, host items, registry and forward",
        (s) =>
          /server-0 Ready/.test(s) &&
          /agent-1 Ready/.test(s) &&
          /ok\s+routes\s+10\.42\.0\.0\/16, 10\.43\.0\.0\/16 via/.test(s) &&
          /ok\s+dns\s+resolv\.conf/.test(s) &&
          /ok\s+hosts\s+/.test(s) &&
          /healthy/.test(s) && s.includes("shop/web: 1.0, latest") &&
          s.includes(`web.default:8080 → ${8080 + offset}  up`),
      );
      const screen = await t.capture();
      for (const title of TITLES) assertMatch(screen, title);
      assertMatch(screen, "BackOff pod/my-pod");

      // a forward killed outside: restarting (its new kubectl held until the view has shown it),
      // then up again
      h.hold("kubectl port-forward");
      const web = entries(h).find((e) => e.service === "web")!;
      Deno.kill(web.pid!, "SIGKILL");
      await t.waitFor(
        "the forward restarting",
        (s) => /web\.default:8080 → \d+\s+restarting/.test(s),
      );
      h.release("kubectl port-forward");
      await t.waitFor(
        "the forward up again",
        // and the pod its kubectl forwards to
        (s) => /web\.default:8080 → \d+\s+up\s+restarts 1\s+pod web-/.test(s),
      );

      // the hosts block edited outside: the plan's own check calls it drift
      const hosts = Deno.readTextFileSync(h.hostsFile);
      assertMatch(hosts, "# BEGIN firestream firestream-local");
      Deno.writeTextFileSync(
        h.hostsFile,
        hosts.replace(/(# BEGIN firestream firestream-local\n)[^\n]*\n/, "$1"),
      );
      await t.waitFor("hosts drift", (s) => /drift\s+hosts/.test(s) && s.includes("Host: drift"));

      // Enter on a pod shows its log lines; / filters them
      await t.keys("/");
      await t.type("my-pod");
      await t.keys("Enter");
      await t.waitFor(
        "the pods filtered",
        (s) => !/default\/web-/.test(s) && /default\/my-pod/.test(s),
      );
      await t.keys("Enter");
      await t.waitFor(
        "the pod's log lines",
        (s) =>
          s.includes("Logs default/my-pod") && s.includes("hello one") && s.includes("error two"),
      );
      await t.keys("/");
      await t.type("hello");
      await t.keys("Enter");
      await t.waitFor(
        "the filtered log lines",
        (s) => s.includes("hello one") && s.includes("hello three") && !s.includes("error two"),
      );

      // p shows the plan, with the hosts block to put back
      await t.keys("p");
      const plan = await t.waitFor("the plan", (s) => s.includes("Plan (made"));
      assertMatch(plan, "cluster.firestream-local.hosts");
      await t.keys("Escape");
      await t.waitFor("the panes again", (s) => s.includes("Workloads"));

      // q: exit 0, the shell prompt back, the cursor shown, the main screen
      await t.keys("q");
      const after = await t.waitFor(
        "the exit code and the prompt",
        (s) => /exit=0\n\s*sim\$/.test(s),
      );
      assertOk(after.trimEnd().endsWith(PROMPT.trim()), after);
      assertEquals(await t.pane("#{cursor_flag} #{alternate_on}"), "1 0");
      assertMatch(Deno.readTextFileSync(`${h.projectDir}/.firestream/tui.log`), "watching pods");
    } finally {
      await t.close();
    }
  });
});

Deno.test("ui: colour only without NO_COLOR; 80×24 shows every pane title; a resize redraws; bare firestream opens it", async () => {
  await withSimHost({ config: testConfig() }, async (h) => {
    await h.ok(["cluster", "create", "--yes"]);
    // deno-lint-ignore no-control-regex
    const escape = /\x1b\[[0-9;]*m/;
    const plain = new Terminal(h, { NO_COLOR: "1" });
    try {
      await plain.start(80, 24);
      await plain.firestream(["ui"]);
      const s = await plain.waitFor(
        "every pane title at 80×24",
        (s) => TITLES.every((t) => s.includes(t)) && /server-0 Ready/.test(s),
      );
      assertEquals(s.split("\n").filter(Boolean).length, 24);
      const raw = await plain.capture(true);
      assertOk(!escape.test(raw), "no colour with NO_COLOR=1");
      // a resize draws the frame again at the new width
      await plain.resize(100, 30);
      await plain.waitFor(
        "the frame at 100 columns",
        (s) => s.split("\n").some((l) => l.startsWith("┌") && l.trimEnd().length === 100),
      );
      await plain.keys("C-c");
      await plain.waitFor("exit 0 after Ctrl-C", (s) => /exit=0/.test(s));
    } finally {
      await plain.close();
    }
    const colour = new Terminal(h, { NO_COLOR: undefined });
    try {
      await colour.start(80, 24);
      // bare `firestream` on a terminal is the live view
      await colour.firestream([]);
      await colour.waitFor("the view", (s) => /server-0 Ready/.test(s));
      assertMatch(await colour.capture(true), escape);
      await colour.keys("q");
      await colour.waitFor("exit 0", (s) => /exit=0/.test(s));
    } finally {
      await colour.close();
    }
  });
});

Deno.test("ui: without a terminal it refuses in one line; cluster info --watch prints the view each interval", async () => {
  await withSimHost({ config: testConfig() }, async (h) => {
    await h.ok(["cluster", "create", "--yes"]);
    const r = await h.run(["ui"]);
    assertEquals(r.code, 1);
    assertEquals(r.stderr.trim().split("\n").length, 1, r.stderr);
    assertMatch(r.stderr, "cluster info --json");
    assertMatch(r.stderr, "cluster info --watch");
    // bare `firestream` without a terminal is still the help
    const bare = await h.run([]);
    assertMatch(bare.stderr, "Usage: firestream");
    const bad = await h.run(["ui", "--interval", "0"]);
    assertEquals(bad.code, 1);
    assertMatch(bad.stderr, "--interval");

    const child = h.spawn(["cluster", "info", "--watch", "--interval", "0.5"], {
      stdout: "piped",
    });
    const reader = child.stdout.pipeThrough(new TextDecoderStream()).getReader();
    let text = "";
    // three whole rounds: each ends with its servers line
    while ((text.match(/servers: /g) ?? []).length < 3) {
      const { value, done } = await reader.read();
      if (done) break;
      text += value;
    }
    child.kill("SIGTERM");
    await reader.cancel();
    await child.status;
    assertEquals((text.match(/^— /gm) ?? []).length >= 3, true, text);
    assertEquals((text.match(/servers: +1\/1 running/g) ?? []).length >= 3, true, text);
  });
});
