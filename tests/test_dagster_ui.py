"""The Dagster UI end to end: `dagster dev` on the loopback, the demo materialized
through its GraphQL API, and the global asset lineage checked in headless Chromium.

One `dagster dev` (webserver, daemon, code server) serves the module, on a free
port bound to 127.0.0.1, with every path (warehouse, landing, exports, models,
DAGSTER_HOME) in a temp folder. The `daily_planning` job is launched through the
GraphQL `launchRun` mutation the UI uses, with the run tags the schedule gives
it, so it goes through the run queue, the daemon and the concurrency pools of
the project's dagster.yaml (only the executor differs: see RUN_CONFIG).

The lineage check reads the DOM, not pixels. The graph only renders the nodes
inside the viewport, and draws no nodes at all below 15 % zoom, so the test
lays the graph out top to bottom and sizes the browser window so that the
whole graph fits at 20 % zoom; the screenshot then shows every asset.
It is saved to the test's temp folder and, when CROSSDOCK_TEST_ARTIFACTS is
set, to $CROSSDOCK_TEST_ARTIFACTS/exports/ui/lineage.png.
"""
import ipaddress
import json
import os
import re
import shutil
import subprocess
import sys
import time
import urllib.request
from pathlib import Path
from urllib.parse import quote, urlparse

import dagster as dg
import pytest

from crossdock.settings import PROJECT_ROOT, Settings, settings_variables
from demo.generate import generate
from demo.network import install_demo_config
from browser import chromium_page, log_tail, require_chromium, served, wait_for_texts
from crossdock.ports import free_port
from light_forecast import use_light_forecast

pytestmark = [pytest.mark.e2e, pytest.mark.browser]

HOST = "127.0.0.1"
JOB = "daily_planning"
GATED_ASSET = ("publish", "demand_forecast")
GATE_CHECK = "forecast_quality_gate"
DEMO_SCALE = 0.05
SERVER_START_TIMEOUT_S = 240
RUN_TIMEOUT_S = 900
# launchRun answers once the run is stored and its steps planned: seconds, as the ingest is not
# partitioned by day (with daily partitions it wrote ~5,300 planned events first, 60-80 s on 2 cores)
LAUNCH_TIMEOUT_S = 60
# The lineage opens zoomed to fit the graph's width; the window is sized so that this
# is FIT_ZOOM, then one click on "zoom out" (-0.05) leaves a margin around the graph.
# Below 0.15 (GROUPS_ONLY_SCALE in Dagster's AssetGraphExplorer) no asset node is drawn.
FIT_ZOOM = 0.25
BASE_VIEWPORT = {"width": 1600, "height": 1000}
# Browser storage the UI reads: lay the graph out top to bottom (a wide, flat
# graph suits a screen better than the default tall one) and skip the
# "Join the Dagster community" dialog that covers the page on localhost.
UI_STORAGE = {"asset-graph-direction": "vertical", "communityNux": "1"}
TERMINAL = {"SUCCESS", "FAILURE", "CANCELED"}
# One process for all the steps: the default multiprocess executor spends ~10 s
# starting a Python per step (the duckdb pool runs them one at a time anyway),
# which took the run from ~2.5 to ~6.5 min on the demo.
RUN_CONFIG = {"execution": {"config": {"in_process": {}}}}


def graphql(url: str, query: str, variables: dict | None = None, timeout: float = 60) -> dict:
    body = json.dumps({"query": query, "variables": variables or {}}).encode()
    request = urllib.request.Request(f"{url}/graphql", data=body, headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(request, timeout=timeout) as response:
        payload = json.loads(response.read())
    if payload.get("errors"):
        raise AssertionError(f"GraphQL errors: {json.dumps(payload['errors'], indent=1)[:4000]}")
    return payload["data"]


def wait_for_code_location(url: str, timeout_s: float, process: subprocess.Popen) -> str:
    """The name of the (only) code location, once it has loaded."""
    query = """{ workspaceOrError { __typename
        ... on Workspace { locationEntries { name loadStatus
            locationOrLoadError { __typename
                ... on RepositoryLocation { name repositories { name jobs { name } } }
                ... on PythonError { message stack } } } }
        ... on PythonError { message } } }"""
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"dagster dev exited with code {process.returncode}")
        workspace = graphql(url, query)["workspaceOrError"]
        entries = workspace.get("locationEntries") or []
        if entries and all(e["loadStatus"] == "LOADED" for e in entries):
            [entry] = entries
            location = entry["locationOrLoadError"]
            assert location and location["__typename"] == "RepositoryLocation", f"code location failed to load: {location}"
            jobs = {job["name"] for repo in location["repositories"] for job in repo["jobs"]}
            assert JOB in jobs, f"{JOB} not among the jobs {sorted(jobs)}"
            return location["name"]
        time.sleep(1)
    raise TimeoutError(f"the code location did not load within {timeout_s:.0f} s")


