"""What Dagster's Helm chart (dagster/dagster 1.13) makes of deploy/helm/values.yaml, for the keys those values use.

Helm is not installed where the tests run, so the few template steps that turn
values into Dagster config are mirrored here, each naming its template in the
chart (dagster-io/dagster, helm/dagster/): the run launcher's and the storage's
sections of the instance ConfigMap, and the container context the user
deployment hands to its run pods. The outputs are then checked by Dagster's and
dagster-k8s's own config schemas (tests/test_deploy_k8s.py). The key lists are
the fields of the chart's values models (helm/dagster/schema/schema/charts/...),
as read for this deployment: a key outside them is one the chart would ignore
or reject.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any

# helm/dagster/schema/schema/charts/dagster/values.py DagsterHelmValues, plus the
# `concurrency` block of newer charts
CHART_KEYS = {
    "dagsterWebserver", "dagster-user-deployments", "postgresql", "generatePostgresqlPasswordSecret",
    "generateCeleryConfigSecret", "rabbitmq", "redis", "flower", "ingress", "imagePullSecrets", "computeLogManager",
    "scheduler", "runLauncher", "pythonLogs", "dagsterDaemon", "busybox", "migrate", "telemetry", "serviceAccount",
    "global", "retention", "additionalInstanceConfig", "concurrency",
}
# charts/dagster_user_deployments/subschema/user_deployments.py UserDeployment
USER_DEPLOYMENT_KEYS = {
    "name", "image", "dagsterApiGrpcArgs", "codeServerArgs", "includeConfigInLaunchedRuns", "deploymentNamespace",
    "port", "env", "envConfigMaps", "envSecrets", "annotations", "nodeSelector", "affinity", "tolerations",
    "podSecurityContext", "securityContext", "resources", "livenessProbe", "readinessProbe", "startupProbe",
    "labels", "volumeMounts", "volumes", "schedulerName", "initContainers", "sidecarContainers", "deploymentStrategy",
}
USER_DEPLOYMENTS_KEYS = {"enabled", "enableSubchart", "imagePullSecrets", "deployments"}
# charts/dagster/subschema/run_launcher.py K8sRunLauncherConfig and RunK8sConfig
K8S_RUN_LAUNCHER_KEYS = {
    "image", "imagePullPolicy", "jobNamespace", "loadInclusterConfig", "kubeconfigFile", "envConfigMaps",
    "envSecrets", "envVars", "volumeMounts", "volumes", "labels", "failPodOnRunFailure", "resources",
    "schedulerName", "securityContext", "runK8sConfig",
}
RUN_K8S_CONFIG_KEYS = {"containerConfig", "podSpecConfig", "podTemplateSpecMetadata", "jobSpecConfig", "jobMetadata"}
# charts/dagster/subschema/postgresql.py PostgreSQL
POSTGRESQL_KEYS = {
    "image", "enabled", "postgresqlHost", "postgresqlUsername", "postgresqlPassword", "postgresqlDatabase",
    "postgresqlParams", "postgresqlScheme", "service",
}
# charts/dagster/subschema/daemon.py Daemon, and what templates/configmap-instance.yaml reads of runMonitoring
DAEMON_KEYS = {
    "enabled", "image", "runCoordinator", "heartbeatTolerance", "env", "envConfigMaps", "envSecrets",
    "deploymentLabels", "labels", "nodeSelector", "affinity", "tolerations", "podSecurityContext", "securityContext",
    "resources", "livenessProbe", "readinessProbe", "startupProbe", "annotations", "runMonitoring", "runRetries",
    "sensors", "schedules", "schedulerName", "volumeMounts", "volumes",
}
QUEUED_RUN_COORDINATOR_KEYS = {
    "maxConcurrentRuns", "tagConcurrencyLimits", "dequeueIntervalSeconds", "dequeueNumWorkers", "dequeueUseThreads",
    "blockOpConcurrencyLimitedRuns",
}
RUN_MONITORING_KEYS = {
    "enabled", "startTimeoutSeconds", "cancelTimeoutSeconds", "maxResumeRunAttempts", "pollIntervalSeconds",
    "freeSlotsAfterRunEndSeconds",
}
GLOBAL_KEYS = {"postgresqlSecretName", "dagsterHome", "serviceAccountName", "celeryConfigSecretName",
               "dagsterInstanceConfigMap"}
DAGSTER_HOME = "/opt/dagster/dagster_home"  # the chart's global.dagsterHome default


def user_deployment(values: dict) -> dict:
    deployments = values["dagster-user-deployments"]["deployments"]
    assert len(deployments) == 1, "crossdock is one code location"
    return deployments[0]


def k8s_run_launcher(values: dict) -> dict:
    return values["runLauncher"]["config"]["k8sRunLauncher"]


@dataclass(frozen=True)
class MountedClaim:
    claim: str
    mount_path: str


def mounted_claim(deployment: dict) -> MountedClaim:
    """The one PersistentVolumeClaim the deployment mounts, and where."""
    (volume,) = [v for v in deployment["volumes"] if "persistentVolumeClaim" in v]
    (mount,) = [m for m in deployment["volumeMounts"] if m["name"] == volume["name"]]
    return MountedClaim(volume["persistentVolumeClaim"]["claimName"], mount["mountPath"])


def fullname(release: str) -> str:
    """templates/_helpers.tpl dagster.fullname: the release name when it contains the chart's."""
    return release if "dagster" in release else f"{release}-dagster"


