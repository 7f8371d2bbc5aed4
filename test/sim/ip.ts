/** Simulated iproute2 `ip route`: show (text and -j), add, replace, del, get, with ip's messages. */
import { SimExit } from "./core.ts";
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

function normalize(dst: string): string {
  if (dst === "default") return dst;
  const c = parseCidr(dst);
  if (!c) throw new SimExit(1, `Error: inet prefix is expected rather than "${dst}".\n`);
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

/** Is this ip call a change? */
export function ipMutating(argv: string[]): boolean {
  const words = argv.filter((a) => !a.startsWith("-"));
  return (words[0] === "route" || words[0] === "r" || words[0] === "ro") &&
    ["add", "replace", "del", "delete", "change", "append", "flush"].includes(words[1] ?? "");
}

/** Runs `ip …`. */
export function ip(world: World, argv: string[], privileged: boolean): string {
  let json = false;
  const args = [...argv];
  while (args[0]?.startsWith("-")) {
    const opt = args.shift()!;
    if (opt === "-j" || opt === "-json" || opt === "--json") json = true;
    else if (opt === "-4") continue;
    else throw new SimExit(255, `Option "${opt}" is unknown, try "ip -help".\n`);
  }
  const object = args.shift();
  if (!object || !"route".startsWith(object) || object.length < 1) {
    if (object && "link".startsWith(object)) {
      throw new SimExit(98, "sim: ip link is not simulated\n");
    }
    throw new SimExit(255, `Object "${object ?? ""}" is unknown, try "ip help".\n`);
  }
  const verb = args.shift() ?? "show";
  if (["show", "list", "ls", "lst", "sh"].includes(verb)) {
    let routes = world.routes;
    if (args[0] && args[0] !== "table") {
      const want = normalize(args[0]);
      routes = routes.filter((r) => r.dst === want);
    }
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
    const addr = args[0];
    if (!addr || !parseCidr(addr)) {
      throw new SimExit(1, `Error: inet prefix is expected rather than "${addr ?? ""}".\n`);
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
  if (!["add", "replace", "del", "delete", "change"].includes(verb)) {
    throw new SimExit(255, `Command "${verb}" is unknown, try "ip route help".\n`);
  }
  if (!args[0]) throw new SimExit(255, "Error: argument is required\n");
  const dst = normalize(args.shift()!);
  let gateway: string | undefined;
  let dev: string | undefined;
  while (args.length) {
    const k = args.shift()!;
    const v = args.shift();
    if (v === undefined) {
      throw new SimExit(255, `Command line is not complete. Try option "help"\n`);
    }
    if (k === "via") {
      if (!parseCidr(v) || v.includes("/")) {
        throw new SimExit(1, `Error: inet address is expected rather than "${v}".\n`);
      }
      gateway = v;
    } else if (k === "dev") dev = v;
    else if (k === "proto" || k === "metric" || k === "table") continue;
    else throw new SimExit(255, `Error: either "to" is duplicate, or "${k}" is a garbage.\n`);
  }
  if (!privileged) throw new SimExit(2, "RTNETLINK answers: Operation not permitted\n");
  const existing = world.routes.findIndex((r) => r.dst === dst);
  if (verb === "del" || verb === "delete") {
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
  } else if (verb === "change") {
    if (existing < 0) throw new SimExit(2, "RTNETLINK answers: No such file or directory\n");
    world.routes[existing] = route;
  } else if (existing >= 0) world.routes[existing] = route;
  else world.routes.push(route);
  return "";
}

function prefixLen(dst: string): number {
  return dst === "default" ? 0 : Number(dst.split("/")[1] ?? 32);
}
