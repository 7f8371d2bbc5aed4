/** Cluster DNS on the host: split DNS with systemd-resolved, a resolv.conf block, or /etc/resolver on macOS. */
import { FirestreamError } from "../errors.ts";
import { exec, firstLine } from "../tools/exec.ts";
import { blockIds, readBlock, removeBlock, setBlock } from "./block.ts";

/** How this host takes DNS settings. */
export type DnsMode = "resolved" | "resolv.conf" | "macos-resolver";

/** The cluster's DNS domain. */
export const CLUSTER_DOMAIN = "cluster.local";

/** Search domains the seed describes. */
export const SEARCH_DOMAINS = ["default.svc.cluster.local", "svc.cluster.local", "cluster.local"];

/** The file macOS reads for the cluster domain. */
export function macResolverPath(): string {
  return Deno.env.get("FIRESTREAM_MACOS_RESOLVER") ?? `/etc/resolver/${CLUSTER_DOMAIN}`;
}

/** The DNS method of this host and, with systemd-resolved, each link's split-DNS settings. */
export interface DnsStatus {
  mode: DnsMode;
  /** by interface name, from `resolvectl status` */
  links: Record<string, { dns: string[]; domains: string[] }>;
}

/**
 * One `resolvectl status`: the method (systemd-resolved when it answers; /etc/resolver on macOS;
 * else resolv.conf), and every link's servers and domains.
 */
export async function dnsStatus(): Promise<DnsStatus> {
  if (Deno.build.os === "darwin") return { mode: "macos-resolver", links: {} };
  const r = await exec(["resolvectl", "status"], { check: false });
  if (r.code === 0) return { mode: "resolved", links: parseResolvectlStatus(r.stdout) };
  // no resolvectl, or systemd-resolved not running ({@link RESOLVED_ABSENT}): resolv.conf is the
  // method; anything else is a failure, not a reason to switch methods
  if (r.code === 127 || resolvedAbsent(r.stderr)) return { mode: "resolv.conf", links: {} };
  throw new FirestreamError(
    `resolvectl status failed: ${firstLine(r.stderr) || `exit ${r.code}`}`,
    {
      hint:
        "systemd-resolved is there but did not answer; fix it (`systemctl status systemd-resolved`) and run again",
    },
  );
}

/**
 * Each link's "DNS Servers" and "DNS Domain" in `resolvectl status` output (resolvectl.c,
 * link_status_one, and from systemd 260 status_print_header/print_configuration: a "Link N (IFNAME)"
 * header, then right-aligned "Key: value" lines; a long value goes on over indented lines without a
 * key). The "Global" section and, from systemd 258, each "Delegate NAME" section (a DNS delegate,
 * printed after the links) belong to no link.
 */
export function parseResolvectlStatus(
  text: string,
): Record<string, { dns: string[]; domains: string[] }> {
  const links: Record<string, { dns: string[]; domains: string[] }> = {};
  let link: { dns: string[]; domains: string[] } | undefined;
  let key = "";
  for (const line of text.split("\n")) {
    const header = /^Link \d+ \(([^)]+)\)/.exec(line);
    if (header) {
      link = links[header[1]] = { dns: [], domains: [] };
      key = "";
      continue;
    }
    if (/^(Global|Delegate \S+)\s*$/.test(line)) {
      link = undefined;
      continue;
    }
    if (!line.trim()) continue;
    const kv = /^\s*([A-Za-z][A-Za-z. ]*[A-Za-z]):(?:\s+(.*))?$/.exec(line);
    const words = (kv ? kv[2] ?? "" : line).trim().split(/\s+/).filter(Boolean);
    if (kv) key = kv[1];
    if (!link) continue;
    if (key === "DNS Servers") link.dns.push(...words);
    else if (key === "DNS Domain") link.domains.push(...words);
  }
  return links;
}

