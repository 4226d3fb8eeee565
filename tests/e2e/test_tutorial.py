"""The tutorial's commands, up to and including "创建集群", with kubectl 1.27 and 1.33.

Most tests run in a namespace of their own; test_tutorial_literal_commands runs the commands
exactly as written, in namespace `demo`.
"""

import json
import stat
import time

import pytest
import yaml

from conftest import (CLUSTER_DEPRECATION, KUBECTL_VERSIONS, TUTORIAL_CLUSTER, cluster_path,
                      configmap_path, parse_table, tutorial_cluster, tutorial_cluster_yaml, wait_for)

CLUSTER_HEADER = ["NAME", "CLUSTER-DEFINITION", "VERSION", "TERMINATION-POLICY", "STATUS", "AGE"]
CLUSTER_PHASES = {"", "Creating", "Running", "Updating", "Stopping", "Stopped", "Deleting", "Failed",
                  "Abnormal"}
GET_ALL = "all,secret,rolebinding,serviceaccount"


@pytest.fixture(params=KUBECTL_VERSIONS)
def version(request):
    return request.param


def apply_manifest(server, version, text, *extra):
    return server.kubectl(version, "apply", *extra, "-f", "-", input=text)


def with_instance_label(text):
    manifest = yaml.safe_load(text)
    manifest["metadata"]["labels"] = {"app.kubernetes.io/instance": "mycluster"}
    return yaml.safe_dump(manifest)


def get_cluster(server, namespace, name="mycluster"):
    response = server.api("GET", cluster_path(namespace, name))
    assert response.status == 200, f"GET cluster {namespace}/{name}: {response}"
    return response.body


def applied_cluster(server, version, namespace):
    result = apply_manifest(server, version, tutorial_cluster_yaml(namespace))
    assert result.returncode == 0, f"apply failed: {result.stderr}"
    return get_cluster(server, namespace)


# -- 开始之前 -------------------------------------------------------------------------------------

def test_clusterdefinition_becomes_available(server, version):
    def available():
        result = server.kubectl(version, "get", "clusterdefinition", "xinference")
        if result.returncode != 0:
            return None
        header, rows = parse_table(result.stdout)
        return (result, header, rows) if rows and rows[0].get("STATUS") == "Available" else None

    result, header, rows = wait_for(available, timeout=30, message="clusterdefinition not Available")
    assert header == ["NAME", "TOPOLOGIES", "SERVICEREFS", "STATUS", "AGE"], result.stdout
    assert len(rows) == 1, result.stdout
    assert rows[0]["NAME"] == "xinference", result.stdout
    assert rows[0]["AGE"], result.stdout


def test_clusterdefinition_short_name_cd(server, version):
    result = server.kubectl(version, "get", "cd", "xinference")
    assert result.returncode == 0, result.stderr
    _, rows = parse_table(result.stdout)
    assert [row["NAME"] for row in rows] == ["xinference"], result.stdout


def test_clusterversions_listed_with_deprecation_warning(server, version):
    def listed():
        result = server.kubectl(version, "get", "clusterversions", "-l",
                                "clusterdefinition.kubeblocks.io/name=xinference")
        _, rows = parse_table(result.stdout)
        statuses = {row.get("STATUS") for row in rows}
        return (result, rows) if result.returncode == 0 and statuses == {"Available"} else None

    result, rows = wait_for(listed, timeout=30, message="clusterversions not Available")
    names = sorted(row["NAME"] for row in rows)
    assert names == ["xinference-0.11.0", "xinference-0.11.0-cpu"], result.stdout
    for row in rows:
        assert row["CLUSTER-DEFINITION"] == "xinference", result.stdout
    assert f"Warning: {CLUSTER_DEPRECATION}" in result.stderr, result.stderr


def test_clusterversions_selector_excludes_other_definitions(server, version):
    result = server.kubectl(version, "get", "cv", "-l", "clusterdefinition.kubeblocks.io/name=nothere")
    assert result.returncode == 0, result.stderr
    assert "No resources found" in result.stderr, result.stderr


