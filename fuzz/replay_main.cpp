// Runs a fuzz target over files without libFuzzer: every file named on the
// command line, and every file in every folder named there. The test
// suite's build (GCC, AddressSanitizer and UBSan) replays the seed corpora
// and every input a fuzzing run ever crashed on this way; scripts/fuzz
// builds the same targets with clang's libFuzzer to search for new ones.

#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <iterator>
#include <string>
#include <vector>

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data,
                                      std::size_t size);

namespace {

int replay(const std::filesystem::path& file) {
  std::ifstream in{file, std::ios::binary};
  std::vector<char> bytes{std::istreambuf_iterator<char>{in},
                          std::istreambuf_iterator<char>{}};
  LLVMFuzzerTestOneInput(reinterpret_cast<const std::uint8_t*>(bytes.data()),
                         bytes.size());
  return 1;
}

} // namespace

int main(int argc, char** argv) {
  int inputs = 0;
  for (int i = 1; i < argc; ++i) {
    std::filesystem::path p{argv[i]};
    if (std::filesystem::is_directory(p)) {
      for (auto& e : std::filesystem::recursive_directory_iterator{p})
        if (e.is_regular_file())
          inputs += replay(e.path());
    } else if (std::filesystem::is_regular_file(p)) {
      inputs += replay(p);
    } else {
      std::cerr << argv[0] << ": no such file or folder: " << p << "\n";
      return 2;
    }
  }
  // An empty corpus would make this test pass without checking anything.
  if (inputs == 0) {
    std::cerr << argv[0] << ": no inputs\n";
    return 2;
  }
  std::cout << argv[0] << ": " << inputs << " inputs replayed\n";
  return 0;
}
