"""Static checks of the Docker deployment (Dockerfile, docker-compose.yml, .env.example).

Nothing here needs Docker: the compose file is validated against the Compose specification's
JSON schema and checked for consistency (variables, secrets, wiring, health checks, scaling).
"""

from __future__ import annotations

import fnmatch
import json
import re
import shlex
import tomllib
from pathlib import Path
from urllib.parse import urlsplit

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[2]
COMPOSE_FILE = ROOT / "docker-compose.yml"
ENV_EXAMPLE = ROOT / ".env.example"
DOCKERFILE = ROOT / "Dockerfile"
DOCKERIGNORE = ROOT / ".dockerignore"
SCHEMA = ROOT.parent / "shared" / "data" / "schemas" / "compose-spec.json"

AIRFLOW_SERVICES = {
    "airflow-apiserver",
    "airflow-scheduler",
    "airflow-dag-processor",
    "airflow-triggerer",
    "airflow-worker",
    "airflow-init",
    "airflow-cli",
    "flower",
}
ONE_SHOT_SERVICES = {"airflow-init", "airflow-cli"}
EXPECTED_SERVICES = AIRFLOW_SERVICES | {"postgres", "warehouse", "redis"}
REQUIRED_SECRETS = {
    "AIRFLOW_DB_PASSWORD",
    "WAREHOUSE_PASSWORD",
    "AIRFLOW_FERNET_KEY",
    "AIRFLOW_JWT_SECRET",
    "AIRFLOW_API_SECRET_KEY",
    "AIRFLOW_ADMIN_PASSWORD",
    "CAKUPAN_BI_PASSWORD",
}
SECRET_ENV_KEY = re.compile(r"PASSWORD|SECRET|FERNET|TOKEN|_KEY$")


# --------------------------------------------------------------------------- compose interpolation


class MissingVariable(Exception):
    """A `${VAR:?message}` (or `${VAR?message}`) whose variable is not set."""

    def __init__(self, name: str, message: str):
        super().__init__(f"{name}: {message}")
        self.name = name


_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
_EXPR = re.compile(r"^([A-Za-z_][A-Za-z0-9_]*)(?:(:?[-?+])(.*))?$", re.DOTALL)


def _tokens(text: str):
    """Compose's interpolation syntax: yields ("text", s) or ("var", name, op, arg)."""
    i = 0
    while i < len(text):
        if text[i] != "$":
            j = text.find("$", i)
            j = len(text) if j == -1 else j
            yield ("text", text[i:j])
            i = j
            continue
        nxt = text[i + 1 : i + 2]
        if nxt == "$":  # `$$` is a literal `$`
            yield ("text", "$")
            i += 2
        elif nxt == "{":
            depth, j = 1, i + 2
            while j < len(text) and depth:
                depth += {"{": 1, "}": -1}.get(text[j], 0)
                j += 1
            if depth:
                raise ValueError(f"unclosed ${{ in {text!r}")
            m = _EXPR.match(text[i + 2 : j - 1])
            if not m:
                raise ValueError(f"invalid interpolation {text[i:j]!r}")
            yield ("var", m[1], m[2] or "", m[3] or "")
            i = j
        elif m := _NAME.match(text, i + 1):
            yield ("var", m[0], "", "")
            i = m.end()
        else:
            yield ("text", "$")
            i += 1


def interpolate(text: str, env: dict[str, str]) -> str:
    out = []
    for token in _tokens(text):
        if token[0] == "text":
            out.append(token[1])
            continue
        _, name, op, arg = token
        value = env.get(name)
        if op in (":?", "?") and (value is None or (op == ":?" and value == "")):
            raise MissingVariable(name, arg)
        if op == ":-" and not value:
            value = interpolate(arg, env)
        elif op == "-" and value is None:
            value = interpolate(arg, env)
        elif op == ":+":
            value = interpolate(arg, env) if value else ""
        elif op == "+":
            value = interpolate(arg, env) if value is not None else ""
        out.append(value or "")
    return "".join(out)


def references(text: str) -> list[tuple[str, str]]:
    """(name, operator) of every variable a string references."""
    refs = []
    for token in _tokens(text):
        if token[0] == "var":
            refs.append((token[1], token[2]))
            refs += references(token[3])
    return refs


def _strings(node):
    if isinstance(node, dict):
        for value in node.values():
            yield from _strings(value)
    elif isinstance(node, list):
        for value in node:
            yield from _strings(value)
    elif isinstance(node, str):
        yield node


