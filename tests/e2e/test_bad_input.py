"""Bad requests: each is rejected with the Kubernetes status code, reason and field, and
nothing is stored."""

import copy

import pytest
import yaml

from conftest import cluster_path, configmap_path, status_causes, tutorial_cluster, tutorial_cluster_yaml

KUBECTL = "1.33"
MERGE_PATCH = {"Content-Type": "application/merge-patch+json"}


def cluster_named(namespace, name):
    return tutorial_cluster(namespace, name)


def assert_status(response, code, reason):
    assert response.status == code, response
    assert isinstance(response.body, dict), response
    assert response.body.get("kind") == "Status", response.body
    assert response.body.get("code") == code, response.body
    assert response.body.get("reason") == reason, response.body


def assert_cluster_absent(server, namespace, name):
    response = server.api("GET", cluster_path(namespace, name))
    assert response.status == 404, f"a rejected cluster was stored: {response}"


def assert_invalid_field(response, field):
    assert_status(response, 422, "Invalid")
    fields = [cause_field for cause_field, _ in status_causes(response.body)]
    assert field in fields, response.body
    assert response.body["details"]["kind"] == "Cluster", response.body
    assert field in response.body["message"], response.body


# -- syntax --------------------------------------------------------------------------------------

def test_malformed_yaml_rejected_by_kubectl_apply(server, namespace):
    text = tutorial_cluster_yaml(namespace, "badyaml").replace("  terminationPolicy: Delete",
                                                              "  terminationPolicy: [Delete")
    result = server.kubectl(KUBECTL, "apply", "-f", "-", input=text)
    assert result.returncode == 1, result.stdout
    assert result.stderr.startswith("error: error parsing STDIN: error converting YAML to JSON: yaml:"), \
        result.stderr
    assert_cluster_absent(server, namespace, "badyaml")


def test_malformed_yaml_apply_patch_returns_400(server, namespace):
    text = tutorial_cluster_yaml(namespace, "badssa") + "spec: [unclosed\n"
    response = server.api("PATCH", cluster_path(namespace, "badssa") + "?fieldManager=test", text,
                          headers={"Content-Type": "application/apply-patch+yaml"})
    assert_status(response, 400, "BadRequest")
    assert_cluster_absent(server, namespace, "badssa")


def test_malformed_json_returns_400(server, namespace):
    response = server.api("POST", cluster_path(namespace), '{"apiVersion": "apps.kubeblocks.io/v1alpha1", ')
    assert_status(response, 400, "BadRequest")
    listed = server.api("GET", cluster_path(namespace))
    assert listed.body["items"] == [], listed


def test_json_array_body_returns_400(server, namespace):
    response = server.api("POST", cluster_path(namespace), [1, 2, 3])
    assert_status(response, 400, "BadRequest")
    listed = server.api("GET", cluster_path(namespace))
    assert listed.body["items"] == [], listed


def test_wrong_api_version_returns_400(server, namespace):
    body = cluster_named(namespace, "wrongversion")
    body["apiVersion"] = "apps.kubeblocks.io/v1"
    response = server.api("POST", cluster_path(namespace), body)
    assert_status(response, 400, "BadRequest")
    assert "apps.kubeblocks.io/v1" in response.body["message"], response.body
    assert_cluster_absent(server, namespace, "wrongversion")


def test_wrong_kind_returns_400(server, namespace):
    body = cluster_named(namespace, "wrongkind")
    body["kind"] = "OpsRequest"
    response = server.api("POST", cluster_path(namespace), body)
    assert_status(response, 400, "BadRequest")
    assert "OpsRequest" in response.body["message"], response.body
    assert_cluster_absent(server, namespace, "wrongkind")


def test_name_mismatch_on_put_returns_400(server, namespace):
    stored = server.create_cluster(namespace, "putname")
    body = copy.deepcopy(stored)
    body["metadata"]["name"] = "othername"
    response = server.api("PUT", cluster_path(namespace, "putname"), body)
    assert_status(response, 400, "BadRequest")
    assert_cluster_absent(server, namespace, "othername")


# -- schema ----------------------------------------------------------------------------------------

def test_unknown_field_strict_returns_400(server, namespace):
    body = cluster_named(namespace, "unknownfield")
    body["spec"]["foo"] = "bar"
    response = server.api("POST", cluster_path(namespace) + "?fieldValidation=Strict", body)
    assert_status(response, 400, "BadRequest")
    assert 'strict decoding error: unknown field "spec.foo"' in response.body["message"], response.body
    assert_cluster_absent(server, namespace, "unknownfield")


