// Builds the objects a KubeBlocks 0.9 component owns, with KubeBlocks' names, labels and owner
// references: the InstanceSet, its pods and their PVCs, the component's ClusterIP and headless
// Services, its two environment ConfigMaps, its ServiceAccount and RoleBinding, and the cluster's
// connection Secret. All functions are pure; the controllers create or update the results.
//
// NOTE: KubeBlocks also puts its component and InstanceSet finalizers on the Services and
// ConfigMaps. Here only the InstanceSet and the connection Secret carry finalizers, whose
// controllers release them; the rest go with their owners through garbage collection.
#pragma once

#include <string>

#include "common/json.h"
#include "controllers/pod_template.h"

namespace xblocks::controllers {

// A controller owner reference to `owner` (apiVersion, kind, name, uid, controller: true,
// blockOwnerDeletion: true).
Json ControllerReference(const Json& owner);

// The hash that names a pod template revision: 10 lower-case hex digits of a 64-bit FNV-1a over
// the template's canonical JSON. Any change to the template, resources included, gives a new
// revision, so pods are recreated.
std::string TemplateHash(const Json& pod_template);

// The component's InstanceSet, owned by `component`. `replicas` is 0 while the component is
// stopped. The component's volumeClaimTemplates ({name, labels, annotations, spec}) become the
// InstanceSet's spec.volumeClaimTemplates in PersistentVolumeClaim form ({metadata, spec}).
Json BuildInstanceSet(const ComponentSource& source, const Json& component, const Json& pod_template, int replicas);

// Pod `ordinal` of `instance_set`, owned by it, from its current template. Each volume claim
// template adds a pod volume of the template's name that mounts the pod's PVC.
Json BuildPod(const Json& instance_set, int ordinal);

// The PVC `<template name>-<pod>` of pod `ordinal` from one entry of the InstanceSet's
// spec.volumeClaimTemplates, owned by `instance_set`. It carries the pod template's labels, the
// template's own labels and annotations, and apps.kubeblocks.io/vct-name.
Json BuildPersistentVolumeClaim(const Json& instance_set, const Json& claim_template, int ordinal);

// The entries of the InstanceSet's spec.volumeClaimTemplates that name a volume; an empty array
// when it has none or the field is malformed.
Json VolumeClaimTemplates(const Json& instance_set);

// The component's ClusterIP Service with the ClusterDefinition's ports, owned by `component`.
// Null when the componentDef declares no service.
Json BuildService(const ComponentSource& source, const Json& component);

// The headless Service with one port per container port, owned by `instance_set`.
Json BuildHeadlessService(const ComponentSource& source, const Json& instance_set, const Json& pod_template);

// `<cluster>-<component>-env`: plain values about the cluster and component, owned by `component`.
Json BuildEnvConfigMap(const ComponentSource& source, const Json& component, int replicas);

// `<cluster>-<component>-rsm-env`: the pods' host names, owned by `instance_set`.
Json BuildInstanceSetEnvConfigMap(const ComponentSource& source, const Json& instance_set, int replicas);

// The ServiceAccount named by the component's serviceAccountName, and its RoleBinding to the
// ClusterRole kubeblocks-cluster-pod-role, both owned by `component`.
Json BuildServiceAccount(const ComponentSource& source, const Json& component);
Json BuildRoleBinding(const ComponentSource& source, const Json& component);

// `<cluster>-conn-credential` from the ClusterDefinition's connectionCredential, owned by the
// cluster. Values are base64 encoded; $(RANDOM_PASSWD) becomes `random_password`.
Json BuildConnectionSecret(const Json& cluster, const Json& cluster_definition, const std::string& random_password);

}  // namespace xblocks::controllers