def test_create_namespace_prints_created(server, version):
    name = f"create-ns-{version.replace('.', '')}"
    result = server.kubectl(version, "create", "namespace", name)
    try:
        assert result.returncode == 0, result.stderr
        assert result.stdout.strip() == f"namespace/{name} created", result.stdout
        again = server.kubectl(version, "create", "namespace", name)
        assert again.returncode == 1, again.stdout
        assert again.stderr.strip() == \
            f'Error from server (AlreadyExists): namespaces "{name}" already exists', again.stderr
        response = server.api("GET", f"/api/v1/namespaces/{name}")
        assert response.status == 200, response
        assert response.body["status"]["phase"] == "Active", response.body
    finally:
        server.api("DELETE", f"/api/v1/namespaces/{name}")


# -- 创建集群 -------------------------------------------------------------------------------------

def test_apply_created_configured_unchanged(server, version, namespace):
    manifest = tutorial_cluster_yaml(namespace)

    first = apply_manifest(server, version, manifest)
    assert first.returncode == 0, first.stderr
    assert first.stdout.strip() == "cluster.apps.kubeblocks.io/mycluster created", first.stdout

    changed = manifest.replace("terminationPolicy: Delete", "terminationPolicy: WipeOut")
    second = apply_manifest(server, version, changed)
    assert second.returncode == 0, second.stderr
    assert second.stdout.strip() == "cluster.apps.kubeblocks.io/mycluster configured", second.stdout
    assert get_cluster(server, namespace)["spec"]["terminationPolicy"] == "WipeOut"

    third = apply_manifest(server, version, changed)
    assert third.returncode == 0, third.stderr
    assert third.stdout.strip() == "cluster.apps.kubeblocks.io/mycluster unchanged", third.stdout


def test_apply_stores_last_applied_annotation(server, version, namespace):
    cluster = applied_cluster(server, version, namespace)
    annotation = cluster["metadata"]["annotations"]["kubectl.kubernetes.io/last-applied-configuration"]
    assert json.loads(annotation)["spec"]["terminationPolicy"] == "Delete", annotation


def test_apply_removes_field_dropped_from_manifest(server, version, namespace):
    applied_cluster(server, version, namespace)
    manifest = tutorial_cluster(namespace)
    del manifest["spec"]["tolerations"]
    result = apply_manifest(server, version, yaml.safe_dump(manifest))
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "cluster.apps.kubeblocks.io/mycluster configured", result.stdout
    assert "tolerations" not in get_cluster(server, namespace)["spec"]


def test_apply_server_side_prints_serverside_applied(server, version, namespace):
    applied_cluster(server, version, namespace)
    changed = tutorial_cluster_yaml(namespace).replace("replicas: 1", "replicas: 2")
    result = apply_manifest(server, version, changed, "--server-side")
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "cluster.apps.kubeblocks.io/mycluster serverside-applied", result.stdout
    assert get_cluster(server, namespace)["spec"]["componentSpecs"][0]["replicas"] == 2


def test_apply_server_side_creates_missing_object(server, version, namespace):
    result = apply_manifest(server, version, tutorial_cluster_yaml(namespace, "ssa"), "--server-side")
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "cluster.apps.kubeblocks.io/ssa serverside-applied", result.stdout
    cluster = get_cluster(server, namespace, "ssa")
    assert cluster["spec"]["clusterVersionRef"] == "xinference-0.11.0-cpu", cluster


def test_get_cluster_prints_printer_columns(server, version, namespace):
    server.create_cluster(namespace)
    result = server.kubectl(version, "get", "cluster", "mycluster", "-n", namespace)
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert lines[0].split() == CLUSTER_HEADER, result.stdout
    assert len(lines) == 2, result.stdout
    _, rows = parse_table(result.stdout)
    row = rows[0]
    assert row["NAME"] == "mycluster", result.stdout
    assert row["CLUSTER-DEFINITION"] == "xinference", result.stdout
    assert row["VERSION"] == "xinference-0.11.0-cpu", result.stdout
    assert row["TERMINATION-POLICY"] == "Delete", result.stdout
    assert row["STATUS"] in CLUSTER_PHASES, result.stdout
    assert row["AGE"].endswith(("s", "m")), result.stdout


def test_get_cluster_missing_prints_not_found(server, version, namespace):
    result = server.kubectl(version, "get", "cluster", "nope", "-n", namespace)
    assert result.returncode == 1, result.stdout
    assert result.stderr.strip() == \
        'Error from server (NotFound): clusters.apps.kubeblocks.io "nope" not found', result.stderr


