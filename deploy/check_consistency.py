#!/usr/bin/env python3
"""Cross-file checks for deploy/, run by deploy/check: the artifacts must agree with each other
and with the service's code (config keys, routes, workspace layout), which no linter sees.

Prints one line per check ("ok ..." or "FAIL ..."; with --quiet only failures and a count) and
exits 1 if any failed.
Needs Python 3.11+ (tomllib) and PyYAML.
"""

import pathlib
import re
import sys
import tomllib

import yaml

DEPLOY = pathlib.Path(__file__).resolve().parent
ROOT = DEPLOY.parent
failures = 0
passed = 0
QUIET = "--quiet" in sys.argv[1:]

# PostgreSQL's default max_connections is 100; keep room for the Job, psql and monitoring.
CONNECTION_BUDGET = 80


def check(name, ok, detail=""):
    global failures, passed
    if ok:
        passed += 1
        if not QUIET:
            print(f"ok    {name}")
    else:
        failures += 1
        print(f"FAIL  {name}" + (f": {detail}" if detail else ""))


def load_yaml_docs(path):
    return [d for d in yaml.safe_load_all(path.read_text()) if d is not None]


# --- every YAML and TOML file parses --------------------------------------------------------
yaml_files = sorted(p for p in DEPLOY.rglob("*") if p.suffix in (".yaml", ".yml") and p.is_file())
for path in yaml_files:
    try:
        load_yaml_docs(path)
        check(f"yaml parses: {path.relative_to(ROOT)}", True)
    except yaml.YAMLError as e:
        check(f"yaml parses: {path.relative_to(ROOT)}", False, str(e).replace("\n", " "))

configs = {}
for path in sorted(DEPLOY.rglob("*.toml")):
    try:
        configs[path] = tomllib.loads(path.read_text())
        check(f"toml parses: {path.relative_to(ROOT)}", True)
    except tomllib.TOMLDecodeError as e:
        check(f"toml parses: {path.relative_to(ROOT)}", False, str(e))
orb_configs = {p: c for p, c in configs.items() if p.name in ("orb.toml", "orb.example.toml")}

# --- config keys exist in crates/server/src/config.rs ----------------------------------------
# The service ignores unknown keys silently, so a typo would quietly fall back to a default.
config_rs = (ROOT / "crates/server/src/config.rs").read_text()


def struct_fields(struct):
    body = re.search(r"pub struct " + struct + r" \{(.*?)\n\}", config_rs, re.S)
    return set(re.findall(r"^\s*pub (\w+):", body.group(1), re.M)) if body else set()


schema = {
    (): struct_fields("Settings"),
    ("graphql",): struct_fields("GraphqlSettings"),
    ("jwt",): struct_fields("JwtSettings"),
    ("jwt", "keys"): struct_fields("JwtKey"),
    ("rate_limits",): struct_fields("RateLimitSettings"),
}
check("config.rs structs found", all(schema.values()), "config.rs changed shape; update check_consistency.py")


def unknown_keys(table, prefix=()):
    bad = []
    allowed = schema.get(prefix, set())
    for key, value in table.items():
        if key not in allowed:
            bad.append(".".join(prefix + (key,)))
        elif isinstance(value, dict):
            bad += unknown_keys(value, prefix + (key,))
        elif isinstance(value, list) and value and isinstance(value[0], dict):
            for item in value:
                bad += unknown_keys(item, prefix + (key,))
    return bad


for path, cfg in orb_configs.items():
    bad = unknown_keys(cfg)
    check(f"config keys known to the service: {path.relative_to(ROOT)}", not bad, ", ".join(bad))
    jwt = cfg.get("jwt", {})
    if jwt.get("algorithm") == "EdDSA":
        signer = [k for k in jwt.get("keys", []) if k.get("kid") == jwt.get("signing_kid")]
        ok = len(signer) == 1 and ("private_key_file" in signer[0] or "private_key_pem" in signer[0])
        check(f"signing_kid has a private key: {path.relative_to(ROOT)}", ok)


def grace(path):
    return orb_configs.get(path, {}).get("shutdown_grace_seconds", 30)


def key_files(path):
    return {
        pathlib.PurePosixPath(k[f]).name: pathlib.PurePosixPath(k[f]).parent.as_posix()
        for k in orb_configs.get(path, {}).get("jwt", {}).get("keys", [])
        for f in ("private_key_file", "public_key_file")
        if f in k
    }


# --- the image ------------------------------------------------------------------------------
dockerfile = (DEPLOY / "Dockerfile").read_text()
workspace = tomllib.loads((ROOT / "Cargo.toml").read_text())["workspace"]
for member in workspace["members"]:
    copied = re.search(rf"^COPY {re.escape(member)}/Cargo\.toml ", dockerfile, re.M)
    stubbed = member in dockerfile.split("cargo build", 1)[0].split("RUN for crate in", 1)[-1]
    check(f"Dockerfile copies and stubs workspace member {member}", bool(copied) and stubbed)