def _resolve(node, env):
    if isinstance(node, dict):
        return {key: _resolve(value, env) for key, value in node.items()}
    if isinstance(node, list):
        return [_resolve(value, env) for value in node]
    if isinstance(node, str):
        return interpolate(node, env)
    return node


def _literal_url_passwords(text: str) -> list[str]:
    """Passwords written literally in `scheme://user:password@host` URLs of a string."""
    masked = "".join(
        token[1] if token[0] == "text" else f"<<{token[1]}>>" for token in _tokens(text)
    )
    found = []
    for m in re.finditer(r"[a-z][a-z0-9+.-]*://([^:/@\s]*):([^@\s]*)@", masked):
        password = m[2]
        if password and not re.fullmatch(r"<<[A-Za-z_][A-Za-z0-9_]*>>", password):
            found.append(password)
    return found


# --------------------------------------------------------------------------- fixtures


def _env_example() -> dict[str, str]:
    env = {}
    for line in ENV_EXAMPLE.read_text().splitlines():
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        key, sep, value = line.partition("=")
        assert sep, f".env.example: not KEY=value: {line!r}"
        env[key.strip()] = value.strip()
    return env


def _fake_secrets() -> dict[str, str]:
    return {name: f"test-{name.lower().replace('_', '-')}" for name in REQUIRED_SECRETS}


@pytest.fixture(scope="module")
def compose() -> dict:
    return yaml.safe_load(COMPOSE_FILE.read_text())  # safe_load resolves anchors and `<<` merges


@pytest.fixture(scope="module")
def services(compose) -> dict:
    return compose["services"]


@pytest.fixture(scope="module")
def resolved(compose) -> dict:
    """The compose file as docker compose would see it with .env.example plus generated secrets."""
    return _resolve(compose, {**_env_example(), **_fake_secrets()})


def _env(service: dict) -> dict:
    env = service.get("environment") or {}
    if isinstance(env, list):
        env = dict(item.split("=", 1) if "=" in item else (item, None) for item in env)
    return env


def _depends_on(service: dict) -> dict:
    deps = service.get("depends_on") or {}
    if isinstance(deps, list):
        deps = {name: {"condition": "service_started"} for name in deps}
    return deps


def _dockerfile_instructions() -> list[tuple[str, str]]:
    """(INSTRUCTION, arguments) of the Dockerfile, continuation lines joined."""
    logical, current = [], ""
    for raw in DOCKERFILE.read_text().splitlines():
        line = raw.strip()
        if not current and (not line or line.startswith("#")):
            continue
        if current and line.startswith("#"):
            continue
        if line.endswith("\\"):
            current += line[:-1] + " "
            continue
        current += line
        instruction, _, args = current.strip().partition(" ")
        logical.append((instruction.upper(), args.strip()))
        current = ""
    return logical


def _dockerfile_env() -> dict[str, str]:
    env = {}
    for instruction, args in _dockerfile_instructions():
        if instruction == "ENV":
            for item in shlex.split(args):
                key, _, value = item.partition("=")
                env[key] = value
    return env


# --------------------------------------------------------------------------- the helpers themselves


def test_interpolation_helpers_follow_compose_syntax():
    env = {"SET": "v", "EMPTY": ""}
    assert interpolate("a${SET}b$SET$$SET", env) == "avbv$SET"
    assert interpolate("${UNSET:-d}/${EMPTY:-d}/${EMPTY-d}", env) == "d/d/"
    with pytest.raises(MissingVariable) as err:
        interpolate("${EMPTY:?give it}", env)
    assert err.value.name == "EMPTY"
    assert references("x $${HOSTNAME} ${A:-${B}} $C") == [("A", ":-"), ("B", ""), ("C", "")]
    assert _literal_url_passwords("postgresql://u:hunter2@db/x") == ["hunter2"]
    assert _literal_url_passwords("postgresql://${U:-u}:${P:?p}@db/x redis://:@redis:6379/0") == []


# --------------------------------------------------------------------------- schema and shape


def test_compose_file_is_valid_against_the_compose_schema(compose):
    if not SCHEMA.is_file():
        pytest.skip(f"Compose JSON schema not found at {SCHEMA} (shared/ data not present)")
    from jsonschema import Draft7Validator

    schema = json.loads(SCHEMA.read_text())
    Draft7Validator.check_schema(schema)
    errors = [
        f"{'/'.join(map(str, error.absolute_path)) or '<root>'}: {error.message}"
        for error in Draft7Validator(schema).iter_errors(compose)
    ]
    assert errors == []