@pytest.fixture(scope="module")
def dagster_ui(tmp_path_factory):
    require_chromium()
    root = tmp_path_factory.mktemp("dagster_ui")
    settings = Settings.under(root)
    settings.dagster_home.mkdir(parents=True)
    shutil.copy(PROJECT_ROOT / ".dagster_home" / "dagster.yaml", settings.dagster_home / "dagster.yaml")
    generate(settings.landing, scale=DEMO_SCALE, seed=11)
    install_demo_config(settings.config)
    use_light_forecast(settings.config)

    venv_bin = Path(sys.executable).parent
    env = {
        **os.environ,
        "PATH": f"{venv_bin}{os.pathsep}{os.environ.get('PATH', '')}",  # dbt runs as a subprocess
        "DAGSTER_HOME": str(settings.dagster_home),
        **settings_variables(settings),
        "DBT_SEND_ANONYMOUS_USAGE_STATS": "False",
        "GX_ANALYTICS_ENABLED": "False",
    }
    port = free_port()
    url = f"http://{HOST}:{port}"
    assert urlparse(url).hostname == "127.0.0.1"
    log_path = root / "dagster_dev.log"
    command = [str(venv_bin / "dagster"), "dev", "-w", "workspace.yaml", "-h", HOST, "-p", str(port)]
    with served(command, f"{url}/server_info", env, log_path, SERVER_START_TIMEOUT_S, cwd=PROJECT_ROOT) as process:
        try:
            location = wait_for_code_location(url, SERVER_START_TIMEOUT_S, process)
        except Exception as error:
            pytest.fail(f"the code location did not load: {error}\n--- {log_path} ---\n{log_tail(log_path)}")
        yield {"url": url, "port": port, "root": root, "settings": settings, "location": location, "log": log_path}


@pytest.fixture(scope="module")
def expected_assets(dagster_ui):
    """Every asset key the definitions declare, built here from Python (not from the server)."""
    from orchestration.definitions import build_definitions

    defs = build_definitions(dagster_ui["settings"])
    graph = defs.resolve_asset_graph()
    return {tuple(key.path): graph.get(key).group_name for key in graph.get_all_asset_keys()}


def launch_run(url: str, location: str, tags: dict[str, str]) -> str:
    mutation = """mutation Launch($params: ExecutionParams!) { launchRun(executionParams: $params) { __typename
        ... on LaunchRunSuccess { run { runId status } }
        ... on RunConfigValidationInvalid { errors { message } }
        ... on PythonError { message stack }
        ... on Error { message } } }"""
    params = {
        "selector": {"repositoryLocationName": location, "repositoryName": "__repository__", "jobName": JOB},
        "runConfigData": RUN_CONFIG,
        "executionMetadata": {"tags": [{"key": k, "value": v} for k, v in sorted(tags.items())]},
    }
    result = graphql(url, mutation, {"params": params}, timeout=LAUNCH_TIMEOUT_S)["launchRun"]
    assert result["__typename"] == "LaunchRunSuccess", f"launchRun failed: {json.dumps(result, indent=1)[:4000]}"
    return result["run"]["runId"]


