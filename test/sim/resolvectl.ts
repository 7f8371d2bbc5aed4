/** Simulated systemd-resolved's resolvectl: status, dns, domain, revert. */
import { SimExit } from "./core.ts";
import { notSimulated } from "./modelled.ts";
import type { World } from "./world.ts";

/**
 * resolvectl without systemd-resolved: over D-Bus up to systemd 259 (resolvectl.c status_global), over
 * varlink from 260 for status, dns and domain (resolvectl.c varlink_dump_dns_configuration, `%m` of
 * ENOENT: the socket is not there). fixtures/resolvectl/resolved-absent-260.json.
 */
function notRunning(world: World, verb: string): string {
  return world.systemdVersion >= 260 && ["status", "dns", "domain"].includes(verb)
    ? "Failed to connect to service /run/systemd/resolve/io.systemd.Resolve: No such file or directory\n"
    : "Failed to get global data: Unit dbus-org.freedesktop.resolve1.service not found.\n";
}

function linkIndex(world: World, iface: string): number {
  const names = ["lo", "eth0", ...Object.values(world.networks).map((n) => n.bridge)];
  return names.indexOf(iface) + 1;
}

function knownLink(world: World, iface: string): void {
  if (linkIndex(world, iface) <= 0) {
    throw new SimExit(1, `Failed to resolve interface "${iface}": No such device\n`);
  }
}

/** Is this resolvectl call a change? */
export function resolvectlMutating(argv: string[]): boolean {
  const words = argv.filter((a) => !a.startsWith("-"));
  return [
    "dns",
    "domain",
    "revert",
    "default-route",
    "llmnr",
    "mdns",
    "dnssec",
    "dnsovertls",
    "flush-caches",
  ]
    .includes(words[0] ?? "") &&
    (words.length > 2 || words[0] === "revert" || words[0] === "flush-caches");
}

/**
 * resolvectl's verbs and options (systemd/systemd src/resolve/resolvectl.c at v260: the verbs
 * table, native_parse_argv's OPTION entries with the common --help, --version, --no-pager,
 * --no-ask-password, --json and -j). The simulator models the verbs status, dns, domain and revert
 * and no option.
 */
export const RESOLVECTL_VERBS = [
  "query",
  "service",
  "openpgp",
  "tlsa",
  "status",
  "statistics",
  "reset-statistics",
  "flush-caches",
  "reset-server-features",
  "monitor",
  "show-cache",
  "show-server-state",
  "dns",
  "domain",
  "default-route",
  "llmnr",
  "mdns",
  "dnsovertls",
  "dnssec",
  "nta",
  "revert",
  "log-level",
  "help",
];
export const RESOLVECTL_MODELLED_VERBS = ["status", "dns", "domain", "revert"];
export const RESOLVECTL_OPTIONS = [
  "-h",
  "--help",
  "--version",
  "-4",
  "-6",
  "-i",
  "--interface",
  "-p",
  "--protocol",
  "-t",
  "--type",
  "-c",
  "--class",
  "--service-address",
  "--service-txt",
  "--cname",
  "--validate",
  "--synthesize",
  "--cache",
  "--stale-data",
  "--relax-single-label",
  "--zone",
  "--trust-anchor",
  "--network",
  "--search",
  "--raw",
  "--no-pager",
  "--no-ask-password",
  "--legend",
  "--json",
  "-j",
];

/** Ends the call at what the simulated resolvectl does not model, or as resolvectl ends it. */
function refuseUnmodelledResolvectl(argv: string[]): void {
  for (const a of argv) {
    if (!a.startsWith("-") || a === "-") continue;
    const name = a.startsWith("--") ? a.split("=")[0] : a.slice(0, 2);
    if (RESOLVECTL_OPTIONS.includes(name)) throw notSimulated("resolvectl", "", name);
    // getopt_long's words (glibc posix/getopt.c)
    throw new SimExit(
      1,
      a.startsWith("--")
        ? `resolvectl: unrecognized option '${name}'\n`
        : `resolvectl: invalid option -- '${a[1]}'\n`,
    );
  }
  const verb = argv[0] ?? "status";
  if (!RESOLVECTL_VERBS.includes(verb)) {
    // src/shared/verbs.c dispatch_verb
    throw new SimExit(1, `Unknown command verb '${verb}'.\n`);
  }
  if (!RESOLVECTL_MODELLED_VERBS.includes(verb)) throw notSimulated("resolvectl", "", verb);
  if (verb === "status" && argv.length > 2) {
    throw notSimulated("resolvectl", "status", "with more than one link");
  }
  if (verb === "revert" && argv.length > 2) {
    // the verbs table: revert takes one link at most
    throw new SimExit(1, "Too many arguments.\n");
  }
}

