#include "actors/atoms.hpp"

#include "storage/error.hpp"

#include <caf/actor_system_config.hpp>
#include <caf/message.hpp>

namespace switchboard {

void add_message_types(caf::actor_system_config& cfg) {
  cfg.add_message_types<caf::id_block::switchboard>();
  // CAF 0.17.6's add_error_category<T>(atom) does not compile (its lambda
  // has the wrong signature), so the renderer is spelled out.
  cfg.add_error_category(
    caf::atom("switchbrd"),
    [](uint8_t code, caf::atom_value, const caf::message& context) {
      return render(static_cast<ec>(code), context);
    });
}

} // namespace switchboard