def test_unknown_field_strict_kubectl_error(server, namespace):
    body = cluster_named(namespace, "unknownkubectl")
    body["spec"]["foo"] = "bar"
    result = server.kubectl(KUBECTL, "apply", "-f", "-", input=yaml.safe_dump(body))
    assert result.returncode == 1, result.stdout
    assert result.stderr.startswith("Error from server (BadRequest):"), result.stderr
    assert 'strict decoding error: unknown field "spec.foo"' in result.stderr, result.stderr
    assert_cluster_absent(server, namespace, "unknownkubectl")


def test_unknown_field_ignore_is_dropped(server, namespace):
    body = cluster_named(namespace, "ignoredfield")
    body["spec"]["foo"] = "bar"
    response = server.api("POST", cluster_path(namespace) + "?fieldValidation=Ignore", body)
    assert response.status == 201, response
    assert "foo" not in response.body["spec"], response.body["spec"]


def test_negative_replicas_returns_422(server, namespace):
    body = cluster_named(namespace, "negreplicas")
    body["spec"]["componentSpecs"][0]["replicas"] = -1
    response = server.api("POST", cluster_path(namespace), body)
    assert_invalid_field(response, "spec.componentSpecs[0].replicas")
    assert_cluster_absent(server, namespace, "negreplicas")


def test_negative_replicas_kubectl_error(server, namespace):
    text = tutorial_cluster_yaml(namespace, "negkubectl").replace("replicas: 1", "replicas: -1")
    result = server.kubectl(KUBECTL, "apply", "-f", "-", input=text)
    assert result.returncode == 1, result.stdout
    assert result.stderr.startswith('The Cluster "negkubectl" is invalid: '), result.stderr
    assert "spec.componentSpecs[0].replicas: Invalid value: -1" in result.stderr, result.stderr
    assert_cluster_absent(server, namespace, "negkubectl")


def test_unsupported_termination_policy_returns_422(server, namespace):
    body = cluster_named(namespace, "badpolicy")
    body["spec"]["terminationPolicy"] = "Sometimes"
    response = server.api("POST", cluster_path(namespace), body)
    assert_invalid_field(response, "spec.terminationPolicy")
    causes = status_causes(response.body)
    assert ("spec.terminationPolicy", "FieldValueNotSupported") in causes, response.body
    assert 'Unsupported value: "Sometimes"' in response.body["message"], response.body
    assert_cluster_absent(server, namespace, "badpolicy")


def test_unsupported_termination_policy_kubectl_error(server, namespace):
    text = tutorial_cluster_yaml(namespace, "policykubectl").replace("terminationPolicy: Delete",
                                                                    "terminationPolicy: Sometimes")
    result = server.kubectl(KUBECTL, "apply", "-f", "-", input=text)
    assert result.returncode == 1, result.stdout
    expected = ('The Cluster "policykubectl" is invalid: spec.terminationPolicy: Unsupported value: '
                '"Sometimes": supported values: "DoNotTerminate", "Halt", "Delete", "WipeOut"')
    assert result.stderr.strip() == expected, result.stderr
    assert_cluster_absent(server, namespace, "policykubectl")


def test_missing_termination_policy_returns_422(server, namespace):
    body = cluster_named(namespace, "nopolicy")
    del body["spec"]["terminationPolicy"]
    response = server.api("POST", cluster_path(namespace), body)
    assert_invalid_field(response, "spec.terminationPolicy")
    assert ("spec.terminationPolicy", "FieldValueRequired") in status_causes(response.body), response.body
    assert_cluster_absent(server, namespace, "nopolicy")


def test_invalid_memory_quantity_returns_422(server, namespace):
    body = cluster_named(namespace, "badmemory")
    body["spec"]["componentSpecs"][0]["resources"]["limits"]["memory"] = "1Gx"
    response = server.api("POST", cluster_path(namespace), body)
    assert_invalid_field(response, "spec.componentSpecs[0].resources.limits.memory")
    assert "1Gx" in response.body["message"], response.body
    assert_cluster_absent(server, namespace, "badmemory")


def test_overlong_name_returns_422(server, namespace):
    name = "a" * 254
    body = cluster_named(namespace, name)
    response = server.api("POST", cluster_path(namespace), body)
    assert_status(response, 422, "Invalid")
    assert "metadata.name" in [field for field, _ in status_causes(response.body)], response.body
    listed = server.api("GET", cluster_path(namespace))
    assert listed.body["items"] == [], listed


