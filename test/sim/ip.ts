/** Simulated iproute2 `ip route`: show (text and -j), add, replace, del, get, with ip's messages. */
import { SimExit } from "./core.ts";
import { notSimulated } from "./modelled.ts";
import type { SimRoute, World } from "./world.ts";

function parseCidr(text: string): { base: number; bits: number } | undefined {
  const m = /^(\d+)\.(\d+)\.(\d+)\.(\d+)(?:\/(\d+))?$/.exec(text);
  if (!m) return undefined;
  const nums = m.slice(1, 5).map(Number);
  if (nums.some((n) => n > 255)) return undefined;
  const bits = m[5] === undefined ? 32 : Number(m[5]);
  if (bits > 32) return undefined;
  return { base: ((nums[0] << 24) | (nums[1] << 16) | (nums[2] << 8) | nums[3]) >>> 0, bits };
}

function contains(cidr: string, ip: string): boolean {
  const c = parseCidr(cidr);
  const a = parseCidr(ip);
  if (!c || !a) return false;
  const mask = c.bits === 0 ? 0 : (~0 << (32 - c.bits)) >>> 0;
  return ((a.base & mask) >>> 0) === ((c.base & mask) >>> 0);
}

/**
 * A prefix as ip stores it, or ip's refusal (lib/utils.c get_prefix: "any valid" without a family,
 * family_name_verbose).
 */
function normalize(dst: string, family: string): string {
  if (dst === "default") return dst;
  const c = parseCidr(dst);
  if (!c) throw new SimExit(1, `Error: ${family} prefix is expected rather than "${dst}".\n`);
  const mask = c.bits === 0 ? 0 : (~0 << (32 - c.bits)) >>> 0;
  const base = (c.base & mask) >>> 0;
  const text = [24, 16, 8, 0].map((s) => (base >>> s) & 255).join(".");
  return c.bits === 32 ? text : `${text}/${c.bits}`;
}

function text(r: SimRoute): string {
  const parts = [r.dst];
  if (r.gateway) parts.push("via", r.gateway);
  parts.push("dev", r.dev);
  if (r.protocol) parts.push("proto", r.protocol);
  if (r.scope) parts.push("scope", r.scope);
  if (r.prefsrc) parts.push("src", r.prefsrc);
  return parts.join(" ") + " ";
}

/** A keyword: its name, and whether any prefix of it counts (iproute2 lib/utils.c `matches`). */
type Keyword = readonly [word: string, prefix: boolean];

/** The first keyword `arg` names, in the order ip tries them, or undefined. */
function keyword(arg: string | undefined, list: readonly Keyword[]): string | undefined {
  if (!arg) return undefined;
  return list.find(([w, prefix]) => prefix ? w.startsWith(arg) : w === arg)?.[0];
}

/**
 * ip's global options in the order ip.c tries them (iproute2 v7.1.0 ip/ip.c:189-297), and those
 * that take a value. `-color` may carry `=WHEN` (lib/color.c matches_color).
 */
export const IP_OPTIONS: readonly Keyword[] = [
  ["-loops", true],
  ["-family", true],
  ["-4", false],
  ["-6", false],
  ["-0", false],
  ["-M", false],
  ["-B", false],
  ["-human", true],
  ["-human-readable", true],
  ["-iec", true],
  ["-stats", true],
  ["-statistics", true],
  ["-details", true],
  ["-resolve", true],
  ["-oneline", true],
  ["-timestamp", true],
  ["-tshort", true],
  ["-Version", true],
  ["-force", true],
  ["-batch", true],
  ["-brief", true],
  ["-json", true],
  ["-pretty", true],
  ["-rcvbuf", true],
  ["-color", true],
  ["-help", true],
  ["-netns", true],
  ["-Numeric", true],
  ["-all", true],
  ["-echo", false],
];
/** The global options the simulated ip models: JSON output, and IPv4 (the only family it has). */
export const IP_MODELLED_OPTIONS = ["-json", "-4"];

