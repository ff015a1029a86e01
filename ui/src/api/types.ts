/** The shapes of docs/ui.md's JSON API and event stream. */

export interface ContextInfo {
  name: string;
  manager?: string;
  cluster_network?: string;
  cluster_subnets?: string[];
}

export interface ContextsResponse {
  contexts: ContextInfo[];
  default: string;
}

export interface TelerouteNetwork {
  name: string;
  subnet: string;
  daemon: string;
}

/** `telepresence status --output json`; only `connected` and `context` are always there. */
export interface Status {
  connected: boolean;
  context: string;
  container: string | null | Record<string, unknown>;
  teleroute_network?: TelerouteNetwork | null;
  manager?: string;
  subnets?: string[];
  dns_server?: string;
  dns_search?: string[] | string;
  capture?: unknown;
  reconnects?: number;
  error?: string;
  [other: string]: unknown;
}

export type EngageMode = "replace" | "intercept" | "ingest" | "wiretap";
export const ENGAGE_MODES: readonly EngageMode[] = ["replace", "intercept", "ingest", "wiretap"];

export interface WorkloadEngagement {
  id: string;
  mode: EngageMode | string;
  ports: Array<number | string>;
}

export interface Workload {
  name: string;
  namespace: string;
  ports: number[];
  engagement: WorkloadEngagement | null;
}

export type EngagementState = "starting" | "active" | "ended";

export interface Volume {
  name: string;
  path: string;
}

export interface Engagement {
  id: string;
  workload: string;
  mode: EngageMode | string;
  container: string;
  image: string;
  state: EngagementState | string;
  message: string;
  env: Record<string, string>;
  volumes: Volume[];
}

export interface EngageRequest {
  context: string;
  workload: string;
  mode: EngageMode;
  ports: string[];
  /** Exactly one of image and build_folder. */
  image?: string;
  build_folder?: string;
  docker_args: string[];
  args: string[];
}

export interface DockerRunRequest {
  context: string;
  image: string;
  docker_args: string[];
  args: string[];
}

export type ProgressAction = "connect" | "quit" | "engage" | "leave" | "docker-run";

/** What subscribe() hands over: the server's events, and whether the stream is up. */
export type ApiEvent =
  | { type: "status"; context: string; status: Status }
  | { type: "progress"; action: ProgressAction | string; line: string }
  | { type: "engagement"; engagement: Engagement }
  | { type: "log"; container: string; line: string }
  | { type: "stream"; up: boolean };