def run_errors(url: str, run_id: str) -> list[str]:
    """The run's error events (failed steps, failed checks, the run failure), for the failure message."""
    query = """query Logs($runId: ID!, $cursor: String) { logsForRun(runId: $runId, afterCursor: $cursor, limit: 1000) {
        __typename
        ... on EventConnection { cursor hasMore events { __typename
            ... on MessageEvent { message level stepKey }
            ... on ExecutionStepFailureEvent { error { message stack } }
            ... on RunFailureEvent { error { message stack } }
            ... on EngineEvent { error { message stack } }
            ... on AssetCheckEvaluationEvent { evaluation { checkName success } } } }
        ... on PythonError { message } } }"""
    errors, cursor = [], None
    while True:
        logs = graphql(url, query, {"runId": run_id, "cursor": cursor})["logsForRun"]
        if logs["__typename"] != "EventConnection":
            return [f"logsForRun: {logs}"]
        for event in logs["events"]:
            failed_check = event.get("evaluation") and not event["evaluation"]["success"]
            if event.get("error") or event.get("level") in ("ERROR", "CRITICAL") or failed_check:
                error = event.get("error") or {}
                errors.append(
                    f"{event['__typename']} [{event.get('stepKey')}] {event.get('message')}\n"
                    f"{error.get('message', '')}{error.get('stack') and ''.join(error['stack'])[-3000:] or ''}"
                )
        cursor = logs["cursor"]
        if not logs["hasMore"]:
            return errors


@pytest.fixture(scope="module")
def demo_run(dagster_ui):
    """Launch daily_planning over every landed file and every market through GraphQL and wait for it to end."""
    from orchestration.defs.automation.jobs import planning_run_tags
    from orchestration.lib.run_inputs import all_landing_files

    url, settings = dagster_ui["url"], dagster_ui["settings"]
    with dg.DagsterInstance.from_config(str(settings.dagster_home)) as instance:  # the UI's own instance
        tags = planning_run_tags(instance, all_landing_files(settings.landing), settings.config)
    started = time.monotonic()
    run_id = launch_run(url, dagster_ui["location"], tags)
    query = "query Run($runId: ID!) { runOrError(runId: $runId) { __typename ... on Run { status } } }"
    statuses: list[str] = []
    timeline: list[str] = [f"launched {time.monotonic() - started:.0f} s"]
    while time.monotonic() - started < RUN_TIMEOUT_S:
        run = graphql(url, query, {"runId": run_id})["runOrError"]
        assert run["__typename"] == "Run", run
        if not statuses or statuses[-1] != run["status"]:
            statuses.append(run["status"])
            timeline.append(f"{run['status']} {time.monotonic() - started:.0f} s")
        if run["status"] in TERMINAL:
            break
        time.sleep(2)
    print(f"\n{JOB} run {run_id}: {', '.join(timeline)}")
    return {"run_id": run_id, "status": statuses[-1], "statuses": statuses}


def require_success(dagster_ui, demo_run) -> None:
    if demo_run["status"] == "SUCCESS":
        return
    details = "\n\n".join(run_errors(dagster_ui["url"], demo_run["run_id"])) or "(no error events)"
    print(details)
    ended = f"ended {demo_run['status']}" if demo_run["status"] in TERMINAL else f"did not end within {RUN_TIMEOUT_S} s"
    pytest.fail(
        f"{JOB} run {demo_run['run_id']} {ended} ({' -> '.join(demo_run['statuses'])}):\n"
        f"{details[-12000:]}\n--- dagster dev log ---\n{log_tail(dagster_ui['log'], 40)}"
    )


def listening_addresses(port: int) -> set[str]:
    """Local addresses of the sockets listening on `port`, from /proc/net/tcp{,6} (Linux)."""
    addresses = set()
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        if not Path(table).exists():
            continue
        for line in Path(table).read_text().splitlines()[1:]:
            local, state = line.split()[1], line.split()[3]
            address, hex_port = local.split(":")
            if state == "0A" and int(hex_port, 16) == port:  # 0A: LISTEN
                raw = bytes.fromhex(address)
                if len(raw) == 4:
                    addresses.add(".".join(str(b) for b in reversed(raw)))
                else:  # IPv6, four little-endian words
                    words = b"".join(raw[i:i + 4][::-1] for i in range(0, 16, 4))
                    addresses.add(str(ipaddress.IPv6Address(words)))
    return addresses


def test_the_server_listens_on_the_loopback_only_and_serves_every_asset(dagster_ui, expected_assets):
    assert urlparse(dagster_ui["url"]).hostname == "127.0.0.1"
    if Path("/proc/net/tcp").exists():
        assert listening_addresses(dagster_ui["port"]) == {"127.0.0.1"}
    served = graphql(dagster_ui["url"], "{ assetNodes { assetKey { path } groupName } }")["assetNodes"]
    served_assets = {tuple(node["assetKey"]["path"]): node["groupName"] for node in served}
    assert served_assets == expected_assets


