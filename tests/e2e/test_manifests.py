"""`xblocks manifests` and the kustomize bases in deploy/ and addons/xinference/: what they
contain, that the CRDs agree with what the embedded server serves, and that the checked-in
files are what the binary prints."""

import os
import subprocess

import pytest
import yaml

from conftest import KUBECTL_DIR, XBLOCKS_BIN, Server

REPO = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
KUBECTL = os.path.join(KUBECTL_DIR, "kubectl.1.33")

CRD_KINDS = {"Cluster", "ClusterDefinition", "ClusterVersion", "Component", "OpsRequest", "InstanceSet", "Model"}
OPERATOR_OBJECTS = {
    ("Namespace", "xblocks-system"), ("ServiceAccount", "xblocks-operator"), ("ClusterRole", "xblocks-operator"),
    ("ClusterRoleBinding", "xblocks-operator"), ("Role", "xblocks-operator-leader-election"),
    ("RoleBinding", "xblocks-operator-leader-election"), ("ClusterRole", "kubeblocks-cluster-pod-role"),
    ("Deployment", "xblocks-operator"), ("ValidatingAdmissionPolicy", "xblocks-do-not-terminate"),
    ("ValidatingAdmissionPolicyBinding", "xblocks-do-not-terminate")}
ADDON_OBJECTS = {("ClusterDefinition", "xinference"), ("ClusterVersion", "xinference-0.11.0"),
                 ("ClusterVersion", "xinference-0.11.0-cpu")}


def manifests(*args):
    result = subprocess.run([XBLOCKS_BIN, "manifests", *args], capture_output=True, text=True, timeout=30)
    assert result.returncode == 0, result.stderr
    return [doc for doc in yaml.safe_load_all(result.stdout) if doc]


def kustomize(directory):
    result = subprocess.run([KUBECTL, "kustomize", os.path.join(REPO, directory)], capture_output=True,
                            text=True, timeout=60)
    assert result.returncode == 0, result.stderr
    return [doc for doc in yaml.safe_load_all(result.stdout) if doc]


def keys(objects):
    return {(obj["kind"], obj["metadata"]["name"]) for obj in objects}


def by_key(objects):
    return {(obj["kind"], obj["metadata"]["name"]): obj for obj in objects}


def test_manifests_hold_crds_operator_and_addon_in_order():
    objects = manifests("--addons=true")
    kinds = [obj["kind"] for obj in objects]
    crd_kinds = {obj["spec"]["names"]["kind"] for obj in objects if obj["kind"] == "CustomResourceDefinition"}
    last_crd = max(i for i, kind in enumerate(kinds) if kind == "CustomResourceDefinition")
    first_other = min(i for i, kind in enumerate(kinds) if kind != "CustomResourceDefinition")

    assert crd_kinds == CRD_KINDS
    assert last_crd < first_other
    assert OPERATOR_OBJECTS <= keys(objects)
    assert ADDON_OBJECTS <= keys(objects)
    assert kinds.index("Namespace") < kinds.index("ServiceAccount")


def test_flags_select_parts():
    assert keys(manifests("--crds=false")) == OPERATOR_OBJECTS
    assert keys(manifests("--crds=false", "--operator=false", "--addons=true")) == ADDON_OBJECTS
    assert keys(manifests("--addons-only")) == ADDON_OBJECTS
    # The default stream applies in one go, so it contains no object of a kind its own CRDs define.
    assert not ADDON_OBJECTS & keys(manifests())
    crds_only = manifests("--operator=false", "--addons=false")
    assert {obj["kind"] for obj in crds_only} == {"CustomResourceDefinition"}