/**
 * What glibc takes from a resolv.conf: the nameservers in order (it uses the first {@link MAXNS}) and
 * the search list of the LAST `search` or `domain` line (each one replaces the list before it; a
 * `domain` line gives one domain). A keyword counts only at the start of a line, followed by a space
 * or a tab; `#` and `;` start comments. Without any such line glibc searches the domain of the
 * host name, when it has one.
 */
export function readResolvConf(
  text: string,
  hostname = Deno.hostname(),
): { nameservers: string[]; search: string[] } {
  const nameservers: string[] = [];
  let search: string[] | undefined;
  for (const line of text.split("\n")) {
    const m = /^(nameserver|search|domain)[ \t]+([^]*)$/.exec(line);
    if (!m) continue;
    const words = m[2].split(/[ \t\r]+/).filter(Boolean);
    if (m[1] === "nameserver") {
      if (words[0]) nameservers.push(words[0]);
    } else if (words.length) search = m[1] === "domain" ? words.slice(0, 1) : words;
  }
  const dot = hostname.indexOf(".");
  search ??= dot > 0 && dot < hostname.length - 1 ? [hostname.slice(dot + 1)] : [];
  return { nameservers, search };
}

/** glibc uses the first 3 nameservers. */
export const MAXNS = 3;

/** The search list glibc before 2.26 (and musl) reads: 6 domains, a 256-byte line (255 characters). */
export const SEARCH_LIMIT = { domains: 6, chars: 255 };

/** The cluster's search domains first, then the file's own, within {@link SEARCH_LIMIT}. */
export function mergeSearch(own: string[]): { search: string[]; dropped: string[] } {
  const search: string[] = [];
  const dropped: string[] = [];
  for (const d of [...SEARCH_DOMAINS, ...own]) {
    if (search.includes(d) || dropped.includes(d)) continue;
    const fits = search.length < SEARCH_LIMIT.domains &&
      [...search, d].join(" ").length <= SEARCH_LIMIT.chars;
    (fits ? search : dropped).push(d);
  }
  return { search, dropped };
}

/** Marker ids of the cluster's two resolv.conf blocks: nameserver at the top, search list at the end. */
export function resolvConfIds(cluster: string): { top: string; search: string } {
  return { top: cluster, search: `${cluster} search` };
}

/** The file without the cluster's blocks, byte for byte as it was before them. */
export function withoutResolvConfBlocks(text: string, cluster: string): string {
  const ids = resolvConfIds(cluster);
  return removeBlock(removeBlock(text, ids.search), ids.top);
}

/** Whether either of the cluster's blocks is in the file. */
export function hasResolvConfBlocks(text: string, cluster: string): boolean {
  const ids = resolvConfIds(cluster);
  return readBlock(text, ids.top) !== undefined || readBlock(text, ids.search) !== undefined;
}

/** The resolv.conf Firestream writes, and what glibc will not read of it. */
export interface ResolvConfPlan {
  text: string;
  /** search domains of the file left out to stay within {@link SEARCH_LIMIT} */
  dropped: string[];
  /** the file's nameservers glibc no longer reaches, with the cluster's first */
  unused: string[];
}

/**
 * The file with the cluster's blocks, as glibc reads it: a block at the top puts kube-dns first
 * (short timeouts), and a block at the end holds the last `search` line, the cluster's domains
 * followed by the file's own, so that it wins over every `search` or `domain` line of the file.
 * The file's own lines are never changed; removing both blocks gives back its exact bytes.
 */
export function resolvConfWith(
  text: string,
  options: {
    cluster: string;
    /** kube-dns */
    server: string;
    /** whose domain glibc searches when the file names none @default Deno.hostname() */
    hostname?: string;
  },
): ResolvConfPlan {
  const { cluster, server, hostname = Deno.hostname() } = options;
  const base = withoutResolvConfBlocks(text, cluster);
  const own = readResolvConf(base, hostname);
  const { search, dropped } = mergeSearch(own.search);
  const ids = resolvConfIds(cluster);
  const top = setBlock(base, ids.top, [`nameserver ${server}`, "options timeout:1 attempts:1"]);
  const out = setBlock(top, ids.search, [
    "# the cluster's search domains, then this file's own: glibc reads only the last search line",
    `search ${search.join(" ")}`,
  ], { at: "end" });
  return { text: out, dropped, unused: own.nameservers.slice(MAXNS - 1) };
}

