// The YAML file of `switchboard apply -f`: tenants, queues, agents and
// classification rules, read into the API's messages.

#include "nodes/cli/config_file.hpp"

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data,
                                      std::size_t size) {
  std::string_view text{reinterpret_cast<const char*>(data), size};
  std::string error;
  auto tenants = switchboard::cli::read_config_text(text, error);
  if (tenants)
    for (auto& t : *tenants)
      (void)switchboard::cli::in_dependency_order(t.queues);
  return 0;
}
