import { describe, expect, it } from "vitest";
import { ApiError } from "./TelepresenceApi";
import {
  ExtensionTelepresenceApi,
  NOT_IN_EXTENSION_YET,
  NO_DOCKER_DESKTOP,
  commandError,
  commandErrorText,
  imageNames,
  toStatus,
  toWorkloads,
  type DesktopClient,
  type StreamCallbacks,
} from "./extension";
import type { ApiEvent } from "./types";

interface Call {
  cmd: string;
  args: string[];
  streamed: boolean;
}

/** A scripted run of the host binary: what it prints and how it exits. */
interface Script {
  stdout?: string;
  stderr?: string;
  code?: number;
  /** Docker Desktop rejects exec() on a non-zero exit with the result itself. */
  reject?: boolean;
}

/** A stand-in for window.ddClient answering each `telepresence ARGS` from a table. */
function fakeClient(answers: (args: string[]) => Script, images: unknown = []) {
  const calls: Call[] = [];
  const client: DesktopClient = {
    extension: {
      host: {
        cli: {
          exec(cmd: string, args: string[], options?: { stream: StreamCallbacks }): unknown {
            calls.push({ cmd, args, streamed: options !== undefined });
            const a = answers(args);
            const result = { stdout: a.stdout ?? "", stderr: a.stderr ?? "", code: a.code ?? 0 };
            if (options) {
              queueMicrotask(() => {
                for (const line of result.stderr.split("\n").filter((l) => l !== "")) {
                  options.stream.onOutput?.({ stderr: line });
                }
                for (const line of result.stdout.split("\n").filter((l) => l !== "")) {
                  options.stream.onOutput?.({ stdout: line });
                }
                options.stream.onClose?.(result.code);
              });
              return { close() {} };
            }
            return a.reject && result.code !== 0 ? Promise.reject(result) : Promise.resolve(result);
          },
        },
      },
    },
    docker: { listImages: () => Promise.resolve(images) },
  };
  return { client, calls };
}

const DISCONNECTED = '{"connected":false,"container":null,"context":"default"}';
const CONNECTED =
  '{"connected":true,"container":"tp-default-cn","context":"default","manager":"172.17.0.1:18081",' +
  '"subnets":["10.213.0.0/24"],"teleroute_network":{"name":"tp-default","subnet":"10.200.0.0/24","daemon":"10.200.0.2"}}';

describe("the pure parts", () => {
  it("takes the last stderr line as the error sentence", () => {
    expect(
      commandErrorText(["list"], {
        stderr: "Connecting...\ntelepresence list: it broke; run X\n\n",
        code: 1,
      }),
    ).toBe("telepresence list: it broke; run X");
  });

  it("says which command failed when it printed nothing", () => {
    expect(commandErrorText(["quit"], { stderr: "", code: 3 })).toBe(
      "telepresence quit failed with exit code 3 and said nothing.",
    );
    expect(commandErrorText(["status"], new Error("spawn ENOENT"))).toBe(
      "telepresence status could not run: spawn ENOENT",
    );
  });

  it("answers 409 when the command says the context is not connected", () => {
    const e = commandError(["list"], {
      stderr:
        "telepresence list: not connected (no daemon container tp-default-cn runs); run telepresence connect --docker first",
      code: 1,
    });
    expect(e).toBeInstanceOf(ApiError);
    expect(e.status).toBe(409);
    expect(commandError(["list"], { stderr: "boom", code: 1 }).status).toBe(500);
  });

  it("reads a status", () => {
    expect(toStatus("default", JSON.parse(DISCONNECTED))).toEqual({
      connected: false,
      container: null,
      context: "default",
    });
    const s = toStatus("default", JSON.parse(CONNECTED));
    expect(s.connected).toBe(true);
    expect(s.teleroute_network?.name).toBe("tp-default");
    expect(toStatus("other", {})).toEqual({ connected: false, container: null, context: "other" });
  });

  it("reads the workloads, dropping what is not of their shape", () => {
    expect(
      toWorkloads({
        workloads: [
          { workload: "echo", ports: [8080, "x"], mounts: ["/srv"], engagement: null },
          "junk",
          { workload: "greeter", engagement: { id: "e-1", mode: "replace", name: "greeter", ports: [8080] } },
        ],
      }),
    ).toEqual([
      { workload: "echo", ports: [8080], mounts: ["/srv"], engagement: null },
      {
        workload: "greeter",
        ports: [],
        mounts: [],
        engagement: { id: "e-1", mode: "replace", name: "greeter", ports: [8080] },
      },
    ]);
    expect(toWorkloads({})).toEqual([]);
  });

  it("lists the tagged images once, sorted", () => {
    expect(
      imageNames([
        { RepoTags: ["tp-echo:latest", "b:1"] },
        { RepoTags: ["<none>:<none>"] },
        { RepoTags: null },
        { RepoTags: ["b:1"] },
        7,
      ]),
    ).toEqual(["b:1", "tp-echo:latest"]);
    expect(imageNames(undefined)).toEqual([]);
  });
});