check("Dockerfile copies .cargo/ (the allocator's built-in settings) before the first build",
      "COPY .cargo .cargo" in dockerfile.split("cargo build", 1)[0])
server = tomllib.loads((ROOT / "crates/server/Cargo.toml").read_text())
check("orb-server builds a binary named orb", any(b["name"] == "orb" for b in server.get("bin", [])))
check("Dockerfile builds orb-server --locked", "cargo build --release -p orb-server --locked" in dockerfile)

# Files read at compile time (include_str!/include_bytes!) must be inside the repository and,
# unless only tests read them, copied into the build stage.
# Read only by #[cfg(test)] code, which a release build does not compile.
TEST_ONLY = {"deploy", "schema"}
copied_dirs = set(re.findall(r"^COPY (\S+) \S+$", dockerfile, re.M))
outside, missing = [], []
for rs in list((ROOT / "crates").rglob("*.rs")) + list((ROOT / "migrations").rglob("*.rs")):
    for target in re.findall(r'include_(?:str|bytes)!\("([^"]+)"\)', rs.read_text()):
        resolved = (rs.parent / target).resolve()
        if not resolved.is_relative_to(ROOT):
            outside.append(f"{rs.relative_to(ROOT)} -> {target}")
            continue
        top = resolved.relative_to(ROOT).parts[0]
        if top not in copied_dirs and top not in TEST_ONLY:
            missing.append(f"{rs.relative_to(ROOT)} -> {top}/")
check("compile-time includes stay inside the repository", not outside, "; ".join(outside))
check("compile-time includes are copied into the build stage", not missing, "; ".join(sorted(set(missing))))

image_user = re.search(r"^USER (\d+)(?::(\d+))?$", dockerfile, re.M)
check("image runs as a numeric non-root user", bool(image_user) and image_user.group(1) != "0")
uid = int(image_user.group(1)) if image_user else None
check("image exposes 8080 and binds it", "EXPOSE 8080" in dockerfile and "ORB_BIND=0.0.0.0:8080" in dockerfile)
check('image ENTRYPOINT orb, CMD serve --no-migrate',
      'ENTRYPOINT ["orb"]' in dockerfile and 'CMD ["serve", "--no-migrate"]' in dockerfile)

# --- the routes the probes use exist ---------------------------------------------------------
startup = (ROOT / "crates/server/src/startup.rs").read_text()
for route in ("/healthz", "/readyz"):
    check(f"service routes {route}", f'web::resource("{route}").route(web::get()' in startup)
check("image HEALTHCHECK uses /healthz", "GET /healthz" in dockerfile)

# --- compose ---------------------------------------------------------------------------------
compose = load_yaml_docs(DEPLOY / "compose.yaml")[0]
services = compose.get("services", {})
orb, migrate, db = services.get("orb", {}), services.get("migrate", {}), services.get("db", {})
check("compose: migrate runs `orb migrate`", migrate.get("command") == ["migrate"])
check("compose: orb runs `serve --no-migrate`", orb.get("command") == ["serve", "--no-migrate"])
check("compose: orb waits for migrate to succeed",
      orb.get("depends_on", {}).get("migrate", {}).get("condition") == "service_completed_successfully")
check("compose: migrate waits for a healthy db",
      migrate.get("depends_on", {}).get("db", {}).get("condition") == "service_healthy")
check("compose: db has a pg_isready healthcheck", "pg_isready" in db.get("healthcheck", {}).get("test", []))
check("compose: serve gets no owner DATABASE_URL", "DATABASE_URL" not in orb.get("environment", {}))
stop = re.fullmatch(r"(\d+)s", str(orb.get("stop_grace_period", "10s")))
compose_cfg = DEPLOY / "compose/orb.toml"
check("compose: stop_grace_period > shutdown_grace_seconds",
      bool(stop) and int(stop.group(1)) > grace(compose_cfg))
secret_names = set(compose.get("secrets", {}))
for name, folder in key_files(compose_cfg).items():
    check(f"compose: JWT key {name} is a secret under /run/secrets", name in secret_names and folder == "/run/secrets")
for name, spec in compose.get("secrets", {}).items():
    check(f"compose: secret {name} file is git-ignored",
          spec.get("file", "").startswith("./secrets/") and "/secrets/" in (DEPLOY / ".gitignore").read_text())

# --- kubernetes ------------------------------------------------------------------------------
kdir = DEPLOY / "kubernetes"
kustomization = load_yaml_docs(kdir / "kustomization.yaml")[0]
resources = kustomization.get("resources", [])
check("kustomization: every resource file exists", all((kdir / r).is_file() for r in resources))
check("kustomization: the secret template is not applied", "secret.example.yaml" not in resources)
generated = [f for g in kustomization.get("configMapGenerator", []) for f in g.get("files", [])]
check("kustomization: generated ConfigMap files exist", all((kdir / f).is_file() for f in generated))
objects = {}
for r in resources + ["secret.example.yaml"]:
    for doc in load_yaml_docs(kdir / r):
        objects[(doc.get("kind"), doc["metadata"]["name"])] = doc
