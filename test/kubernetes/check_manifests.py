#!/usr/bin/python3
"""Offline checks of deploy/kubernetes/ against the code (no cluster, no network).

usage: check_manifests.py REPO_DIR

The ports, paths and image names the manifests must use are read from the sources at test time
(regexes on the exact constants), so the test fails when either side changes alone. A
self-check feeds the checker mutated copies and asserts that it reports each problem. When
kubectl is installed, `kubectl kustomize` (offline) applies the agent patch to the example
Deployment (the result is checked again) and then docs/kubernetes.md's removal patch (the
example must come back); without kubectl that part is skipped, loudly.
"""
import copy
import json
import pathlib
import re
import shutil
import subprocess
import sys
import tempfile

import yaml

MANAGER_NS = "telepresence"
AGENT_PATCH = "traffic-agent/echo-patch.yaml"
EXAMPLE = "example/echo.yaml"
RBAC_KINDS = {"Role", "ClusterRole", "RoleBinding", "ClusterRoleBinding"}
# The only capability a container may add, and the only container that may run as root: the
# agent's SFTP sessions chroot (cluster/agent/chroot_preload.cc).
ALLOWED_ADDS = {"traffic-agent": {"SYS_CHROOT"}}
ROOT_ALLOWED = {"traffic-agent"}


def constant(repo, path, pattern):
    match = re.search(pattern, (repo / path).read_text(), re.MULTILINE)
    if not match:
        sys.exit(f"FAIL: {path} has no match for {pattern!r}: update this test")
    return match.group(1)


def read_facts(repo):
    """What the code says the manifests must use."""
    build_images = "scripts/build-images.sh"
    manager_port = int(constant(repo, "demo/cluster/common.sh", r"^demo_manager_port=(\d+)"))
    exposed = int(constant(repo, build_images,
                           r"""'ENTRYPOINT \["/traffic-manager"\]' 'EXPOSE (\d+)'"""))
    if exposed != manager_port:
        sys.exit(f"FAIL: tp-traffic-manager exposes {exposed} but the demo uses {manager_port}")
    images = constant(repo, build_images, r"\|\| images=\(([^)]*)\)").split()
    uses_api = re.search(r"kubernetes\.io|KUBERNETES_SERVICE",
                         "".join(p.read_text() for p in (repo / "cluster/manager").glob("*.cc")))
    return {
        "manager_port": manager_port,
        "sftp_port": int(constant(repo, "cluster/agent/agent_options.h",
                                  r"uint16_t sftp_port = (\d+);")),
        "exports": constant(repo, "cluster/agent/agent_options.h",
                            r'std::string exports = "([^"]+)";'),
        "cluster_domain": constant(repo, "cluster/manager/manager_options.h",
                                   r'std::string cluster_domain = "([^"]+)";'),
        "images": set(images),
        "manager_uses_api": bool(uses_api),
    }


def load(root):
    """[(relative file, document)] of every YAML file under root."""
    docs = []
    for path in sorted(root.rglob("*.y*ml")):
        for doc in yaml.safe_load_all(path.read_text()):
            if doc is not None:
                docs.append((str(path.relative_to(root)), doc))
    return docs


def find(docs, kind, name, file=None):
    for doc_file, doc in docs:
        meta = doc.get("metadata") or {}
        if doc.get("kind") == kind and meta.get("name") == name and file in (None, doc_file):
            return doc
    return None


def namespace(doc):
    return doc["metadata"].get("namespace", "default")


def container(pod, name):
    return next((c for c in pod.get("containers", []) if c.get("name") == name), None)


def flag_values(args, flag):
    return [args[i + 1] for i, arg in enumerate(args[:-1]) if arg == flag]


def flag(args, name):
    values = flag_values(args, name)
    return values[0] if len(values) == 1 else None


def secret_file_source(pod, box, path):
    """The Secret name behind the file `path` in container `box`, or None."""
    volumes = {v.get("name"): v for v in pod.get("volumes", [])}
    for mount in box.get("volumeMounts", []):
        if path and path.startswith(mount["mountPath"].rstrip("/") + "/"):
            return (volumes.get(mount["name"], {}).get("secret") or {}).get("secretName")
    return None