def run_launcher_instance_config(values: dict, release: str, namespace: str) -> dict[str, Any]:
    """templates/helpers/instance/_run-launcher.tpl dagsterYaml.runLauncher.k8s: the run launcher's `config`."""
    launcher = k8s_run_launcher(values)
    config: dict[str, Any] = {
        "load_incluster_config": launcher["loadInclusterConfig"],
        "job_namespace": launcher.get("jobNamespace") or namespace,
        "image_pull_policy": launcher["imagePullPolicy"],
        "service_account_name": fullname(release),
        "dagster_home": DAGSTER_HOME,
        "instance_config_map": f"{fullname(release)}-instance",
        "postgres_password_secret": values["global"]["postgresqlSecretName"],
    }
    renamed = {"envConfigMaps": "env_config_maps", "envSecrets": "env_secrets"}
    for key, name in renamed.items():
        if launcher.get(key):
            config[name] = [item["name"] for item in launcher[key]]
    copied = {"envVars": "env_vars", "volumeMounts": "volume_mounts", "volumes": "volumes", "labels": "labels",
              "resources": "resources", "securityContext": "security_context", "schedulerName": "scheduler_name"}
    config |= {name: launcher[key] for key, name in copied.items() if launcher.get(key)}
    if launcher.get("failPodOnRunFailure"):
        config["fail_pod_on_run_failure"] = True
    run_k8s = launcher.get("runK8sConfig") or {}
    snake = {"containerConfig": "container_config", "podSpecConfig": "pod_spec_config",
             "podTemplateSpecMetadata": "pod_template_spec_metadata", "jobSpecConfig": "job_spec_config",
             "jobMetadata": "job_metadata"}
    if run_k8s:
        config["run_k8s_config"] = {snake[key]: value for key, value in run_k8s.items() if value}
    return config


def container_context(values: dict, deployment: dict, release: str, namespace: str) -> dict[str, Any]:
    """charts/dagster-user-deployments/templates/helpers/_helpers.tpl dagsterUserDeployments.k8sContainerContext."""
    k8s: dict[str, Any] = {
        "image_pull_policy": deployment["image"]["pullPolicy"],
        "env_config_maps": [f"{fullname(release)}-{deployment['name']}-user-env",
                            *(item["name"] for item in deployment.get("envConfigMaps") or [])],
        "namespace": namespace,
        "service_account_name": f"{fullname(release)}-user-deployments",
        "run_k8s_config": {"pod_spec_config": {"automount_service_account_token": True}},
    }
    if deployment.get("envSecrets"):
        k8s["env_secrets"] = [item["name"] for item in deployment["envSecrets"]]
    copied = {"volumeMounts": "volume_mounts", "volumes": "volumes", "labels": "labels", "resources": "resources",
              "schedulerName": "scheduler_name"}
    k8s |= {name: deployment[key] for key, name in copied.items() if deployment.get(key)}
    if isinstance(deployment.get("env"), list):
        k8s["env"] = deployment["env"]
    if deployment.get("annotations"):
        k8s["run_k8s_config"]["pod_template_spec_metadata"] = {"annotations": deployment["annotations"]}
    return {"k8s": k8s}


def postgres_storage_config(values: dict) -> dict[str, Any]:
    """templates/helpers/instance/_postgresql.tpl: each storage's `config` (external host, password from env)."""
    pg = values["postgresql"]
    db = {"username": pg["postgresqlUsername"], "password": {"env": "DAGSTER_PG_PASSWORD"},
          "hostname": pg["postgresqlHost"], "db_name": pg["postgresqlDatabase"], "port": pg["service"]["port"],
          "params": pg.get("postgresqlParams") or {}}
    if pg.get("postgresqlScheme"):
        db["scheme"] = pg["postgresqlScheme"]
    return {"postgres_db": db}