def assert_tutorial_fields(cluster, namespace):
    metadata = cluster["metadata"]
    spec = cluster["spec"]
    assert cluster["apiVersion"] == "apps.kubeblocks.io/v1alpha1", cluster
    assert cluster["kind"] == "Cluster", cluster
    assert metadata["name"] == "mycluster", metadata
    assert metadata["namespace"] == namespace, metadata
    assert metadata["uid"], metadata
    assert int(metadata["resourceVersion"]) > 0, metadata
    assert metadata["generation"] == 1, metadata
    assert time.strptime(metadata["creationTimestamp"], "%Y-%m-%dT%H:%M:%SZ"), metadata
    assert "managedFields" not in metadata, metadata
    assert spec["clusterDefinitionRef"] == "xinference", spec
    assert spec["clusterVersionRef"] == "xinference-0.11.0-cpu", spec
    assert spec["terminationPolicy"] == "Delete", spec
    assert spec["affinity"]["podAntiAffinity"] == "Preferred", spec
    assert spec["affinity"]["topologyKeys"] == ["kubernetes.io/hostname"], spec
    assert spec["tolerations"] == [{"key": "kb-data", "operator": "Equal", "value": "true",
                                    "effect": "NoSchedule"}], spec
    component = spec["componentSpecs"][0]
    assert component["name"] == "xinference", component
    assert component["componentDefRef"] == "xinference", component
    assert component["serviceAccountName"] == "kb-xinference-cluster", component
    assert component["replicas"] == 1, component
    assert component["resources"]["limits"] == {"cpu": "1", "memory": "1Gi"}, component
    assert component["resources"]["requests"] == {"cpu": "1", "memory": "1Gi"}, component


def test_get_cluster_output_yaml(server, version, namespace):
    server.create_cluster(namespace)
    result = server.kubectl(version, "get", "cluster", "mycluster", "-n", namespace, "-o", "yaml")
    assert result.returncode == 0, result.stderr
    assert_tutorial_fields(yaml.safe_load(result.stdout), namespace)


def test_get_cluster_output_json(server, version, namespace):
    server.create_cluster(namespace)
    result = server.kubectl(version, "get", "cluster", "mycluster", "-n", namespace, "-o", "json")
    assert result.returncode == 0, result.stderr
    assert_tutorial_fields(json.loads(result.stdout), namespace)


def test_cluster_defaults_applied(server, version, namespace):
    manifest = tutorial_cluster(namespace)
    del manifest["spec"]["affinity"]["podAntiAffinity"]
    del manifest["spec"]["componentSpecs"][0]["replicas"]
    result = apply_manifest(server, version, yaml.safe_dump(manifest))
    assert result.returncode == 0, result.stderr
    output = server.kubectl(version, "get", "cluster", "mycluster", "-n", namespace, "-o", "json")
    cluster = json.loads(output.stdout)
    assert cluster["spec"]["componentSpecs"][0]["replicas"] == 1, cluster["spec"]
    assert cluster["spec"]["affinity"]["podAntiAffinity"] == "Preferred", cluster["spec"]


def test_get_watch_prints_row_after_patch(server, version, namespace, tmp_path):
    server.create_cluster(namespace)
    output_path = tmp_path / "watch.out"
    watcher = server.kubectl_background(version, "get", "cluster", "mycluster", "-n", namespace, "-w",
                                        output_path=str(output_path))
    try:
        wait_for(lambda: "mycluster" in output_path.read_text(), timeout=30,
                 message="kubectl get -w printed no first row")
        patch = server.api("PATCH", cluster_path(namespace, "mycluster"),
                           {"spec": {"terminationPolicy": "WipeOut"}},
                           headers={"Content-Type": "application/merge-patch+json"})
        assert patch.status == 200, patch

        # kubectl drops the first watch event (the synthetic ADDED). If its watch started after
        # the patch, that event already carried WipeOut, so later metadata-only patches make
        # the server send MODIFIED rows until one is printed.
        bumps = [0]

        def watched_rows():
            lines = output_path.read_text().splitlines()
            rows = [line for line in lines[1:] if "mycluster" in line and "WipeOut" in line]
            if not rows:
                bumps[0] += 1
                server.api("PATCH", cluster_path(namespace, "mycluster"),
                           {"metadata": {"annotations": {"e2e/bump": str(bumps[0])}}},
                           headers={"Content-Type": "application/merge-patch+json"})
            return rows

        rows = wait_for(watched_rows, timeout=30, interval=2,
                        message="kubectl get -w printed no row for the patch")
        assert rows[0].split()[:4] == ["mycluster", "xinference", "xinference-0.11.0-cpu", "WipeOut"], rows
        assert watcher.poll() is None, f"kubectl get -w exited: {output_path.read_text()}"
    finally:
        watcher.terminate()
        watcher.wait(timeout=30)
    header = output_path.read_text().splitlines()[0]
    assert header.split() == CLUSTER_HEADER, output_path.read_text()


