"""Every deployment manifest is validated offline against the schema or model its platform uses."""

from __future__ import annotations

import importlib
import json
import re
import shutil
import subprocess
import sys
from importlib import resources
from pathlib import Path
from typing import Any

import botocore.session
import jsonschema
import kubernetes_validate
import pytest
import yaml
from botocore.validate import ParamValidator

ROOT = Path(__file__).resolve().parents[2]
DEPLOY = ROOT / "deploy"


def _vendored_schema(name: str) -> dict[str, Any]:
    text = resources.files("check_jsonschema.builtin_schemas").joinpath("vendor", f"{name}.json").read_text()
    return json.loads(text)


def _yaml_docs(path: Path) -> list[dict[str, Any]]:
    return [d for d in yaml.safe_load_all(path.read_text()) if d]


K8S_FILES = sorted((DEPLOY / "k8s").glob("*.yaml"))


@pytest.mark.parametrize("path", K8S_FILES, ids=[p.name for p in K8S_FILES])
def test_kubernetes_manifests_validate_against_the_kubernetes_schemas(path: Path) -> None:
    docs = _yaml_docs(path)
    assert docs
    for doc in docs:
        kubernetes_validate.validate(doc, "1.37.0", strict=True)


def test_api_deployment_probes_health_and_ready_and_scales() -> None:
    docs = {d["kind"]: d for d in _yaml_docs(DEPLOY / "k8s" / "api.yaml")}
    assert {"Deployment", "Service", "HorizontalPodAutoscaler", "Ingress", "ConfigMap"} <= set(docs)
    container = docs["Deployment"]["spec"]["template"]["spec"]["containers"][0]
    assert container["livenessProbe"]["httpGet"]["path"] == "/health"
    assert container["readinessProbe"]["httpGet"]["path"] == "/ready"
    refs = {next(iter(ref)) for ref in container["envFrom"]}
    assert refs == {"configMapRef", "secretRef"}
    assert docs["Ingress"]["spec"]["tls"], "the API is served over TLS"
    assert docs["HorizontalPodAutoscaler"]["spec"]["scaleTargetRef"]["name"] == docs["Deployment"]["metadata"]["name"]


def test_compose_file_validates_against_the_compose_specification() -> None:
    compose = yaml.safe_load((DEPLOY / "docker-compose.yml").read_text())
    jsonschema.validate(compose, _vendored_schema("compose-spec"))
    services = compose["services"]
    assert {"postgres", "localstack", "redis", "api", "webserver", "daemon", "code-server"} <= set(services)
    # Mounted files exist, so `docker compose up` does not fail on a missing path.
    for service in services.values():
        for volume in service.get("volumes", []):
            source = volume.split(":", 1)[0]
            if source.startswith("./"):
                assert (DEPLOY / source).exists(), source


def test_localstack_init_creates_versioned_bucket_with_lifecycle_and_queue_with_dlq() -> None:
    script = (DEPLOY / "localstack" / "init-aws.sh").read_text()
    assert "put-bucket-versioning" in script and "Status=Enabled" in script
    assert '"Days": 90' in script
    assert "RedrivePolicy" in script and "deadLetterTargetArn" in script
    subprocess.run(["sh", "-n", str(DEPLOY / "localstack" / "init-aws.sh")], check=True)


def test_github_workflows_validate_against_their_schema() -> None:
    schema = _vendored_schema("github-workflows")
    workflows = sorted((ROOT / ".github" / "workflows").glob("*.yml"))
    assert workflows
    for path in workflows:
        workflow = yaml.safe_load(path.read_text())
        # YAML 1.1 reads the key `on` as True; GitHub reads it as "on".
        workflow["on"] = workflow.pop(True)
        jsonschema.validate(workflow, schema)


ECS_FILES = sorted((DEPLOY / "ecs").glob("task-*.json"))


@pytest.mark.parametrize("path", ECS_FILES, ids=[p.name for p in ECS_FILES])
def test_ecs_task_definitions_validate_against_the_ecs_api_model(path: Path) -> None:
    model = botocore.session.get_session().get_service_model("ecs")
    shape = model.operation_model("RegisterTaskDefinition").input_shape
    report = ParamValidator().validate(json.loads(path.read_text()), shape)
    assert not report.has_errors(), report.generate_report()


def test_ecs_covers_every_role_and_the_instance_uses_the_ecs_run_launcher() -> None:
    commands = {json.loads(p.read_text())["containerDefinitions"][0]["command"][0] for p in ECS_FILES}
    assert commands == {"api", "code-server", "daemon", "webserver"}
    from dagster._config import process_config

    instance = yaml.safe_load((DEPLOY / "ecs" / "dagster.yaml").read_text())
    launcher = instance["run_launcher"]
    cls = getattr(importlib.import_module(launcher["module"]), launcher["class"])
    assert cls.__name__ == "EcsRunLauncher"
    result = process_config(cls.config_type(), launcher["config"])
    assert result.success, result.errors


