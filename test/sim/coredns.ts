/**
 * The part of CoreDNS the simulated cluster runs: the server blocks k3s's CoreDNS imports from the
 * `*.server` keys of kube-system's `coredns-custom` ConfigMap (k3s-io/k3s manifests/coredns.yaml:
 * `import /etc/coredns/custom/*.server` after the main block), parsed as strictly as CoreDNS does
 * for the plugins they use, and answered.
 *
 * Syntax followed (coredns/coredns):
 * - corefile(5) and coredns.io/manual/configuration: a server block is `ZONE[:PORT] [ZONE…] {`,
 *   then one plugin per line (`name args… [{ … }]`), `}`; `#` starts a comment; a quoted string is
 *   one token. Two server blocks for the same zone and port fail the whole load ("cannot serve …
 *   multiple times", core/dnsserver/register.go).
 * - plugin/errors/README.md: `errors [FILE]`, optionally with a block of `consolidate`/`stacktrace`.
 * - plugin/template/README.md: `template CLASS TYPE [ZONE…] { match REGEX…; answer|additional|
 *   authority RR; rcode CODE; ederror CODE [REASON]; fallthrough [ZONE…] }`; CLASS a DNS class or
 *   ANY, TYPE a query type or ANY, each ZONE within the server's zones (else "zone is not covered"),
 *   RR a zone-file record built by a Go template; without `match` the regex is `.*`; the first
 *   template whose zone, class, type and regex fit answers; without `fallthrough` a template whose
 *   zone fits but no regex does answers SERVFAIL.
 * - plugin/cache/README.md: `cache [TTL] [ZONES…]`, accepted so a user's block may use it.
 * - plugin/forward/README.md: `forward FROM TO…`, accepted (a user's block); its answers are not
 *   simulated (SERVFAIL).
 * Anything else is refused, as a plugin CoreDNS does not know fails its load.
 */

/** A token with the line it is on. */
interface Token {
  text: string;
  quoted: boolean;
  line: number;
}