def instance_config(values: dict) -> dict[str, Any]:
    """templates/configmap-instance.yaml, less storage and run launcher (checked on their own, needing a database
    and a cluster): the run coordinator, run monitoring, telemetry and additionalInstanceConfig."""
    daemon = values["dagsterDaemon"]
    rendered: dict[str, Any] = {"telemetry": {"enabled": values["telemetry"]["enabled"]}}
    coordinator = daemon["runCoordinator"]
    if daemon["enabled"] and coordinator["enabled"]:
        assert coordinator["type"] == "QueuedRunCoordinator"
        rendered["run_coordinator"] = {"module": "dagster.core.run_coordinator", "class": "QueuedRunCoordinator"}
        # templates/helpers/instance/_run-coordinator.tpl, the version that renders most: a config block as soon as
        # one key is set (Sprig's compact drops null, false, 0 and empty), with max_concurrent_runs -1 when unset
        queued = {key: value for key, value in coordinator["config"]["queuedRunCoordinator"].items() if value}
        if queued:
            names = {"tagConcurrencyLimits": "tag_concurrency_limits", "dequeueIntervalSeconds": "dequeue_interval_seconds",
                     "dequeueUseThreads": "dequeue_use_threads", "dequeueNumWorkers": "dequeue_num_workers"}
            config = {"max_concurrent_runs": queued.get("maxConcurrentRuns", -1)}
            config |= {names[key]: value for key, value in queued.items() if key in names}
            if "blockOpConcurrencyLimitedRuns" in queued:
                block = queued["blockOpConcurrencyLimitedRuns"]
                config["block_op_concurrency_limited_runs"] = {
                    "enabled": block["enabled"], "op_concurrency_slot_buffer": block["opConcurrencySlotBuffer"]}
            rendered["run_coordinator"]["config"] = config
    monitoring = daemon["runMonitoring"]
    if daemon["enabled"] and monitoring["enabled"]:
        names = {"enabled": "enabled", "startTimeoutSeconds": "start_timeout_seconds",
                 "cancelTimeoutSeconds": "cancel_timeout_seconds", "maxResumeRunAttempts": "max_resume_run_attempts",
                 "pollIntervalSeconds": "poll_interval_seconds",
                 "freeSlotsAfterRunEndSeconds": "free_slots_after_run_end_seconds"}
        rendered["run_monitoring"] = {names[key]: value for key, value in monitoring.items()}
    rendered |= values.get("additionalInstanceConfig") or {}
    return rendered


def unknown_keys(values: dict) -> list[str]:
    """Keys of the values that the chart's models do not have, as dotted paths."""
    deployments = values["dagster-user-deployments"]
    launcher = values["runLauncher"]["config"]
    daemon = values["dagsterDaemon"]
    checks = [
        ("", values, CHART_KEYS),
        ("dagster-user-deployments.", deployments, USER_DEPLOYMENTS_KEYS),
        *((f"dagster-user-deployments.deployments[{d['name']}].", d, USER_DEPLOYMENT_KEYS)
          for d in deployments["deployments"]),
        ("runLauncher.config.", launcher, {"k8sRunLauncher", "celeryK8sRunLauncher", "customRunLauncher"}),
        ("runLauncher.config.k8sRunLauncher.", launcher["k8sRunLauncher"], K8S_RUN_LAUNCHER_KEYS),
        ("runLauncher.config.k8sRunLauncher.runK8sConfig.", launcher["k8sRunLauncher"].get("runK8sConfig", {}),
         RUN_K8S_CONFIG_KEYS),
        ("postgresql.", values["postgresql"], POSTGRESQL_KEYS),
        ("global.", values.get("global", {}), GLOBAL_KEYS),
        ("dagsterDaemon.", daemon, DAEMON_KEYS),
        ("dagsterDaemon.runCoordinator.config.queuedRunCoordinator.",
         daemon["runCoordinator"]["config"]["queuedRunCoordinator"], QUEUED_RUN_COORDINATOR_KEYS),
        ("dagsterDaemon.runMonitoring.", daemon["runMonitoring"], RUN_MONITORING_KEYS),
    ]
    return [f"{prefix}{key}" for prefix, section, known in checks for key in section if key not in known]