def test_compose_has_the_expected_services_and_no_version_key(compose, services):
    assert "version" not in compose
    assert set(services) == EXPECTED_SERVICES
    assert "x-airflow-common" in compose
    assert services["postgres"]["image"] == "postgres:16"
    assert services["warehouse"]["image"] == "postgres:16"
    assert services["redis"]["image"].startswith("redis:")


def test_airflow_services_share_the_common_image_and_build(compose, services):
    common = compose["x-airflow-common"]
    for name in AIRFLOW_SERVICES:
        assert services[name]["image"] == common["image"], name
        assert services[name]["build"] == common["build"], name
        assert services[name]["user"] == "${AIRFLOW_UID:-50000}:0" or name == "airflow-init", name
    assert services["airflow-init"]["user"] == "0:0"  # chowns the shared volumes


# --------------------------------------------------------------------------- variables and secrets


def test_every_referenced_variable_is_documented_in_env_example(compose):
    referenced = {name for text in _strings(compose) for name, _ in references(text)}
    documented = set(_env_example())
    assert referenced - documented == set(), "referenced in docker-compose.yml, not in .env.example"
    assert documented - referenced == set(), "in .env.example but never used by docker-compose.yml"


def test_every_env_example_variable_has_a_comment():
    lines = ENV_EXAMPLE.read_text().splitlines()
    uncommented = [
        line.split("=", 1)[0]
        for i, line in enumerate(lines)
        if line.strip()
        and not line.startswith("#")
        and (i == 0 or not lines[i - 1].startswith("#"))
    ]
    assert uncommented == []
    text = ENV_EXAMPLE.read_text()
    assert "Fernet.generate_key()" in text  # how to make the fernet key
    assert "openssl rand -hex 32" in text  # how to make the JWT secret and passwords


def test_required_secrets_must_be_set_and_ship_empty(compose):
    example = _env_example()
    for name in sorted(REQUIRED_SECRETS):
        assert example.get(name) == "", f"{name} must ship empty in .env.example"
    ops = {}
    for text in _strings(compose):
        for name, op in references(text):
            ops.setdefault(name, set()).add(op)
    for name in sorted(REQUIRED_SECRETS):
        assert ops.get(name) == {":?"}, f"{name}: {ops.get(name)}, want only ${{{name}:?...}}"
    # with any one secret missing, compose must refuse to render the file
    for name in sorted(REQUIRED_SECRETS):
        env = {**example, **_fake_secrets()}
        env[name] = ""
        with pytest.raises(MissingVariable) as err:
            _resolve(compose, env)
        assert err.value.name == name


def test_no_literal_passwords_or_secrets_in_compose(compose, services):
    literal = []
    for name, service in services.items():
        for key, value in _env(service).items():
            if SECRET_ENV_KEY.search(key) and not key.endswith("_FILE"):
                refs = references(str(value))
                if not refs or not str(value).startswith("${"):
                    literal.append(f"{name}: {key}={value!r}")
                elif not {ref for ref, _ in refs} <= REQUIRED_SECRETS:
                    literal.append(f"{name}: {key} reads {refs}, not a required secret")
    for text in _strings(compose):
        literal += [f"URL password {p!r}" for p in _literal_url_passwords(text)]
    assert literal == []


def test_airflow_services_share_one_jwt_secret_fernet_key_and_api_secret(services):
    for key, variable in [
        ("AIRFLOW__API_AUTH__JWT_SECRET", "AIRFLOW_JWT_SECRET"),
        ("AIRFLOW__CORE__FERNET_KEY", "AIRFLOW_FERNET_KEY"),
        ("AIRFLOW__API__SECRET_KEY", "AIRFLOW_API_SECRET_KEY"),
    ]:
        values = {name: _env(services[name]).get(key) for name in AIRFLOW_SERVICES}
        assert None not in values.values(), f"{key} missing in {values}"
        assert len(set(values.values())) == 1, f"{key} differs between services: {values}"
        (value,) = set(values.values())
        assert [ref for ref, _ in references(value)] == [variable]


def test_dockerfile_sets_no_secret():
    secret_like = [
        args
        for instruction, args in _dockerfile_instructions()
        if instruction in ("ENV", "ARG") and re.search(r"PASSWORD|SECRET|FERNET", args)
    ]
    assert secret_like == []


# --------------------------------------------------------------------------- wiring