function tokenize(source: string): Token[] {
  const out: Token[] = [];
  let line = 1;
  for (let i = 0; i < source.length;) {
    const c = source[i];
    if (c === "\n") {
      out.push({ text: "\n", quoted: false, line });
      line++;
      i++;
    } else if (c === " " || c === "\t" || c === "\r") i++;
    else if (c === "#") {
      while (i < source.length && source[i] !== "\n") i++;
    } else if (c === '"') {
      let j = i + 1;
      let text = "";
      while (j < source.length && source[j] !== '"') {
        if (source[j] === "\\" && j + 1 < source.length) j++;
        if (source[j] === "\n") line++;
        text += source[j++];
      }
      if (j >= source.length) throw new Error(`line ${line}: unterminated quoted string`);
      out.push({ text, quoted: true, line });
      i = j + 1;
    } else {
      let j = i;
      while (j < source.length && !/[\s#"]/.test(source[j])) j++;
      out.push({ text: source.slice(i, j), quoted: false, line });
      i = j;
    }
  }
  return out;
}

/** One directive: its words, and the lines of its block (each a word list), if any. */
interface Directive {
  words: Token[];
  block?: Token[][];
}

/** A server block: its zones and port, and its plugins. */
export interface ServerBlock {
  zones: string[];
  port: number;
  directives: Directive[];
}

/** Splits tokens into lines of words, with `{` and `}` as words. */
function lines(tokens: Token[]): Token[][] {
  const out: Token[][] = [];
  let current: Token[] = [];
  for (const t of tokens) {
    if (t.text === "\n" && !t.quoted) {
      if (current.length) out.push(current);
      current = [];
    } else current.push(t);
  }
  if (current.length) out.push(current);
  return out;
}

const CLASSES = new Set(["IN", "CH", "CHAOS", "HS", "NONE", "ANY"]);
const TYPES = new Set([
  "A",
  "AAAA",
  "ANY",
  "CNAME",
  "MX",
  "NS",
  "PTR",
  "SOA",
  "SRV",
  "TXT",
  "CAA",
  "HTTPS",
  "SVCB",
]);
// miekg/dns msg.go RcodeToString
const RCODES = new Set([
  "NOERROR",
  "FORMERR",
  "SERVFAIL",
  "NXDOMAIN",
  "NOTIMP",
  "REFUSED",
  "YXDOMAIN",
  "YXRRSET",
  "NXRRSET",
  "NOTAUTH",
  "NOTZONE",
]);

function fqdn(zone: string): string {
  const z = zone.toLowerCase();
  return z === "." ? "." : z.endsWith(".") ? z : `${z}.`;
}

function within(name: string, zone: string): boolean {
  return zone === "." || name === zone || name.endsWith(`.${zone}`);
}

/** A template directive, parsed. */
interface Template {
  cls: string;
  type: string;
  zones: string[];
  match: RegExp[];
  answers: string[];
  rcode: string;
  fallthrough: boolean;
}

function isIPv4(s: string): boolean {
  const parts = s.split(".");
  return parts.length === 4 && parts.every((p) => /^\d{1,3}$/.test(p) && Number(p) <= 255);
}

function isIPv6(s: string): boolean {
  return s.includes(":") && /^[0-9a-f:.]+$/i.test(s) && (s.match(/::/g) ?? []).length <= 1;
}

/** A zone-file record a template renders: `NAME TTL CLASS TYPE RDATA` with `{{ .Name }}` filled. */
function checkRecord(rr: string, line: number): void {
  const filled = rr.replace(/\{\{ *\.Name *\}\}/g, "x.example.");
  if (/\{\{|\}\}/.test(filled)) {
    throw new Error(`line ${line}: template fields other than .Name are not simulated: ${rr}`);
  }
  if (/\{\$/.test(rr)) throw new Error(`line ${line}: {$…} is an environment variable: ${rr}`);
  const w = filled.trim().split(/\s+/);
  if (w.length < 5 || !/^\d+$/.test(w[1]) || !CLASSES.has(w[2]) || !TYPES.has(w[3])) {
    throw new Error(`line ${line}: not a resource record (NAME TTL CLASS TYPE RDATA): ${rr}`);
  }
  if (w[3] === "A" && !isIPv4(w[4])) throw new Error(`line ${line}: bad A record ${w[4]}`);
  if (w[3] === "AAAA" && !isIPv6(w[4])) throw new Error(`line ${line}: bad AAAA record ${w[4]}`);
}

function parseTemplate(d: Directive, serverZones: string[]): Template {
  const [, cls, type, ...zoneWords] = d.words.map((w) => w.text);
  const line = d.words[0].line;
  if (!cls || !type) throw new Error(`line ${line}: template needs CLASS and TYPE`);
  if (!CLASSES.has(cls.toUpperCase())) throw new Error(`line ${line}: invalid query class ${cls}`);
  if (!TYPES.has(type.toUpperCase())) throw new Error(`line ${line}: invalid RR class ${type}`);
  const zones = zoneWords.length ? zoneWords.map(fqdn) : serverZones;
  for (const z of zones) {
    if (!serverZones.some((s) => within(z, s))) {
      throw new Error(`line ${line}: template zone ${z} is not covered by the server block`);
    }
  }
  const t: Template = {
    cls: cls.toUpperCase(),
    type: type.toUpperCase(),
    zones,
    match: [],
    answers: [],
    rcode: "NOERROR",
    fallthrough: false,
  };
  for (const words of d.block ?? []) {
    const [name, ...args] = words;
    switch (name.text) {
      case "match":
        if (!args.length) throw new Error(`line ${name.line}: match needs a regex`);
        t.match.push(...args.map((a) => new RegExp(a.text)));
        break;
      case "answer":
      case "additional":
      case "authority":
        if (args.length !== 1) {
          throw new Error(`line ${name.line}: ${name.text} takes one quoted record`);
        }
        checkRecord(args[0].text, name.line);
        if (name.text === "answer") t.answers.push(args[0].text);
        break;
      case "rcode":
        if (args.length !== 1 || !RCODES.has(args[0].text.toUpperCase())) {
          throw new Error(`line ${name.line}: invalid rcode ${args.map((a) => a.text).join(" ")}`);
        }
        t.rcode = args[0].text.toUpperCase();
        break;
      case "ederror":
        break;
      case "fallthrough":
        t.fallthrough = true;
        break;
      default:
        throw new Error(`line ${name.line}: unknown property '${name.text}'`);
    }
  }
  if (!t.match.length) t.match.push(/.*/);
  return t;
}

/** Parses one Corefile fragment (the text of a `*.server` key) into its server blocks. */
export function parseServerBlocks(source: string): ServerBlock[] {
  const rows = lines(tokenize(source));
  const blocks: ServerBlock[] = [];
  let i = 0;
  while (i < rows.length) {
    const head = rows[i];
    if (head.at(-1)?.text !== "{" || head.length < 2) {
      throw new Error(`line ${head[0].line}: expected a server block 'ZONE:PORT {'`);
    }
    const zones: string[] = [];
    let port = 53;
    for (const w of head.slice(0, -1)) {
      const m = /^(?:dns:\/\/)?([^:]+)(?::(\d+))?$/.exec(w.text);
      if (!m || !/^([a-z0-9-]+\.)*[a-z0-9-]+\.?$|^\.$/i.test(m[1])) {
        throw new Error(`line ${w.line}: not a zone: ${w.text}`);
      }
      zones.push(fqdn(m[1]));
      if (m[2]) port = Number(m[2]);
    }
    i++;
    const directives: Directive[] = [];
    while (true) {
      const row = rows[i++];
      if (!row) throw new Error(`line ${head[0].line}: server block is not closed`);
      if (row.length === 1 && row[0].text === "}") break;
      if (row.at(-1)?.text === "{") {
        const block: Token[][] = [];
        while (true) {
          const inner = rows[i++];
          if (!inner) throw new Error(`line ${row[0].line}: block is not closed`);
          if (inner.length === 1 && inner[0].text === "}") break;
          block.push(inner);
        }
        directives.push({ words: row.slice(0, -1), block });
      } else directives.push({ words: row });
    }
    for (const d of directives) {
      const name = d.words[0].text;
      if (name === "errors") {
        if (d.words.length > 2) throw new Error(`line ${d.words[0].line}: errors takes one file`);
        for (const w of d.block ?? []) {
          if (!["consolidate", "stacktrace"].includes(w[0].text)) {
            throw new Error(`line ${w[0].line}: unknown errors property ${w[0].text}`);
          }
        }
      } else if (name === "template") parseTemplate(d, zones);
      else if (name !== "cache" && name !== "forward") {
        throw new Error(`line ${d.words[0].line}: unknown directive '${name}'`);
      }
    }
    blocks.push({ zones, port, directives });
  }
  return blocks;
}

/** Every server block of the ConfigMap's `*.server` keys; a clash or a bad key fails them all. */
export function loadCustomServers(data: Record<string, string>): ServerBlock[] {
  const blocks: ServerBlock[] = [];
  const seen = new Set<string>();
  for (const key of Object.keys(data).filter((k) => k.endsWith(".server")).sort()) {
    for (const b of parseServerBlocks(data[key])) {
      for (const z of b.zones) {
        const id = `${z}:${b.port}`;
        if (seen.has(id)) throw new Error(`cannot serve dns://${id} multiple times`);
        seen.add(id);
      }
      blocks.push(b);
    }
  }
  return blocks;
}

/** What CoreDNS answers for one question, from the custom server blocks; undefined: not theirs. */
export function answerFromServers(
  blocks: ServerBlock[],
  name: string,
  qtype: string,
): { rcode: string; answers: { type: string; ttl: number; data: string }[] } | undefined {
  const q = fqdn(name);
  // the most specific zone serves the question (core/dnsserver/server.go)
  const block = blocks.filter((b) => b.zones.some((z) => within(q, z)))
    .sort((a, b) =>
      Math.max(...b.zones.filter((z) => within(q, z)).map((z) => z.length)) -
      Math.max(...a.zones.filter((z) => within(q, z)).map((z) => z.length))
    )[0];
  if (!block) return undefined;
  for (const d of block.directives) {
    if (d.words[0].text !== "template") continue;
    const t = parseTemplate(d, block.zones);
    if (!t.zones.some((z) => within(q, z))) continue;
    if (t.cls !== "ANY" && t.cls !== "IN") continue;
    if (t.type !== "ANY" && t.type !== qtype) continue;
    if (!t.match.some((r) => r.test(q))) {
      if (t.fallthrough) continue;
      return { rcode: "SERVFAIL", answers: [] };
    }
    return {
      rcode: t.rcode,
      answers: t.answers.map((rr) => {
        const w = rr.replace(/\{\{ *\.Name *\}\}/g, q).trim().split(/\s+/);
        return { type: w[3], ttl: Number(w[1]), data: w[4] };
      }),
    };
  }
  return { rcode: "SERVFAIL", answers: [] };
}
