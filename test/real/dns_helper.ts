/**
 * Runs inside a private network + mount namespace (`unshare -n -m`): dnsmasq as kube-dns on
 * 10.43.0.10 and as the upstream on 10.99.0.53, both on the namespace's loopback; `cluster create` on
 * the simulated host in resolv.conf mode (or with systemd-resolved); the written resolv.conf, hosts
 * file and a known nsswitch.conf bind-mounted over /etc; `getent hosts` through the real glibc
 * resolver; then `cluster delete`. Prints one JSON document with what every name answered.
 *
 * kube-dns answers the ingress domain as the server block Firestream wrote into the cluster's
 * `coredns-custom` tells CoreDNS to (read back and evaluated by test/sim/coredns.ts): every name
 * under the block's zone, with its address. With systemd-resolved, a second dnsmasq stands in for
 * resolved's stub (127.0.0.54, resolved's proxy stub address) and routes exactly as the links'
 * settings Firestream made through `resolvectl` say: each `~domain` of a link to that link's
 * server, everything else upstream.
 *
 * 10.43.0.10 is on the loopback only while names are looked up: preflight rightly refuses a service
 * network that overlaps an address of the host, so while the CLI runs, kube-dns answers its DNS test
 * on 127.0.0.53 instead (FIRESTREAM_DNS_PROBE), with the same records.
 */
import { type SimHost, simHost, testConfig } from "../sim/harness.ts";
import { findProgram, run } from "./require.ts";
import { answerFromServers, loadCustomServers } from "../sim/coredns.ts";
import { until } from "../wait.ts";

/** What the test asks for. */
export interface DnsCase {
  resolv: string;
  hosts: string;
  /** query names through glibc (not for CRLF files, which glibc cannot read) */
  lookup: boolean;
  /** also stop the cluster with firestream, look up again, and start it with apply */
  stop: boolean;
  /** the host's DNS method @default "resolv.conf" */
  mode?: "resolv.conf" | "resolved";
}

/** One name and what `getent hosts` answered ("" for no answer). */
export interface Row {
  name: string;
  answer: string;
  want: string;
}

/** What the helper reports. */
export interface DnsOutcome {
  written: { resolv: string; hosts: string };
  /** the zone and address of the server block Firestream wrote for CoreDNS */
  ingress: { zone: string; address: string };
  /** resolved: the cluster bridge's settings after create, and after delete */
  link?: { dns: string[]; domains: string[] };
  linkAfter?: { dns: string[]; domains: string[] } | null;
  create: string;
  tables: { label: string; rows: Row[] }[];
  /** queries kube-dns received while the cluster was stopped */
  stoppedQueries?: string[];
  stop?: string;
  restored: { resolv: string; hosts: string };
}

export const KUBE_DNS = "10.43.0.10";
export const UPSTREAM = "10.99.0.53";
/** Where kube-dns answers the CLI's own DNS test. */
const PROBE = "127.0.0.53";
/** Where the stand-in for systemd-resolved's stub listens. */
const STUB = "127.0.0.54";
/** kube-dns: the cluster's names, NXDOMAIN for the rest of cluster.local, the rest upstream. */
const KUBE_DNS_ARGS = [
  "--host-record=kubernetes.default.svc.cluster.local,10.43.0.1",
  "--local=/cluster.local/",
  `--server=${UPSTREAM}`,
];
/** The names looked up and what each must answer (INGRESS: the ingress address). */
const INGRESS = "ingress";
function names(mode: "resolv.conf" | "resolved"): [string, string][] {
  return [
    ["kubernetes.default.svc.cluster.local", "10.43.0.1"],
    // short names come from resolv.conf's search line; resolved's stub is given routing domains only
    ...(mode === "resolv.conf"
      ? [["kubernetes.default", "10.43.0.1"], ["kubernetes", "10.43.0.1"]] as [string, string][]
      : []),
    ["www.example.com", "93.184.216.34"],
    ["k3d-registry.localhost", "127.0.0.1"],
    ["firestream.local", "127.0.0.1"],
    ["app.firestream.local", "127.0.0.1"],
    // names written nowhere: the cluster's DNS answers the whole domain
    ["anything.firestream.local", INGRESS],
    ["a.b.deep.firestream.local", INGRESS],
  ];
}

async function must(program: string, args: string[]): Promise<string> {
  const r = await run(findProgram(program) ?? program, args);
  if (r.code !== 0) throw new Error(`${program} ${args.join(" ")}: ${r.stderr || r.stdout}`);
  return r.stdout;
}