def test_the_demo_materializes_through_the_graphql_api(dagster_ui, demo_run):
    require_success(dagster_ui, demo_run)
    assert demo_run["statuses"][-1] == "SUCCESS"


def test_the_run_forecast_every_market_partition_the_config_names(dagster_ui, demo_run):
    """The forecast is partitioned by market: one run over all of them materializes each (lib/market_partitions.py)."""
    from crossdock.merchant_config import load_config

    require_success(dagster_ui, demo_run)
    settings = dagster_ui["settings"]
    markets = load_config(settings.config).market_codes
    with dg.DagsterInstance.from_config(str(settings.dagster_home)) as instance:
        forecast = dg.AssetKey(["publish", "demand_forecast"])
        assert instance.get_materialized_partitions(forecast) == set(markets)
        assert instance.get_dynamic_partitions("market") == markets


# --- the lineage in the browser -------------------------------------------


def open_with_ui_storage(page, url: str) -> None:
    script = "".join(f"window.localStorage.setItem({json.dumps(k)}, {json.dumps(json.dumps(v))});" for k, v in UI_STORAGE.items())
    page.add_init_script(script)
    page.goto(url)


def graph_nodes(page) -> dict:
    """Asset nodes and group boxes the lineage has drawn: labels and SVG coordinates."""
    return page.evaluate(
        """() => {
        const svg = document.querySelector('svg[class*="svgContainer"]');
        if (!svg) return {nodes: [], groups: []};
        const box = (el) => ({x: +el.getAttribute('x'), y: +el.getAttribute('y'),
                              w: +el.getAttribute('width'), h: +el.getAttribute('height')});
        const groups = [...svg.querySelectorAll('foreignObject.group')].map((el) => {
            const label = el.querySelector('[data-tooltip]');
            return {name: label ? label.getAttribute('data-tooltip') : null, ...box(el)};
        });
        const nodes = [...svg.querySelectorAll('foreignObject')]
            .map((el) => [el, el.querySelector('[class*="AssetNode_assetName"]')])
            .filter(([el, name]) => name)
            .map(([el, name]) => ({label: name.textContent.trim(), ...box(el)}));
        return {nodes, groups, width: +svg.getAttribute('width'), height: +svg.getAttribute('height')};
    }"""
    )


def label_shows(label: str, name: str) -> bool:
    """The UI shortens long names in the middle ("delive…_by_chapter")."""
    if label == name:
        return True
    if label.count("…") != 1:
        return False
    head, tail = label.split("…")
    return len(name) > len(label) - 1 and name.startswith(head) and name.endswith(tail)


def missing_from_graph(expected: dict[tuple, str], drawn: dict) -> list[str]:
    """Expected assets with no node of their name drawn inside their group's box."""
    def group_of(node):
        cx, cy = node["x"] + node["w"] / 2, node["y"] + node["h"] / 2
        inside = [g for g in drawn["groups"] if g["x"] <= cx <= g["x"] + g["w"] and g["y"] <= cy <= g["y"] + g["h"]]
        return min(inside, key=lambda g: g["w"] * g["h"])["name"] if inside else None

    unclaimed = [(group_of(node), node["label"]) for node in drawn["nodes"]]
    # full labels first, so a shortened label cannot take a node that shows another name in full
    remaining = []
    for key, group in sorted(expected.items()):
        if (group, key[-1]) in unclaimed:
            unclaimed.remove((group, key[-1]))
        else:
            remaining.append((key, group))
    missing = []
    for key, group in remaining:
        match = next((n for n in unclaimed if n[0] == group and label_shows(n[1], key[-1])), None)
        if match is None:
            missing.append(f"{'/'.join(key)} (group {group})")
        else:
            unclaimed.remove(match)
    return missing


def wait_for_stable(page, read, done, timeout_s: float = 60, pause_s: float = 1.0):
    """Poll `read(page)` until two reads a pause apart agree and `done(value)` holds; the last read."""
    deadline = time.monotonic() + timeout_s
    value = read(page)
    while time.monotonic() < deadline:
        page.wait_for_timeout(pause_s * 1000)
        again = read(page)
        if again == value and done(value):
            return value
        value = again
    return value