def test_namespace_image_and_replicas_flags():
    objects = by_key(manifests("--crds=false", "--addons=false", "--namespace", "kb-ops", "--image",
                               "registry.example/xblocks:dev", "--replicas", "2"))
    deployment = objects[("Deployment", "xblocks-operator")]
    container = deployment["spec"]["template"]["spec"]["containers"][0]

    assert ("Namespace", "kb-ops") in objects
    assert deployment["metadata"]["namespace"] == "kb-ops"
    assert deployment["spec"]["replicas"] == 2
    assert container["image"] == "registry.example/xblocks:dev"
    assert container["args"] == ["operator", "--leader-elect=true", "--lease-namespace", "kb-ops"]
    assert objects[("ClusterRoleBinding", "xblocks-operator")]["subjects"][0]["namespace"] == "kb-ops"


def test_bad_flag_is_rejected():
    result = subprocess.run([XBLOCKS_BIN, "manifests", "--replicas", "0"], capture_output=True, text=True,
                            timeout=30)
    assert result.returncode != 0
    assert "--replicas" in result.stderr


def test_admission_policy_guards_do_not_terminate():
    objects = by_key(manifests("--crds=false", "--addons=false"))
    policy = objects[("ValidatingAdmissionPolicy", "xblocks-do-not-terminate")]["spec"]
    binding = objects[("ValidatingAdmissionPolicyBinding", "xblocks-do-not-terminate")]["spec"]
    rule = policy["matchConstraints"]["resourceRules"][0]

    assert rule["operations"] == ["DELETE"]
    assert rule["resources"] == ["clusters"]
    assert "DoNotTerminate" in policy["validations"][0]["expression"]
    assert binding == {"policyName": "xblocks-do-not-terminate", "validationActions": ["Deny"]}


def test_operator_may_bind_only_the_pod_role():
    objects = by_key(manifests("--crds=false", "--addons=false"))
    rules = objects[("ClusterRole", "xblocks-operator")]["rules"]
    bind_rules = [rule for rule in rules if "bind" in rule["verbs"]]

    assert bind_rules == [{"apiGroups": ["rbac.authorization.k8s.io"], "resources": ["clusterroles"],
                           "resourceNames": ["kubeblocks-cluster-pod-role"], "verbs": ["bind"]}]
    assert not any("*" in rule["verbs"] or "*" in rule["resources"] for rule in rules)


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    instance = Server(tmp_path_factory.mktemp("xblocks-manifests"), args=["--runtime", "none"])
    try:
        instance.start()
        yield instance
    finally:
        instance.close()


def test_crds_agree_with_embedded_discovery(server):
    crds = [obj for obj in manifests("--operator=false", "--addons=false")]
    for crd in crds:
        names = crd["spec"]["names"]
        version = crd["spec"]["versions"][0]
        listed = server.api("GET", f"/apis/{crd['spec']['group']}/{version['name']}").body
        served = next(r for r in listed["resources"] if r["name"] == names["plural"])
        openapi_columns = [c["name"] for c in version.get("additionalPrinterColumns", [])]
        table = server.api("GET", f"/apis/{crd['spec']['group']}/{version['name']}/{names['plural']}",
                           headers={"Accept": "application/json;as=Table;v=v1;g=meta.k8s.io"}).body

        assert served["kind"] == names["kind"], names
        assert served["namespaced"] == (crd["spec"]["scope"] == "Namespaced"), names
        assert sorted(served.get("shortNames", [])) == sorted(names.get("shortNames", [])), names
        assert sorted(served.get("categories", [])) == sorted(names.get("categories", [])), names
        assert [c["name"] for c in table["columnDefinitions"]] == ["Name"] + openapi_columns, names


def test_deploy_operator_yaml_is_current():
    with open(os.path.join(REPO, "deploy", "operator.yaml")) as f:
        checked_in = [doc for doc in yaml.safe_load_all(f) if doc]

    assert checked_in == manifests("--crds=false", "--addons=false"), \
        "deploy/operator.yaml is stale: run `xblocks manifests --crds=false > deploy/operator.yaml`"


def test_kustomize_bases_render_the_manifests():
    assert by_key(kustomize("deploy")) == by_key(manifests())
    assert by_key(kustomize("addons/xinference")) == by_key(manifests("--addons-only"))
