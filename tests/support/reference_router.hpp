#pragma once

// A brute-force router: the routing rules written as plainly as possible,
// scanning every agent and every call. The matching index must decide
// exactly as this does.

#include "routing/matching_index.hpp"
#include "routing/model.hpp"

#include <algorithm>
#include <map>
#include <optional>
#include <string>
#include <tuple>
#include <vector>

namespace switchboard::testing {

class reference_router {
 public:
  std::map<std::string, routing::queue> queues;
  std::map<std::string, routing::agent> agents;
  std::map<std::string, routing::call> waiting;
  routing::timestamp now{};

  void reserve(const std::string& agent_id, const std::string& queue_id,
               routing::channel ch) {
    auto& a = agents.at(agent_id);
    ++a.load[static_cast<size_t>(ch)];
    if (std::find(a.queues.begin(), a.queues.end(), queue_id) != a.queues.end())
      last_rr_[{agent_id, queue_id}] = ++rr_clock_[queue_id];
  }

  void release(const std::string& agent_id, routing::channel ch,
               routing::timestamp at) {
    auto& a = agents.at(agent_id);
    --a.load[static_cast<size_t>(ch)];
    bool idle = std::all_of(a.load.begin(), a.load.end(), [](uint16_t n) {
      return n == 0;
    });
    if (idle && !a.in_wrap_up)
      a.idle_since = at;
  }

  std::vector<routing::selector> active(const routing::call& c) const {
    std::vector<routing::selector> result;
    auto waited = now - c.enqueued_at;
    auto add = [&](const std::vector<routing::selector>& xs) {
      for (auto& x : xs)
        if (routing::is_active(x, waited))
          result.push_back(x);
    };
    add(queues.at(c.queue_id).selectors);
    add(c.selectors);
    return result;
  }

  bool eligible(const routing::agent& a, const routing::call& c) const {
    auto& q = queues.at(c.queue_id);
    if (std::find(a.queues.begin(), a.queues.end(), q.id) == a.queues.end())
      return false;
    if ((q.routable_presences & routing::presence_bit(a.pres)) == 0)
      return false;
    if (!a.ready || a.in_wrap_up)
      return false;
    if (!routing::has_room(a.cap, a.load, c.channel))
      return false;
    for (auto& x : active(c))
      if (!routing::matches(x, a.attrs))
        return false;
    return true;
  }

  /// (a) The best agent for `c`.
  std::optional<std::string> best_agent(const routing::call& c) const {
    if (!c.preferred_agent.empty()) {
      auto i = agents.find(c.preferred_agent);
      if (i != agents.end() && eligible(i->second, c))
        return i->first;
    }
    auto& q = queues.at(c.queue_id);
    auto sel = active(c);
    using key = std::tuple<int64_t, uint64_t, int64_t, std::string>;
    std::optional<key> best;
    for (auto& [id, a] : agents) {
      if (!eligible(a, c))
        continue;
      key k;
      auto load = int64_t{routing::load_ppm(a.cap, a.load)};
      auto idle = routing::to_micros(a.idle_since);
      switch (q.mode) {
        case routing::distribution_mode::longest_idle:
          k = key{0, static_cast<uint64_t>(load), idle, id};
          break;
        case routing::distribution_mode::round_robin: {
          auto i = last_rr_.find({id, q.id});
          k = key{0, i == last_rr_.end() ? 0 : i->second, 0, id};
          break;
        }
        case routing::distribution_mode::best_skill:
          k = key{-int64_t{routing::best_skill_score(sel, a.attrs)},
                  static_cast<uint64_t>(load), idle, id};
          break;
      }
      if (!best || k < *best)
        best = k;
    }
    if (!best)
      return std::nullopt;
    return std::get<3>(*best);
  }

  /// (b) The best waiting call for agent `agent_id`.
  std::optional<std::string> best_call(const std::string& agent_id) const {
    auto& a = agents.at(agent_id);
    using key = std::tuple<int32_t, int, int64_t, std::string>;
    std::optional<key> best;
    for (auto& [id, c] : waiting) {
      if (!eligible(a, c))
        continue;
      key k{-c.priority, c.preferred_agent == agent_id ? 0 : 1,
            routing::to_micros(c.enqueued_at), id};
      if (!best || k < *best)
        best = k;
    }
    if (!best)
      return std::nullopt;
    return std::get<3>(*best);
  }

 private:
  std::map<std::pair<std::string, std::string>, uint64_t> last_rr_;
  std::map<std::string, uint64_t> rr_clock_;
};

} // namespace switchboard::testing
