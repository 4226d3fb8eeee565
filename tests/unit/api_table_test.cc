#include "api/table.h"

#include <gtest/gtest.h>

#include "common/time.h"

namespace xblocks::api {
namespace {

using std::chrono::hours;
using std::chrono::minutes;
using std::chrono::seconds;

// Every test measures ages from this instant: 2024-05-01T12:00:00Z.
const TimePoint kNow = *ParseRfc3339("2024-05-01T12:00:00Z");

TableOptions Options() {
  TableOptions options;
  options.now = kNow;
  return options;
}

std::string Ago(std::chrono::seconds elapsed) { return FormatRfc3339(kNow - elapsed); }

ResourceType CrdType(std::string kind, std::vector<PrinterColumn> columns) {
  ResourceType type;
  type.group = "apps.kubeblocks.io";
  type.version = "v1alpha1";
  type.kind = std::move(kind);
  type.builtin = false;
  type.columns = std::move(columns);
  return type;
}

ResourceType ClusterType() {
  return CrdType("Cluster", {{"CLUSTER-DEFINITION", "string", "", "ClusterDefinition referenced by cluster.", ".spec.clusterDefinitionRef", 0},
                             {"VERSION", "string", "", "Cluster Application Version.", ".spec.clusterVersionRef", 0},
                             {"TERMINATION-POLICY", "string", "", "Cluster termination policy.", ".spec.terminationPolicy", 0},
                             {"STATUS", "string", "", "Cluster Status.", ".status.phase", 0},
                             {"AGE", "date", "", "", ".metadata.creationTimestamp", 0}});
}

ResourceType OpsRequestType() {
  return CrdType("OpsRequest", {{"TYPE", "string", "", "Operation request type.", ".spec.type", 0},
                                {"CLUSTER", "string", "", "Operand cluster.", ".spec.clusterName", 0},
                                {"STATUS", "string", "", "Operation status phase.", ".status.phase", 0},
                                {"PROGRESS", "string", "", "Operation processing progress.", ".status.progress", 0},
                                {"AGE", "date", "", "", ".metadata.creationTimestamp", 0}});
}

ResourceType BuiltinType(std::string kind) {
  ResourceType type;
  type.version = "v1";
  type.kind = std::move(kind);
  return type;
}

Json OnlyRow(const Json& table) {
  EXPECT_EQ(table["rows"].size(), 1u);
  return table["rows"].empty() ? Json() : table["rows"][0];
}

Json Cells(const ResourceType& type, const Json& object) {
  return OnlyRow(ToTable(type, {object}, Options()))["cells"];
}

std::vector<std::string> ColumnNames(const Json& table) {
  std::vector<std::string> names;
  for (const Json& column : table["columnDefinitions"]) names.push_back(column["name"].get<std::string>());
  return names;
}

TEST(Table, ClusterRow) {
  Json cluster = {{"metadata", {{"name", "mycluster"}, {"namespace", "demo"}, {"creationTimestamp", Ago(seconds(6))}}},
                  {"spec", {{"clusterDefinitionRef", "xinference"}, {"clusterVersionRef", "xinference-0.11.0"},
                            {"terminationPolicy", "WipeOut"}}},
                  {"status", {{"phase", "Running"}}}};
  Json table = ToTable(ClusterType(), {cluster}, Options());
  EXPECT_EQ(table["kind"], "Table");
  EXPECT_EQ(table["apiVersion"], "meta.k8s.io/v1");
  EXPECT_EQ(ColumnNames(table), (std::vector<std::string>{"Name", "CLUSTER-DEFINITION", "VERSION",
                                                          "TERMINATION-POLICY", "STATUS", "AGE"}));
  EXPECT_EQ(OnlyRow(table)["cells"], Json::array({"mycluster", "xinference", "xinference-0.11.0", "WipeOut", "Running", "6s"}));
}

TEST(Table, CrdColumnDefinitions) {
  Json table = ToTable(ClusterType(), {}, Options());
  const Json& name = table["columnDefinitions"][0];
  EXPECT_EQ(name["format"], "name");
  EXPECT_EQ(name["type"], "string");
  EXPECT_EQ(name["priority"], 0);
  EXPECT_EQ(name["description"].get<std::string>().rfind("Name must be unique within a namespace.", 0), 0u);
  EXPECT_EQ(table["columnDefinitions"][1]["description"], "ClusterDefinition referenced by cluster.");
  EXPECT_EQ(table["columnDefinitions"][5]["type"], "date");
  EXPECT_EQ(table["columnDefinitions"][5]["description"],
            "Custom resource definition column (in JSONPath format): .metadata.creationTimestamp");
  EXPECT_TRUE(table["rows"].is_array());
  EXPECT_TRUE(table["rows"].empty());
}

TEST(Table, OpsRequestRow) {
  Json ops = {{"metadata", {{"name", "ops-restart"}, {"namespace", "demo"}, {"creationTimestamp", Ago(minutes(5) + seconds(3))}}},
              {"spec", {{"type", "Restart"}, {"clusterName", "mycluster"}}},
              {"status", {{"phase", "Running"}, {"progress", "1/2"}}}};
  EXPECT_EQ(Cells(OpsRequestType(), ops), Json::array({"ops-restart", "Restart", "mycluster", "Running", "1/2", "5m3s"}));
}

TEST(Table, MissingPathGivesNullCell) {
  Json ops = {{"metadata", {{"name", "ops-new"}, {"creationTimestamp", Ago(hours(30))}}},
              {"spec", {{"type", "Stop"}, {"clusterName", "mycluster"}}}};
  EXPECT_EQ(Cells(OpsRequestType(), ops), Json::array({"ops-new", "Stop", "mycluster", nullptr, nullptr, "30h"}));
}

TEST(Table, CrdCellsByColumnType) {
  ResourceType type = CrdType("Widget", {{"INT", "integer", "", "", ".spec.count", 0},
                                         {"FLOAT-AS-INT", "integer", "", "", ".spec.ratio", 0},
                                         {"NUM", "number", "", "", ".spec.count", 0},
                                         {"BOOL", "boolean", "", "", ".spec.enabled", 0},
                                         {"BOOL-WRONG", "boolean", "", "", ".spec.count", 0},
                                         {"STR-OF-INT", "string", "", "", ".spec.count", 0},
                                         {"STR-OF-OBJ", "string", "", "", ".spec.nested", 0},
                                         {"BAD-DATE", "date", "", "", ".spec.when", 0},
                                         {"ZERO-DATE", "date", "", "", ".spec.zero", 0},
                                         {"LEADER", "string", "", "", ".status.members[?(@.role.isLeader==true)].podName", 0},
                                         {"BROKEN-PATH", "string", "", "", ".spec[", 0}});
  Json widget = {{"metadata", {{"name", "w"}}},
                 {"spec", {{"count", 3}, {"ratio", 2.7}, {"enabled", true}, {"nested", {{"a", 1}}},
                           {"when", "yesterday"}, {"zero", "0001-01-01T00:00:00Z"}}},
                 {"status", {{"members", {{{"podName", "w-0"}, {"role", {{"isLeader", false}}}},
                                          {{"podName", "w-1"}, {"role", {{"isLeader", true}}}}}}}}};
  Json cells = Cells(type, widget);
  EXPECT_EQ(cells[1], 3);
  EXPECT_EQ(cells[2], 2);
  EXPECT_TRUE(cells[3].is_number_float());
  EXPECT_DOUBLE_EQ(cells[3].get<double>(), 3.0);
  EXPECT_EQ(cells[4], true);
  EXPECT_TRUE(cells[5].is_null());
  EXPECT_EQ(cells[6], "3");
  EXPECT_EQ(cells[7], "{\"a\":1}");
  EXPECT_EQ(cells[8], "<invalid>");
  EXPECT_EQ(cells[9], "<unknown>");
  EXPECT_EQ(cells[10], "w-1");
  EXPECT_TRUE(cells[11].is_null());
}

TEST(Table, CrdWithoutColumnsGetsNameAndAge) {
  ResourceType type = CrdType("Plain", {});
  Json object = {{"metadata", {{"name", "p"}, {"creationTimestamp", Ago(hours(50))}}}};
  Json table = ToTable(type, {object}, Options());
  EXPECT_EQ(ColumnNames(table), (std::vector<std::string>{"Name", "Age"}));
  EXPECT_EQ(table["columnDefinitions"][1]["type"], "date");
  EXPECT_EQ(OnlyRow(table)["cells"], Json::array({"p", "2d2h"}));
}

TEST(Table, IncludeObjectMetadataByDefault) {
  Json cluster = {{"apiVersion", "apps.kubeblocks.io/v1alpha1"}, {"kind", "Cluster"},
                  {"metadata", {{"name", "c"}, {"namespace", "demo"}, {"labels", {{"a", "b"}}}, {"resourceVersion", "7"}}},
                  {"spec", {{"terminationPolicy", "Delete"}}}};
  Json row = OnlyRow(ToTable(ClusterType(), {cluster}, Options()));
  EXPECT_EQ(row["object"]["kind"], "PartialObjectMetadata");
  EXPECT_EQ(row["object"]["apiVersion"], "meta.k8s.io/v1");
  EXPECT_EQ(row["object"]["metadata"], cluster["metadata"]);
  EXPECT_FALSE(row["object"].contains("spec"));
}

TEST(Table, IncludeObjectNoneAndObject) {
  Json cluster = {{"kind", "Cluster"}, {"metadata", {{"name", "c"}}}, {"spec", {{"terminationPolicy", "Delete"}}}};
  TableOptions none = Options();
  none.include_object = "None";
  EXPECT_FALSE(OnlyRow(ToTable(ClusterType(), {cluster}, none)).contains("object"));

  TableOptions full = Options();
  full.include_object = "Object";
  EXPECT_EQ(OnlyRow(ToTable(ClusterType(), {cluster}, full))["object"], cluster);

  TableOptions beta = Options();
  beta.api_version = "meta.k8s.io/v1beta1";
  Json table = ToTable(ClusterType(), {cluster}, beta);
  EXPECT_EQ(table["apiVersion"], "meta.k8s.io/v1beta1");
  EXPECT_EQ(OnlyRow(table)["object"]["apiVersion"], "meta.k8s.io/v1beta1");
}

TEST(Table, ValidateIncludeObject) {
  for (const char* ok : {"", "None", "Metadata", "Object"}) EXPECT_TRUE(ValidateIncludeObject(ok).ok()) << ok;
  Status bad = ValidateIncludeObject("Everything");
  EXPECT_EQ(bad.code(), StatusCode::kBadRequest);
  EXPECT_NE(bad.message().find("\"Everything\""), std::string::npos);
}

TEST(Table, MetadataAndColumnDefinitionOptions) {
  TableOptions options = Options();
  options.resource_version = "1019";
  options.continue_token = "abc";
  options.column_definitions = false;
  Json table = ToTable(ClusterType(), {}, options);
  EXPECT_EQ(table["metadata"], Json({{"resourceVersion", "1019"}, {"continue", "abc"}}));
  EXPECT_TRUE(table["columnDefinitions"].empty());
  EXPECT_EQ(ToTable(ClusterType(), {}, Options())["metadata"], Json::object());
}

TEST(Table, RowsKeepOrder) {
  Json a = {{"metadata", {{"name", "a"}}}};
  Json b = {{"metadata", {{"name", "b"}}}};
  Json table = ToTable(ClusterType(), {b, a}, Options());
  ASSERT_EQ(table["rows"].size(), 2u);
  EXPECT_EQ(table["rows"][0]["cells"][0], "b");
  EXPECT_EQ(table["rows"][1]["cells"][0], "a");
}

Json RunningContainer(std::string name, int restarts, std::string finished_at) {
  Json status = {{"name", name}, {"ready", true}, {"restartCount", restarts},
                 {"state", {{"running", {{"startedAt", Ago(minutes(1))}}}}}};
  if (!finished_at.empty()) status["lastState"] = {{"terminated", {{"exitCode", 1}, {"finishedAt", finished_at}}}};
  return status;
}

TEST(Table, PodWithRestarts) {
  Json pod = {{"metadata", {{"name", "mycluster-xinference-0"}, {"creationTimestamp", Ago(hours(2))}}},
              {"spec", {{"nodeName", "node-1"}, {"containers", {{{"name", "a"}}, {{"name", "b"}}}}}},
              {"status", {{"phase", "Running"}, {"podIP", "127.0.1.5"},
                          {"containerStatuses", {RunningContainer("a", 1, Ago(minutes(5))),
                                                 {{"name", "b"}, {"ready", false}, {"restartCount", 0},
                                                  {"state", {{"running", Json::object()}}}}}}}}};
  Json table = ToTable(BuiltinType("Pod"), {pod}, Options());
  EXPECT_EQ(ColumnNames(table), (std::vector<std::string>{"Name", "Ready", "Status", "Restarts", "Age", "IP",
                                                          "Node", "Nominated Node", "Readiness Gates"}));
  EXPECT_EQ(table["columnDefinitions"][4]["type"], "string");
  EXPECT_EQ(table["columnDefinitions"][5]["priority"], 1);
  EXPECT_EQ(OnlyRow(table)["cells"], Json::array({"mycluster-xinference-0", "1/2", "Running", "1 (5m ago)", "120m",
                                                  "127.0.1.5", "node-1", "<none>", "<none>"}));
}

TEST(Table, PodStatusReasons) {
  Json waiting = {{"metadata", {{"name", "p"}}},
                  {"spec", {{"containers", {{{"name", "a"}}}}}},
                  {"status", {{"phase", "Pending"},
                              {"containerStatuses", {{{"name", "a"}, {"restartCount", 3},
                                                      {"state", {{"waiting", {{"reason", "CrashLoopBackOff"}}}}}}}}}}};
  Json cells = Cells(BuiltinType("Pod"), waiting);
  EXPECT_EQ(cells[1], "0/1");
  EXPECT_EQ(cells[2], "CrashLoopBackOff");
  EXPECT_EQ(cells[3], "3");  // no lastState, so no "ago"
  EXPECT_EQ(cells[4], "<unknown>");

  Json terminated = waiting;
  terminated["status"]["containerStatuses"][0]["state"] = {{"terminated", {{"exitCode", 137}}}};
  EXPECT_EQ(Cells(BuiltinType("Pod"), terminated)[2], "ExitCode:137");
  terminated["status"]["containerStatuses"][0]["state"] = {{"terminated", {{"exitCode", 0}, {"signal", 9}}}};
  EXPECT_EQ(Cells(BuiltinType("Pod"), terminated)[2], "Signal:9");

  Json deleting = waiting;
  deleting["status"]["containerStatuses"] = Json::array();
  deleting["status"]["phase"] = "Running";
  deleting["metadata"]["deletionTimestamp"] = Ago(seconds(1));
  EXPECT_EQ(Cells(BuiltinType("Pod"), deleting)[2], "Terminating");

  Json succeeded = deleting;
  succeeded["status"]["phase"] = "Succeeded";
  EXPECT_EQ(Cells(BuiltinType("Pod"), succeeded)[2], "Succeeded");
}

TEST(Table, PodInitContainers) {
  Json pod = {{"metadata", {{"name", "p"}}},
              {"spec", {{"initContainers", {{{"name", "init"}}, {{"name", "init2"}}}}, {"containers", {{{"name", "a"}}}}}},
              {"status", {{"phase", "Pending"},
                          {"initContainerStatuses", {{{"name", "init"}, {"state", {{"terminated", {{"exitCode", 0}}}}}},
                                                     {{"name", "init2"}, {"state", {{"running", Json::object()}}}}}}}}};
  EXPECT_EQ(Cells(BuiltinType("Pod"), pod)[2], "Init:1/2");
  pod["status"]["initContainerStatuses"][1]["state"] = {{"waiting", {{"reason", "ImagePullBackOff"}}}};
  EXPECT_EQ(Cells(BuiltinType("Pod"), pod)[2], "Init:ImagePullBackOff");
  pod["status"]["initContainerStatuses"][1]["state"] = {{"terminated", {{"exitCode", 2}}}};
  EXPECT_EQ(Cells(BuiltinType("Pod"), pod)[2], "Init:ExitCode:2");
}

TEST(Table, PodSidecarCountsAsContainer) {
  Json pod = {{"metadata", {{"name", "p"}}},
              {"spec", {{"initContainers", {{{"name", "proxy"}, {"restartPolicy", "Always"}}}},
                        {"containers", {{{"name", "a"}}}}}},
              {"status", {{"phase", "Running"},
                          {"conditions", {{{"type", "Initialized"}, {"status", "True"}}}},
                          {"initContainerStatuses", {{{"name", "proxy"}, {"started", true}, {"ready", true},
                                                      {"state", {{"running", Json::object()}}}}}},
                          {"containerStatuses", {RunningContainer("a", 0, "")}}}}};
  Json cells = Cells(BuiltinType("Pod"), pod);
  EXPECT_EQ(cells[1], "2/2");
  EXPECT_EQ(cells[2], "Running");
}

TEST(Table, ServiceRow) {
  Json service = {{"metadata", {{"name", "mycluster-xinference"}, {"creationTimestamp", Ago(minutes(12))}}},
                  {"spec", {{"type", "ClusterIP"}, {"clusterIP", "10.96.0.12"}, {"clusterIPs", {"10.96.0.12"}},
                            {"ports", {{{"port", 9997}, {"protocol", "TCP"}}, {{"port", 8080}}}},
                            {"selector", {{"app.kubernetes.io/instance", "mycluster"}, {"a", "b"}}}}}};
  Json table = ToTable(BuiltinType("Service"), {service}, Options());
  EXPECT_EQ(ColumnNames(table), (std::vector<std::string>{"Name", "Type", "Cluster-IP", "External-IP", "Port(s)", "Age", "Selector"}));
  EXPECT_EQ(OnlyRow(table)["cells"], Json::array({"mycluster-xinference", "ClusterIP", "10.96.0.12", "<none>",
                                                  "9997/TCP,8080/TCP", "12m", "a=b,app.kubernetes.io/instance=mycluster"}));
}

TEST(Table, ServiceVariants) {
  Json headless = {{"metadata", {{"name", "h"}}}, {"spec", {{"clusterIP", "None"}}}};
  Json cells = Cells(BuiltinType("Service"), headless);
  EXPECT_EQ(cells[1], "ClusterIP");
  EXPECT_EQ(cells[2], "None");
  EXPECT_EQ(cells[4], "<none>");
  EXPECT_EQ(cells[6], "<none>");

  Json node_port = {{"metadata", {{"name", "n"}}},
                    {"spec", {{"type", "NodePort"}, {"ports", {{{"port", 80}, {"nodePort", 30080}, {"protocol", "UDP"}}}}}}};
  EXPECT_EQ(Cells(BuiltinType("Service"), node_port)[4], "80:30080/UDP");

  Json balancer = {{"metadata", {{"name", "lb"}}}, {"spec", {{"type", "LoadBalancer"}}}};
  EXPECT_EQ(Cells(BuiltinType("Service"), balancer)[3], "<pending>");
  balancer["status"]["loadBalancer"]["ingress"] = {{{"ip", "1.2.3.4"}}};
  EXPECT_EQ(Cells(BuiltinType("Service"), balancer)[3], "1.2.3.4");

  Json external = {{"metadata", {{"name", "e"}}}, {"spec", {{"type", "ExternalName"}, {"externalName", "db.example.com"}}}};
  EXPECT_EQ(Cells(BuiltinType("Service"), external)[3], "db.example.com");
}

TEST(Table, EndpointsRow) {
  Json endpoints = {{"metadata", {{"name", "svc"}}},
                    {"subsets", {{{"addresses", {{{"ip", "127.0.1.1"}}, {{"ip", "127.0.1.2"}}}},
                                  {"ports", {{{"port", 9997}}, {{"port", 80}}}}}}}};
  EXPECT_EQ(Cells(BuiltinType("Endpoints"), endpoints)[1], "127.0.1.1:9997,127.0.1.2:9997,127.0.1.1:80 + 1 more...");
  Json empty = {{"metadata", {{"name", "svc"}}}};
  EXPECT_EQ(Cells(BuiltinType("Endpoints"), empty)[1], "<none>");
  Json ipv6 = {{"metadata", {{"name", "svc"}}}, {"subsets", {{{"addresses", {{{"ip", "::1"}}}}, {"ports", {{{"port", 1}}}}}}}};
  EXPECT_EQ(Cells(BuiltinType("Endpoints"), ipv6)[1], "[::1]:1");
}

TEST(Table, SecretConfigMapServiceAccountRows) {
  Json secret = {{"metadata", {{"name", "mycluster-conn-credential"}, {"creationTimestamp", Ago(seconds(90))}}},
                 {"type", "Opaque"}, {"data", {{"username", "cm9vdA=="}, {"password", "eA=="}}}};
  Json table = ToTable(BuiltinType("Secret"), {secret}, Options());
  EXPECT_EQ(ColumnNames(table), (std::vector<std::string>{"Name", "Type", "Data", "Age"}));
  EXPECT_EQ(OnlyRow(table)["cells"], Json::array({"mycluster-conn-credential", "Opaque", 2, "90s"}));

  Json config = {{"metadata", {{"name", "cfg"}}}, {"data", {{"a", "1"}}}, {"binaryData", {{"b", "AA=="}}}};
  EXPECT_EQ(Cells(BuiltinType("ConfigMap"), config), Json::array({"cfg", 2, "<unknown>"}));

  Json account = {{"metadata", {{"name", "sa"}}}};
  EXPECT_EQ(Cells(BuiltinType("ServiceAccount"), account), Json::array({"sa", 0, "<unknown>"}));
}

TEST(Table, NamespaceAndNodeRows) {
  Json ns = {{"metadata", {{"name", "demo"}, {"creationTimestamp", Ago(hours(24 * 3))}}}, {"status", {{"phase", "Terminating"}}}};
  EXPECT_EQ(Cells(BuiltinType("Namespace"), ns), Json::array({"demo", "Terminating", "3d"}));

  Json node = {{"metadata", {{"name", "n1"}, {"labels", {{"node-role.kubernetes.io/control-plane", ""}}}}},
               {"spec", {{"unschedulable", true}}},
               {"status", {{"conditions", {{{"type", "Ready"}, {"status", "True"}}}},
                           {"addresses", {{{"type", "InternalIP"}, {"address", "127.0.0.1"}}}},
                           {"nodeInfo", {{"kubeletVersion", "v1.30.0"}, {"osImage", "Debian"}}}}}};
  EXPECT_EQ(Cells(BuiltinType("Node"), node),
            Json::array({"n1", "Ready,SchedulingDisabled", "control-plane", "<unknown>", "v1.30.0", "127.0.0.1",
                         "<none>", "Debian", "<unknown>", "<unknown>"}));
}

TEST(Table, PersistentVolumeClaimRow) {
  Json claim = {{"metadata", {{"name", "data-mycluster-xinference-0"}}},
                {"spec", {{"volumeName", "pv-1"}, {"storageClassName", "local"}, {"volumeMode", "Filesystem"}}},
                {"status", {{"phase", "Bound"}, {"accessModes", {"ReadWriteOnce"}}, {"capacity", {{"storage", "1024Mi"}}}}}};
  EXPECT_EQ(Cells(BuiltinType("PersistentVolumeClaim"), claim),
            Json::array({"data-mycluster-xinference-0", "Bound", "pv-1", "1Gi", "RWO", "local", "<unset>", "<unknown>",
                         "Filesystem"}));
  Json pending = {{"metadata", {{"name", "c"}}}, {"status", {{"phase", "Pending"}, {"capacity", {{"storage", "1Gi"}}}}}};
  EXPECT_EQ(Cells(BuiltinType("PersistentVolumeClaim"), pending),
            Json::array({"c", "Pending", "", "", "", "", "<unset>", "<unknown>", "<unset>"}));
}

TEST(Table, EventRow) {
  Json event = {{"metadata", {{"name", "ops.17a"}}},
                {"involvedObject", {{"kind", "OpsRequest"}, {"name", "ops-restart"}}},
                {"reason", "Restarting"}, {"type", "Normal"}, {"message", "  restarting pods\n"},
                {"source", {{"component", "ops-controller"}}},
                {"firstTimestamp", Ago(minutes(3))}, {"lastTimestamp", Ago(seconds(30))}, {"count", 2}};
  Json table = ToTable(BuiltinType("Event"), {event}, Options());
  EXPECT_EQ(ColumnNames(table), (std::vector<std::string>{"Last Seen", "Type", "Reason", "Object", "Subobject",
                                                          "Source", "Message", "First Seen", "Count", "Name"}));
  EXPECT_EQ(table["columnDefinitions"][9]["format"], "name");
  EXPECT_EQ(OnlyRow(table)["cells"], Json::array({"30s", "Normal", "Restarting", "opsrequest/ops-restart", "",
                                                  "ops-controller", "restarting pods", "3m", 2, "ops.17a"}));
  Json singleton = {{"metadata", {{"name", "e"}}}, {"eventTime", Ago(seconds(5))}};
  Json cells = Cells(BuiltinType("Event"), singleton);
  EXPECT_EQ(cells[0], "5s");
  EXPECT_EQ(cells[7], "5s");
  EXPECT_EQ(cells[8], 1);
}

TEST(Table, RoleAndRoleBindingRows) {
  Json role = {{"metadata", {{"name", "reader"}, {"creationTimestamp", "2024-04-30T10:00:00Z"}}}};
  Json table = ToTable(BuiltinType("Role"), {role}, Options());
  EXPECT_EQ(ColumnNames(table), (std::vector<std::string>{"Name", "Created At"}));
  EXPECT_EQ(OnlyRow(table)["cells"], Json::array({"reader", "2024-04-30T10:00:00Z"}));

  Json binding = {{"metadata", {{"name", "rb"}, {"creationTimestamp", Ago(seconds(10))}}},
                  {"roleRef", {{"kind", "Role"}, {"name", "reader"}}},
                  {"subjects", {{{"kind", "User"}, {"name", "alice"}}, {{"kind", "User"}, {"name", "bob"}},
                                {{"kind", "ServiceAccount"}, {"name", "sa"}, {"namespace", "demo"}}}}};
  EXPECT_EQ(Cells(BuiltinType("RoleBinding"), binding),
            Json::array({"rb", "Role/reader", "10s", "alice, bob", "", "demo:sa"}));
}

TEST(Table, BuiltinWithoutPrinterUsesCreatedAt) {
  Json object = {{"metadata", {{"name", "x"}, {"creationTimestamp", "2024-04-30T10:00:00+02:00"}}}};
  Json table = ToTable(BuiltinType("PodTemplate"), {object}, Options());
  EXPECT_EQ(ColumnNames(table), (std::vector<std::string>{"Name", "Created At"}));
  EXPECT_EQ(OnlyRow(table)["cells"], Json::array({"x", "2024-04-30T08:00:00Z"}));
}

TEST(Table, LeaseShowsHolder) {
  Json object = {{"metadata", {{"name", "xblocks-operator"}, {"creationTimestamp", "2024-05-01T11:00:00Z"}}},
                 {"spec", {{"holderIdentity", "host_42"}}}};
  Json table = ToTable(BuiltinType("Lease"), {object}, Options());
  EXPECT_EQ(ColumnNames(table), (std::vector<std::string>{"Name", "Holder", "Age"}));
  EXPECT_EQ(OnlyRow(table)["cells"][1], "host_42");
}

TEST(Table, MalformedObjectsNeverThrow) {
  for (const Json& object : {Json(), Json::array(), Json("text"), Json{{"metadata", 5}},
                             Json{{"metadata", {{"name", 5}}}, {"spec", "x"}, {"status", {{"containerStatuses", "x"}}}}}) {
    for (const char* kind : {"Pod", "Service", "Endpoints", "Secret", "ConfigMap", "ServiceAccount", "Namespace",
                             "PersistentVolumeClaim", "Event", "Node", "Role", "RoleBinding", "Lease"}) {
      Json table = ToTable(BuiltinType(kind), {object}, Options());
      EXPECT_EQ(table["rows"].size(), 1u) << kind;
      EXPECT_EQ(table["rows"][0]["cells"].size(), table["columnDefinitions"].size()) << kind;
    }
    Json table = ToTable(ClusterType(), {object}, Options());
    EXPECT_EQ(table["rows"][0]["cells"].size(), 6u);
  }
}

}  // namespace
}  // namespace xblocks::api