deploy = objects.get(("Deployment", "orb"), {})
pod = deploy.get("spec", {}).get("template", {}).get("spec", {})
container = (pod.get("containers") or [{}])[0]
k8s_cfg = kdir / "orb.toml"
pre_stop = container.get("lifecycle", {}).get("preStop", {}).get("exec", {}).get("command", [])
sleep = int(pre_stop[1]) if len(pre_stop) == 2 and pre_stop[0] == "sleep" else 0
check("deployment: preStop sleeps before SIGTERM", sleep > 0)
check("deployment: terminationGracePeriodSeconds > preStop + shutdown_grace_seconds",
      pod.get("terminationGracePeriodSeconds", 30) > sleep + grace(k8s_cfg))
check("deployment: liveness /healthz, readiness /readyz",
      container.get("livenessProbe", {}).get("httpGet", {}).get("path") == "/healthz"
      and container.get("readinessProbe", {}).get("httpGet", {}).get("path") == "/readyz")
check("deployment: runs `serve --no-migrate`", container.get("args") == ["serve", "--no-migrate"])
check("deployment: runAsUser matches the image's USER", pod.get("securityContext", {}).get("runAsUser") == uid)
check("deployment: non-root, read-only root filesystem",
      pod.get("securityContext", {}).get("runAsNonRoot") is True
      and container.get("securityContext", {}).get("readOnlyRootFilesystem") is True)
env_names = {e["name"] for e in container.get("env", [])}
check("deployment: serve gets no owner DATABASE_URL", "DATABASE_URL" not in env_names)
check("deployment: resources have requests and limits",
      {"requests", "limits"} <= set(container.get("resources", {})))
job = objects.get(("Job", "orb-migrate"), {})
job_container = (job.get("spec", {}).get("template", {}).get("spec", {}).get("containers") or [{}])[0]
check("job: runs `orb migrate`", job_container.get("args") == ["migrate"])
hpa = objects.get(("HorizontalPodAutoscaler", "orb"), {}).get("spec", {})
pool = orb_configs.get(k8s_cfg, {}).get("database_pool_size", 16)
check(f"hpa: maxReplicas x database_pool_size <= {CONNECTION_BUDGET} connections",
      hpa.get("maxReplicas", 0) * pool <= CONNECTION_BUDGET, f"{hpa.get('maxReplicas')} x {pool}")
check("hpa: minReplicas >= Deployment replicas", hpa.get("minReplicas", 0) >= deploy.get("spec", {}).get("replicas", 1))
pdb = objects.get(("PodDisruptionBudget", "orb"), {}).get("spec", {})
selector = deploy.get("spec", {}).get("selector", {}).get("matchLabels")
check("pdb and service select the Deployment's pods",
      pdb.get("selector", {}).get("matchLabels") == selector
      and objects.get(("Service", "orb"), {}).get("spec", {}).get("selector") == selector)
jwt_secret = objects.get(("Secret", "orb-jwt"), {}).get("stringData", {})
jwt_mount = next((m["mountPath"] for m in container.get("volumeMounts", []) if m["name"] == "jwt"), None)
for name, folder in key_files(k8s_cfg).items():
    check(f"kubernetes: JWT key {name} is in Secret orb-jwt, mounted at {folder}",
          name in jwt_secret and folder == jwt_mount)

# --- systemd ---------------------------------------------------------------------------------
unit = (DEPLOY / "systemd/orb.service").read_text()


def directive(name):
    return re.findall(rf"^{name}=(.*)$", unit, re.M)


check("systemd: ExecStartPre migrates", directive("ExecStartPre") == ["/usr/local/bin/orb migrate"])
check("systemd: ExecStart serves without migrating", directive("ExecStart") == ["/usr/local/bin/orb serve --no-migrate"])
stop_sec = directive("TimeoutStopSec")
sd_cfg = DEPLOY / "systemd/orb.toml"
check("systemd: TimeoutStopSec > shutdown_grace_seconds",
      len(stop_sec) == 1 and stop_sec[0].isdigit() and int(stop_sec[0]) > grace(sd_cfg))
HARDENING = {
    "NoNewPrivileges": "yes", "ProtectSystem": "strict", "ProtectHome": "yes", "PrivateTmp": "yes",
    "PrivateDevices": "yes", "CapabilityBoundingSet": "", "RestrictSUIDSGID": "yes",
    "MemoryDenyWriteExecute": "yes", "SystemCallArchitectures": "native", "UMask": "0077",
}
weakened = [f"{k}={v}" for k, v in HARDENING.items() if directive(k) != [v]]
check("systemd: hardening directives in place", not weakened, "expected " + ", ".join(weakened))
check("systemd: runs as the orb user", directive("User") == ["orb"] and directive("Type") == ["exec"])
credentials = {c.split(":", 1)[0] for c in directive("LoadCredential")}
for name, folder in key_files(sd_cfg).items():
    check(f"systemd: JWT key {name} is a credential",
          name in credentials and folder == "/run/credentials/orb.service")

if QUIET:
    print(f"{passed} passed, {failures} failed")
sys.exit(1 if failures else 0)
