#pragma once

#include <cstdlib>
#include <filesystem>
#include <string>

namespace switchboard::testing {

/// A fresh folder under the system's temporary folder, removed with its
/// contents at scope exit.
class temp_dir {
 public:
  temp_dir() {
    auto pattern
      = (std::filesystem::temp_directory_path() / "switchboard-test-XXXXXX")
          .string();
    if (mkdtemp(pattern.data()) != nullptr)
      path_ = pattern;
  }

  ~temp_dir() {
    std::error_code ignored; // best effort: a leftover folder harms nobody
    std::filesystem::remove_all(path_, ignored);
  }

  temp_dir(const temp_dir&) = delete;
  temp_dir& operator=(const temp_dir&) = delete;

  const std::string& path() const { return path_; }

  std::string operator/(const std::string& name) const {
    return path_ + "/" + name;
  }

 private:
  std::string path_;
};

} // namespace switchboard::testing
