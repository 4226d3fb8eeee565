// Files compiled into the binary by cmake/embed.cmake: the CRD manifests under deploy/crds/ and
// the addon definitions under addons/.
#pragma once

#include <string_view>
#include <vector>

namespace xblocks {

struct EmbeddedFile {
  std::string_view path;     // relative to the source tree, e.g. "deploy/crds/apps.kubeblocks.io_clusters.yaml"
  std::string_view content;
};

const std::vector<EmbeddedFile>& EmbeddedFiles();

}  // namespace xblocks
