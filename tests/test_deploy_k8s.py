"""The Kubernetes deployment files agree with what they deploy (docs/deploy.md).

No cluster, Helm or Docker daemon is used (none is there where the tests run):
the tests read deploy/Dockerfile, .dockerignore, deploy/helm/values.yaml and
deploy/k8s/pvc.yaml and check them against workspace.yaml, pyproject.toml,
crossdock.settings, the Definitions, Dagster's instance schema and
dagster-k8s's own config schemas. Where the chart turns values into the
instance's dagster.yaml or a run's container context, `helm_values` mirrors
the chart's templates for the keys these values use: a typo the chart would
pass on silently (an env var name, a module, a port) fails here instead.
"""
from __future__ import annotations

import fnmatch
import importlib
import json
import os
import re
import shutil
import subprocess
import sys
import tomllib
from dataclasses import fields
from pathlib import Path

import dagster as dg
import kubernetes.client as k8s
import pytest
import yaml
from dagster._config import process_config
from dagster_k8s import K8sRunLauncher
from dagster_k8s.job import DagsterK8sJobConfig, UserDefinedDagsterK8sConfig
from dagster_k8s.models import k8s_model_from_dict, k8s_snake_case_dict
from dagster_postgres.run_storage import PostgresRunStorage
from packaging.specifiers import SpecifierSet

import helm_values
from crossdock import settings as crossdock_settings
from orchestration.lib.resources import WAREHOUSE_POOL
from orchestration.lib.run_inputs import CODE_FOLDERS

ROOT = Path(__file__).resolve().parents[1]
DOCKERFILE = ROOT / "deploy" / "Dockerfile"
VALUES = yaml.safe_load((ROOT / "deploy" / "helm" / "values.yaml").read_text())
PVC = yaml.safe_load((ROOT / "deploy" / "k8s" / "pvc.yaml").read_text())
PYPROJECT = tomllib.loads((ROOT / "pyproject.toml").read_text())
DEPLOYMENT = helm_values.user_deployment(VALUES)


def dockerfile() -> list[tuple[str, str]]:
    """(instruction, arguments) of deploy/Dockerfile, continuation lines joined, comments dropped."""
    text = re.sub(r"\\\n", " ", DOCKERFILE.read_text())
    lines = [line.strip() for line in text.splitlines() if line.strip() and not line.strip().startswith("#")]
    return [(line.split(None, 1)[0].upper(), line.split(None, 1)[1] if " " in line else "") for line in lines]


def instruction(name: str) -> list[str]:
    return [arguments for kind, arguments in dockerfile() if kind == name]


def option(args: list[str], flag: str) -> str:
    return args[args.index(flag) + 1]


def test_the_image_serves_the_module_and_port_of_workspace_yaml_and_the_values():
    assert not instruction("ENTRYPOINT"), "an ENTRYPOINT would be prepended to the chart's and the run launcher's args"
    command = json.loads(instruction("CMD")[-1])
    assert command[:3] == ["dagster", "api", "grpc"]
    location = yaml.safe_load((ROOT / "workspace.yaml").read_text())["load_from"][0]["python_module"]
    args = DEPLOYMENT["dagsterApiGrpcArgs"]
    assert option(command, "-m") == option(args, "-m") == location["module_name"]
    workdir = instruction("WORKDIR")[-1]
    assert option(command, "-d") == option(args, "-d") == workdir  # workspace.yaml's "." is the repository root
    assert location["working_directory"] == "."
    assert int(option(command, "-p")) == DEPLOYMENT["port"] == int(instruction("EXPOSE")[-1])


def test_the_images_dagster_home_is_where_the_chart_mounts_the_instance():
    dagster_home = [a.split("=", 1)[1] for a in instruction("ENV") if a.startswith("DAGSTER_HOME=")]
    chart_home = (VALUES.get("global") or {}).get("dagsterHome", helm_values.DAGSTER_HOME)
    assert dagster_home == [chart_home]
    assert 'chown crossdock:crossdock "$DAGSTER_HOME"' in " ".join(instruction("RUN"))
    assert instruction("USER") == ["crossdock"]


