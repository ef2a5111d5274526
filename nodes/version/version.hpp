#pragma once

// What every Switchboard binary says about itself with --version.

#include <string>

namespace switchboard {

/// The project's version, such as "0.1.0".
const char* version();

/// The git commit built (short hash), or "unknown" outside a git checkout.
const char* commit();

/// The CMake build type, such as "Release" or "RelWithDebInfo".
const char* build_type();

/// "switchboard-router 0.1.0 (commit 4e6ce3a, Release)": the line
/// `program --version` prints.
std::string version_text(const std::string& program);

} // namespace switchboard