def test_get_all_literal_command_succeeds(server, version, namespace):
    server.create_cluster(namespace)
    result = server.kubectl(version, "get", GET_ALL, "-l", "app.kubernetes.io/instance=mycluster",
                            "-n", namespace)
    assert result.returncode == 0, result.stderr


def test_get_all_lists_labelled_cluster(server, version, namespace):
    labelled = with_instance_label(tutorial_cluster_yaml(namespace))
    applied = apply_manifest(server, version, labelled)
    assert applied.returncode == 0, applied.stderr
    result = server.kubectl(version, "get", GET_ALL, "-l", "app.kubernetes.io/instance=mycluster",
                            "-n", namespace)
    assert result.returncode == 0, result.stderr
    names = [line.split()[0] for line in result.stdout.splitlines() if line and not line.startswith("NAME")]
    assert "cluster.apps.kubeblocks.io/mycluster" in names, result.stdout


def test_get_all_lists_owned_objects_not_cluster(server, version, namespace):
    server.create_cluster(namespace)

    def listed():
        result = server.kubectl(version, "get", "all", "-l", "app.kubernetes.io/instance=mycluster",
                                "-n", namespace)
        assert result.returncode == 0, result.stderr
        return result.stdout

    wait_for(lambda: "service/mycluster-xinference-headless" in listed(), timeout=30,
             message="the component's services did not appear in get all")
    output = listed()
    assert "pod/mycluster-xinference-0" in output, output
    assert "service/mycluster-xinference " in output, output
    # The Cluster carries no instance label, so `all` does not list it, as with KubeBlocks.
    assert "cluster.apps.kubeblocks.io" not in output, output


def write_editor(tmp_path, sed_expression):
    script = tmp_path / "editor.sh"
    script.write_text(f"#!/bin/sh\nsed -i '{sed_expression}' \"$1\"\n")
    script.chmod(script.stat().st_mode | stat.S_IXUSR)
    return str(script)


def test_edit_with_scripted_editor(server, version, namespace, tmp_path):
    server.create_cluster(namespace)
    editor = write_editor(tmp_path, "s/terminationPolicy: Delete/terminationPolicy: WipeOut/")
    result = server.kubectl(version, "edit", "cluster", "mycluster", "-n", namespace,
                            env={"EDITOR": editor, "KUBE_EDITOR": editor})
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "cluster.apps.kubeblocks.io/mycluster edited", result.stdout
    assert get_cluster(server, namespace)["spec"]["terminationPolicy"] == "WipeOut"


def test_edit_without_change_is_cancelled(server, version, namespace, tmp_path):
    before = server.create_cluster(namespace)
    editor = write_editor(tmp_path, "s/nothing-matches-this//")
    result = server.kubectl(version, "edit", "cluster", "mycluster", "-n", namespace,
                            env={"EDITOR": editor, "KUBE_EDITOR": editor})
    assert result.returncode == 0, result.stderr
    assert "Edit cancelled, no changes made." in result.stdout + result.stderr, result
    after = get_cluster(server, namespace)
    # The controllers write the status; the spec and generation show that the edit wrote nothing.
    assert after["spec"] == before["spec"], after
    assert after["metadata"]["generation"] == before["metadata"]["generation"], after


def test_patch_type_merge(server, version, namespace):
    server.create_cluster(namespace)
    result = server.kubectl(version, "patch", "cluster", "mycluster", "-n", namespace, "--type", "merge",
                            "-p", '{"spec":{"terminationPolicy":"DoNotTerminate"}}')
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "cluster.apps.kubeblocks.io/mycluster patched", result.stdout
    assert get_cluster(server, namespace)["spec"]["terminationPolicy"] == "DoNotTerminate"