def test_the_image_python_is_the_one_pyproject_requires():
    version = re.fullmatch(r"PYTHON_VERSION=(\d+\.\d+)", instruction("ARG")[0]).group(1)
    assert instruction("FROM") == ["python:${PYTHON_VERSION}-slim"]
    assert SpecifierSet(PYPROJECT["project"]["requires-python"]).contains(f"{version}.0")


def test_the_image_installs_pyprojects_pins_and_keeps_none_of_its_own():
    runs = " ".join(instruction("RUN"))
    assert "==" not in runs, "a pin in the Dockerfile drifts from pyproject.toml: add it there"
    assert "python deploy/requirements.py dagster-k8s" in runs and "pip install -r" in runs
    requirements = importlib.import_module("deploy.requirements").requirements(["dagster-k8s"])
    pinned_k8s = [r for group in PYPROJECT["project"]["optional-dependencies"].values() for r in group
                  if r.startswith("dagster-k8s==")]
    assert requirements == [*PYPROJECT["project"]["dependencies"], *sorted(set(pinned_k8s))]
    # the Dagster libraries move in lockstep: dagster-k8s with dagster-postgres, dagster-dbt ...
    libraries = {r.split("==")[1] for r in requirements if r.startswith("dagster-") and "webserver" not in r}
    assert len(libraries) == 1, libraries


def test_the_chart_version_is_the_dagster_version():
    dagster_pin = next(r for r in PYPROJECT["project"]["dependencies"] if r.startswith("dagster=="))
    version = dagster_pin.split("==")[1]
    for path in (ROOT / "deploy" / "helm" / "values.yaml", ROOT / "docs" / "deploy.md"):
        chart_versions = set(re.findall(r"--version (\S+)", path.read_text()))
        assert chart_versions == {version}, f"{path.name}: helm --version {chart_versions}, dagster {version}"


def dockerignored(path: str, patterns: list[str]) -> bool:
    """Whether Docker leaves `path` (relative, posix) out of the build context, by the rules .dockerignore
    uses here: a pattern matches a path or a folder above it (`*` within one name, `**/` at any depth), the
    last matching pattern wins, `!` keeps."""
    excluded = False
    for pattern in patterns:
        negated, pattern = pattern.startswith("!"), pattern.lstrip("!")
        parts = path.split("/")
        prefixes = ["/".join(parts[: i + 1]) for i in range(len(parts))]
        regex = fnmatch.translate(pattern).replace(".*", "[^/]*").replace("[^/]*[^/]*", ".*")
        if pattern.startswith("**/"):
            hit = any(fnmatch.fnmatch(part, pattern[3:]) for part in parts)
        else:
            hit = any(re.fullmatch(regex, prefix) for prefix in prefixes)
        if hit:
            excluded = not negated
    return excluded


def test_dockerignore_keeps_data_and_environments_out_and_the_source_in():
    patterns = [line.strip() for line in (ROOT / ".dockerignore").read_text().splitlines()
                if line.strip() and not line.startswith("#")]
    left_out = [".venv/bin/python", "warehouse/crossdock.duckdb", "landing/orders/orders_2026-01.csv",
                "exports/bi/x.parquet", "models/v1/model.txt", "dbt_project/target/manifest.json",
                "dbt_project/logs/dbt.log", ".git/HEAD", "crossdock.yaml", ".dagster_home/history/runs.db",
                "crossdock/__pycache__/settings.cpython-311.pyc"]
    packages = [p.rstrip("*") for p in PYPROJECT["tool"]["setuptools"]["packages"]["find"]["include"]]
    kept = ["pyproject.toml", "deploy/requirements.py", "workspace.yaml", "dbt_project/dbt_project.yml",
            "dbt_project/profiles.yml", "dbt_project/models/staging/x.sql", "demo/crossdock.yaml",
            ".dagster_home/dagster.yaml", *(f"{package}/__init__.py" for package in packages)]
    assert [p for p in left_out if not dockerignored(p, patterns)] == []
    assert [p for p in kept if dockerignored(p, patterns)] == []
    # every tracked file of the code and the dbt project (orchestration/lib/run_inputs.py CODE_FOLDERS): a dbt
    # macro left out would only show when a run's dbt build fails in the cluster
    tracked = subprocess.run(["git", "ls-files", *CODE_FOLDERS, "demo"], cwd=ROOT, capture_output=True, text=True,
                             check=True).stdout.split()
    assert len(tracked) > 100 and [p for p in tracked if dockerignored(p, patterns)] == []


