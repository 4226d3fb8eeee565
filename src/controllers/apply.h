// Create-or-update of owned objects, the way controllers keep what they generate in line with
// what they want: fields the controller owns are overwritten, everything else (status, fields
// other writers set, server-set metadata) is kept.
#pragma once

#include "client/client.h"
#include "common/json.h"
#include "common/status.h"

namespace xblocks::controllers {

enum class ApplyOutcome { kCreated, kUpdated, kUnchanged };

// Creates `desired` when absent. Otherwise copies `desired`'s labels, annotations, owner
// references and finalizers into the live object, keeping live keys that `desired` lacks. It
// also copies every top-level field other than apiVersion, kind, metadata and status, and
// updates the object when that changed anything. A live object that is being deleted is left
// as it is. Returns the live object after the call.
Result<Json> ApplyObject(client::Client& client, const client::Resource& resource, const Json& desired,
                         ApplyOutcome* outcome = nullptr);

}  // namespace xblocks::controllers