def test_patch_type_json(server, version, namespace):
    server.create_cluster(namespace)
    patch = '[{"op":"replace","path":"/spec/componentSpecs/0/replicas","value":3}]'
    result = server.kubectl(version, "patch", "cluster", "mycluster", "-n", namespace, "--type", "json",
                            "-p", patch)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "cluster.apps.kubeblocks.io/mycluster patched", result.stdout
    assert get_cluster(server, namespace)["spec"]["componentSpecs"][0]["replicas"] == 3


def test_patch_json_test_failure_rejected(server, version, namespace):
    before = server.create_cluster(namespace)
    patch = ('[{"op":"test","path":"/spec/terminationPolicy","value":"Halt"},'
             '{"op":"replace","path":"/spec/terminationPolicy","value":"WipeOut"}]')
    result = server.kubectl(version, "patch", "cluster", "mycluster", "-n", namespace, "--type", "json",
                            "-p", patch)
    assert result.returncode == 1, result.stdout
    assert result.stderr.startswith("The request is invalid: "), result.stderr
    assert "/spec/terminationPolicy" in result.stderr, result.stderr
    after = get_cluster(server, namespace)
    assert after["spec"] == before["spec"], after
    assert after["metadata"]["generation"] == before["metadata"]["generation"], after


def test_patch_strategic_on_cluster_rejected(server, version, namespace):
    server.create_cluster(namespace)
    result = server.kubectl(version, "patch", "cluster", "mycluster", "-n", namespace,
                            "-p", '{"spec":{"terminationPolicy":"WipeOut"}}')
    assert result.returncode == 1, result.stdout
    expected = ("error: application/strategic-merge-patch+json is not supported by "
                "apps.kubeblocks.io/v1alpha1, Kind=Cluster")
    assert result.stderr.startswith(expected), result.stderr
    assert get_cluster(server, namespace)["spec"]["terminationPolicy"] == "Delete"


def test_patch_strategic_on_configmap_merges(server, version, namespace):
    server.create_configmap(namespace, "mycm", data={"a": "1", "b": "2"})
    result = server.kubectl(version, "patch", "configmap", "mycm", "-n", namespace,
                            "-p", '{"data":{"a":"10","b":null,"c":"3"}}')
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "configmap/mycm patched", result.stdout
    data = server.api("GET", configmap_path(namespace, "mycm")).body["data"]
    assert data == {"a": "10", "c": "3"}, data


def test_delete_cluster_then_get_not_found(server, version, namespace):
    server.create_cluster(namespace)
    result = server.kubectl(version, "delete", "cluster", "mycluster", "-n", namespace)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == 'cluster.apps.kubeblocks.io "mycluster" deleted', result.stdout
    after = server.kubectl(version, "get", "cluster", "mycluster", "-n", namespace)
    assert after.returncode == 1, after.stdout
    assert after.stderr.strip() == \
        'Error from server (NotFound): clusters.apps.kubeblocks.io "mycluster" not found', after.stderr


def test_delete_namespace_removes_contents(server, version):
    name = f"delete-ns-{version.replace('.', '')}"
    server.create_namespace(name)
    server.create_configmap(name, "inside")
    server.create_cluster(name)
    result = server.kubectl(version, "delete", "namespace", name)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == f'namespace "{name}" deleted', result.stdout
    configmap = server.api("GET", configmap_path(name, "inside"))
    assert configmap.status == 404, configmap
    cluster = server.api("GET", cluster_path(name, "mycluster"))
    assert cluster.status == 404, cluster
    namespace = server.api("GET", f"/api/v1/namespaces/{name}")
    assert namespace.status == 404, namespace
    assert namespace.body["reason"] == "NotFound", namespace


API_RESOURCE_ROWS = {
    # name: (shortnames, apiversion, namespaced, kind)
    "clusters": ("", "apps.kubeblocks.io/v1alpha1", "true", "Cluster"),
    "clusterdefinitions": ("cd", "apps.kubeblocks.io/v1alpha1", "false", "ClusterDefinition"),
    "clusterversions": ("cv", "apps.kubeblocks.io/v1alpha1", "false", "ClusterVersion"),
    "opsrequests": ("ops", "apps.kubeblocks.io/v1alpha1", "true", "OpsRequest"),
    "components": ("cmp", "apps.kubeblocks.io/v1alpha1", "true", "Component"),
    "instancesets": ("its", "workloads.kubeblocks.io/v1alpha1", "true", "InstanceSet"),
    "namespaces": ("ns", "v1", "false", "Namespace"),
    "configmaps": ("cm", "v1", "true", "ConfigMap"),
    "pods": ("po", "v1", "true", "Pod"),
    "rolebindings": ("", "rbac.authorization.k8s.io/v1", "true", "RoleBinding"),
}