def test_warehouse_connection_points_at_the_warehouse_service(services, resolved):
    from cakupan.warehouse.connection import parse_url

    assert "warehouse" in services
    warehouse_env = _env(resolved["services"]["warehouse"])
    for name in AIRFLOW_SERVICES:
        raw = _env(services[name])["AIRFLOW_CONN_WAREHOUSE"]
        assert "@warehouse:5432/" in raw
        params = parse_url(_env(resolved["services"][name])["AIRFLOW_CONN_WAREHOUSE"])
        assert (params.host, params.port) == ("warehouse", 5432), name
        assert params.user == warehouse_env["POSTGRES_USER"] == "cakupan"
        assert params.password == warehouse_env["POSTGRES_PASSWORD"] == "test-warehouse-password"
        assert params.dbname == warehouse_env["POSTGRES_DB"] == "cakupan"
    # the BI role's password is the same on every worker (the transform DAG sets it on the role)
    for name in AIRFLOW_SERVICES:
        env = _env(resolved["services"][name])
        assert env["CAKUPAN_BI_PASSWORD"] == "test-cakupan-bi-password", name
        assert env["CAKUPAN_BI_ROLE"] == "bi_reader", name
    # its own data volume, not the metadata database's
    assert services["warehouse"]["volumes"] == ["warehouse-db:/var/lib/postgresql/data"]
    assert services["postgres"]["volumes"] == ["airflow-db:/var/lib/postgresql/data"]


def test_only_loopback_ports_for_databases(services, resolved):
    ports = [str(p) for p in resolved["services"]["warehouse"]["ports"]]
    assert ports == ["127.0.0.1:5433:5432"]
    assert "127.0.0.1:" in services["warehouse"]["ports"][0]  # literal, not from a variable
    for name in ("postgres", "redis"):
        assert "ports" not in services[name], f"{name} must not be published on the host"
    assert [str(p) for p in resolved["services"]["airflow-apiserver"]["ports"]] == [
        "127.0.0.1:8080:8080"
    ]
    assert [str(p) for p in resolved["services"]["flower"]["ports"]] == ["127.0.0.1:5555:5555"]


def test_celery_executor_redis_broker_and_postgres_backends(services, resolved):
    postgres = _env(resolved["services"]["postgres"])
    for name in AIRFLOW_SERVICES:
        env = _env(resolved["services"][name])
        assert env["AIRFLOW__CORE__EXECUTOR"] == "CeleryExecutor", name
        broker = urlsplit(env["AIRFLOW__CELERY__BROKER_URL"])
        assert (broker.scheme, broker.hostname, broker.port) == ("redis", "redis", 6379)
        for key, scheme in [
            ("AIRFLOW__DATABASE__SQL_ALCHEMY_CONN", "postgresql+psycopg2"),
            ("AIRFLOW__CELERY__RESULT_BACKEND", "db+postgresql"),
        ]:
            url = urlsplit(env[key])
            assert (url.scheme, url.hostname, url.port) == (scheme, "postgres", 5432), key
            assert url.username == postgres["POSTGRES_USER"] == "airflow"
            assert url.password == postgres["POSTGRES_PASSWORD"] == "test-airflow-db-password"
            assert url.path == "/" + postgres["POSTGRES_DB"]
        assert env["AIRFLOW__CORE__LOAD_EXAMPLES"] == "false"
        assert env["AIRFLOW__COSMOS__ENABLE_TELEMETRY"] == "False"
        assert env["AIRFLOW__COSMOS__ENABLE_WATCHER_RELIABLE_RETRY"] == "False"
    assert services["airflow-worker"]["command"] == "celery worker"
    assert services["flower"]["profiles"] == ["flower"]


def test_execution_api_url_points_at_the_api_server(services):
    for name in AIRFLOW_SERVICES:
        url = urlsplit(_env(services[name])["AIRFLOW__CORE__EXECUTION_API_SERVER_URL"])
        assert (url.hostname, url.port, url.path) == ("airflow-apiserver", 8080, "/execution/")
    assert services["airflow-apiserver"]["command"] == "api-server"
    container_ports = [str(p).rsplit(":", 1)[-1] for p in services["airflow-apiserver"]["ports"]]
    assert container_ports == ["8080"]


def test_worker_is_scalable(services):
    worker = services["airflow-worker"]
    assert "container_name" not in worker
    assert "ports" not in worker
    assert "hostname" not in worker
    assert [name for name, s in services.items() if "container_name" in s] == []