describe("ExtensionTelepresenceApi", () => {
  it("runs status and list with --output json on the host binary", async () => {
    const { client, calls } = fakeClient((args) =>
      args[0] === "status"
        ? { stdout: CONNECTED }
        : { stdout: '{"workloads":[{"workload":"echo","ports":[8080],"mounts":[],"engagement":null}]}' },
    );
    const api = new ExtensionTelepresenceApi(client, { pollMs: 0 });
    expect((await api.status("default")).connected).toBe(true);
    expect((await api.workloads("default")).map((w) => w.workload)).toEqual(["echo"]);
    await api.status("staging");
    expect(calls).toEqual([
      { cmd: "telepresence", args: ["status", "--output", "json"], streamed: false },
      { cmd: "telepresence", args: ["list", "--output", "json"], streamed: false },
      { cmd: "telepresence", args: ["status", "--context", "staging", "--output", "json"], streamed: false },
    ]);
  });

  it("turns a failed command into its sentence, rejected or resolved with a code", async () => {
    const notConnected = "telepresence list: not connected; run telepresence connect --docker first";
    for (const reject of [true, false]) {
      const { client } = fakeClient(() => ({ stderr: notConnected, code: 1, reject }));
      const api = new ExtensionTelepresenceApi(client, { pollMs: 0 });
      await expect(api.workloads("default")).rejects.toMatchObject({ status: 409, message: notConnected });
    }
    const { client } = fakeClient(() => ({ stdout: "Connected: no" }));
    await expect(new ExtensionTelepresenceApi(client, { pollMs: 0 }).status("default")).rejects.toThrow(
      /printed no JSON/,
    );
  });

  it("connects streaming the progress lines, then reads and announces the status", async () => {
    let connected = false;
    const { client, calls } = fakeClient((args) => {
      if (args[0] === "connect") {
        connected = true;
        return { stderr: "Starting tp-default-cn\nWaiting for the manager\n", stdout: "Connected to x\n" };
      }
      return { stdout: connected ? CONNECTED : DISCONNECTED };
    });
    const api = new ExtensionTelepresenceApi(client, { pollMs: 0 });
    const events: ApiEvent[] = [];
    const stop = api.subscribe((e) => events.push(e));
    const status = await api.connect("default");
    stop();
    expect(status.connected).toBe(true);
    expect(calls[0]).toEqual({ cmd: "telepresence", args: ["connect", "--docker"], streamed: true });
    expect(events).toEqual([
      { type: "progress", action: "connect", line: "Starting tp-default-cn" },
      { type: "progress", action: "connect", line: "Waiting for the manager" },
      { type: "status", context: "default", status: expect.objectContaining({ connected: true }) },
    ]);
  });

  it("rejects a failed connect with its last line and still announces the status", async () => {
    const { client } = fakeClient((args) =>
      args[0] === "connect"
        ? { stderr: "telepresence connect: the manager refused the secret; check the context\n", code: 1 }
        : { stdout: DISCONNECTED },
    );
    const api = new ExtensionTelepresenceApi(client, { pollMs: 0 });
    const events: ApiEvent[] = [];
    api.subscribe((e) => events.push(e));
    await expect(api.connect("default")).rejects.toMatchObject({
      status: 500,
      message: "telepresence connect: the manager refused the secret; check the context",
    });
    expect(events[events.length - 1]).toMatchObject({ type: "status", status: { connected: false } });
  });

  it("quits, then reads the status", async () => {
    const { client, calls } = fakeClient((args) =>
      args[0] === "quit" ? { stdout: "Disconnected (context dev)\n" } : { stdout: DISCONNECTED },
    );
    await new ExtensionTelepresenceApi(client, { pollMs: 0 }).quit("dev");
    expect(calls.map((c) => c.args.join(" "))).toEqual([
      "quit --context dev",
      "status --context dev --output json",
    ]);
  });

  it("lists images through Docker Desktop's engine client", async () => {
    const { client } = fakeClient(() => ({}), [{ RepoTags: ["my-echo:dev"] }]);
    expect(await new ExtensionTelepresenceApi(client).images()).toEqual(["my-echo:dev"]);
  });

  it("says that engagements and docker-run are not in the extension yet", async () => {
    const { client, calls } = fakeClient(() => ({}));
    const api = new ExtensionTelepresenceApi(client, { pollMs: 0 });
    const request = { context: "default", image: "x", docker_args: [], args: [] };
    await expect(api.engage({ ...request, workload: "echo", mode: "replace", ports: [] })).rejects.toThrow(
      NOT_IN_EXTENSION_YET,
    );
    await expect(api.dockerRun(request)).rejects.toThrow(/not available in the extension yet/);
    await expect(api.leave("default", "e-1")).rejects.toThrow(NOT_IN_EXTENSION_YET);
    expect(await api.engagements("default")).toEqual([]);
    expect(calls).toEqual([]);
  });

  it("fails every call with one sentence outside Docker Desktop", async () => {
    const api = new ExtensionTelepresenceApi(null);
    await expect(api.contexts()).rejects.toMatchObject({ message: NO_DOCKER_DESKTOP, status: 503 });
    await expect(api.status("default")).rejects.toThrow(NO_DOCKER_DESKTOP);
    await expect(api.images()).rejects.toThrow(NO_DOCKER_DESKTOP);
    expect(api.subscribe(() => {})).toBeTypeOf("function");
  });

  it("polls only while the tab is visible and announces only a change", async () => {
    let connected = false;
    let visible = true;
    const { client, calls } = fakeClient(() => ({ stdout: connected ? CONNECTED : DISCONNECTED }));
    const api = new ExtensionTelepresenceApi(client, { pollMs: 0, visible: () => visible });
    const events: ApiEvent[] = [];
    api.subscribe((e) => events.push(e));
    await api.status("default");
    await api.poll();
    expect(events).toEqual([]);
    connected = true;
    await api.poll();
    expect(events).toEqual([
      { type: "status", context: "default", status: expect.objectContaining({ connected: true }) },
    ]);
    visible = false;
    const before = calls.length;
    await api.poll();
    expect(calls.length).toBe(before);
  });
});