def check_pod(where, pod, problems):
    """Privilege and resource rules for every pod spec and container."""
    for key in ("hostNetwork", "hostPID", "hostIPC"):
        if pod.get(key):
            problems.append(f"{where}: {key} is set")
    for volume in pod.get("volumes", []):
        if "hostPath" in volume:
            problems.append(f"{where}: volume {volume.get('name')} is a hostPath")
    pod_context = pod.get("securityContext") or {}
    for box in pod.get("containers", []) + pod.get("initContainers", []):
        name = box.get("name")
        here = f"{where} container {name}"
        context = box.get("securityContext") or {}
        if context.get("privileged"):
            problems.append(f"{here}: privileged")
        if context.get("allowPrivilegeEscalation") is not False:
            problems.append(f"{here}: allowPrivilegeEscalation is not false")
        if context.get("readOnlyRootFilesystem") is not True:
            problems.append(f"{here}: readOnlyRootFilesystem is not true")
        caps = context.get("capabilities") or {}
        if "ALL" not in (caps.get("drop") or []):
            problems.append(f"{here}: capabilities do not drop ALL")
        extra = set(caps.get("add") or []) - ALLOWED_ADDS.get(name, set())
        if extra:
            problems.append(f"{here}: adds capabilities {sorted(extra)}")
        non_root = context.get("runAsNonRoot", pod_context.get("runAsNonRoot"))
        if non_root is not True and name not in ROOT_ALLOWED:
            problems.append(f"{here}: runAsNonRoot is not true")
        resources = box.get("resources") or {}
        for part in ("requests", "limits"):
            if set((resources.get(part) or {})) < {"cpu", "memory"}:
                problems.append(f"{here}: no cpu and memory {part}")
        if "command" in box:
            problems.append(f"{here}: overrides the image's ENTRYPOINT (use args)")


def check_images(docs, facts, problems):
    for doc_file, doc in docs:
        pod = pod_spec(doc)
        for box in (pod or {}).get("containers", []):
            image = box.get("image", "")
            base = image.rsplit("/", 1)[-1].split(":")[0].split("@")[0]
            if base not in facts["images"]:
                problems.append(f"{doc_file}: image {image!r} is not one `make images` builds "
                                f"({', '.join(sorted(facts['images']))})")


def pod_spec(doc):
    return ((doc.get("spec") or {}).get("template") or {}).get("spec")


def check_manager(docs, facts, problems):
    port = facts["manager_port"]
    account = find(docs, "ServiceAccount", "traffic-manager")
    deployment = find(docs, "Deployment", "traffic-manager")
    service = find(docs, "Service", "traffic-manager")
    if not (account and deployment and service and find(docs, "Namespace", MANAGER_NS)):
        problems.append("missing the Namespace, ServiceAccount, Deployment or Service "
                        "of the traffic-manager")
        return
    rbac = [doc["kind"] for _, doc in docs if doc.get("kind") in RBAC_KINDS]
    if facts["manager_uses_api"]:
        problems.append("the manager's code now calls the Kubernetes API: review its RBAC")
    elif rbac or account.get("automountServiceAccountToken") is not False:
        problems.append(f"the manager calls no Kubernetes API, yet RBAC {rbac} or an "
                        "automounted ServiceAccount token is given")
    pod = pod_spec(deployment)
    if pod.get("serviceAccountName") != "traffic-manager" or \
            pod.get("automountServiceAccountToken") is not False:
        problems.append("the manager's pod must use its ServiceAccount without a token")
    labels = deployment["spec"]["template"]["metadata"].get("labels", {})
    if service["spec"].get("selector") != labels or \
            deployment["spec"]["selector"].get("matchLabels") != labels:
        problems.append("the manager's Service or Deployment selector misses its pod labels")
    box = container(pod, "traffic-manager")
    args = box.get("args", [])
    if flag(args, "--listen") != f"0.0.0.0:{port}":
        problems.append(f"the manager must --listen 0.0.0.0:{port}, has {flag(args, '--listen')}")
    container_ports = {p.get("name"): p["containerPort"] for p in box.get("ports", [])}
    if list(container_ports.values()) != [port]:
        problems.append(f"the manager's containerPort must be {port}: {container_ports}")
    for service_port in service["spec"].get("ports", []):
        target = service_port.get("targetPort")
        target = container_ports.get(target, target)
        if service_port.get("port") != port or target != port:
            problems.append(f"the manager's Service port must be {port}: {service_port}")
    daemon = secret_file_source(pod, box, flag(args, "--secret-file"))
    agent = secret_file_source(pod, box, flag(args, "--agent-secret-file"))
    if not daemon or not agent or daemon == agent:
        problems.append("--secret-file and --agent-secret-file must be files of two Secrets")
    for name in (daemon, agent):
        if name and not find_secret(docs, name, namespace(deployment)):
            problems.append(f"the manager mounts Secret {name}, which no manifest defines")
    if service["spec"].get("type", "ClusterIP") != "ClusterIP":
        problems.append("the manager's tunnel is not encrypted: keep its Service a ClusterIP")
    return agent