/** ip's objects in the order ip.c tries them (ip/ip.c:84-123); the simulator models `route`. */
export const IP_OBJECTS: readonly Keyword[] = [
  "address",
  "addrlabel",
  "maddress",
  "route",
  "rule",
  "neighbor",
  "neighbour",
  "ntable",
  "ntbl",
  "link",
  "l2tp",
  "fou",
  "ila",
  "macsec",
  "tunnel",
  "tunl",
  "tuntap",
  "tap",
  "token",
  "tcpmetrics",
  "tcp_metrics",
  "monitor",
  "xfrm",
  "mroute",
  "mrule",
  "netns",
  "netconf",
  "vrf",
  "sr",
  "nexthop",
  "mptcp",
  "ioam",
  "help",
  "stats",
].map((w) => [w, true] as const);

/** `ip route` commands in the order do_iproute tries them (ip/iproute.c do_iproute). */
export const IP_ROUTE_VERBS: readonly Keyword[] = [
  ["add", true],
  ["change", true],
  ["chg", false],
  ["replace", true],
  ["prepend", true],
  ["append", true],
  ["test", true],
  ["delete", true],
  ["list", true],
  ["show", true],
  ["lst", true],
  ["get", true],
  ["flush", true],
  ["save", true],
  ["restore", true],
  ["showdump", true],
  ["help", true],
];
/** The route commands the simulator models (a change: add, change, replace, delete). */
export const IP_MODELLED_VERBS = [
  "add",
  "change",
  "chg",
  "replace",
  "delete",
  "list",
  "show",
  "lst",
  "get",
];

/**
 * The SELECTOR keywords of `ip route show` (ip/iproute.c iproute_list_flush_or_save); a word that
 * is none of them is the prefix. The simulator models the prefix (with `to`/`exact`) and the main
 * table, the only one it has.
 */
export const IP_SHOW_SELECTORS: readonly Keyword[] = [
  ["table", true],
  ["vrf", true],
  ["cached", true],
  ["cloned", true],
  ["tos", false],
  ["dsfield", true],
  ["protocol", true],
  ["scope", true],
  ["type", true],
  ["dev", false],
  ["oif", false],
  ["iif", false],
  ["mark", false],
  ["metric", true],
  ["priority", true],
  ["preference", false],
  ["via", false],
  ["src", false],
  ["realms", true],
  ["from", true],
  ["root", true],
  ["match", true],
];

/** `ip route get` keywords (ip/iproute.c iproute_get); the simulator models the address alone. */
export const IP_GET_KEYWORDS: readonly Keyword[] = [
  ["tos", false],
  ["dsfield", true],
  ["from", true],
  ["iif", true],
  ["mark", true],
  ["oif", true],
  ["dev", false],
  ["notify", true],
  ["connected", true],
  ["vrf", true],
  ["uid", true],
  ["fibmatch", true],
  ["as", false],
  ["sport", true],
  ["dport", true],
  ["ipproto", true],
  ["flowlabel", false],
];

/**
 * ROUTE keywords of `ip route add|change|replace|delete` (ip/iproute.c iproute_modify) and the
 * route types a prefix may follow (lib/rt_names.c rtnl_rtntype_a2n); the simulator models `via`
 * and `dev` (`oif`).
 */
export const IP_ROUTE_KEYWORDS: readonly Keyword[] = [
  ["src", false],
  ["as", false],
  ["via", false],
  ["from", false],
  ["tos", false],
  ["dsfield", true],
  ["expires", false],
  ["metric", true],
  ["priority", true],
  ["preference", false],
  ["scope", false],
  ["mtu", false],
  ["lock", false],
  ["hoplimit", false],
  ["advmss", false],
  ["reordering", true],
  ["rtt", false],
  ["rto_min", false],
  ["window", true],
  ["cwnd", true],
  ["initcwnd", true],
  ["initrwnd", true],
  ["features", true],
  ["quickack", true],
  ["congctl", true],
  ["rttvar", true],
  ["ssthresh", true],
  ["realms", true],
  ["onlink", false],
  ["nexthop", false],
  ["nhid", false],
  ["protocol", true],
  ["table", true],
  ["vrf", true],
  ["dev", false],
  ["oif", false],
  ["pref", true],
  ["encap", false],
  ["ttl-propagate", false],
  ["fastopen_no_cookie", true],
];
export const IP_ROUTE_TYPES: readonly Keyword[] = [
  "unicast",
  "local",
  "broadcast",
  "multicast",
  "throw",
  "unreachable",
  "prohibit",
  "blackhole",
  "nat",
  "anycast",
].map((w) => [w, false] as const);

