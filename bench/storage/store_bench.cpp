// Cost of one acknowledged state change in the node's store: a batch with
// a state record, its event and its idempotency key (about 600 bytes), as
// a routing step writes it. With sync on, each write waits for the
// write-ahead log to reach the disk; concurrent writers share one sync
// (RocksDB's group commit), which the 2- and 4-thread runs show.

#include "nodes/settings/settings.hpp"
#include "storage/keys.hpp"
#include "storage/rocksdb_store.hpp"

#include <benchmark/benchmark.h>

#include <atomic>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <memory>
#include <mutex>
#include <unistd.h>

using namespace switchboard::storage;

namespace {

std::mutex setup_mutex;
std::unique_ptr<rocksdb_store> shared_store;
std::string shared_path;
std::atomic<uint64_t> next_sequence{1};

void open_shared(bool sync) {
  auto base = std::filesystem::temp_directory_path()
              / ("switchboard-bench-store-" + std::to_string(getpid()));
  std::filesystem::remove_all(base);
  store_options options;
  options.path = base.string();
  options.sync_writes = sync;
  auto opened = rocksdb_store::open(options);
  if (!opened) {
    std::fprintf(stderr, "cannot open %s\n", options.path.c_str());
    std::abort();
  }
  shared_store = std::move(*opened);
  shared_path = options.path;
}

void close_shared() {
  shared_store.reset();
  std::filesystem::remove_all(shared_path);
}

void write_step(benchmark::State& state) {
  bool sync = state.range(0) != 0;
  if (state.thread_index() == 0) {
    std::lock_guard<std::mutex> guard{setup_mutex};
    open_shared(sync);
  }
  std::string state_value(300, 's');
  std::string event_value(250, 'e');
  auto tenant = "tenant-" + std::to_string(state.thread_index());
  for (auto _ : state) {
    auto seq = next_sequence.fetch_add(1);
    batch b;
    b.put(family::live, record_key(tenant, 'C', "call-" + std::to_string(seq)),
          state_value);
    b.put(family::events, event_key(tenant, seq), event_value);
    b.put(family::idempotency,
          record_key(tenant, 'I', "event-" + std::to_string(seq)), "ok");
    if (auto err = shared_store->write(b)) {
      state.SkipWithError("write failed");
      break;
    }
  }
  state.SetItemsProcessed(state.iterations());
  if (state.thread_index() == 0) {
    std::lock_guard<std::mutex> guard{setup_mutex};
    close_shared();
  }
}

} // namespace

BENCHMARK(write_step)
  ->ArgName("sync")
  ->Arg(0)
  ->Arg(1)
  ->Threads(1)
  ->Threads(2)
  ->Threads(4)
  ->UseRealTime()
  ->Unit(benchmark::kMicrosecond);

int main(int argc, char** argv) {
  if (switchboard::settings::print_version_if_asked("switchboard-bench-store",
                                                    argc, argv))
    return 0;
  benchmark::Initialize(&argc, argv, [] {
    std::printf(
      "switchboard-bench-store: RocksDB writes as the node makes them\n"
      "  --version    print the version, commit and build type\n"
      "Google Benchmark's options (--benchmark_min_time 0.5 s, all "
      "benchmarks, console output by default):\n");
    benchmark::PrintDefaultHelp();
  });
  if (benchmark::ReportUnrecognizedArguments(argc, argv))
    return 1;
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  return 0;
}
