/** The Kubernetes TLS secret (made by kubectl itself, in dry-run) and Traefik's default TLSStore. */
import { getOptional, kubectl, type KubeObject } from "../tools/kubectl.ts";
import { certPaths } from "./certs.ts";
import { firstLine } from "../tools/exec.ts";

/** Label on every object firestream applies. */
export const MANAGED_BY = { "app.kubernetes.io/managed-by": "firestream" };

/** Namespace where k3s runs Traefik; its default TLSStore must sit beside the secret. */
export const TRAEFIK_NAMESPACE = "kube-system";

/** Every namespace that gets the secret: the configured ones plus Traefik's. */
export function secretNamespaces(namespaces: string[]): string[] {
  return [...new Set([...namespaces, TRAEFIK_NAMESPACE])];
}

/** `kubectl create secret tls … --dry-run=client -o yaml`, labelled as ours. */
export async function secretManifest(
  context: string,
  options: { name: string; namespace: string; cert: string; key: string },
): Promise<string> {
  const r = await kubectl(context, [
    "create",
    "secret",
    "tls",
    options.name,
    `--cert=${options.cert}`,
    `--key=${options.key}`,
    "--namespace",
    options.namespace,
    "--dry-run=client",
    "-o",
    "yaml",
  ]);
  const { parse: parseYaml, stringify: stringifyYaml } = await import("yaml");
  const doc = parseYaml(r.stdout) as KubeObject;
  doc.metadata.labels = { ...(doc.metadata.labels ?? {}), ...MANAGED_BY };
  return stringifyYaml(doc);
}

/** Applies a manifest through stdin. */
export async function applyManifest(context: string, manifest: string): Promise<void> {
  await kubectl(context, ["apply", "-f", "-"], { stdin: manifest });
}

/** The secret's tls.crt, base64, or undefined when there is no such secret. */
export async function secretCert(
  context: string,
  name: string,
  namespace: string,
): Promise<string | undefined> {
  const s = await getOptional(context, ["secret", name, "-n", namespace]);
  return s?.data?.["tls.crt"];
}

/** Traefik's default TLSStore manifest pointing at our secret. */
export async function tlsStoreManifest(secretName: string): Promise<string> {
  const { stringify: stringifyYaml } = await import("yaml");
  return stringifyYaml({
    apiVersion: "traefik.io/v1alpha1",
    kind: "TLSStore",
    metadata: { name: "default", namespace: TRAEFIK_NAMESPACE, labels: MANAGED_BY },
    spec: { defaultCertificate: { secretName } },
  });
}

/** The default TLSStore's secret, "absent", or "no-traefik" when the CRD is not installed. */
export async function tlsStoreSecret(context: string): Promise<string | "absent" | "no-traefik"> {
  const r = await kubectl(context, [
    "get",
    "tlsstores.traefik.io",
    "default",
    "-n",
    TRAEFIK_NAMESPACE,
    "-o",
    "json",
  ], { check: false });
  if (r.code === 0) return JSON.parse(r.stdout).spec?.defaultCertificate?.secretName ?? "absent";
  if (/NotFound/.test(r.stderr)) return "absent";
  if (/doesn't have a resource type|no matches for kind/.test(r.stderr)) return "no-traefik";
  throw new Error(`kubectl get tlsstores failed: ${firstLine(r.stderr)}`);
}

/** base64 of a file's bytes. */
export async function fileBase64(path: string): Promise<string> {
  const bytes = await Deno.readFile(path);
  let s = "";
  for (let i = 0; i < bytes.length; i += 0x8000) {
    s += String.fromCharCode(...bytes.subarray(i, i + 0x8000));
  }
  return btoa(s);
}

/** Deletes Traefik's default TLSStore. */
export function deleteTlsStore(context: string) {
  return kubectl(context, [
    "delete",
    "tlsstores.traefik.io",
    "default",
    "-n",
    TRAEFIK_NAMESPACE,
    "--ignore-not-found",
  ]);
}

/** Deletes secret `name` in `namespace`, if it is there. */
export async function deleteSecret(kubeContext: string, name: string, namespace: string) {
  await kubectl(kubeContext, ["delete", "secret", name, "-n", namespace, "--ignore-not-found"]);
}

/** Deletes the secrets and, when it points at them, the default TLSStore. */
export async function removeSecrets(
  kubeContext: string,
  name: string,
  namespaces: string[],
): Promise<void> {
  for (const ns of namespaces) await deleteSecret(kubeContext, name, ns);
  if ((await tlsStoreSecret(kubeContext)) === name) {
    await deleteTlsStore(kubeContext);
  }
}

/** Applies secret `name` in each namespace from cluster `cluster`'s certificate files in `certsDir`. */
export async function applySecrets(
  kubeContext: string,
  certsDir: string,
  cluster: string,
  name: string,
  namespaces: string[],
): Promise<void> {
  const p = certPaths(certsDir, cluster);
  for (const ns of namespaces) {
    const manifest = await secretManifest(kubeContext, {
      name,
      namespace: ns,
      cert: p.cert,
      key: p.key,
    });
    await applyManifest(kubeContext, manifest);
  }
}

/** Puts removed secrets back from the certificate files (which stay on disk), with Traefik's default. */
export async function restoreSecrets(
  kubeContext: string,
  certsDir: string,
  cluster: string,
  name: string,
  namespaces: string[],
): Promise<void> {
  await applySecrets(kubeContext, certsDir, cluster, name, namespaces);
  if ((await tlsStoreSecret(kubeContext)) !== "no-traefik") {
    await applyManifest(kubeContext, await tlsStoreManifest(name));
  }
}
