#pragma once

// A gateway's command stream (EventService.Ingest) for the load generator.

#include "switchboard/v1/events.grpc.pb.h"

#include <grpcpp/grpcpp.h>

#include <chrono>
#include <condition_variable>
#include <functional>
#include <mutex>
#include <string>
#include <thread>
#include <unordered_map>
#include <vector>

namespace switchboard::loadgen {

/// One Ingest stream: commands written in order by a writer thread, answers
/// read by another. The writer sends what queued up meanwhile in one go
/// (buffer hints), so that a busy stream costs a socket write per batch,
/// not per command.
/// The event id's first letter says what the command was, so that the
/// refusals a race makes normal (accepting an offer the caller abandoned)
/// are not counted as errors.
class ingest_link {
 public:
  using on_answer
    = std::function<void(char kind, const v1::IngestResponse&, double rtt_us)>;

  ingest_link(v1::EventService::Stub& stub, on_answer answer)
    : answer_(std::move(answer)) {
    stream_ = stub.Ingest(&ctx_);
    reader_ = std::thread([this] {
      v1::IngestResponse r;
      while (stream_->Read(&r)) {
        std::chrono::steady_clock::time_point sent;
        {
          std::lock_guard guard{mtx_};
          auto i = sent_.find(r.event_id());
          if (i == sent_.end())
            continue;
          sent = i->second;
          sent_.erase(i);
        }
        answer_(r.event_id()[0], r,
                std::chrono::duration<double, std::micro>(
                  std::chrono::steady_clock::now() - sent)
                  .count());
      }
    });
    writer_ = std::thread([this] {
      write_loop();
    });
  }

  ~ingest_link() {
    {
      std::lock_guard guard{mtx_};
      closing_ = true;
    }
    cv_.notify_one();
    writer_.join();
    reader_.join();
    stream_->Finish();
  }

  void send(v1::IngestRequest& req) {
    std::lock_guard guard{mtx_};
    sent_[req.event_id()] = std::chrono::steady_clock::now();
    queue_.push_back(std::move(req));
    if (queue_.size() == 1)
      cv_.notify_one();
  }

 private:
  on_answer answer_;
  grpc::ClientContext ctx_;
  std::unique_ptr<
    grpc::ClientReaderWriter<v1::IngestRequest, v1::IngestResponse>>
    stream_;
  void write_loop() {
    std::vector<v1::IngestRequest> batch;
    std::unique_lock guard{mtx_};
    for (;;) {
      cv_.wait(guard, [this] {
        return !queue_.empty() || closing_;
      });
      if (queue_.empty())
        break;
      batch.swap(queue_);
      guard.unlock();
      for (size_t i = 0; i < batch.size(); ++i) {
        grpc::WriteOptions wo;
        if (i + 1 < batch.size())
          wo.set_buffer_hint();
        stream_->Write(batch[i], wo);
      }
      batch.clear();
      guard.lock();
    }
    guard.unlock();
    stream_->WritesDone();
  }

  std::mutex mtx_;
  std::condition_variable cv_;
  std::vector<v1::IngestRequest> queue_;
  bool closing_ = false;
  std::unordered_map<std::string, std::chrono::steady_clock::time_point> sent_;
  std::thread reader_;
  std::thread writer_;
};

} // namespace switchboard::loadgen