def test_api_resources_lists_kubeblocks_kinds(server, version):
    result = server.kubectl(version, "api-resources")
    assert result.returncode == 0, result.stderr
    header, rows = parse_table(result.stdout)
    assert header == ["NAME", "SHORTNAMES", "APIVERSION", "NAMESPACED", "KIND"], result.stdout
    by_name = {row["NAME"]: row for row in rows}
    for name, (short_names, api_version, namespaced, kind) in API_RESOURCE_ROWS.items():
        assert name in by_name, f"{name} missing from:\n{result.stdout}"
        row = by_name[name]
        actual = (row["SHORTNAMES"], row["APIVERSION"], row["NAMESPACED"], row["KIND"])
        assert actual == (short_names, api_version, namespaced, kind), f"{name}: {actual}"


def test_api_resources_category_kubeblocks(server, version):
    result = server.kubectl(version, "api-resources", "--categories=kubeblocks")
    assert result.returncode == 0, result.stderr
    _, rows = parse_table(result.stdout)
    names = {row["NAME"] for row in rows}
    expected = {"clusters", "clusterdefinitions", "clusterversions", "opsrequests", "components",
                "instancesets"}
    assert expected <= names, result.stdout
    assert "configmaps" not in names, result.stdout
    assert "namespaces" not in names, result.stdout


def test_explain_cluster_spec(server, version):
    result = server.kubectl(version, "explain", "cluster.spec")
    assert result.returncode == 0, result.stderr
    for field in ("terminationPolicy", "componentSpecs", "clusterDefinitionRef"):
        assert field in result.stdout, f"{field} missing from:\n{result.stdout}"
    policy_lines = [line for line in result.stdout.splitlines() if line.strip().startswith("terminationPolicy")]
    assert policy_lines, result.stdout
    assert "-required-" in policy_lines[0], result.stdout


def test_explain_termination_policy_lists_enum(server, version):
    result = server.kubectl(version, "explain", "cluster.spec.terminationPolicy")
    assert result.returncode == 0, result.stderr
    for value in ("DoNotTerminate", "Halt", "Delete", "WipeOut"):
        assert value in result.stdout, f"{value} missing from:\n{result.stdout}"


# -- the literal commands in namespace demo ----------------------------------------------------

@pytest.fixture
def demo_namespace(server):
    """Namespace `demo` must not exist before or after the literal tutorial run."""
    if server.api("GET", "/api/v1/namespaces/demo").status == 200:
        server.delete_namespace("demo")
    yield "demo"
    if server.running():
        server.delete_namespace("demo")


def test_tutorial_literal_commands(server, version, demo_namespace):
    created = server.kubectl(version, "create", "namespace", "demo")
    assert created.returncode == 0, created.stderr
    assert created.stdout.strip() == "namespace/demo created", created.stdout

    applied = server.kubectl(version, "apply", "-f", "-", input=TUTORIAL_CLUSTER)
    assert applied.returncode == 0, applied.stderr
    assert applied.stdout.strip() == "cluster.apps.kubeblocks.io/mycluster created", applied.stdout

    listed = server.kubectl(version, "get", GET_ALL, "-l", "app.kubernetes.io/instance=mycluster", "-n", "demo")
    assert listed.returncode == 0, listed.stderr

    as_yaml = server.kubectl(version, "get", "cluster", "mycluster", "-n", "demo", "-o", "yaml")
    assert as_yaml.returncode == 0, as_yaml.stderr
    assert_tutorial_fields(yaml.safe_load(as_yaml.stdout), "demo")

    table = server.kubectl(version, "get", "cluster", "mycluster", "-n", "demo")
    assert table.returncode == 0, table.stderr
    assert table.stdout.splitlines()[0].split() == CLUSTER_HEADER, table.stdout

    deleted = server.kubectl(version, "delete", "namespace", "demo")
    assert deleted.returncode == 0, deleted.stderr
    assert deleted.stdout.strip() == 'namespace "demo" deleted', deleted.stdout
    gone = server.api("GET", "/api/v1/namespaces/demo")
    assert gone.status == 404, gone

