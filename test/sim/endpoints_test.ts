/** Pods behind services in the simulator: EndpointSlices as the API server returns them, and port-forward's need for a running pod. */
import { assertEquals, assertMatch } from "../assert.ts";
import { freePort, withSimHost } from "./harness.ts";

Deno.test("sim endpointslices: one slice per service with a selector, ready per pod, null endpoints without pods; several types in one get", async () => {
  await withSimHost({}, async (h) => {
    assertEquals(
      (await h.tool("k3d", ["cluster", "create", "ep", "--api-port", `127.0.0.1:${freePort()}`]))
        .code,
      0,
    );
    h.kube("ep", (k, { addService, addDeployment }) => {
      addDeployment(k, { namespace: "default", name: "web", replicas: 2 });
      addService(k, { namespace: "default", name: "web", ports: [{ port: 80, name: "http" }] });
      addDeployment(k, { namespace: "default", name: "slow", available: false });
      addService(k, { namespace: "default", name: "slow", ports: [8080] });
      addService(k, { namespace: "default", name: "none", ports: [9000] });
      addService(k, { namespace: "default", name: "ext", ports: [443], selector: null });
    });
    const r = await h.tool("kubectl", [
      "--context",
      "k3d-ep",
      "get",
      "services,endpointslices.discovery.k8s.io",
      "-A",
      "-o",
      "json",
    ]);
    assertEquals(r.code, 0, r.stderr);
    const list = JSON.parse(r.stdout);
    assertEquals(list.kind, "List");
    const slices = list.items.filter((i: { kind: string }) => i.kind === "EndpointSlice");
    const byService = Object.fromEntries(
      slices.map((
        s: { metadata: { labels: Record<string, string> } },
      ) => [s.metadata.labels["kubernetes.io/service-name"], s]),
    );
    for (const name of ["web", "slow", "none"]) assertEquals(name in byService, true, name);
    assertEquals(byService.ext, undefined, "no controller slice for a service without selector");
    assertEquals(byService.web.apiVersion, "discovery.k8s.io/v1");
    assertEquals(byService.web.addressType, "IPv4");
    assertEquals(byService.web.endpoints.length, 2);
    assertEquals(byService.web.endpoints[0].conditions, {
      ready: true,
      serving: true,
      terminating: false,
    });
    assertEquals(byService.web.endpoints[0].targetRef.kind, "Pod");
    assertEquals(byService.web.ports, [{ name: "http", port: 80, protocol: "TCP" }]);
    assertEquals(byService.slow.endpoints[0].conditions.ready, false);
    assertEquals(byService.none.endpoints, null);
    assertEquals(
      list.items.findIndex((i: { kind: string }) => i.kind === "EndpointSlice") >
        list.items.findLastIndex((i: { kind: string }) => i.kind === "Service"),
      true,
      "types come in the order asked",
    );
  });
});

Deno.test("sim port-forward: a pending pod is refused, no pod times out, one taken port of several is skipped", async () => {
  await withSimHost({}, async (h) => {
    assertEquals(
      (await h.tool("k3d", ["cluster", "create", "pf", "--api-port", `127.0.0.1:${freePort()}`]))
        .code,
      0,
    );
    h.kube("pf", (k, { addService, addDeployment }) => {
      addDeployment(k, { namespace: "default", name: "slow", available: false });
      addService(k, { namespace: "default", name: "slow", ports: [8080] });
      addService(k, { namespace: "default", name: "none", ports: [9000] });
    });
    const pf = (svc: string, ...rest: string[]) =>
      h.tool("kubectl", [
        "--context",
        "k3d-pf",
        "port-forward",
        `svc/${svc}`,
        ...rest,
        "--address",
        "127.0.0.1",
      ]);
    const pending = await pf("slow", `${freePort()}:8080`);
    assertEquals(pending.code, 1);
    assertEquals(
      pending.stderr,
      "error: unable to forward port because pod is not running. Current status=Pending\n",
    );
    const none = await pf("none", `${freePort()}:9000`, "--pod-running-timeout", "1s");
    assertEquals([none.code, none.stderr], [1, "error: timed out waiting for the condition\n"]);

    // two ports, the first taken: the second is served and the first reported
    h.kube("pf", (k, { addService, addDeployment }) => {
      addDeployment(k, { namespace: "default", name: "two" });
      addService(k, { namespace: "default", name: "two", ports: [80, 81] });
    });
    const held = Deno.listen({ hostname: "127.0.0.1", port: 0 });
    const taken = (held.addr as Deno.NetAddr).port;
    const free = freePort();
    const child = h.spawnTool("kubectl", [
      "--context",
      "k3d-pf",
      "port-forward",
      "svc/two",
      `${taken}:80`,
      `${free}:81`,
    ]);
    const out = child.stdout.pipeThrough(new TextDecoderStream()).getReader();
    assertEquals((await out.read()).value, `Forwarding from 127.0.0.1:${free} -> 81\n`);
    child.kill("SIGTERM");
    await child.status;
    out.releaseLock();
    const err = await new Response(child.stderr).text();
    assertMatch(err, `Unable to listen on port ${taken}: Listeners failed to create`);
    held.close();
  });
});