/**
 * What resolvectl says when systemd-resolved is not running, each with its source: over D-Bus up to
 * systemd 259, over varlink from 260 on (its socket is gone, or nobody listens on it).
 */
export const RESOLVED_ABSENT: readonly { text: RegExp; source: string }[] = [
  {
    text: /org\.freedesktop\.resolve1|Could not activate remote peer/,
    source:
      "systemd ≤ 259 src/resolve/resolvectl.c status_global/status_ifindex: `Failed to get global data: ` + the bus error naming org.freedesktop.resolve1 (unit not found, or not activatable)",
  },
  {
    text: /Failed to connect to bus/,
    source: "systemd ≤ 259 resolvectl.c acquire_bus (sd_bus_open_system failed: no system bus)",
  },
  {
    text:
      /Failed to connect to service \/run\/systemd\/resolve\/io\.systemd\.Resolve: (No such file or directory|Connection refused)/,
    source:
      "systemd 260 src/resolve/resolvectl.c varlink_dump_dns_configuration: `Failed to connect to service /run/systemd/resolve/io.systemd.Resolve: %m` (status, dns, domain)",
  },
  { text: /command not found/, source: "no resolvectl at all (src/tools/exec.ts)" },
];

/** Whether resolvectl's error output says that systemd-resolved is not running. */
export function resolvedAbsent(stderr: string): boolean {
  return RESOLVED_ABSENT.some((r) => r.text.test(stderr));
}

/** The content of /etc/resolver/cluster.local on macOS. */
export function macResolverText(server: string): string {
  return `# written by firestream\nnameserver ${server}\ntimeout 1\n`;
}

/** Split-DNS settings of a link, as resolvectl reports them. */
export async function linkDns(iface: string): Promise<{ dns: string[]; domains: string[] }> {
  const parse = (out: string) =>
    out.slice(out.indexOf(":") + 1).trim().split(/\s+/).filter(Boolean);
  const dns = await exec(["resolvectl", "dns", iface]);
  const domains = await exec(["resolvectl", "domain", iface]);
  return { dns: parse(dns.stdout), domains: parse(domains.stdout) };
}

/** Drops the link's DNS settings. */
export async function revertLinkDns(iface: string): Promise<void> {
  await exec(["resolvectl", "revert", iface], { sudo: true });
}

/** Where the DNS test sends its query: FIRESTREAM_DNS_PROBE=off|HOST:PORT, else kube-dns on port 53. */
export function probeTarget(server: string): { ipAddr: string; port: number } | "off" {
  const setting = Deno.env.get("FIRESTREAM_DNS_PROBE");
  if (setting === "off") return "off";
  if (setting) {
    const at = setting.lastIndexOf(":");
    return {
      ipAddr: setting.slice(0, at).replace(/^\[|\]$/g, ""),
      port: Number(setting.slice(at + 1)),
    };
  }
  return { ipAddr: server, port: 53 };
}

/** Asks kube-dns for `kubernetes.default.svc.cluster.local`; the answer, or why it failed. */
export async function probeDns(
  target: { ipAddr: string; port: number },
  timeoutMs = 2000,
): Promise<{ ok: true; addresses: string[] } | { ok: false; error: string }> {
  try {
    const addresses = await Deno.resolveDns(`kubernetes.default.svc.${CLUSTER_DOMAIN}`, "A", {
      nameServer: target,
      signal: AbortSignal.timeout(timeoutMs),
    });
    return { ok: true, addresses };
  } catch (err) {
    return { ok: false, error: plainDnsError((err as Error).message) };
  }
}

