// The selector text form (`skill.billing >= 60 and label.lang in (de, fr)`)
// as queues, calls and the CLI give it. What parses must be valid and
// read back the same from its own text.

#include "routing/selector.hpp"

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <string_view>

namespace routing = switchboard::routing;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data,
                                      std::size_t size) {
  std::string_view text{reinterpret_cast<const char*>(data), size};
  auto parsed = routing::parse_selectors(text);
  if (!parsed)
    return 0;
  for (auto& s : parsed.selectors)
    if (auto problem = routing::validate(s)) {
      std::fprintf(stderr, "parsed but invalid: %s\n", problem->c_str());
      __builtin_trap();
    }
  auto again = routing::parse_selectors(routing::to_string(parsed.selectors));
  if (!again || again.selectors != parsed.selectors) {
    std::fprintf(stderr, "does not read back: '%s'\n",
                 routing::to_string(parsed.selectors).c_str());
    __builtin_trap();
  }
  return 0;
}
