/**
 * A loopback DNS responder standing in for kube-dns: answers A queries for
 * `<service>.<namespace>.svc.cluster.local` from the simulated clusters' services, and every
 * question under a zone of the server blocks in a cluster's `coredns-custom` ConfigMap (coredns.ts;
 * a key CoreDNS would refuse to load makes those zones fail, SERVFAIL).
 * Usage: dns_server.ts <port>; prints "listening <port>".
 */
import dgram from "node:dgram";
import { Buffer } from "node:buffer";
import { answerFromServers, loadCustomServers } from "./coredns.ts";

const simDir = Deno.env.get("FIRESTREAM_SIM_DIR")!;
const socket = dgram.createSocket("udp4");

const TYPES: Record<number, string> = { 1: "A", 28: "AAAA", 15: "MX", 16: "TXT", 6: "SOA" };

/** The answer of the clusters' custom server blocks: rcode and addresses, or undefined. */
function custom(name: string, qtype: number): { rcode: number; ips: string[] } | undefined {
  // deno-lint-ignore no-explicit-any
  const world = JSON.parse(Deno.readTextFileSync(`${simDir}/world.json`)) as any;
  // deno-lint-ignore no-explicit-any
  for (const cluster of Object.values(world.clusters ?? {}) as any[]) {
    const data = cluster.kube.objects.configmaps?.["kube-system/coredns-custom"]?.data;
    if (!data) continue;
    let found;
    try {
      found = answerFromServers(loadCustomServers(data), name, TYPES[qtype] ?? "OTHER");
    } catch {
      return { rcode: 2, ips: [] };
    }
    if (!found) continue;
    const rcode = { NOERROR: 0, SERVFAIL: 2, NXDOMAIN: 3, REFUSED: 5 }[found.rcode] ?? 2;
    return { rcode, ips: found.answers.filter((a) => a.type === "A").map((a) => a.data) };
  }
  return undefined;
}

function lookup(name: string): string | undefined {
  const m = /^([^.]+)\.([^.]+)\.svc\.cluster\.local\.?$/i.exec(name);
  if (!m) return undefined;
  // deno-lint-ignore no-explicit-any
  const world = JSON.parse(Deno.readTextFileSync(`${simDir}/world.json`)) as any;
  for (
    const cluster of Object.values(world.clusters ?? {}) as {
      kube: { objects: Record<string, Record<string, { spec: { clusterIP: string } }>> };
    }[]
  ) {
    const svc = cluster.kube.objects.services?.[`${m[2]}/${m[1]}`];
    if (svc) return svc.spec.clusterIP;
  }
  return undefined;
}

socket.on("message", (msg: Buffer, rinfo: { address: string; port: number }) => {
  const labels: string[] = [];
  let at = 12;
  while (msg[at] !== 0 && at < msg.length) {
    labels.push(msg.subarray(at + 1, at + 1 + msg[at]).toString("utf8"));
    at += msg[at] + 1;
  }
  const questionEnd = at + 5;
  const qtype = msg.readUInt16BE(at + 1);
  const served = custom(labels.join("."), qtype);
  const one = qtype === 1 && !served ? lookup(labels.join(".")) : undefined;
  const ips = served ? served.ips : one ? [one] : [];
  const rcode = served ? served.rcode : one || qtype !== 1 ? 0 : 3;
  const header = Buffer.alloc(12);
  msg.copy(header, 0, 0, 2);
  header.writeUInt16BE(0x8180 | rcode, 2); // response, recursion available; NXDOMAIN when unknown
  header.writeUInt16BE(1, 4);
  header.writeUInt16BE(ips.length, 6);
  const question = msg.subarray(12, questionEnd);
  const parts = [header, question];
  for (const ip of ips) {
    const answer = Buffer.alloc(16);
    answer.writeUInt16BE(0xc00c, 0);
    answer.writeUInt16BE(1, 2);
    answer.writeUInt16BE(1, 4);
    answer.writeUInt32BE(5, 6);
    answer.writeUInt16BE(4, 10);
    ip.split(".").forEach((o, i) => answer.writeUInt8(Number(o), 12 + i));
    parts.push(answer);
  }
  socket.send(Buffer.concat(parts), rinfo.port, rinfo.address);
});

socket.bind(Number(Deno.args[0] ?? 0), "127.0.0.1", () => {
  console.log(`listening ${socket.address().port}`);
});
