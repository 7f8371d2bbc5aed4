import { assertEquals } from "../../test/assert.ts";
import { newRecord } from "../../tasks/context.ts";
import type { Plan } from "../cluster/plan.ts";
import { configDefaults } from "../config/schema.ts";
import type { ForwardEntry } from "../portforward/files.ts";
import type { ForwardEvent } from "../portforward/files.ts";
import { hostItems, withRestarts } from "./live.ts";

function plan(changes: Plan["changes"], k3d = configDefaults().cluster.k3d): Plan {
  return {
    format: "firestream-plan",
    version: 1,
    created_at: "2026-01-01T00:00:00Z",
    config: { file: null, sha256: "" },
    state: { lineage: "l", serial: 1 },
    desired: { [k3d.name]: k3d },
    changes,
    summary: { create: 0, update: changes.length, replace: 0, delete: 0 },
  };
}

Deno.test("hostItems: ok, drift and pending change come from the plan's own changes; what is off says so", () => {
  const k3d = configDefaults().cluster.k3d;
  k3d.network.configure_routes = true;
  k3d.network.configure_dns = true;
  k3d.network.patch_etc_hosts = true;
  k3d.tls.enabled = false;
  k3d.dev_mode.port_forward_all = false;
  const record = newRecord(k3d, "/p");
  record.resources.routes = [{ cidr: "10.42.0.0/16", via: "172.18.0.3" }];
  record.resources.hosts_block = { file: "/etc/hosts", lines: ["127.0.0.1\tapp.local"] };
  const items = hostItems(
    plan([{
      address: `cluster.${k3d.name}.hosts`,
      cluster: k3d.name,
      action: "update",
      cause: "drift",
      destructive: false,
      diffs: [{ key: "hosts_block", from: "x", to: "y", drift: true }],
      note: "/etc/hosts entries",
    }, {
      address: `cluster.${k3d.name}.dns`,
      cluster: k3d.name,
      action: "update",
      cause: "config",
      destructive: false,
      diffs: [{ key: "dns", to: "10.43.0.10" }],
    }], k3d),
    record,
    undefined,
  );
  const by = Object.fromEntries(items.map((i) => [i.name, i]));
  assertEquals(by.routes.status, "ok");
  assertEquals(by.routes.detail, "10.42.0.0/16 via 172.18.0.3");
  assertEquals(by.hosts.status, "drift");
  assertEquals(by.hosts.detail, "/etc/hosts entries (hosts_block)");
  assertEquals(by.dns.status, "change");
  assertEquals(by.cert.status, "off");
  assertEquals(by.forwards.status, "off");
  assertEquals(by.CA, undefined);
});

Deno.test("withRestarts: a forward starting again after an exit is restarting; up again ends it; each restart counts", () => {
  const e: ForwardEntry = {
    namespace: "default",
    service: "web",
    port: 8080,
    local_port: 18080,
    pid: 2,
    status: "starting",
    since: "",
  } as ForwardEntry;
  const ev = (event: ForwardEvent["event"], message?: string): ForwardEvent => ({
    time: "t",
    event,
    key: "default/web",
    ...(message ? { message } : {}),
  });
  const events = [ev("started"), ev("up"), ev("exited", "exit code 137; restarting now")];
  assertEquals(withRestarts(e, events).status, "restarting");
  assertEquals(withRestarts(e, events).restarts, 1);
  const upAgain = [...events, ev("started"), ev("up")];
  assertEquals(withRestarts({ ...e, status: "up" }, upAgain), { ...e, status: "up", restarts: 1 });
  // the first start is only starting; an exit while waiting for a pod is no restart
  assertEquals(withRestarts(e, [ev("started")]).status, "starting");
  assertEquals(withRestarts(e, [ev("exited", "exit code 1; waiting for a ready pod")]).restarts, 0);
  // another service's events are not this one's
  assertEquals(withRestarts(e, [{ ...events[2], key: "default/api" }]).restarts, 0);
});