def find_secret(docs, name, ns):
    return next((d for _, d in docs if d.get("kind") == "Secret" and
                 d["metadata"]["name"] == name and namespace(d) == ns), None)


def check_agent(docs, facts, agent_secret, problems):
    patch = find(docs, "Deployment", "echo", AGENT_PATCH)
    app = find(docs, "Deployment", "echo", EXAMPLE)
    service = find(docs, "Service", "traffic-manager")
    if not (patch and app):
        problems.append(f"missing {AGENT_PATCH} or {EXAMPLE}")
        return
    pod, app_pod = pod_spec(patch), pod_spec(app)
    box = container(pod, "traffic-agent")
    if not box:
        problems.append(f"{AGENT_PATCH} adds no container traffic-agent")
        return
    args = box.get("args", [])
    expected = [f"{service['metadata']['name']}.{namespace(service)}.svc."
                f"{facts['cluster_domain']}:{facts['manager_port']}"]
    if flag_values(args, "--manager") != expected:
        problems.append(f"the agent's --manager must be {expected[0]}: "
                        f"{flag_values(args, '--manager')}")
    if flag(args, "--workload") != patch["metadata"]["name"]:
        problems.append("the agent's --workload is not the patched Deployment's name")
    app_name = flag(args, "--container")
    app_box = container(app_pod, app_name)
    if not app_box:
        problems.append(f"the agent's --container {app_name} is no container of {EXAMPLE}")
        return
    tcp_ports = sorted(p["containerPort"] for p in app_box.get("ports", [])
                       if p.get("protocol", "TCP") == "TCP")
    agent_ports = sorted(int(p) for p in flag_values(args, "--port"))
    if agent_ports != tcp_ports:
        problems.append(f"the agent's --port list {agent_ports} is not the app's TCP ports "
                        f"{tcp_ports}")
    app_args = app_box.get("args", [])
    if flag(app_args, "--tcp-address") != "127.0.0.1":
        problems.append("the example app must serve TCP on 127.0.0.1 only (the agent takes "
                        "the pod address)")
    sftp = int(flag(args, "--sftp-port") or facts["sftp_port"])
    if sftp != facts["sftp_port"] or \
            [p["containerPort"] for p in box.get("ports", [])] != [facts["sftp_port"]]:
        problems.append(f"the agent's SFTP port must be the default {facts['sftp_port']}")
    secret = secret_file_source(pod, box, flag(args, "--secret-file"))
    if not secret or secret != agent_secret:
        problems.append(f"the agent's --secret-file must come from Secret {agent_secret}, "
                        f"not {secret}")
    elif not find_secret(docs, secret, namespace(patch)):
        problems.append(f"no Secret {secret} in the workload's namespace {namespace(patch)}")
    app_mounts = {m["mountPath"]: m["name"] for m in app_box.get("volumeMounts", [])}
    agent_mounts = {m["mountPath"]: m["name"] for m in box.get("volumeMounts", [])}
    for path in flag_values(args, "--mount"):
        exported = f"{facts['exports']}/{app_name}{path}"
        if path not in app_mounts or agent_mounts.get(exported) != app_mounts[path]:
            problems.append(f"--mount {path}: the agent must mount the app's volume at {exported}")
    check_env_file(docs, pod, box, app_box, flag(args, "--app-env-file"), problems)


