#pragma once

// The load generator's clockwork: timed tasks on a few worker threads, and
// latency samples.

#include <algorithm>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <mutex>
#include <queue>
#include <thread>
#include <vector>

namespace switchboard::loadgen {

using clock_type = std::chrono::steady_clock;

/// Timed tasks run by a few worker threads.
class scheduler {
 public:
  explicit scheduler(int workers) {
    for (int i = 0; i < workers; ++i)
      threads_.emplace_back([this] {
        work();
      });
  }

  ~scheduler() { stop(); }

  void at(clock_type::time_point t, std::function<void()> f) {
    {
      std::lock_guard guard{mtx_};
      tasks_.push({t, seq_++, std::move(f)});
    }
    cv_.notify_one();
  }

  void stop() {
    {
      std::lock_guard guard{mtx_};
      if (stopped_)
        return;
      stopped_ = true;
    }
    cv_.notify_all();
    for (auto& t : threads_)
      t.join();
  }

 private:
  struct task {
    clock_type::time_point t;
    uint64_t seq;
    std::function<void()> f;
    bool operator>(const task& o) const {
      return t != o.t ? t > o.t : seq > o.seq;
    }
  };

  void work() {
    std::unique_lock guard{mtx_};
    while (!stopped_) {
      if (tasks_.empty()) {
        cv_.wait(guard);
        continue;
      }
      auto t = tasks_.top().t;
      if (t > clock_type::now()) {
        cv_.wait_until(guard, t);
        continue;
      }
      auto f = std::move(const_cast<task&>(tasks_.top()).f);
      tasks_.pop();
      guard.unlock();
      f();
      guard.lock();
    }
  }

  std::mutex mtx_;
  std::condition_variable cv_;
  std::priority_queue<task, std::vector<task>, std::greater<>> tasks_;
  uint64_t seq_ = 0;
  bool stopped_ = false;
  std::vector<std::thread> threads_;
};

/// Latency samples in microseconds.
struct samples {
  std::mutex mtx;
  std::vector<double> us;

  void add(double x) {
    std::lock_guard guard{mtx};
    us.push_back(x);
  }

  double quantile(double q) {
    std::lock_guard guard{mtx};
    if (us.empty())
      return 0;
    std::sort(us.begin(), us.end());
    auto i = static_cast<size_t>(q * static_cast<double>(us.size() - 1));
    return us[i];
  }
};

} // namespace switchboard::loadgen