function dnsmasq(listen: string, dir: string, args: string[]): Deno.ChildProcess {
  return new Deno.Command(findProgram("dnsmasq")!, {
    args: [
      "--conf-file=/dev/null",
      "--keep-in-foreground",
      "--no-resolv",
      "--no-hosts",
      "--user=root",
      "--pid-file=",
      "--bind-interfaces",
      `--listen-address=${listen}`,
      "--port=53",
      "--log-queries",
      `--log-facility=${dir}/dnsmasq-${listen}.log`,
      ...args,
    ],
    stdin: "null",
    stdout: "null",
    stderr: "inherit",
  }).spawn();
}

async function waitForDns(server: string, name: string): Promise<void> {
  await until(`dnsmasq on ${server} to answer for ${name}`, async () => {
    try {
      await Deno.resolveDns(name, "A", {
        nameServer: { ipAddr: server, port: 53 },
        signal: AbortSignal.timeout(5000),
      });
      return true;
    } catch {
      return false;
    }
  });
}

/**
 * Every name through glibc; while the cluster is stopped its names (the cluster's and the ingress
 * domain's) are not expected to answer.
 */
async function lookUp(
  mode: "resolv.conf" | "resolved",
  ingress: string,
  stopped = false,
): Promise<Row[]> {
  const rows: Row[] = [];
  for (const [name, expected] of names(mode)) {
    const want = expected === INGRESS ? ingress : expected;
    const r = await run(findProgram("getent")!, ["hosts", name]);
    rows.push({
      name,
      answer: r.code === 0 ? r.stdout.trim().split(/\s+/)[0] : "",
      want: stopped && (want.startsWith("10.43.") || want === ingress) ? "" : want,
    });
  }
  return rows;
}

/** The zone and address of the server block in the cluster's `coredns-custom`, as CoreDNS reads it. */
function ingressBlock(h: SimHost): { zone: string; address: string } {
  const data = Object.values(h.world().clusters)[0].kube.objects.configmaps
    ?.["kube-system/coredns-custom"]?.data ?? {};
  const blocks = loadCustomServers(data);
  const zone = blocks[0]?.zones[0]?.replace(/\.$/, "");
  if (!zone) throw new Error("no server block in coredns-custom");
  const answer = answerFromServers(blocks, `probe.${zone}`, "A");
  const address = answer?.answers[0]?.data;
  if (!address) throw new Error(`the server block for ${zone} answers no address`);
  return { zone, address };
}

/** dnsmasq arguments that answer as the server block does: every name of the zone, its address. */
function ingressArgs(ingress: { zone: string; address: string }): string[] {
  return [`--address=/${ingress.zone}/${ingress.address}`];
}

/** Binds the host's files over /etc (again after each write: a rename makes a new file). */
async function bindEtc(h: SimHost, nsswitch: string): Promise<void> {
  for (const target of ["/etc/resolv.conf", "/etc/hosts", "/etc/nsswitch.conf"]) {
    await run(findProgram("umount")!, [target]);
  }
  await must("mount", ["--bind", h.resolvConf, "/etc/resolv.conf"]);
  await must("mount", ["--bind", h.hostsFile, "/etc/hosts"]);
  await must("mount", ["--bind", nsswitch, "/etc/nsswitch.conf"]);
}

/** Runs `fn` with kube-dns on 10.43.0.10 (the address exists only meanwhile). */
async function withKubeDns<T>(
  root: string,
  ingress: { zone: string; address: string },
  fn: () => Promise<T>,
): Promise<T> {
  await must("ip", ["addr", "add", `${KUBE_DNS}/32`, "dev", "lo"]);
  const server = dnsmasq(KUBE_DNS, root, [...ingressArgs(ingress), ...KUBE_DNS_ARGS]);
  try {
    await waitForDns(KUBE_DNS, "kubernetes.default.svc.cluster.local");
    return await fn();
  } finally {
    try {
      server.kill("SIGTERM");
    } catch { /* gone */ }
    await server.status;
    await must("ip", ["addr", "del", `${KUBE_DNS}/32`, "dev", "lo"]);
  }
}

async function cli(h: SimHost, args: string[]): Promise<string> {
  const r = await h.run(args, { env: { FIRESTREAM_DNS_PROBE: `${PROBE}:53` } });
  if (r.code !== 0) {
    throw new Error(`firestream ${args.join(" ")} exited ${r.code}\n${r.stdout}\n${r.stderr}`);
  }
  return r.stderr;
}

/**
 * systemd-resolved's stub as the links' settings make it route: each routing domain (`~d`) of a
 * link to that link's first server; everything else upstream (the host's own link).
 */