def check_env_file(docs, pod, box, app_box, path, problems):
    """The ConfigMap behind --app-env-file holds the app's env, KEY=VALUE lines."""
    volumes = {v["name"]: v for v in pod.get("volumes", [])}
    for mount in box.get("volumeMounts", []):
        source = volumes.get(mount["name"], {}).get("configMap")
        if source and path and path.startswith(mount["mountPath"] + "/"):
            config = find(docs, "ConfigMap", source["name"])
            text = ((config or {}).get("data") or {}).get(path.rsplit("/", 1)[1], "")
            wanted = sorted(f"{e['name']}={e['value']}" for e in app_box.get("env", []))
            if sorted(line for line in text.splitlines() if line) != wanted:
                problems.append(f"--app-env-file {path} is not the app's env {wanted}")
            return
    problems.append(f"--app-env-file {path} is no file of a ConfigMap volume")


def check(docs, facts):
    """Every problem of the manifests, as sentences; [] when they are right."""
    problems = []
    for doc_file, doc in docs:
        if not (doc.get("apiVersion") and doc.get("kind") and
                (doc.get("metadata") or {}).get("name")):
            problems.append(f"{doc_file}: a document lacks apiVersion, kind or metadata.name")
            return problems
        if doc["kind"] == "Secret" and any(
                v for part in ("data", "stringData") for v in (doc.get(part) or {}).values()):
            problems.append(f"{doc_file}: Secret {doc['metadata']['name']} holds a value "
                            "(leave it empty and say how to make it)")
        if pod_spec(doc) is not None:
            check_pod(f"{doc_file} {doc['kind']} {doc['metadata']['name']}", pod_spec(doc),
                      problems)
    check_images(docs, facts, problems)
    agent_secret = check_manager(docs, facts, problems)
    check_agent(docs, facts, agent_secret, problems)
    return problems


def mutated(docs, kind, name, change, file=None):
    docs = copy.deepcopy(docs)
    change(find(docs, kind, name, file))
    return docs


def manager_box(doc):
    return container(pod_spec(doc), "traffic-manager")


def agent_box(doc):
    return container(pod_spec(doc), "traffic-agent")


def self_check(docs, facts):
    """The checker reports each of these breakages (so the test can fail)."""
    cases = [
        ("privileged", mutated(docs, "Deployment", "traffic-manager", lambda d: manager_box(
            d)["securityContext"].update(privileged=True)), facts),
        ("Service port", mutated(docs, "Service", "traffic-manager", lambda d: d["spec"][
            "ports"][0].update(port=facts["manager_port"] + 1)), facts),
        ("not one `make images` builds", mutated(docs, "Deployment", "echo", lambda d: agent_box(
            d).update(image="busybox:latest"), AGENT_PATCH), facts),
        ("drop ALL", mutated(docs, "Deployment", "traffic-manager", lambda d: manager_box(
            d)["securityContext"]["capabilities"].update(drop=[])), facts),
        ("hostPath", mutated(docs, "Deployment", "traffic-manager", lambda d: pod_spec(
            d)["volumes"].append({"name": "h", "hostPath": {"path": "/"}})), facts),
        ("must come from Secret", mutated(docs, "Deployment", "echo", lambda d: pod_spec(
            d)["volumes"][0]["secret"].update(secretName="tp-daemon-secret"), AGENT_PATCH),
         facts),
        ("holds a value", mutated(docs, "Secret", "tp-daemon-secret", lambda d: d[
            "stringData"].update(secret="hunter2")), facts),
        ("SFTP port", docs, dict(facts, sftp_port=facts["sftp_port"] + 1)),
        ("--listen", docs, dict(facts, manager_port=facts["manager_port"] + 1)),
        ("RBAC", docs + [("x.yaml", {"apiVersion": "rbac.authorization.k8s.io/v1",
                                     "kind": "ClusterRole", "metadata": {"name": "x"}})], facts),
    ]
    failures = 0
    for expected, case_docs, case_facts in cases:
        found = check(case_docs, case_facts)
        if not any(expected in problem for problem in found):
            print(f"FAIL: self-check: a breakage about {expected!r} went unreported: {found}")
            failures += 1
    print(f"self-check: {len(cases) - failures} of {len(cases)} breakages reported")
    return failures


