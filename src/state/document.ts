/** The state document: what Firestream manages and what it created for each cluster. */
import type { K3dConfig } from "../config/schema.ts";

/** Highest state format this build reads and writes. */
export const STATE_VERSION = 1;

/** A route Firestream added, and the one it replaced (restored on delete). */
export interface RouteRecord {
  cidr: string;
  via: string;
  /** the gateway of a route that existed before and was replaced */
  replaced_via?: string;
}

/** What Firestream created on the host and in the cluster, for undo. */
export interface ClusterResources {
  registry?: {
    name: string;
    container: string;
    host: string;
    port: number;
    /** false when the registry existed before and Firestream only uses it */
    created: boolean;
    /**
     * k3d made it with the cluster (`--registry-create`, `registries.create`): one of the cluster's
     * nodes, named exactly `name`, deleted by `k3d cluster delete` and made again only with the cluster
     */
    with_cluster?: boolean;
  };
  cluster?: {
    config_file: string;
    context: string;
    /** `firestream cluster stop` stopped it then; cleared when a run starts it */
    stopped_at?: string;
    /** the port forwarding that `cluster stop` paused, started again with the cluster */
    paused_forwards?: { offset: number; only?: { namespace: string; service: string } };
    created: boolean;
    created_at: string;
  };
  tls?: {
    ca_cert: string;
    cert: string;
    key: string;
    fingerprint: string;
    not_after: string;
    subject: string;
    sans: string[];
    secret: { name: string; namespaces: string[] };
  };
  routes?: RouteRecord[];
  /** Firestream's key in kube-system's `coredns-custom` ConfigMap: every name of the domain answers */
  ingress_dns?: {
    domain: string;
    /** Traefik's Service addresses the names answer with */
    addresses: string[];
    /** the ConfigMap key (a `*.server` key: one server block) */
    key: string;
    /** Firestream created the ConfigMap (it goes when nothing else is in it) */
    configmap_created: boolean;
  };
  dns?: {
    mode: "resolved" | "resolv.conf" | "macos-resolver";
    /** the bridge interface (resolved) */
    interface?: string;
    /** the file holding our block or resolver entry (resolv.conf, macOS) */
    file?: string;
    server: string;
    domains: string[];
    /** the file was a symbolic link to this (as read from the link) when it was first edited */
    link?: string;
    /** macOS: the resolver file of the ingress domain (`/etc/resolver/<domain>`) */
    ingress_file?: string;
  };
  hosts_block?: {
    file: string;
    lines: string[];
    /** Ingress hosts of the cluster among the lines (where the ingress address is out of reach) */
    ingress_hosts?: string[];
    /** the file was a symbolic link to this (as read from the link) when the block was written */
    link?: string;
  };
  port_forwards?: { pid_file: string; offset: number };
  /** Node objects of removed agents whose deletion failed: the next apply deletes them */
  stale_nodes?: string[];
}

/** A host-port key an imported cluster does not publish (its recorded value is only the default). */
export type UnpublishedPort = "api_port" | "http_port" | "https_port";

/** One managed cluster. */
export interface ClusterRecord {
  name: string;
  cluster_type: "k3d";
  managed: boolean;
  /** the full effective `[cluster.k3d]` config the cluster was made from */
  k3d_config: K3dConfig;
  /** project directory whose config describes this cluster */
  project_dir?: string;
  /** the firestream.toml that describes it; a cluster gone from that file plans as a delete */
  config_file?: string;
  imported?: boolean;
  /**
   * values the last run took from a flag instead of the config file (key → `--agents 3`): the
   * next plan says where they came from
   */
  set_by_flags?: Record<string, string>;
  /** the config profile of the last run that applied this cluster */
  profile?: string;
  /** ports the imported cluster does not publish: no clash with them, no diff while the config keeps them */
  unpublished_ports?: UnpublishedPort[];
  resources: ClusterResources;
}

/** The whole state file. */
export interface StateDocument {
  version: number;
  /** set once when the state is first written; identifies this state's history */
  lineage: string;
  /** bumped on every write */
  serial: number;
  last_modified: string;
  last_modified_by: string;
  /** the command that wrote this version (`firestream cluster create --agents 3`) */
  last_command?: string;
  clusters: Record<string, ClusterRecord>;
}

/** A fresh, empty state document. */
export function emptyState(): StateDocument {
  return {
    version: STATE_VERSION,
    // set by the first write: an unwritten state has no history yet
    lineage: "",
    serial: 0,
    last_modified: new Date(0).toISOString(),
    last_modified_by: "",
    clusters: {},
  };
}