def test_the_lineage_shows_every_asset(dagster_ui, demo_run, expected_assets):
    # after the run, so the screenshot shows the materialized graph; the check does not need it to succeed
    url = dagster_ui["url"]
    assert urlparse(url).hostname == "127.0.0.1"
    screenshot = dagster_ui["root"] / "lineage.png"
    graph = 'svg[class*="svgContainer"]'

    def size(page):  # the laid-out graph's width and height, in SVG units
        return page.evaluate(
            "(graph) => { const s = document.querySelector(graph);"
            " return s && [+s.getAttribute('width'), +s.getAttribute('height')]; }",
            graph,
        )

    with chromium_page(**BASE_VIEWPORT) as page:
        open_with_ui_storage(page, f"{url}/asset-groups")
        page.locator(graph).wait_for(timeout=60_000)
        collapsed = wait_for_stable(page, size, bool)
        # the UI's own "Expand all groups" (Alt+E): a collapsed group hides its assets
        page.keyboard.press("Alt+KeyE")
        page.wait_for_url(re.compile(r"[?&]expanded="), timeout=30_000)
        width, height = wait_for_stable(page, size, lambda s: s and s != collapsed)
        # Size the window so the graph's width fits at FIT_ZOOM, open the expanded lineage afresh
        # (it zooms to fit the width when it opens), then zoom out a notch for a margin.
        area = page.locator("[data-svg-viewport]").bounding_box()
        page.set_viewport_size({
            "width": max(BASE_VIEWPORT["width"], int(BASE_VIEWPORT["width"] - area["width"] + width * FIT_ZOOM)),
            "height": max(BASE_VIEWPORT["height"], int(BASE_VIEWPORT["height"] - area["height"] + height * FIT_ZOOM)),
        })
        page.goto(page.url)
        page.locator('[class*="AssetNode_assetName"]').first.wait_for(timeout=60_000)
        page.locator('[aria-label="zoom_out"]').click()
        drawn = wait_for_stable(page, graph_nodes, lambda d: len(d["nodes"]) >= len(expected_assets))
        page.wait_for_timeout(2000)  # let the nodes' live status colours arrive
        page.screenshot(path=str(screenshot), full_page=True)

    copy = None
    if os.environ.get("CROSSDOCK_TEST_ARTIFACTS"):
        copy = Path(os.environ["CROSSDOCK_TEST_ARTIFACTS"]) / "exports" / "ui" / "lineage.png"
        copy.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy(screenshot, copy)
    print(f"\nlineage screenshot: {screenshot}" + (f" (copied to {copy})" if copy else ""))

    missing = missing_from_graph(expected_assets, drawn)
    labels = sorted(n["label"] for n in drawn["nodes"])
    assert not missing, (
        f"the lineage does not show {len(missing)} of {len(expected_assets)} assets: {missing}\n"
        f"nodes drawn: {labels}\nscreenshot: {screenshot}"
    )
    assert len(labels) == len(expected_assets), f"the lineage draws nodes for no known asset: {labels}"
    assert screenshot.stat().st_size > 20_000, f"{screenshot} is only {screenshot.stat().st_size} bytes"


def test_the_gated_asset_page_shows_its_check_and_latest_materialization(dagster_ui, demo_run):
    require_success(dagster_ui, demo_run)
    page_url = f"{dagster_ui['url']}/assets/{'/'.join(quote(part) for part in GATED_ASSET)}"
    run_id = demo_run["run_id"]
    with chromium_page(**BASE_VIEWPORT) as page:
        open_with_ui_storage(page, f"{page_url}?view=checks")
        missing = wait_for_texts(page, [GATE_CHECK, "Succeeded", "Evaluation result", "Passed"])
        page.screenshot(path=str(dagster_ui["root"] / "demand_forecast_checks.png"), full_page=True)
        assert not missing, f"the checks tab does not show {missing}:\n{page.inner_text('body')[:3000]}"

        page.goto(f"{page_url}?view=events")
        # one event per market partition, listed by market; the first one's detail: "Partition AU materialized in run ..."
        missing = wait_for_texts(page, [f"materialized in run {run_id[:8]}", "model_version", "every market"])
        page.screenshot(path=str(dagster_ui["root"] / "demand_forecast_events.png"), full_page=True)
        assert not missing, f"the events tab does not show {missing}:\n{page.inner_text('body')[:3000]}"
