#pragma once

// The YAML file `switchboard apply -f` reads: tenants with their queues,
// agents and classification rules, as the API's messages.

#include "switchboard/v1/admin.pb.h"

#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace switchboard::cli {

/// One tenant of a configuration file, as the API takes it.
struct tenant_config {
  v1::Tenant tenant;
  std::vector<v1::Queue> queues;
  std::vector<v1::Agent> agents;
  std::optional<v1::UpsertClassificationRulesRequest> rules;
};

/// The tenants of the YAML file `file`; nothing if it cannot be read
/// or is wrong, with `error` saying what and where ("line 5:
/// tenants[0].queues[0].mod: unknown key; expected one of ...").
std::optional<std::vector<tenant_config>>
read_config_file(const std::string& file, std::string& error);

/// The same from YAML text.
std::optional<std::vector<tenant_config>>
read_config_text(std::string_view text, std::string& error);

/// `queues` ordered so that each comes after the queues of the same file
/// it overflows to. Queues in a cycle keep their file order: the server
/// then names the queue that does not exist yet.
std::vector<const v1::Queue*>
in_dependency_order(const std::vector<v1::Queue>& queues);

} // namespace switchboard::cli
