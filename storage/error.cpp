#include "storage/error.hpp"

namespace switchboard {

std::string to_string(ec x) {
  switch (x) {
    case ec::none: return "none";
    case ec::storage_io: return "storage_io";
    case ec::storage_corrupt: return "storage_corrupt";
    case ec::storage_busy: return "storage_busy";
    case ec::bad_record: return "bad_record";
    case ec::invalid_argument: return "invalid_argument";
    case ec::not_found: return "not_found";
    case ec::already_exists: return "already_exists";
    case ec::failed_precondition: return "failed_precondition";
    case ec::resource_exhausted: return "resource_exhausted";
    case ec::unavailable: return "unavailable";
    case ec::duplicate: return "duplicate";
  }
  return "unknown";
}

std::string render(ec code, const caf::message& context) {
  auto text = to_string(code);
  if (context.match_elements<std::string>())
    text += ": " + context.get_as<std::string>(0);
  else if (!context.empty())
    text += ": " + caf::to_string(context);
  return text;
}

} // namespace switchboard