def test_uppercase_name_returns_422(server, namespace):
    response = server.api("POST", configmap_path(namespace),
                          {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "Bad_Name"}})
    assert_status(response, 422, "Invalid")
    assert "metadata.name" in [field for field, _ in status_causes(response.body)], response.body
    after = server.api("GET", configmap_path(namespace, "Bad_Name"))
    assert after.status == 404, after


def test_update_invalid_change_keeps_object(server, namespace):
    stored = server.create_cluster(namespace, "keepme")
    response = server.api("PATCH", cluster_path(namespace, "keepme"),
                          {"spec": {"componentSpecs": [{"name": "xinference", "componentDefRef": "xinference",
                                                        "replicas": -5}]}}, headers=MERGE_PATCH)
    assert_invalid_field(response, "spec.componentSpecs[0].replicas")
    after = server.api("GET", cluster_path(namespace, "keepme")).body
    # The controllers write the status, so the spec and generation show that nothing changed.
    assert after["metadata"]["generation"] == stored["metadata"]["generation"], after
    assert after["spec"] == stored["spec"], after["spec"]


# -- size and shape ------------------------------------------------------------------------------

def test_body_over_limit_returns_413(server, namespace):
    body = {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "huge"},
            "data": {"blob": "x" * (4 * 1024 * 1024)}}
    response = server.api("POST", configmap_path(namespace), body)
    assert_status(response, 413, "RequestEntityTooLarge")
    after = server.api("GET", configmap_path(namespace, "huge"))
    assert after.status == 404, after


def configmap_names(server, namespace):
    listed = server.api("GET", configmap_path(namespace))
    assert listed.status == 200, listed
    return sorted(item["metadata"]["name"] for item in listed.body["items"])


def test_deeply_nested_json_returns_400(server, namespace):
    depth = 100000
    before = configmap_names(server, namespace)
    response = server.api("POST", configmap_path(namespace), "[" * depth + "]" * depth)
    assert_status(response, 400, "BadRequest")
    assert configmap_names(server, namespace) == before
    again = server.api("GET", "/api/v1/namespaces/default")
    assert again.status == 200, f"server stopped serving after nested JSON: {again}"


def test_deeply_nested_object_in_field_returns_400(server, namespace):
    depth = 100000
    nested = '{"a":' * depth + "1" + "}" * depth
    text = ('{"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"nested",'
            '"annotations":' + nested + "}}")
    response = server.api("POST", configmap_path(namespace), text)
    assert_status(response, 400, "BadRequest")
    after = server.api("GET", configmap_path(namespace, "nested"))
    assert after.status == 404, after


# -- concurrency and auth ------------------------------------------------------------------------

def test_stale_resource_version_put_returns_409(server, namespace):
    stored = server.create_cluster(namespace, "stale")
    patched = server.api("PATCH", cluster_path(namespace, "stale"), {"spec": {"terminationPolicy": "WipeOut"}},
                         headers=MERGE_PATCH)
    assert patched.status == 200, patched
    stale = copy.deepcopy(stored)
    stale["spec"]["terminationPolicy"] = "Halt"
    response = server.api("PUT", cluster_path(namespace, "stale"), stale)
    assert_status(response, 409, "Conflict")
    assert "the object has been modified" in response.body["message"], response.body
    after = server.api("GET", cluster_path(namespace, "stale")).body
    assert after["spec"] == patched.body["spec"], after["spec"]
    assert after["metadata"]["generation"] == patched.body["metadata"]["generation"], after


def test_missing_namespace_create_returns_404(server):
    body = cluster_named("nonexistent-ns", "orphan")
    response = server.api("POST", cluster_path("nonexistent-ns"), body)
    assert_status(response, 404, "NotFound")
    assert response.body["message"] == 'namespaces "nonexistent-ns" not found', response.body


@pytest.mark.parametrize("token", [None, "wrong-token"], ids=["no-token", "wrong-token"])
def test_bad_token_returns_401(server, namespace, token):
    response = server.api("GET", cluster_path(namespace), token=token)
    assert_status(response, 401, "Unauthorized")
    write = server.api("POST", configmap_path(namespace),
                       {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "noauth"}}, token=token)
    assert_status(write, 401, "Unauthorized")
    after = server.api("GET", configmap_path(namespace, "noauth"))
    assert after.status == 404, after


def test_wrong_token_kubectl_error(server):
    result = server.kubectl(KUBECTL, "--token", "wrong-token", "get", "namespaces")
    assert result.returncode == 1, result.stdout
    assert "error: You must be logged in to the server (Unauthorized)" in result.stderr, result.stderr