/** Runs `resolvectl …`. */
export function resolvectl(world: World, argv: string[], privileged: boolean): string {
  refuseUnmodelledResolvectl(argv);
  const [verb = "status", iface, ...values] = argv;
  if (!world.resolved) throw new SimExit(1, notRunning(world, verb));
  const linkName = (i: string) => `Link ${linkIndex(world, i)} (${i})`;
  switch (verb) {
    case "status": {
      // status_print_header, then print_configuration's vertical table: one table per section,
      // its keys right-aligned to the widest key of that section (format-table.c); the sections
      // and keys of fixtures/resolvectl/status-260.json
      const out: string[] = [];
      const section = (header: string, rows: [string, string][]) => {
        const width = Math.max(...rows.map(([k]) => k.length));
        out.push(header, ...rows.map(([k, v]) => `${k.padStart(width)}: ${v}`), "");
      };
      const links = iface ? [iface] : Object.keys(world.links);
      if (iface) knownLink(world, iface);
      if (!iface) {
        section("Global", [
          ["Protocols", "-LLMNR -mDNS -DNSOverTLS DNSSEC=no/unsupported"],
          ["resolv.conf mode", "stub"],
        ]);
      }
      for (const l of links) {
        const link = world.links[l] ?? { dns: [], domains: [] };
        // resolved's automatic default route: a link with route-only domains is none
        const defaultRoute = !link.domains.some((d) => d.startsWith("~"));
        const rows: [string, string][] = [
          ["Current Scopes", link.dns.length ? "DNS" : "none"],
          [
            "Protocols",
            `${
              defaultRoute ? "+" : "-"
            }DefaultRoute -LLMNR -mDNS -DNSOverTLS DNSSEC=no/unsupported`,
          ],
        ];
        if (link.dns.length) {
          rows.push(["Current DNS Server", link.dns[0]], ["DNS Servers", link.dns.join(" ")]);
        }
        if (link.domains.length) rows.push(["DNS Domain", link.domains.join(" ")]);
        rows.push(["Default Route", defaultRoute ? "yes" : "no"]);
        section(linkName(l), rows);
      }
      // DNS delegates (systemd 258) come after the links, in the whole status only
      // (resolvectl.c status_full)
      for (const [name, d] of Object.entries(iface ? {} : world.delegates ?? {})) {
        if (world.systemdVersion < 258) break;
        const rows: [string, string][] = [];
        if (d.dns.length) rows.push(["DNS Servers", d.dns.join(" ")]);
        if (d.domains.length) rows.push(["DNS Domain", d.domains.join(" ")]);
        rows.push(["Default Route", "no"]);
        section(`Delegate ${name}`, rows);
      }
      return out.join("\n");
    }
    case "dns":
    case "domain": {
      if (!iface) {
        return Object.entries(world.links).map(([l, v]) =>
          `${linkName(l)}: ${(verb === "dns" ? v.dns : v.domains).join(" ")}`
        ).join("\n") + "\n";
      }
      knownLink(world, iface);
      const link = world.links[iface] ??= { dns: [], domains: [] };
      if (values.length === 0) {
        return `${linkName(iface)}: ${(verb === "dns" ? link.dns : link.domains).join(" ")}\n`;
      }
      if (!privileged) throw new SimExit(1, "Failed to set DNS configuration: Access denied\n");
      if (verb === "dns") {
        for (const v of values) {
          if (!/^[\d.]+$/.test(v)) {
            throw new SimExit(1, `Failed to parse DNS server address: ${v}\n`);
          }
        }
        link.dns = values;
      } else link.domains = values;
      return "";
    }
    case "revert":
      if (!iface) throw new SimExit(1, "resolvectl revert: interface argument required\n");
      knownLink(world, iface);
      if (!privileged) {
        throw new SimExit(1, "Failed to revert interface configuration: Access denied\n");
      }
      delete world.links[iface];
      return "";
    default:
      throw notSimulated("resolvectl", "", verb);
  }
}
