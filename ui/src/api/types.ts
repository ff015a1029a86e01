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

/** The daemon's traffic capture (api/daemon_status.h). */
export interface Capture {
  enabled: boolean;
  active: boolean;
  port: number;
  subnets: string[];
  error: string;
}

/**
 * `telepresence status --output json` (cli/daemon_status.h); only `connected`, `context` and
 * `container` are always there. `container_state` when the daemon container exists but does not run.
 */
export interface Status {
  connected: boolean;
  context: string;
  container: string | null;
  container_state?: string;
  teleroute_network?: TelerouteNetwork | null;
  manager?: string;
  subnets?: string[];
  dns?: { address: string; search: string[] };
  capture?: Capture;
  reconnects?: number;
  error?: string;
}

export type EngageMode = "replace" | "intercept" | "ingest" | "wiretap";
export const ENGAGE_MODES: readonly EngageMode[] = ["replace", "intercept", "ingest", "wiretap"];

/** An engagement as `telepresence list --output json` shows it (api/engagement.h). */
export interface WorkloadEngagement {
  id: string;
  mode: EngageMode | string;
  name: string;
  ports: number[];
}

/** One workload of `telepresence list --output json`. */
export interface Workload {
  workload: string;
  ports: number[];
  mounts: string[];
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
  /**
   * Not part of docs/ui.md's JSON: set when env and volumes are not known (the Docker Desktop
   * extension), the sentence that says so and where to look instead.
   */
  note?: string;
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
