import { describe, expect, it } from "vitest";
import { ApiError } from "./TelepresenceApi";
import {
  ExtensionTelepresenceApi,
  NO_DOCKER_DESKTOP,
  commandError,
  commandErrorText,
  containerIdOf,
  dockerRunWords,
  endedMessage,
  engageFailedMessage,
  engageWords,
  engagementNote,
  imageNames,
  parseEngagedLine,
  toStatus,
  toWorkloads,
  withoutCommandPrefix,
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

  it("lists the contexts with telepresence contexts --output json", async () => {
    const { client, calls } = fakeClient(() => ({
      stdout:
        '{"contexts":[{"name":"default","manager":"172.17.0.1:18081"},{"name":"staging","error":"bad"}]}',
    }));
    const listed = await new ExtensionTelepresenceApi(client, { pollMs: 0 }).contexts();
    expect(listed.contexts.map((c) => c.name)).toEqual(["default", "staging"]);
    expect(listed.default).toBe("default");
    expect(calls[0]).toEqual({
      cmd: "telepresence",
      args: ["contexts", "--output", "json"],
      streamed: false,
    });
    const { client: other } = fakeClient(() => ({ stdout: '{"contexts":[{"name":"staging"}]}' }));
    expect((await new ExtensionTelepresenceApi(other, { pollMs: 0 }).contexts()).default).toBe("staging");
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

describe("the pure parts of engagements and docker-run", () => {
  const request = {
    context: "default",
    workload: "echo",
    mode: "replace" as const,
    ports: ["8080:9090"],
    image: "my-echo:dev",
    docker_args: ["-e", "X=a b"],
    args: ["--verbose"],
  };

  it("makes the words of cli/ui_engagements.cc's EngageWords", () => {
    expect(engageWords(request)).toEqual([
      "replace",
      "echo",
      "--context",
      "default",
      "--port",
      "8080:9090",
      "--docker-run",
      "--",
      "-e",
      "X=a b",
      "my-echo:dev",
      "--verbose",
    ]);
    expect(
      engageWords({
        ...request,
        mode: "intercept",
        ports: [],
        image: undefined,
        build_folder: "/src/echo",
        args: [],
      }),
    ).toEqual([
      "intercept",
      "echo",
      "--context",
      "default",
      "--docker-build",
      "/src/echo",
      "--",
      "-e",
      "X=a b",
      "IMAGE",
    ]);
  });

  it("makes the words of a detached docker-run", () => {
    expect(
      dockerRunWords({
        context: "dev",
        image: "busybox",
        docker_args: ["-p", "80:80"],
        args: ["sleep", "9"],
      }),
    ).toEqual(["docker-run", "--context", "dev", "--", "--detach", "-p", "80:80", "busybox", "sleep", "9"]);
  });

  it("reads the Engaged: line", () => {
    expect(
      parseEngagedLine("Engaged: the handler replace-echo-8080 (10.200.0.130) gets the engagement e-42"),
    ).toEqual({ container: "replace-echo-8080", address: "10.200.0.130", id: "e-42" });
    expect(parseEngagedLine("Engaged: something else")).toBeNull();
    expect(parseEngagedLine("Building the handler's image from /src")).toBeNull();
  });

  it("says why an engagement ended, as the CLI said it", () => {
    expect(withoutCommandPrefix("telepresence replace: unknown workload ech")).toBe("unknown workload ech");
    expect(withoutCommandPrefix("telepresence: the daemon container tp-default-cn is gone")).toBe(
      "the daemon container tp-default-cn is gone",
    );
    expect(withoutCommandPrefix("GET / 200")).toBeNull();
    expect(endedMessage("telepresence: the engagement e-1 of echo ended", "replace-echo-8080", 137)).toBe(
      "the engagement e-1 of echo ended",
    );
    expect(endedMessage("listening on :8080", "replace-echo-8080", 3)).toBe(
      "the handler container replace-echo-8080 ended (exit code 3)",
    );
    expect(engageFailedMessage("replace", "telepresence replace: echo is engaged already", 1)).toBe(
      "echo is engaged already",
    );
    expect(engageFailedMessage("replace", "docker: Error response from daemon: no such image", 125)).toBe(
      "docker: Error response from daemon: no such image",
    );
    expect(engageFailedMessage("wiretap", "", 1)).toMatch(/telepresence wiretap ended \(exit code 1\)/);
  });

  it("takes the container id from the last stdout line", () => {
    const id = "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef";
    expect(containerIdOf(`Unable to find image\n${id}\n`)).toBe(id);
    expect(containerIdOf("no id here\n")).toBeNull();
    expect(containerIdOf("")).toBeNull();
  });
});

/** A streamed process of the fake desktop, driven by the test. */
interface FakeProcess {
  cmd: string;
  args: string[];
  closed: boolean;
  err(line: string): void;
  out(line: string): void;
  exit(code: number): void;
}

/**
 * A stand-in for window.ddClient whose streamed processes the test drives. onClose(process) is
 * what a close() of the handle does (default: the process exits 143, as on SIGTERM); answer()
 * answers the non-streamed runs.
 */
function drivenClient(
  answer: (cmd: string, args: string[]) => Script = () => ({}),
  onClosed: (p: FakeProcess) => void = (p) => p.exit(143),
) {
  const processes: FakeProcess[] = [];
  const runs: string[] = [];
  const exec = (cmd: string, args: string[], options?: { stream: StreamCallbacks }): unknown => {
    if (!options) {
      runs.push([cmd, ...args].join(" "));
      const a = answer(cmd, args);
      const result = { stdout: a.stdout ?? "", stderr: a.stderr ?? "", code: a.code ?? 0 };
      return a.reject && result.code !== 0 ? Promise.reject(result) : Promise.resolve(result);
    }
    let exited = false;
    const p: FakeProcess = {
      cmd,
      args,
      closed: false,
      err: (line) => options.stream.onOutput?.({ stderr: line }),
      out: (line) => options.stream.onOutput?.({ stdout: line }),
      exit: (code) => {
        if (!exited) {
          exited = true;
          options.stream.onClose?.(code);
        }
      },
    };
    processes.push(p);
    // A streamed run that the test does not drive answers from the table, like fakeClient.
    const a = answer(cmd, args);
    if (a.stdout !== undefined || a.stderr !== undefined || a.code !== undefined) {
      queueMicrotask(() => {
        for (const l of (a.stderr ?? "").split("\n").filter((x) => x !== "")) p.err(l);
        for (const l of (a.stdout ?? "").split("\n").filter((x) => x !== "")) p.out(l);
        p.exit(a.code ?? 0);
      });
    }
    return {
      close() {
        p.closed = true;
        onClosed(p);
      },
    };
  };
  const client: DesktopClient = {
    extension: { host: { cli: { exec: (cmd, args, options) => exec(cmd, args, options) } } },
    docker: {
      listImages: () => Promise.resolve([]),
      cli: { exec: (cmd, args, options) => exec(`docker ${cmd}`, args, options) },
    },
  };
  return { client, processes, runs };
}

const ENGAGED = "Engaged: the handler replace-echo-8080 (10.200.0.130) gets the engagement e-42";
const REQUEST = {
  context: "default",
  workload: "echo",
  mode: "replace" as const,
  ports: [],
  image: "my-echo:dev",
  docker_args: [],
  args: [],
};

describe("engagements in the extension", () => {
  it("engages: progress until the Engaged: line, then the engagement, then the handler's log", async () => {
    const { client, processes } = drivenClient();
    const api = new ExtensionTelepresenceApi(client, { pollMs: 0 });
    const events: ApiEvent[] = [];
    api.subscribe((e) => events.push(e));
    const engaged = api.engage(REQUEST);
    const p = processes[0];
    expect([p.cmd, ...p.args]).toEqual(["telepresence", ...engageWords(REQUEST)]);
    p.err("Engaging echo (replace)");
    p.out("listening on :8080"); // before the container's name is known: kept
    p.err(ENGAGED);
    const e = await engaged;
    expect(e).toEqual({
      id: "e-42",
      workload: "echo",
      mode: "replace",
      container: "replace-echo-8080",
      image: "my-echo:dev",
      state: "active",
      message: "",
      env: {},
      volumes: [],
      note: engagementNote("replace-echo-8080"),
    });
    p.out("GET / 200");
    p.err("a warning of the handler");
    expect(events).toEqual([
      { type: "progress", action: "engage", line: "Engaging echo (replace)" },
      { type: "progress", action: "engage", line: ENGAGED },
      { type: "engagement", engagement: e },
      { type: "log", container: "replace-echo-8080", line: "listening on :8080" },
      { type: "log", container: "replace-echo-8080", line: "GET / 200" },
      { type: "log", container: "replace-echo-8080", line: "a warning of the handler" },
    ]);
    expect(await api.engagements("default")).toEqual([e]);
    expect(await api.engagements("other")).toEqual([]);

    // The handler ends by itself: the engagement ends, with the CLI's last word.
    p.err(
      "telepresence: the handler container replace-echo-8080 ended and the daemon container is not running",
    );
    p.exit(1);
    expect(events[events.length - 1]).toEqual({
      type: "engagement",
      engagement: {
        ...e,
        state: "ended",
        message: "the handler container replace-echo-8080 ended and the daemon container is not running",
      },
    });
    expect((await api.engagements("default"))[0].state).toBe("ended");
  });

  it("rejects an engage that ends before it is active with the CLI's sentence", async () => {
    const { client, processes } = drivenClient();
    const api = new ExtensionTelepresenceApi(client, { pollMs: 0 });
    const engaged = api.engage({ ...REQUEST, build_folder: "/src/echo", image: undefined });
    expect(processes[0].args).toContain("IMAGE");
    processes[0].err("Building the handler's image from /src/echo");
    processes[0].err("telepresence replace: the workload echo has no traffic-agent");
    processes[0].exit(1);
    await expect(engaged).rejects.toMatchObject({
      status: 500,
      message: "the workload echo has no traffic-agent",
    });
    expect(await api.engagements("default")).toEqual([]);
  });

  it("leaves by closing the engage process, and checks that the engagement is gone", async () => {
    const { client, processes, runs } = drivenClient((_cmd, args) =>
      args[0] === "list" ? { stdout: '{"workloads":[{"workload":"echo","engagement":null}]}' } : {},
    );
    const api = new ExtensionTelepresenceApi(client, { pollMs: 0 });
    const events: ApiEvent[] = [];
    api.subscribe((e) => events.push(e));
    const engaged = api.engage(REQUEST);
    processes[0].err(ENGAGED);
    await engaged;
    await api.leave("default", "e-42");
    expect(processes[0].closed).toBe(true);
    expect(runs).toEqual(["telepresence list --output json"]);
    expect(events[events.length - 1]).toMatchObject({
      type: "engagement",
      engagement: { id: "e-42", state: "ended", message: "left from the page" },
    });
    await api.leave("default", "e-42"); // once ended: nothing more to do
    expect(runs.length).toBe(1);
  });

  it("runs telepresence leave NAME when the closed process does not end in time", async () => {
    const { client, processes, runs } = drivenClient(
      (_cmd, args) =>
        args[0] === "list"
          ? {
              stdout:
                '{"workloads":[{"workload":"echo","engagement":{"id":"e-42","mode":"replace","name":"my-echo","ports":[8080]}}]}',
            }
          : args[0] === "leave"
            ? { stderr: "Left my-echo\n" }
            : {},
      () => {}, // the process ignores close()
    );
    const api = new ExtensionTelepresenceApi(client, { pollMs: 0, leaveMs: 10 });
    const events: ApiEvent[] = [];
    api.subscribe((e) => events.push(e));
    const engaged = api.engage(REQUEST);
    processes[0].err(ENGAGED);
    await engaged;
    await api.leave("default", "e-42");
    expect(runs).toEqual(["telepresence list --output json"]);
    expect([processes[1].cmd, ...processes[1].args].join(" ")).toBe(
      "telepresence leave my-echo --context default",
    );
    expect(events).toContainEqual({ type: "progress", action: "leave", line: "Left my-echo" });
    expect(events[events.length - 1]).toMatchObject({ type: "engagement", engagement: { state: "ended" } });
  });

  it("leaves an engagement it did not start through telepresence list and leave", async () => {
    const list =
      '{"workloads":[{"workload":"echo","engagement":{"id":"e-7","mode":"intercept","name":"echo","ports":[8080]}}]}';
    const { client, processes } = drivenClient((_cmd, args) =>
      args[0] === "list" ? { stdout: list } : args[0] === "leave" ? { code: 0 } : {},
    );
    const api = new ExtensionTelepresenceApi(client, { pollMs: 0 });
    await api.leave("dev", "e-7");
    expect(processes.map((p) => [p.cmd, ...p.args].join(" "))).toEqual([
      "telepresence leave echo --context dev",
    ]);
    await expect(api.leave("dev", "e-8")).rejects.toMatchObject({ status: 404 });
  });
});

describe("docker-run in the extension", () => {
  const ID = "abcdef0123456789abcdef0123456789abcdef0123456789abcdef0123456789";

  it("runs detached, follows the logs, and removes the container", async () => {
    const { client, processes, runs } = drivenClient((cmd, args) =>
      cmd === "telepresence" && args[0] === "docker-run" ? { stdout: `${ID}\n` } : {},
    );
    const api = new ExtensionTelepresenceApi(client, { pollMs: 0 });
    const events: ApiEvent[] = [];
    api.subscribe((e) => events.push(e));
    const r = await api.dockerRun({
      context: "default",
      image: "busybox",
      docker_args: [],
      args: ["sleep", "99"],
    });
    expect(r).toEqual({ container: "abcdef012345" });
    const logs = processes[1];
    expect([logs.cmd, ...logs.args].join(" ")).toBe("docker logs -f abcdef012345");
    logs.out("hello");
    logs.err("oops");
    expect(events.filter((e) => e.type === "log")).toEqual([
      { type: "log", container: "abcdef012345", line: "hello" },
      { type: "log", container: "abcdef012345", line: "oops" },
    ]);
    await api.stopContainer("default", "abcdef012345");
    expect(logs.closed).toBe(true);
    expect(runs).toEqual(["docker rm -f abcdef012345"]);
    await expect(api.stopContainer("default", "abcdef012345")).rejects.toMatchObject({ status: 404 });
  });

  it("rejects a failed docker-run with its sentence", async () => {
    const { client } = drivenClient(() => ({
      stderr: "telepresence docker-run: not connected; run telepresence connect --docker first\n",
      code: 1,
    }));
    const api = new ExtensionTelepresenceApi(client, { pollMs: 0 });
    await expect(
      api.dockerRun({ context: "default", image: "x", docker_args: [], args: [] }),
    ).rejects.toMatchObject({
      status: 409,
    });
  });
});
