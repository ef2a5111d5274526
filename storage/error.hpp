#pragma once

#include <caf/atom.hpp>
#include <caf/error.hpp>
#include <caf/make_message.hpp>
#include <caf/message.hpp>

#include <cstdint>
#include <string>

namespace switchboard {

/// Switchboard's error codes, printed as words. They live here because
/// storage is the lowest layer that speaks `caf::error`; actors and the
/// gRPC services use the same codes (and map them to gRPC status codes).
enum class ec : uint8_t {
  /// Not an error.
  none = 0,
  /// The disk or file system failed (full, read-only, permissions).
  storage_io,
  /// Data on disk cannot be read back.
  storage_corrupt,
  /// Another process holds the database (two nodes on one data folder).
  storage_busy,
  /// A stored record does not decode.
  bad_record,
  invalid_argument,
  not_found,
  already_exists,
  failed_precondition,
  resource_exhausted,
  unavailable,
  /// The command's event_id was applied before; the message holds the
  /// first outcome as "CODE|message" (CODE is this enum's value).
  duplicate,
};

/// The code's name, e.g. "storage_busy".
std::string to_string(ec x);

/// How an operator reads an error of this category: the code's name, then
/// the message that names what failed, e.g. "storage_busy: opening the
/// store in ./data: ... (is another node using this data folder?)".
std::string render(ec code, const caf::message& context);

/// `render` for an error known to be of this category.
inline std::string render(const caf::error& err) {
  return render(static_cast<ec>(err.code()), err.context());
}

} // namespace switchboard

// Category atom: at most 10 characters in CAF 0.17.
CAF_ERROR_CODE_ENUM(switchboard::ec, "switchbrd")