def test_the_values_module_loads_the_project_definitions():
    module = importlib.import_module(option(DEPLOYMENT["dagsterApiGrpcArgs"], "-m"))
    defs: dg.Definitions = module.defs  # what the loader crossdock_definitions builds, cached for the tests
    assert {"daily_planning", "ingest_feeds"} <= {job.name for job in defs.jobs}
    assert "daily_planning_0600" in {schedule.name for schedule in defs.schedules}
    docs = (ROOT / "docs" / "deploy.md").read_text()
    unnamed = [d.name for d in [*defs.schedules, *defs.sensors] if f"`{d.name}`" not in docs]
    assert not unnamed, f"docs/deploy.md does not say what these do in the cluster: {unnamed}"


def test_the_env_vars_the_values_set_are_the_ones_crossdock_settings_reads(monkeypatch):
    names = [*DEPLOYMENT["env"], crossdock_settings.PII_SALT_VARIABLE]
    for name in names:
        monkeypatch.delenv(name, raising=False)
    before = (crossdock_settings.load_settings(), crossdock_settings.pii_salt())
    unread = []
    for name in names:
        with monkeypatch.context() as env:
            env.setenv(name, "/sentinel/x" if name != "CROSSDOCK_REPORTING_CURRENCY" else "USD")
            if (crossdock_settings.load_settings(), crossdock_settings.pii_salt()) == before:
                unread.append(name)
    assert unread == [], "set in deploy/helm/values.yaml but read by nothing in crossdock.settings"


def test_every_path_crossdock_writes_is_on_the_mounted_volume(monkeypatch):
    for name, value in DEPLOYMENT["env"].items():
        monkeypatch.setenv(name, value)
    settings = crossdock_settings.load_settings()
    volume = helm_values.mounted_claim(DEPLOYMENT)
    assert volume.claim == PVC["metadata"]["name"]
    paths = {f.name: getattr(settings, f.name) for f in fields(settings) if isinstance(getattr(settings, f.name), Path)}
    paths.pop("dagster_home")  # the chart's DAGSTER_HOME: the instance ConfigMap, not data
    off = {name: str(path) for name, path in paths.items() if not path.is_relative_to(volume.mount_path)}
    assert off == {}, f"not on the volume mounted at {volume.mount_path}: lost with the pod"


def test_run_pods_land_on_the_node_of_the_read_write_once_volume():
    assert PVC["spec"]["accessModes"] == ["ReadWriteOnce"]
    run_pod_spec = helm_values.k8s_run_launcher(VALUES)["runK8sConfig"]["podSpecConfig"]
    assert DEPLOYMENT["nodeSelector"] and run_pod_spec["nodeSelector"] == DEPLOYMENT["nodeSelector"]
    assert DEPLOYMENT["includeConfigInLaunchedRuns"]["enabled"]  # how run pods get the env, secret and volume
    assert "resources" not in DEPLOYMENT, "copied into every run pod over the run launcher's resources"


def test_the_run_launcher_is_one_job_per_run_and_its_config_is_valid_for_dagster_k8s():
    assert VALUES["runLauncher"]["type"] == "K8sRunLauncher"
    config = helm_values.run_launcher_instance_config(VALUES, release="dagster", namespace="crossdock")
    result = process_config(K8sRunLauncher.config_type(), config)
    assert result.success, result.errors
    run_k8s = UserDefinedDagsterK8sConfig.from_dict(config["run_k8s_config"])
    assert run_k8s.pod_spec_config["node_selector"] == DEPLOYMENT["nodeSelector"]