def test_sources_volume_is_mounted_where_cakupan_sources_dir_points(compose, services, resolved):
    common = resolved["x-airflow-common"]
    sources_dir = _env(common)["CAKUPAN_SOURCES_DIR"]
    targets = [str(v).split(":")[1] for v in common["volumes"]]
    assert sources_dir == "/opt/cakupan/sources"
    assert sources_dir in targets
    assert "./sources:/opt/cakupan/sources" in common["volumes"]
    assert _env(common)["CAKUPAN_HOME"] == _dockerfile_env()["CAKUPAN_HOME"] == "/opt/cakupan"
    assert _dockerfile_env()["CAKUPAN_SOURCES_DIR"] == sources_dir
    declared = set(compose["volumes"])
    named = {
        str(v).split(":")[0]
        for s in services.values()
        for v in s.get("volumes", [])
        if not str(v).startswith((".", "/", "$"))
    }
    assert named == {"airflow-db", "warehouse-db", "airflow-logs", "airflow-config"}
    assert named <= declared


def test_build_contexts_and_dockerfiles_exist(services):
    built = {name: s["build"] for name, s in services.items() if "build" in s}
    assert set(built) == AIRFLOW_SERVICES
    for name, build in built.items():
        if isinstance(build, str):
            build = {"context": build}
        context = ROOT / build["context"]
        dockerfile = context / build.get("dockerfile", "Dockerfile")
        assert context.is_dir(), f"{name}: build context {context} missing"
        assert dockerfile.is_file(), f"{name}: {dockerfile} missing"
        assert dockerfile.resolve() == DOCKERFILE


def test_every_long_running_service_has_a_healthcheck(services):
    restarting = {
        name for name, s in services.items() if s.get("restart") in ("always", "unless-stopped")
    }
    assert set(services) - restarting == ONE_SHOT_SERVICES
    for name in restarting:
        check = services[name].get("healthcheck") or {}
        assert not check.get("disable"), name
        assert check.get("test"), f"{name} has no healthcheck"
    expected = {
        "postgres": "pg_isready",
        "warehouse": "pg_isready",
        "redis": "redis-cli ping",
        "airflow-apiserver": "curl --fail http://localhost:8080/api/v2/monitor/health",
        "airflow-scheduler": "curl --fail http://localhost:8974/health",
        "airflow-dag-processor": "airflow jobs check --job-type DagProcessorJob --local",
        "airflow-triggerer": "airflow jobs check --job-type TriggererJob --local",
        "airflow-worker": "inspect ping",
        "flower": "curl --fail http://localhost:5555/",
    }
    assert set(expected) == restarting
    for name, needle in expected.items():
        test = services[name]["healthcheck"]["test"]
        text = " ".join(test) if isinstance(test, list) else test
        assert needle in text, f"{name}: {text!r}"


def test_depends_on_targets_exist_with_the_right_conditions(services):
    for name, service in services.items():
        for target, spec in _depends_on(service).items():
            assert target in services, f"{name} depends on unknown {target}"
            assert "profiles" not in services[target], f"{name} depends on profiled {target}"
            condition = spec.get("condition")
            if target == "airflow-init":
                assert condition == "service_completed_successfully", (name, target)
            else:
                assert condition == "service_healthy", (name, target)
                assert services[target].get("healthcheck"), f"{target} has no healthcheck"
    for name in AIRFLOW_SERVICES - ONE_SHOT_SERVICES:
        assert "airflow-init" in _depends_on(services[name]), name
        assert {"postgres", "redis", "warehouse"} <= set(_depends_on(services[name])), name
    assert "airflow-apiserver" in _depends_on(services["airflow-worker"])


def test_airflow_init_migrates_and_writes_the_admin_password(services, resolved):
    init = services["airflow-init"]
    script = "\n".join(init["command"])
    assert "airflow db migrate" in script
    assert "SIMPLE_AUTH_MANAGER_PASSWORDS_FILE" in script
    env = _env(resolved["services"]["airflow-init"])
    assert env["_CAKUPAN_ADMIN_PASSWORD"] == "test-airflow-admin-password"
    assert env["AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_USERS"] == "admin:admin"
    assert "_PIP_ADDITIONAL_REQUIREMENTS" not in COMPOSE_FILE.read_text()


# --------------------------------------------------------------------------- Dockerfile


