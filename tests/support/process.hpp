#pragma once

// Runs a real binary as a child process for integration tests: captures
// its standard output line by line, sends signals, collects its exit.
// The child is killed if the test process dies.

#include <atomic>
#include <chrono>
#include <csignal>
#include <optional>
#include <poll.h>
#include <string>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <thread>
#include <unistd.h>
#include <vector>

namespace switchboard::testing {

class process {
 public:
  /// Starts `path` with `args`; standard error goes to the test's, or
  /// with `merge_stderr` into `lines()` with standard output.
  process(const std::string& path, const std::vector<std::string>& args,
          bool merge_stderr = false) {
    int fds[2];
    if (pipe(fds) != 0)
      return;
    pid_ = fork();
    if (pid_ == 0) {
      // A test that crashes takes its nodes with it, so that no orphan
      // keeps ctest's output pipe open.
      prctl(PR_SET_PDEATHSIG, SIGKILL);
      dup2(fds[1], STDOUT_FILENO);
      if (merge_stderr)
        dup2(fds[1], STDERR_FILENO);
      close(fds[0]);
      close(fds[1]);
      std::vector<char*> argv;
      argv.push_back(const_cast<char*>(path.c_str()));
      for (auto& a : args)
        argv.push_back(const_cast<char*>(a.c_str()));
      argv.push_back(nullptr);
      execv(path.c_str(), argv.data());
      _exit(127);
    }
    close(fds[1]);
    out_ = fds[0];
  }

  ~process() {
    if (pid_ > 0 && !exit_code_) {
      kill(pid_, SIGKILL);
      waitpid(pid_, nullptr, 0);
    }
    if (out_ >= 0)
      close(out_);
  }

  process(const process&) = delete;
  process& operator=(const process&) = delete;

  bool started() const { return pid_ > 0 && out_ >= 0; }

  pid_t pid() const { return pid_; }

  /// The next line of output containing `text`, waiting up to `timeout`;
  /// lines before it are kept in `lines()`.
  std::optional<std::string> wait_for_line(const std::string& text,
                                           std::chrono::milliseconds timeout
                                           = std::chrono::seconds{20}) {
    auto deadline = std::chrono::steady_clock::now() + timeout;
    for (;;) {
      for (; scanned_ < lines_.size(); ++scanned_)
        if (lines_[scanned_].find(text) != std::string::npos)
          return lines_[scanned_++];
      auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
        deadline - std::chrono::steady_clock::now());
      if (left.count() <= 0 || !read_some(left))
        return std::nullopt;
    }
  }

  /// Sends `sig` and waits for the exit; returns the exit code, or
  /// 128 + signal if a signal ended it.
  int stop(int sig = SIGTERM) {
    if (pid_ > 0)
      kill(pid_, sig);
    return wait();
  }

  /// Waits for the process to end by itself.
  int wait() {
    if (exit_code_)
      return *exit_code_;
    // Read while waiting: a child with more to say than a pipe holds
    // would otherwise block on its writes, never to exit.
    int status = 0;
    while (waitpid(pid_, &status, WNOHANG) == 0)
      if (!read_some(std::chrono::milliseconds{100}) && out_closed_)
        usleep(10'000); // its output closed before it exited

    while (read_some(std::chrono::milliseconds{100})) {
    }
    exit_code_
      = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
    return *exit_code_;
  }

  const std::vector<std::string>& lines() const { return lines_; }

 private:
  bool read_some(std::chrono::milliseconds timeout) {
    pollfd p{out_, POLLIN, 0};
    if (poll(&p, 1, static_cast<int>(timeout.count())) <= 0)
      return false;
    char buf[4096];
    auto n = read(out_, buf, sizeof buf);
    if (n <= 0) {
      out_closed_ = true;
      return false;
    }
    partial_.append(buf, static_cast<size_t>(n));
    for (auto nl = partial_.find('\n'); nl != std::string::npos;
         nl = partial_.find('\n')) {
      lines_.push_back(partial_.substr(0, nl));
      partial_.erase(0, nl + 1);
    }
    return true;
  }

  pid_t pid_ = -1;
  int out_ = -1;
  std::string partial_;
  std::vector<std::string> lines_;
  size_t scanned_ = 0;
  std::optional<int> exit_code_;
  bool out_closed_ = false;
};

/// Reads processes' output in the background while it lives, into their
/// lines(), so that a process with much to say (a gateway logging hundreds
/// of calls) never blocks on a full pipe while the test waits for
/// something else. The test leaves those processes alone until it ends.
class output_drain {
 public:
  explicit output_drain(std::vector<process*> procs)
    : thread_([this, procs = std::move(procs)] {
        // No line holds a newline: each wait reads for 50 ms.
        while (!stop_)
          for (auto* p : procs)
            p->wait_for_line("\n", std::chrono::milliseconds{50});
      }) {}

  ~output_drain() {
    stop_ = true;
    thread_.join();
  }

  output_drain(const output_drain&) = delete;
  output_drain& operator=(const output_drain&) = delete;

 private:
  std::atomic<bool> stop_{false};
  std::thread thread_;
};

/// Whether `p` has written a line containing `text`, among the lines read
/// so far (wait_for_line scans forward only) or within `timeout`: for
/// lines whose order against others is not fixed.
inline bool has_line(process& p, const std::string& text,
                     std::chrono::milliseconds timeout) {
  for (const auto& line : p.lines())
    if (line.find(text) != std::string::npos)
      return true;
  return p.wait_for_line(text, timeout).has_value();
}

/// The value of `"key":"value"` in a JSON log line.
inline std::string json_field(const std::string& line, const std::string& key) {
  auto needle = "\"" + key + "\":\"";
  auto start = line.find(needle);
  if (start == std::string::npos)
    return {};
  start += needle.size();
  auto end = line.find('"', start);
  return line.substr(start, end - start);
}

} // namespace switchboard::testing