function stubArgs(links: Record<string, { dns: string[]; domains: string[] }>): string[] {
  const args: string[] = [];
  for (const link of Object.values(links)) {
    for (const d of link.domains.filter((x) => x.startsWith("~") && link.dns[0])) {
      args.push(`--server=/${d.slice(1)}/${link.dns[0]}`);
    }
  }
  return [...args, `--server=${UPSTREAM}`];
}

/** The cluster bridge's settings (the link whose server is kube-dns), or null. */
function clusterLink(h: SimHost): { dns: string[]; domains: string[] } | null {
  const link = Object.values(h.world().links).find((l) => l.dns.includes(KUBE_DNS));
  return link ? { dns: link.dns, domains: link.domains } : null;
}

async function main(c: DnsCase): Promise<DnsOutcome> {
  const mode = c.mode ?? "resolv.conf";
  await must("ip", ["link", "set", "lo", "up"]);
  await must("ip", ["addr", "add", `${UPSTREAM}/32`, "dev", "lo"]);
  if (mode === "resolved") await must("ip", ["addr", "add", `${STUB}/32`, "dev", "lo"]);
  const config = testConfig({ network: true })
    .replace("[cluster.k3d.tls]\nenabled = false", "[cluster.k3d.tls]\nenabled = true")
    .replace(
      "patch_etc_hosts = true",
      'patch_etc_hosts = true\nhosts = ["app.firestream.local"]',
    );
  const h = await simHost({ config, resolved: mode === "resolved" });
  const servers: Deno.ChildProcess[] = [];
  try {
    servers.push(dnsmasq(PROBE, h.root, KUBE_DNS_ARGS));
    // the upstream: one public-looking name, NXDOMAIN for everything else
    servers.push(dnsmasq(UPSTREAM, h.root, [
      "--host-record=www.example.com,93.184.216.34",
      "--local=/#/",
    ]));
    await waitForDns(PROBE, "kubernetes.default.svc.cluster.local");
    await waitForDns(UPSTREAM, "www.example.com");
    const nsswitch = `${h.root}/nsswitch.conf`;
    Deno.writeTextFileSync(nsswitch, "hosts: files dns\n");
    Deno.writeTextFileSync(h.resolvConf, c.resolv);
    Deno.writeTextFileSync(h.hostsFile, c.hosts);

    const out: DnsOutcome = {
      written: { resolv: "", hosts: "" },
      ingress: { zone: "", address: "" },
      create: await cli(h, ["cluster", "create", "--yes"]),
      tables: [],
      restored: { resolv: "", hosts: "" },
    };
    out.written = {
      resolv: Deno.readTextFileSync(h.resolvConf),
      hosts: Deno.readTextFileSync(h.hostsFile),
    };
    const ingress = out.ingress = ingressBlock(h);
    if (mode === "resolved") {
      out.link = clusterLink(h) ?? undefined;
      servers.push(dnsmasq(STUB, h.root, stubArgs(h.world().links)));
      await waitForDns(STUB, "www.example.com");
    }
    const lookUpNow = (stopped = false) => () => lookUp(mode, ingress.address, stopped);
    if (c.lookup) {
      await bindEtc(h, nsswitch);
      out.tables.push({
        label: "cluster running",
        rows: await withKubeDns(h.root, ingress, lookUpNow()),
      });
    }
    if (c.stop) {
      out.stop = await cli(h, ["cluster", "stop"]);
      await bindEtc(h, nsswitch);
      const log = `${h.root}/dnsmasq-${KUBE_DNS}.log`;
      let seen = 0;
      const rows = await withKubeDns(h.root, ingress, () => {
        seen = Deno.readTextFileSync(log).length;
        return lookUpNow(true)();
      });
      out.tables.push({
        label:
          "after `cluster stop` (no kube-dns line: its names are not expected, nothing waits for it)",
        rows,
      });
      out.stoppedQueries = Deno.readTextFileSync(log).slice(seen).split("\n").filter((l) =>
        /query\[/.test(l)
      );
      await cli(h, ["apply", "--yes"]);
      await bindEtc(h, nsswitch);
      out.tables.push({
        label: "started again by apply",
        rows: await withKubeDns(h.root, ingress, lookUpNow()),
      });
    }
    await cli(h, ["cluster", "delete", "--yes"]);
    if (mode === "resolved") out.linkAfter = clusterLink(h);
    out.restored = {
      resolv: Deno.readTextFileSync(h.resolvConf),
      hosts: Deno.readTextFileSync(h.hostsFile),
    };
    return out;
  } finally {
    for (const s of servers) {
      try {
        s.kill("SIGTERM");
      } catch { /* gone */ }
      await s.status;
    }
    await h.cleanup();
  }
}

if (import.meta.main) {
  console.log(JSON.stringify(await main(JSON.parse(Deno.args[0]) as DnsCase)));
}
