/** The few Go template forms Docker's --format takes here: {{json .}}, {{.A.B}}, {{json .A}}, {{index .A "k"}}, {{(index .A "k").B}}. */
import { SimExit } from "./core.ts";

// deno-lint-ignore no-explicit-any
type Any = any;

/** Renders `template` against `data` as Docker would. */
export function renderTemplate(template: string, data: Any): string {
  return template.replace(/\{\{\s*(.*?)\s*\}\}/g, (_, expr: string) => evaluate(expr.trim(), data));
}

function evaluate(expr: string, data: Any): string {
  let m = /^json\s+(.+)$/.exec(expr);
  if (m) return JSON.stringify(value(m[1], data));
  m = /^println\s+(.+)$/.exec(expr);
  if (m) return format(value(m[1], data)) + "\n";
  return format(value(expr, data));
}

function value(expr: string, data: Any): Any {
  expr = expr.trim();
  let m = /^\(index\s+(\S+)\s+"([^"]*)"\)(\..+)?$/.exec(expr);
  if (m) return path(m[3] ?? ".", path(m[1], data)?.[m[2]]);
  m = /^index\s+(\S+)\s+"([^"]*)"$/.exec(expr);
  if (m) return path(m[1], data)?.[m[2]];
  if (expr.startsWith(".")) return path(expr, data);
  throw new SimExit(98, `sim: template expression not simulated: {{${expr}}}\n`);
}

function path(p: string, data: Any): Any {
  if (p === ".") return data;
  let node = data;
  for (const part of p.split(".").slice(1)) {
    if (node === undefined || node === null) {
      throw new SimExit(
        1,
        `template: :1:${p.length}: executing "" at <${p}>: nil pointer evaluating interface {}.${part}\n`,
      );
    }
    if (!(part in node)) {
      throw new SimExit(
        1,
        `template: :1:2: executing "" at <${p}>: map has no entry for key "${part}"\n`,
      );
    }
    node = node[part];
  }
  return node;
}

function format(v: Any): string {
  if (v === null || v === undefined) return "<no value>";
  if (typeof v === "object") {
    if (Array.isArray(v)) return `[${v.map(format).join(" ")}]`;
    return `map[${Object.entries(v).map(([k, x]) => `${k}:${format(x)}`).join(" ")}]`;
  }
  return String(v);
}