/** Where the cluster stands, as far as the host's DNS is concerned. */
export type ClusterLiveness = "running" | "stopped" | "missing" | "docker-down";

/** How the host's DNS fares with the cluster as it is: a check's status, what it means, the fix. */
export interface DnsStanding {
  status: "pass" | "warn" | "fail";
  detail: string;
  fix?: string;
}

/**
 * The host's DNS for a cluster's record. A resolv.conf block asks kube-dns before every other
 * nameserver, so while the cluster is stopped (or Docker is) every lookup on the host first waits
 * for it; split DNS (systemd-resolved, macOS) sends it only cluster.local names.
 */
export function dnsStanding(
  rec: { mode: DnsMode; server: string; file?: string },
  live: {
    cluster: string;
    liveness: ClusterLiveness;
    /** resolv.conf mode: the cluster's blocks are in the file */
    blocks: boolean;
  },
): DnsStanding {
  const { cluster, liveness, blocks } = live;
  const down = liveness === "docker-down"
    ? "Docker is not running"
    : liveness === "missing"
    ? `k3d has no cluster ${cluster}`
    : `cluster ${cluster} is stopped`;
  if (rec.mode !== "resolv.conf") {
    return {
      status: "pass",
      detail: `split DNS: only ${CLUSTER_DOMAIN} names ask kube-dns (${rec.server})${
        liveness === "running" ? "" : `; ${down}, other lookups are not slowed`
      }`,
    };
  }
  if (liveness === "running") {
    return blocks
      ? {
        status: "pass",
        detail:
          `${rec.file} asks kube-dns (${rec.server}) first and searches the cluster's domains`,
      }
      : {
        status: "warn",
        detail: `the cluster's blocks are missing from ${rec.file}: cluster names do not resolve`,
        fix: "run `firestream apply` to write them again",
      };
  }
  if (!blocks) {
    return liveness === "missing"
      ? {
        status: "warn",
        detail: `${down}; its nameserver is not in ${rec.file}`,
        fix:
          `\`firestream apply\` creates it again, \`firestream cluster delete ${cluster}\` forgets it`,
      }
      : {
        status: "pass",
        detail:
          `${down}: its nameserver is out of ${rec.file} until \`firestream apply\` starts it again`,
      };
  }
  return {
    status: "fail",
    detail:
      `${down}, but ${rec.file} still asks its kube-dns (${rec.server}) first: every lookup on this host waits for it`,
    fix: liveness === "missing"
      ? `\`firestream cluster delete ${cluster}\` takes the nameserver out (or \`firestream apply\` creates the cluster again)`
      : `\`firestream cluster stop\` takes the nameserver out until \`firestream apply\` starts the cluster${
        liveness === "docker-down" ? " (start Docker first)" : ""
      }; or start it now with \`firestream apply\``,
  };
}

/** Clusters whose nameserver block is in the resolv.conf text. */
export function resolvConfClusters(text: string): string[] {
  return blockIds(text)
    .filter((name) =>
      hasResolvConfBlocks(text, name) &&
      readBlock(text, name)?.some((l) => l.startsWith("nameserver "))
    );
}

/** The resolver's failure in words, without its library's debug text (`Query { name: … }`). */
export function plainDnsError(message: string): string {
  if (/no records found|NXDomain|NoRecordsFound/i.test(message)) return "no records found";
  if (/timed? ?out|timeout|aborted/i.test(message)) return "no answer in time";
  if (/refused/i.test(message)) return "connection refused";
  const plain = message
    .replace(/^proto error:\s*/i, "")
    .replace(/\s*(for\s+)?[A-Z]\w*\s*[{(][\s\S]*$/, "")
    .replace(/\s*\(os error \d+\)/, "")
    .trim();
  return plain || "the lookup failed";
}