def test_what_runs_inherit_from_the_code_location_is_a_valid_container_context():
    context = helm_values.container_context(VALUES, DEPLOYMENT, release="dagster", namespace="crossdock")
    result = process_config(DagsterK8sJobConfig.config_type_container_context(), context["k8s"])
    assert result.success, result.errors


LAUNCHER = helm_values.k8s_run_launcher(VALUES)


@pytest.mark.parametrize(("model", "value", "whole"), [
    (k8s.V1PersistentVolumeClaim, PVC, True),
    *((k8s.V1Volume, volume, True) for volume in DEPLOYMENT["volumes"]),
    *((k8s.V1VolumeMount, mount, True) for mount in DEPLOYMENT["volumeMounts"]),
    (k8s.V1PodSecurityContext, DEPLOYMENT["podSecurityContext"], True),
    (k8s.V1SecurityContext, DEPLOYMENT["securityContext"], True),
    (k8s.V1SecurityContext, LAUNCHER["securityContext"], True),
    (k8s.V1ResourceRequirements, LAUNCHER["resources"], True),
    (k8s.V1PodSpec, LAUNCHER["runK8sConfig"]["podSpecConfig"], False),  # merged into the run pod's spec
    (k8s.V1JobSpec, LAUNCHER["runK8sConfig"]["jobSpecConfig"], False),
], ids=lambda v: v.__name__ if isinstance(v, type) else "")
def test_kubernetes_objects_have_only_fields_kubernetes_knows(model, value, whole):
    snake_case = k8s_snake_case_dict(model, value)  # dagster-k8s's own reading: raises on a key the API does not have
    if whole:
        k8s_model_from_dict(model, snake_case)  # and the client's required fields and types


def test_pull_policies_and_resource_names_are_ones_kubernetes_accepts():
    policies = [DEPLOYMENT["image"]["pullPolicy"], LAUNCHER["imagePullPolicy"]]
    assert set(policies) <= {"Always", "IfNotPresent", "Never"}, policies  # a string to dagster-k8s, an enum to the API
    names = {name for amounts in LAUNCHER["resources"].values() for name in amounts}
    assert names <= {"cpu", "memory", "ephemeral-storage"}, names


def test_the_values_use_only_keys_the_chart_has():
    assert helm_values.unknown_keys(VALUES) == []


def test_the_instance_the_chart_renders_loads_and_limits_every_pool_the_assets_use():
    from orchestration.definitions import defs

    rendered = helm_values.instance_config(VALUES)
    assert rendered["telemetry"] == {"enabled": False}
    with dg.instance_for_test(overrides=rendered) as instance:  # Dagster's own instance schema and checks
        pool_config = instance.get_concurrency_config().pool_config
        graph = defs.resolve_asset_graph()
        pools = {pool for key in graph.get_all_asset_keys() for pool in graph.get(key).pools or ()}
        assert WAREHOUSE_POOL in pools
        # a pool without a limit of its own takes the default: one slot, one writer of the DuckDB file
        assert pool_config.default_pool_limit == 1, "a warehouse-writing step would run beside another writer"


def test_the_external_postgres_config_is_valid_for_dagster_postgres(monkeypatch):
    monkeypatch.setenv("DAGSTER_PG_PASSWORD", "from-the-secret")  # the chart sets it from the Secret
    assert VALUES["postgresql"]["enabled"] is False and VALUES["generatePostgresqlPasswordSecret"] is False
    assert "postgresqlPassword" not in VALUES["postgresql"], "the password belongs in a Secret"
    result = process_config(PostgresRunStorage.config_type(), helm_values.postgres_storage_config(VALUES))
    assert result.success, result.errors