# IAM actions that are permissions, not API operations of the same name.
IAM_ONLY_ACTIONS = {"s3:ListBucket", "iam:PassRole"}
IAM_SERVICES = {"s3": "s3", "sqs": "sqs", "kms": "kms", "ecs": "ecs", "iam": "iam", "ecr": "ecr",
                "logs": "logs", "secretsmanager": "secretsmanager"}
IAM_FILES = sorted((DEPLOY / "iam").glob("*.json"))


@pytest.mark.parametrize("path", IAM_FILES, ids=[p.name for p in IAM_FILES])
def test_iam_policies_name_real_actions_and_no_wildcards(path: Path) -> None:
    policy = json.loads(path.read_text())
    assert policy["Version"] == "2012-10-17"
    session = botocore.session.get_session()
    for statement in policy["Statement"]:
        assert statement["Effect"] == "Allow"
        actions = statement["Action"] if isinstance(statement["Action"], list) else [statement["Action"]]
        for action in actions:
            assert "*" not in action, f"{path.name}: wildcard action {action}"
            service, name = action.split(":", 1)
            if action in IAM_ONLY_ACTIONS:
                continue
            model = session.get_service_model(IAM_SERVICES[service])
            assert name in model.operation_names, f"{path.name}: unknown action {action}"
        resources_ = statement["Resource"] if isinstance(statement["Resource"], list) else [statement["Resource"]]
        data_actions = [a for a in actions if a.split(":")[0] in {"s3", "sqs", "kms", "secretsmanager"}
                        and a not in {"secretsmanager:ListSecrets"}]
        if data_actions:
            assert "*" not in resources_, f"{path.name}: {data_actions} on every resource"


def test_helm_values_use_this_image_the_k8s_run_launcher_and_queue_limits() -> None:
    values = yaml.safe_load((DEPLOY / "helm" / "dagster-values.yaml").read_text())
    deployment = values["dagster-user-deployments"]["deployments"][0]
    assert deployment["dagsterApiGrpcArgs"] == ["--module-name", "timetable_platform.definitions"]
    assert values["runLauncher"]["type"] == "K8sRunLauncher"
    coordinator = values["dagsterDaemon"]["runCoordinator"]
    assert coordinator["type"] == "QueuedRunCoordinator"
    limits = coordinator["config"]["queuedRunCoordinator"]
    assert isinstance(limits["maxConcurrentRuns"], int)
    assert {t["key"] for t in limits["tagConcurrencyLimits"]} >= {"timetable/backfill"}
    assert values["postgresql"]["enabled"] is False


def test_dockerfile_passes_hadolint_and_matches_the_package_version() -> None:
    hadolint = shutil.which("hadolint") or str(Path(sys.executable).parent / "hadolint")
    if not Path(hadolint).exists():
        pytest.skip("hadolint is not installed")
    result = subprocess.run([hadolint, "--config", str(ROOT / ".hadolint.yaml"), str(ROOT / "Dockerfile")],
                            capture_output=True, text=True)
    assert result.returncode == 0, result.stdout + result.stderr
    dockerfile = (ROOT / "Dockerfile").read_text()
    version = re.search(r'^version = "([^"]+)"', (ROOT / "pyproject.toml").read_text(), re.M)
    assert version and f"timetable-platform=={version.group(1)}" in dockerfile
    assert re.search(r"^USER 10001", dockerfile, re.M), "runs as a non-root user"
    assert "HEALTHCHECK" in dockerfile and "tesseract-ocr-deu" in dockerfile


def test_code_servers_start_through_timetable_code_server() -> None:
    """The container role and every manifest that starts a code server use `timetable code-server`
    (refuses a taken port, stops on SIGTERM), not `dagster code-server start` directly."""
    entrypoint = (DEPLOY / "docker" / "entrypoint.sh").read_text()
    [line] = [ln for ln in entrypoint.splitlines() if ln.strip().startswith("code-server)")]
    assert "exec timetable code-server --host 0.0.0.0" in line
    for path in [*DEPLOY.rglob("*.y*ml"), *DEPLOY.rglob("*.json"), *DEPLOY.rglob("*.sh")]:
        assert "dagster code-server start" not in path.read_text(), path
    task = json.loads((DEPLOY / "ecs" / "task-code-server.json").read_text())
    assert task["containerDefinitions"][0]["command"] == ["code-server"]


def test_local_process_instances_agree_on_compute_log_capture() -> None:
    """dagster.yaml and deploy/dagster-postgres.yaml both launch runs as local processes: both leave raw
    stdout/stderr capture off (its per-run watcher costs live uploads seconds)."""
    local = yaml.safe_load((ROOT / "dagster.yaml").read_text())["compute_logs"]
    postgres = yaml.safe_load((DEPLOY / "dagster-postgres.yaml").read_text())["compute_logs"]
    assert local == postgres and postgres["class"] == "NoOpComputeLogManager"