def kustomize(kubectl, files, patch):
    """The documents `kubectl kustomize` (offline) makes of `files` with `patch` applied."""
    with tempfile.TemporaryDirectory() as work:
        for name, text in files.items():
            (pathlib.Path(work) / name).write_text(text)
        (pathlib.Path(work) / "kustomization.yaml").write_text(
            f"resources: [{', '.join(set(files) - {patch})}]\npatches: [{{path: {patch}}}]\n")
        run = subprocess.run([kubectl, "kustomize", work], capture_output=True, text=True,
                             timeout=120, check=False, env={"KUBECONFIG": "/dev/null"})
    if run.returncode != 0:
        raise RuntimeError(f"kubectl kustomize failed: {run.stderr.strip()}")
    return [("merged", d) for d in yaml.safe_load_all(run.stdout) if d]


def removal_patch(repo):
    """docs/kubernetes.md's patch that takes the agent out of echo, as a YAML document."""
    text = (repo / "docs/kubernetes.md").read_text()
    match = re.search(r"patch deployment echo --type strategic -p '([^']*)'", text)
    if not match:
        raise RuntimeError("docs/kubernetes.md has no removal patch for echo")
    header = {"apiVersion": "apps/v1", "kind": "Deployment",
              "metadata": {"name": "echo", "namespace": "default"}}
    return yaml.safe_dump(dict(header, **json.loads(match.group(1))))


def check_patch_applies(repo, root, problems):
    """kubectl kustomize merges the agent patch into the example Deployment, and the docs'
    removal patch gives the example back."""
    kubectl = shutil.which("kubectl")
    if not kubectl:
        print("*** SKIPPED: kubectl is not installed, so the strategic merges of "
              f"{AGENT_PATCH} and of the docs' removal patch were NOT checked ***")
        return
    try:
        merged = kustomize(kubectl, {"echo.yaml": (root / EXAMPLE).read_text(),
                                     "patch.yaml": (root / AGENT_PATCH).read_text()},
                           "patch.yaml")
        removed = kustomize(kubectl, {"merged.yaml": yaml.safe_dump_all(d for _, d in merged),
                                      "remove.yaml": removal_patch(repo)}, "remove.yaml")
    except RuntimeError as error:
        problems.append(str(error))
        return
    pod = pod_spec(find(merged, "Deployment", "echo") or {}) or {}
    names = sorted(c["name"] for c in pod.get("containers", []))
    volumes = sorted(v["name"] for v in pod.get("volumes", []))
    if names != ["echo", "traffic-agent"]:
        problems.append(f"the merged echo Deployment has containers {names}")
    if volumes != ["echo-data", "tp-agent-secret", "tp-app-env"]:
        problems.append(f"the merged echo Deployment has volumes {volumes}")
    check_pod("merged echo Deployment", pod, problems)
    example = yaml.safe_load_all((root / EXAMPLE).read_text())
    original = next(d for d in example if d["kind"] == "Deployment")
    if find(removed, "Deployment", "echo")["spec"] != original["spec"]:
        problems.append("docs/kubernetes.md's removal patch does not give back the example")
    print(f"kubectl kustomize: the patched echo has containers {names}, volumes {volumes}; "
          "the docs' removal patch gives back the example's Deployment")


def main():
    repo = pathlib.Path(sys.argv[1]).resolve()
    root = repo / "deploy/kubernetes"
    facts = read_facts(repo)
    docs = load(root)
    print(f"{len(docs)} documents in {root}; from the code: manager port "
          f"{facts['manager_port']}, agent SFTP port {facts['sftp_port']}, exports "
          f"{facts['exports']}, images {' '.join(sorted(facts['images']))}")
    problems = check(docs, facts)
    check_patch_applies(repo, root, problems)
    for problem in problems:
        print(f"FAIL: {problem}")
    failures = len(problems) + self_check(docs, facts)
    print("kubernetes manifests: " + ("OK" if failures == 0 else f"{failures} failures"))
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