def test_run_monitoring_keeps_the_local_instances_recovery_rules():
    local = yaml.safe_load((ROOT / ".dagster_home" / "dagster.yaml").read_text())["run_monitoring"]
    chart = helm_values.instance_config(VALUES)["run_monitoring"]
    same = ("enabled", "poll_interval_seconds", "free_slots_after_run_end_seconds", "max_resume_run_attempts")
    assert {k: chart[k] for k in same} == {k: local[k] for k in same}
    assert chart["start_timeout_seconds"] >= local["start_timeout_seconds"]
    local_pools = yaml.safe_load((ROOT / ".dagster_home" / "dagster.yaml").read_text())["concurrency"]["pools"]
    assert helm_values.instance_config(VALUES)["concurrency"]["pools"] == local_pools


def keys(value) -> set[str]:
    if isinstance(value, dict):
        return set(value) | {k for v in value.values() for k in keys(v)}
    return {k for v in value for k in keys(v)} if isinstance(value, list) else set()


def test_no_secret_is_in_the_values():
    secrets = {"postgresqlPassword", "DAGSTER_PG_PASSWORD", crossdock_settings.PII_SALT_VARIABLE}
    assert keys(VALUES) & secrets == set(), "a secret in a values file ends up in the chart's ConfigMaps: use a Secret"
    assert DEPLOYMENT["envSecrets"], "CROSSDOCK_PII_SALT comes from a Secret"


def copy_build_context(destination: Path) -> int:
    """Copy what `docker build .` would send (the repository less .dockerignore's patterns); the number of files."""
    patterns = [line.strip() for line in (ROOT / ".dockerignore").read_text().splitlines()
                if line.strip() and not line.startswith("#")]
    copied = 0
    for folder, subfolders, files in os.walk(ROOT):
        relative = Path(folder).relative_to(ROOT)
        subfolders[:] = [d for d in subfolders if not dockerignored((relative / d).as_posix(), patterns)]
        for name in files:
            path = (relative / name).as_posix()
            if not dockerignored(path, patterns):
                (destination / path).parent.mkdir(parents=True, exist_ok=True)
                shutil.copy2(ROOT / path, destination / path)
                copied += 1
    return copied


@pytest.mark.slow
def test_the_build_context_alone_parses_and_loads_the_code_location(tmp_path):
    """The image holds enough: the Dockerfile's own parse step, then the code server's load, in a copy of the
    build context with the data paths of the values (under a temporary folder). The project's environment
    stands in for the image's pip install; the Debian layer and the user are not tried."""
    context, data = tmp_path / "app", tmp_path / "data"
    assert copy_build_context(context) > 100
    env = {**os.environ, "PYTHONPATH": str(context), "DAGSTER_HOME": str(tmp_path / "dagster_home"),
           **{name: value.replace("/data", str(data)) for name, value in DEPLOYMENT["env"].items()}}
    (parse_step,) = [step for step in instruction("RUN") if "dbt_project()" in step]
    subprocess.run(parse_step, shell=True, cwd=context, env=env, check=True)
    manifest = context / "dbt_project" / "target" / "manifest.json"
    parsed_at = manifest.stat().st_mtime_ns
    probe = (
        "import json, pathlib, crossdock.settings as s, orchestration.definitions as d\n"
        f"assert s.PROJECT_ROOT == pathlib.Path({str(context)!r}), s.PROJECT_ROOT\n"
        "graph = d.defs.resolve_asset_graph()\n"
        "print(json.dumps({'assets': sorted(k.to_user_string() for k in graph.get_all_asset_keys()),\n"
        "                  'jobs': sorted(job.name for job in d.defs.jobs)}))\n"
    )
    loaded = subprocess.run([sys.executable, "-c", probe], cwd=context, env=env, capture_output=True, text=True)
    assert loaded.returncode == 0, loaded.stderr[-3000:]
    from orchestration.definitions import defs

    here = defs.resolve_asset_graph()
    assert json.loads(loaded.stdout.splitlines()[-1]) == {
        "assets": sorted(key.to_user_string() for key in here.get_all_asset_keys()),
        "jobs": sorted(job.name for job in defs.jobs),
    }, "the image's code location has other assets than the checkout's"
    assert manifest.stat().st_mtime_ns == parsed_at, "the code location parsed again: the built manifest was stale"
    assert (data / "warehouse").is_dir()  # the warehouse's folder made on the volume, not in the image