def test_dockerfile_base_image_matches_the_locked_airflow():
    froms = [args for instruction, args in _dockerfile_instructions() if instruction == "FROM"]
    assert len(froms) == 1
    m = re.fullmatch(r"apache/airflow:(\d+\.\d+\.\d+)-python(3\.\d+)", froms[0])
    assert m, froms[0]
    lock = tomllib.loads((ROOT / "uv.lock").read_text())
    locked = {p["name"]: p["version"] for p in lock["package"]}
    assert m[1] == locked["apache-airflow"], "FROM tag and uv.lock must name the same Airflow"
    pyproject = tomllib.loads((ROOT / "pyproject.toml").read_text())
    assert f"apache-airflow=={m[1]}" in pyproject["project"]["dependencies"]
    assert m[2] in ("3.11", "3.12")  # requires-python = ">=3.11,<3.13"


def test_dockerfile_installs_from_the_lock_file():
    text = DOCKERFILE.read_text()
    assert "_PIP_ADDITIONAL_REQUIREMENTS" not in text
    runs = [args for instruction, args in _dockerfile_instructions() if instruction == "RUN"]
    copies = [args for instruction, args in _dockerfile_instructions() if instruction == "COPY"]
    assert any("uv.lock" in c.split() for c in copies)
    export = next((r for r in runs if "uv export" in r), "")
    for flag in ("--frozen", "--no-dev", "--no-hashes"):
        assert flag in export, flag
    out = re.search(r"--output-file\s+(\S+)", export)
    assert out, export
    assert re.search(rf"uv pip install .*--requirement\s+{re.escape(out[1])}", export)
    assert not re.search(r"pip install[^&]*(apache-airflow|dbt-core|astronomer-cosmos)", text)
    uv_arg = re.search(r"ARG UV_VERSION=(\S+)", text)
    assert uv_arg
    makefile = ROOT / "Makefile"
    if makefile.is_file() and (pinned := re.search(r'"uv==([^"]+)"', makefile.read_text())):
        assert uv_arg[1] == pinned[1], "the Dockerfile and the Makefile should use the same uv"


def test_dockerfile_copies_the_project_and_parses_the_manifest():
    instructions = _dockerfile_instructions()
    copied = []
    for instruction, args in instructions:
        if instruction == "COPY":
            parts = [p for p in shlex.split(args) if not p.startswith("--")]
            copied += [p.rstrip("/") for p in parts[:-1]]
    assert set(copied) == {"pyproject.toml", "uv.lock", "include", "dags", "dbt_project"}
    for path in copied:
        assert (ROOT / path).exists(), f"COPY source {path} missing"
    runs = [args for instruction, args in instructions if instruction == "RUN"]
    assert any(re.search(r"uv pip install .*--no-deps \.", r) for r in runs)  # the cakupan package
    workdir, parse_dir, parse = "/", None, ""
    for instruction, args in instructions:
        if instruction == "WORKDIR":
            workdir = args
        elif instruction == "RUN" and "dbt parse" in args:
            parse_dir, parse = workdir, args
    assert parse_dir == "/opt/cakupan/dbt_project", "dbt parse must run in the image's dbt project"
    assert "test -s target/manifest.json" in parse
    profiles = (ROOT / "dbt_project" / "profiles.yml").read_text()
    for var in re.findall(r"\b(PG[A-Z]+)=", parse):
        assert f"env_var('{var}'" in profiles, var
    env = _dockerfile_env()
    workdirs = [args for instruction, args in instructions if instruction == "WORKDIR"]
    assert workdirs[-1] == env["CAKUPAN_HOME"] == "/opt/cakupan"
    assert env["AIRFLOW__CORE__DAGS_FOLDER"] == "/opt/cakupan/dags"
    assert env["AIRFLOW__COSMOS__ENABLE_TELEMETRY"] == "False"
    assert env["AIRFLOW__COSMOS__ENABLE_WATCHER_RELIABLE_RETRY"] == "False"
    # the DAGs read the manifest from the project root the image sets
    transform = (ROOT / "dags" / "cakupan_transform.py").read_text()
    assert "LoadMode.DBT_MANIFEST" in transform and '"target" / "manifest.json"' in transform


def test_dockerignore_keeps_secrets_and_state_out_but_not_the_sources():
    patterns = [
        line.strip()
        for line in DOCKERIGNORE.read_text().splitlines()
        if line.strip() and not line.startswith("#")
    ]
    for must in (".env", ".venv", ".git", ".cakupan", "dbt_project/target"):
        assert must in patterns, must
    for needed in ("pyproject.toml", "uv.lock", "include", "dags", "dbt_project"):
        excluded = [p for p in patterns if not p.startswith("!") and fnmatch.fnmatch(needed, p)]
        assert excluded == [], f"{needed} is excluded by {excluded}"