/** Is this ip call a change? */
export function ipMutating(argv: string[]): boolean {
  const words = argv.filter((a) => !a.startsWith("-"));
  return keyword(words[0], IP_OBJECTS) === "route" &&
    ["add", "replace", "delete", "change", "chg", "append", "prepend", "flush", "restore"]
      .includes(keyword(words[1], IP_ROUTE_VERBS) ?? "");
}

/** Runs `ip …`. */
export function ip(world: World, argv: string[], privileged: boolean): string {
  let json = false;
  let inet = false;
  const args = [...argv];
  while (args[0]?.startsWith("-")) {
    const given = args.shift()!;
    if (given === "--") break;
    // one leading dash of `--opt` is dropped (ip/ip.c:198)
    const opt = given.startsWith("--") ? given.slice(1) : given;
    const known = keyword(opt.split("=")[0], IP_OPTIONS);
    if (!known) throw new SimExit(255, `Option "${opt}" is unknown, try "ip -help".\n`);
    if (!IP_MODELLED_OPTIONS.includes(known)) throw notSimulated("ip", "", given);
    if (known === "-json") json = true;
    else inet = true;
  }
  const family = inet ? "inet" : "any valid";
  const objectWord = args.shift();
  const object = objectWord === undefined ? undefined : keyword(objectWord, IP_OBJECTS);
  if (objectWord === undefined) throw notSimulated("ip", "", "(no object: its usage)");
  // ip/ip.c do_cmd: an unknown object fails with EXIT_FAILURE
  if (!object) throw new SimExit(1, `Object "${objectWord}" is unknown, try "ip help".\n`);
  if (object !== "route") throw notSimulated("ip", "", object);
  const verbWord = args.shift() ?? "list";
  const verb = keyword(verbWord, IP_ROUTE_VERBS);
  if (!verb) {
    throw new SimExit(255, `Command "${verbWord}" is unknown, try "ip route help".\n`);
  }
  if (!IP_MODELLED_VERBS.includes(verb)) throw notSimulated("ip", "route", verb);
  if (["list", "show", "lst"].includes(verb)) {
    let want: string | undefined;
    while (args.length) {
      const word = args.shift()!;
      const k = keyword(word, IP_SHOW_SELECTORS);
      if (k === "table" && ["main", "254"].includes(args[0] ?? "")) {
        args.shift();
        continue;
      }
      if (k) {
        throw notSimulated("ip", `route ${verb}`, k === "table" ? `table ${args[0] ?? ""}` : k);
      }
      let prefix = word;
      if (keyword(prefix, [["to", true]])) prefix = args.shift() ?? "";
      if (keyword(prefix, [["root", true], ["match", true]])) {
        throw notSimulated("ip", `route ${verb}`, prefix);
      }
      if (keyword(prefix, [["exact", true]])) prefix = args.shift() ?? "";
      want = normalize(prefix, family);
    }
    const routes = want === undefined ? world.routes : world.routes.filter((r) => r.dst === want);
    if (json) {
      return JSON.stringify(routes.map((r) => ({
        dst: r.dst,
        ...(r.gateway ? { gateway: r.gateway } : {}),
        dev: r.dev,
        ...(r.protocol ? { protocol: r.protocol } : {}),
        ...(r.scope ? { scope: r.scope } : {}),
        ...(r.prefsrc ? { prefsrc: r.prefsrc } : {}),
        flags: [],
      }))) + "\n";
    }
    return routes.map((r) => text(r) + "\n").join("");
  }
  if (verb === "get") {
    const extra = args.slice(1).map((a) => keyword(a, IP_GET_KEYWORDS) ?? a);
    const first = keyword(args[0], IP_GET_KEYWORDS);
    if (first || extra.length) throw notSimulated("ip", "route get", first ?? extra[0]);
    const addr = args[0];
    if (!addr || !parseCidr(addr)) {
      throw new SimExit(1, `Error: ${family} prefix is expected rather than "${addr ?? ""}".\n`);
    }
    const best = world.routes.filter((r) => r.dst === "default" || contains(r.dst, addr))
      .sort((a, b) => prefixLen(b.dst) - prefixLen(a.dst))[0];
    if (!best) throw new SimExit(2, "RTNETLINK answers: Network is unreachable\n");
    const r = { ...best, dst: addr };
    if (json) {
      return JSON.stringify([{
        dst: addr,
        ...(best.gateway ? { gateway: best.gateway } : {}),
        dev: best.dev,
        flags: [],
      }]) + "\n";
    }
    return text(r) + "\n    cache \n";
  }
  // ROUTE (ip/iproute.c iproute_modify): keywords with their values, and the prefix anywhere
  if (!args[0]) throw new SimExit(255, "Error: argument is required\n");
  let dst: string | undefined;
  let gateway: string | undefined;
  let dev: string | undefined;
  while (args.length) {
    let word = args.shift()!;
    const k = keyword(word, IP_ROUTE_KEYWORDS);
    if (k === "via" || k === "dev" || k === "oif") {
      const v = args.shift();
      if (v === undefined) {
        throw new SimExit(255, `Command line is not complete. Try option "help"\n`);
      }
      if (k !== "via") dev = v;
      else if (!parseCidr(v) || v.includes("/")) {
        throw new SimExit(1, `Error: inet address is expected rather than "${v}".\n`);
      } else gateway = v;
      continue;
    }
    if (k) throw notSimulated("ip", `route ${verb}`, k);
    if (word === "to") word = args.shift() ?? "";
    if (!/^\d/.test(word) && keyword(word, IP_ROUTE_TYPES)) {
      throw notSimulated("ip", `route ${verb}`, word);
    }
    if (dst !== undefined) {
      throw new SimExit(255, `Error: either "to" is duplicate, or "${word}" is a garbage.\n`);
    }
    dst = normalize(word, family);
  }
  if (dst === undefined) throw new SimExit(255, "Error: argument is required\n");
  if (!privileged) throw new SimExit(2, "RTNETLINK answers: Operation not permitted\n");
  const existing = world.routes.findIndex((r) => r.dst === dst);
  if (verb === "delete") {
    if (existing < 0 || (gateway && world.routes[existing].gateway !== gateway)) {
      throw new SimExit(2, "RTNETLINK answers: No such process\n");
    }
    world.routes.splice(existing, 1);
    return "";
  }
  if (gateway) {
    const link = world.routes.find((r) =>
      !r.gateway && r.dst !== "default" && contains(r.dst, gateway!)
    );
    if (!link) throw new SimExit(2, "Error: Nexthop has invalid gateway.\n");
    dev ??= link.dev;
  }
  if (!dev) throw new SimExit(2, "Error: Device for nexthop is not up.\n");
  const route: SimRoute = { dst, gateway, dev };
  if (verb === "add") {
    if (existing >= 0) throw new SimExit(2, "RTNETLINK answers: File exists\n");
    world.routes.push(route);
  } else if (verb === "change" || verb === "chg") {
    if (existing < 0) throw new SimExit(2, "RTNETLINK answers: No such file or directory\n");
    world.routes[existing] = route;
  } else if (existing >= 0) world.routes[existing] = route;
  else world.routes.push(route);
  return "";
}

function prefixLen(dst: string): number {
  return dst === "default" ? 0 : Number(dst.split("/")[1] ?? 32);
}
