/** Turns `[cluster.k3d]` into k3d's own config file (apiVersion k3d.io/v1alpha5, kind Simple). */
import { nthAddress, parseCidr } from "../config/cidr.ts";
import { type K3dConfig, K3S_POD_CIDR, K3S_SERVICE_CIDR } from "../config/schema.ts";

/** Host address every published port binds to: a local cluster is not served to the network. */
export const HOST_IP = "127.0.0.1";

/** The kube-dns address k3s uses: the 10th address of the service network. */
export function clusterDnsAddress(k: K3dConfig): string {
  return nthAddress(parseCidr(k.network.service_cidr)!, 10);
}

/** Options of {@link k3dConfigDocument}. */
export interface K3dConfigOptions {
  timeoutSeconds?: number;
  /**
   * the registry is made with the cluster (`registries.create`), named exactly as its container:
   * the only way k3d names a registry without its `k3d-` prefix (pkg/config/transform.go:311-345)
   */
  registryWithCluster?: boolean;
}

/**
 * The k3d Simple config document for this cluster. `registry` is the registry's container as read
 * from the state and Docker (`registryContainerOf`), undefined when the config has none; the
 * cluster uses it as `CONTAINER:PORT` (`registries.use`), or makes it with itself under that name
 * on the registry's port ({@link K3dConfigOptions.registryWithCluster}).
 */
export function k3dConfigDocument(
  k: K3dConfig,
  registry: string | undefined,
  options: K3dConfigOptions = {},
) {
  const extraArgs: { arg: string; nodeFilters: string[] }[] = [];
  if (k.network.pod_cidr !== K3S_POD_CIDR) {
    extraArgs.push({ arg: `--cluster-cidr=${k.network.pod_cidr}`, nodeFilters: ["server:*"] });
  }
  if (k.network.service_cidr !== K3S_SERVICE_CIDR) {
    extraArgs.push({ arg: `--service-cidr=${k.network.service_cidr}`, nodeFilters: ["server:*"] });
    extraArgs.push({ arg: `--cluster-dns=${clusterDnsAddress(k)}`, nodeFilters: ["server:*"] });
  }
  return {
    apiVersion: "k3d.io/v1alpha5",
    kind: "Simple",
    metadata: { name: k.name },
    servers: k.servers,
    agents: k.agents,
    image: `rancher/k3s:${k.k3s_version}`,
    kubeAPI: { hostIP: HOST_IP, hostPort: String(k.api_port) },
    ports: [
      { port: `${HOST_IP}:${k.http_port}:80`, nodeFilters: ["loadbalancer"] },
      { port: `${HOST_IP}:${k.https_port}:443`, nodeFilters: ["loadbalancer"] },
    ],
    ...(k.registry.enabled && registry
      ? {
        registries: options.registryWithCluster
          ? { create: { name: registry, host: HOST_IP, hostPort: String(k.registry.port) } }
          : { use: [`${registry}:${k.registry.port}`] },
      }
      : {}),
    options: {
      k3d: { wait: true, timeout: `${options.timeoutSeconds ?? 300}s` },
      ...(extraArgs.length ? { k3s: { extraArgs } } : {}),
      kubeconfig: { updateDefaultKubeconfig: true, switchCurrentContext: true },
    },
  };
}

/** The same document as YAML text. */
export async function k3dConfigYaml(
  k: K3dConfig,
  registry: string | undefined,
  options: K3dConfigOptions = {},
): Promise<string> {
  const { stringify } = await import("yaml");
  return stringify(k3dConfigDocument(k, registry, options));
}
