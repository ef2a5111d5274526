#include "routing/matching_index.hpp"

#include "routing/values.hpp"

#include <algorithm>
#include <deque>
#include <functional>
#include <limits>
#include <queue>
#include <set>
#include <unordered_map>

namespace switchboard::routing {

namespace {

constexpr uint32_t none = std::numeric_limits<uint32_t>::max();
constexpr int64_t never = std::numeric_limits<int64_t>::max();

/// Selector lists no call uses are swept once this many pile up.
constexpr size_t sweep_threshold = 4096;

uint8_t channel_bit(channel ch) {
  return static_cast<uint8_t>(1u << static_cast<unsigned>(ch));
}

// -- bitsets over profile or requirement ids
// -----------------------------------

using bits = std::vector<uint64_t>;

void set_bit(bits& b, uint32_t i) {
  size_t w = i / 64;
  if (w >= b.size())
    b.resize(w + 1, 0);
  b[w] |= uint64_t{1} << (i % 64);
}

void clear_bit(bits& b, uint32_t i) {
  size_t w = i / 64;
  if (w < b.size())
    b[w] &= ~(uint64_t{1} << (i % 64));
}

bool test_bit(const bits& b, uint32_t i) {
  size_t w = i / 64;
  return w < b.size() && (b[w] >> (i % 64) & 1) != 0;
}

uint64_t word(const bits& b, size_t w) { return w < b.size() ? b[w] : 0; }

/// Number of ids in both `x` and `y`.
size_t count_common(const bits& x, const bits& y) {
  size_t n = 0;
  for (size_t w = 0, end = std::min(x.size(), y.size()); w < end; ++w)
    n += static_cast<size_t>(__builtin_popcountll(x[w] & y[w]));
  return n;
}

/// Calls `f(id)` for each id in both `x` and `y`, ascending.
template<class F>
void for_each_common(const bits& x, const bits& y, F f) {
  for (size_t w = 0, end = std::min(x.size(), y.size()); w < end; ++w) {
    for (auto v = x[w] & y[w]; v != 0; v &= v - 1)
      f(static_cast<uint32_t>(w * 64
                              + static_cast<size_t>(__builtin_ctzll(v))));
  }
}

/// Calls `f(id)` for each id in `x` but not in `y`.
template<class F>
void for_each_missing(const bits& x, const bits& y, F f) {
  for (size_t w = 0; w < x.size(); ++w) {
    for (auto v = x[w] & ~word(y, w); v != 0; v &= v - 1)
      f(static_cast<uint32_t>(w * 64
                              + static_cast<size_t>(__builtin_ctzll(v))));
  }
}

/// A slot in `items`: a freed one from `free` if any, else a new one.
template<class Items>
uint32_t allocate(Items& items, std::vector<uint32_t>& free) {
  if (!free.empty()) {
    auto id = free.back();
    free.pop_back();
    return id;
  }
  items.emplace_back();
  return static_cast<uint32_t>(items.size() - 1);
}

/// A verdict not computed yet.
constexpr int16_t unknown = -2;

/// An interned attribute or selector value.
struct value_ref {
  uint32_t text = none;
  bool numeric = false;
  int64_t number = 0;
};

struct compiled_selector {
  uint32_t key = none;
  selector_op op = selector_op::exists;
  std::vector<value_ref> values;
};

/// Agents with identical skills and labels.
struct profile {
  /// Sorted by key.
  std::vector<std::pair<uint32_t, value_ref>> values;
  /// Requirements this profile satisfies, among those `known`.
  bits satisfied;
  bits known;
};

/// Calls with identical active selectors.
struct requirement {
  std::vector<compiled_selector> selectors;
  /// Distinct skills the selectors name, for the best-skill score.
  std::vector<uint32_t> skill_keys;
  /// Per profile: the best-skill score if it satisfies this requirement,
  /// -1 if not, `unknown` until evaluated.
  std::vector<int16_t> scores;
  /// Profiles that satisfy this requirement, among those `known`.
  bits admits;
  bits known;
  std::string canonical;
  /// Selector lists whose stages use this requirement.
  uint32_t refs = 0;
  bool live = false;
};

/// An interned list of selectors (a call's own, or its queue's followed by
/// its own) with its relaxation stages.
struct selector_list {
  std::vector<selector> selectors;
  /// Distinct `relax_after` values in microseconds, ascending.
  std::vector<int64_t> offsets;
  /// Requirement per stage; stage s = the first s offsets have passed.
  /// `none` until first needed.
  std::vector<uint32_t> stages;
  std::string canonical;
  /// Waiting calls that use this list.
  uint32_t refs = 0;
  bool live = false;
};

/// Sort key of an agent in a pool; lower is better.
struct agent_key {
  uint64_t primary = 0;  // load ratio, or round-robin turn
  int64_t secondary = 0; // idle since, or 0
  const std::string* id = nullptr;
  uint32_t agent = none;

  friend bool operator<(const agent_key& x, const agent_key& y) {
    if (x.primary != y.primary)
      return x.primary < y.primary;
    if (x.secondary != y.secondary)
      return x.secondary < y.secondary;
    return *x.id < *y.id;
  }
};

/// Sort key of a waiting call; lower is better.
struct call_key {
  int32_t priority = 0;
  int64_t enqueued = 0;
  const std::string* id = nullptr;
  uint32_t call = none;

  friend bool operator<(const call_key& x, const call_key& y) {
    if (x.priority != y.priority)
      return x.priority > y.priority;
    if (x.enqueued != y.enqueued)
      return x.enqueued < y.enqueued;
    return *x.id < *y.id;
  }
};

/// Items bucketed by group (profile or requirement), each bucket ordered
/// best-first; the set of non-empty groups; and the bucket heads ordered
/// best-first.
template<class Key>
struct bucketed {
  std::vector<std::set<Key>> buckets; // by group id
  bits nonempty;
  size_t groups = 0; // non-empty buckets
  std::set<std::pair<Key, uint32_t>> heads;

  void insert(uint32_t group, const Key& k) {
    if (group >= buckets.size())
      buckets.resize(group + 1);
    auto& bucket = buckets[group];
    if (bucket.empty()) {
      bucket.insert(k);
      heads.emplace(k, group);
      set_bit(nonempty, group);
      ++groups;
      return;
    }
    if (k < *bucket.begin()) {
      heads.erase({*bucket.begin(), group});
      heads.emplace(k, group);
    }
    bucket.insert(k);
  }

  void erase(uint32_t group, const Key& k) {
    if (group >= buckets.size() || buckets[group].empty())
      return;
    auto& bucket = buckets[group];
    bool was_head = !(*bucket.begin() < k) && !(k < *bucket.begin());
    if (was_head)
      heads.erase({k, group});
    bucket.erase(k);
    if (bucket.empty()) {
      clear_bit(nonempty, group);
      --groups;
    } else if (was_head) {
      heads.emplace(*bucket.begin(), group);
    }
  }

  const Key& head(uint32_t group) const { return *buckets[group].begin(); }
};

struct queue_rec {
  std::string id;
  queue settings;
  std::string selectors_canonical;
  bool configured = false;
  uint64_t rr_clock = 0;
  std::array<bucketed<agent_key>, channel_count> agents;
  std::array<bucketed<call_key>, channel_count> calls;
  std::set<uint32_t> members;
  size_t waiting = 0;
};

struct membership {
  uint32_t queue = none;
  uint64_t last_rr = 0;
  uint8_t pooled = 0; // channel bits
  agent_key key;
};

struct agent_rec {
  agent data;
  uint32_t profile = none;
  std::vector<membership> memberships;
  bool live = false;
};

struct call_rec {
  waiting_call data;
  uint32_t queue = none;
  uint32_t own = none;       // selector list: the call's own selectors
  uint32_t effective = none; // selector list: the queue's, then the call's
  uint32_t stage = 0;
  uint32_t req = none;
  uint32_t generation = 0;
  int64_t next_relax = never;
  /// Until then only the preferred agent may take the call: it waits in
  /// `preferring`, not in its queue's pool.
  int64_t exclusive_until = 0;
  bool held = false;
  call_key key;
  bool live = false;
};

struct relax_entry {
  int64_t deadline;
  uint32_t call;
  uint32_t generation;

  friend bool operator>(const relax_entry& x, const relax_entry& y) {
    return x.deadline > y.deadline;
  }
};

void append_field(std::string& out, std::string_view field) {
  out += std::to_string(field.size());
  out += ':';
  out += field;
}

/// Appends an unambiguous encoding of `x`, with or without `relax_after`.
void append_selector(std::string& out, const selector& x, bool with_relax) {
  out += x.kind == selector_kind::skill ? 's' : 'l';
  append_field(out, x.name);
  out += static_cast<char>('0' + static_cast<int>(x.op));
  out += std::to_string(x.values.size());
  out += '#';
  for (auto& v : x.values)
    append_field(out, v);
  if (with_relax && x.apply_after) {
    out += '^';
    out += std::to_string(x.apply_after->count());
  }
  if (with_relax && x.relax_after) {
    out += '~';
    out += std::to_string(x.relax_after->count());
  }
  out += ';';
}

/// A call's own selectors with its relaxation steps compiled in.
std::vector<selector> with_steps(const call& c) {
  auto result = c.selectors;
  auto stepped = compile_steps(c.steps);
  result.insert(result.end(), stepped.begin(), stepped.end());
  return result;
}

std::string canonical_of(const std::vector<selector>& xs) {
  std::string out;
  for (auto& x : xs)
    append_selector(out, x, true);
  return out;
}

} // namespace

struct matching_index::impl {
  // -- interning --------------------------------------------------------------

  std::vector<std::string> texts;
  std::unordered_map<std::string, uint32_t> text_ids;
  std::vector<profile> profiles;
  std::unordered_map<std::string, uint32_t> profile_ids;
  std::deque<requirement> reqs;
  std::vector<uint32_t> free_reqs;
  std::unordered_map<std::string, uint32_t> req_ids;
  std::deque<selector_list> lists;
  std::vector<uint32_t> free_lists;
  std::unordered_map<std::string, uint32_t> list_ids;
  size_t unreferenced_lists = 0;

  // -- records ----------------------------------------------------------------

  std::deque<queue_rec> queues;
  std::unordered_map<std::string_view, uint32_t> queue_ids;
  std::deque<agent_rec> agents;
  std::vector<uint32_t> free_agents;
  std::unordered_map<std::string_view, uint32_t> agent_ids;
  std::deque<call_rec> calls;
  std::vector<uint32_t> free_calls;
  std::unordered_map<std::string_view, uint32_t> call_ids;
  /// Waiting calls by the agent they prefer.
  std::unordered_map<std::string, std::set<call_key>> preferring;
  std::priority_queue<relax_entry, std::vector<relax_entry>, std::greater<>>
    relaxations;
  int64_t now = 0;
  size_t waiting = 0;

  // -- interning --------------------------------------------------------------

  uint32_t intern(std::string_view text) {
    auto [i, added] = text_ids.try_emplace(std::string{text},
                                           static_cast<uint32_t>(texts.size()));
    if (added)
      texts.emplace_back(text);
    return i->second;
  }

  value_ref make_value(std::string_view text) {
    auto n = parse_integer(text);
    return {intern(text), n.has_value(), n.value_or(0)};
  }

  uint32_t key_of(selector_kind kind, std::string_view name) {
    std::string key = kind == selector_kind::skill ? "s:" : "l:";
    key += name;
    return intern(key);
  }

  uint32_t profile_of(const attributes& attrs) {
    std::string canonical;
    for (auto& [name, level] : attrs.skills) {
      canonical += 's';
      append_field(canonical, name);
      append_field(canonical, std::to_string(level));
    }
    for (auto& [name, value] : attrs.labels) {
      canonical += 'l';
      append_field(canonical, name);
      append_field(canonical, value);
    }
    if (auto i = profile_ids.find(canonical); i != profile_ids.end())
      return i->second;
    profile p;
    for (auto& [name, level] : attrs.skills)
      p.values.emplace_back(key_of(selector_kind::skill, name),
                            make_value(std::to_string(level)));
    for (auto& [name, value] : attrs.labels)
      p.values.emplace_back(key_of(selector_kind::label, name),
                            make_value(value));
    std::sort(p.values.begin(), p.values.end(), [](auto& x, auto& y) {
      return x.first < y.first;
    });
    auto id = static_cast<uint32_t>(profiles.size());
    profiles.push_back(std::move(p));
    profile_ids.emplace(std::move(canonical), id);
    return id;
  }

  /// The requirement of exactly the selectors in `active`.
  uint32_t requirement_of(const std::vector<const selector*>& active) {
    std::vector<std::string> parts;
    for (auto* x : active) {
      std::string part;
      append_selector(part, *x, false);
      parts.push_back(std::move(part));
    }
    // Order and repetition do not change what a requirement admits.
    std::sort(parts.begin(), parts.end());
    parts.erase(std::unique(parts.begin(), parts.end()), parts.end());
    std::string canonical;
    for (auto& part : parts)
      canonical += part;
    if (auto i = req_ids.find(canonical); i != req_ids.end())
      return i->second;
    auto id = allocate(reqs, free_reqs);
    auto& r = reqs[id];
    r = requirement{};
    r.live = true;
    for (auto* x : active) {
      compiled_selector c;
      c.key = key_of(x->kind, x->name);
      c.op = x->op;
      for (auto& v : x->values)
        c.values.push_back(make_value(v));
      if (x->kind == selector_kind::skill
          && std::find(r.skill_keys.begin(), r.skill_keys.end(), c.key)
               == r.skill_keys.end())
        r.skill_keys.push_back(c.key);
      r.selectors.push_back(std::move(c));
    }
    r.canonical = canonical;
    req_ids.emplace(std::move(canonical), id);
    return id;
  }

  // -- selector lists ---------------------------------------------------------

  /// The list encoded as `canonical`; `make` builds its selectors if it is
  /// new. A new list has no references: take one before interning the next
  /// list, which may sweep unreferenced ones.
  template<class Make>
  uint32_t intern_list(const std::string& canonical, Make make) {
    if (auto i = list_ids.find(canonical); i != list_ids.end())
      return i->second;
    if (unreferenced_lists >= sweep_threshold)
      sweep();
    auto id = allocate(lists, free_lists);
    auto& l = lists[id];
    l = selector_list{};
    l.live = true;
    l.selectors = make();
    l.canonical = canonical;
    for (auto& x : l.selectors) {
      if (x.apply_after)
        l.offsets.push_back(x.apply_after->count());
      if (x.relax_after)
        l.offsets.push_back(x.relax_after->count());
    }
    std::sort(l.offsets.begin(), l.offsets.end());
    l.offsets.erase(std::unique(l.offsets.begin(), l.offsets.end()),
                    l.offsets.end());
    l.stages.assign(l.offsets.size() + 1, none);
    list_ids.emplace(canonical, id);
    ++unreferenced_lists;
    return id;
  }

  uint32_t own_list(const std::vector<selector>& own) {
    return intern_list("|" + canonical_of(own), [&] {
      return own;
    });
  }

  /// The list of a call's own selectors; copies only for a call with
  /// relaxation steps.
  uint32_t own_list(const call& c) {
    return c.steps.empty() ? own_list(c.selectors) : own_list(with_steps(c));
  }

  /// The queue's selectors followed by those of list `own`.
  uint32_t effective_list(const queue_rec& q, uint32_t own) {
    if (q.settings.selectors.empty())
      return own;
    return intern_list(q.selectors_canonical + lists[own].canonical, [&] {
      auto result = q.settings.selectors;
      auto& mine = lists[own].selectors;
      result.insert(result.end(), mine.begin(), mine.end());
      return result;
    });
  }

  void ref_list(uint32_t id) {
    if (lists[id].refs++ == 0)
      --unreferenced_lists;
  }

  void unref_list(uint32_t id) {
    if (--lists[id].refs == 0)
      ++unreferenced_lists;
  }

  /// Frees the lists no waiting call uses, then the requirements no list
  /// uses. Profiles are few and never freed.
  void sweep() {
    for (uint32_t id = 0; id < lists.size(); ++id) {
      auto& l = lists[id];
      if (!l.live || l.refs > 0)
        continue;
      for (auto r : l.stages)
        if (r != none)
          --reqs[r].refs;
      list_ids.erase(l.canonical);
      l = selector_list{};
      free_lists.push_back(id);
    }
    unreferenced_lists = 0;
    for (uint32_t id = 0; id < reqs.size(); ++id) {
      auto& r = reqs[id];
      if (r.live && r.refs == 0) {
        req_ids.erase(r.canonical);
        // The id will name another requirement: forget its verdicts.
        for_each_common(r.known, r.known, [&](uint32_t p) {
          clear_bit(profiles[p].known, id);
          clear_bit(profiles[p].satisfied, id);
        });
        r = requirement{};
        free_reqs.push_back(id);
      }
    }
  }

  /// How many relaxation offsets of `list` have passed after `waited`.
  uint32_t stage_of(uint32_t list, int64_t waited) const {
    auto& offsets = lists[list].offsets;
    return static_cast<uint32_t>(
      std::upper_bound(offsets.begin(), offsets.end(), waited)
      - offsets.begin());
  }

  /// The requirement of `list` at `stage`, computed once per list.
  uint32_t requirement_at(uint32_t list, uint32_t stage) {
    auto& l = lists[list];
    if (l.stages[stage] == none) {
      std::vector<const selector*> active;
      // Stage s holds from the s-th offset on (from 0 for stage 0).
      int64_t from = stage == 0 ? 0 : l.offsets[stage - 1];
      for (auto& x : l.selectors)
        if ((!x.apply_after || x.apply_after->count() <= from)
            && (!x.relax_after || x.relax_after->count() > from))
          active.push_back(&x);
      auto r = requirement_of(active);
      ++reqs[r].refs;
      l.stages[stage] = r;
    }
    return l.stages[stage];
  }

  // -- matching ---------------------------------------------------------------

  int compare(const value_ref& x, const value_ref& y) const {
    if (x.text == y.text)
      return 0;
    if (x.numeric && y.numeric)
      return x.number < y.number ? -1 : (x.number > y.number ? 1 : 0);
    auto c = texts[x.text].compare(texts[y.text]);
    return c < 0 ? -1 : (c > 0 ? 1 : 0);
  }

  static const value_ref* find(const profile& p, uint32_t key) {
    auto i = std::lower_bound(p.values.begin(), p.values.end(), key,
                              [](const auto& entry, uint32_t k) {
                                return entry.first < k;
                              });
    if (i == p.values.end() || i->first != key)
      return nullptr;
    return &i->second;
  }

  bool satisfies(const profile& p, const compiled_selector& x) const {
    auto* value = find(p, x.key);
    switch (x.op) {
      case selector_op::exists: return value != nullptr;
      case selector_op::ne:
        return value == nullptr || x.values.empty()
               || compare(*value, x.values.front()) != 0;
      case selector_op::in:
        return value != nullptr
               && std::any_of(x.values.begin(), x.values.end(),
                              [&](const value_ref& v) {
                                return compare(*value, v) == 0;
                              });
      default: {
        if (value == nullptr || x.values.empty())
          return false;
        auto c = compare(*value, x.values.front());
        switch (x.op) {
          case selector_op::eq: return c == 0;
          case selector_op::gt: return c > 0;
          case selector_op::ge: return c >= 0;
          case selector_op::lt: return c < 0;
          case selector_op::le: return c <= 0;
          default: return false;
        }
      }
    }
  }

  /// The best-skill score of profile `p` for requirement `r`, or -1 if the
  /// profile does not satisfy it. Cached on both sides as bits.
  int32_t verdict(uint32_t p, uint32_t r) {
    auto& req = reqs[r];
    if (p < req.scores.size() && req.scores[p] != unknown)
      return req.scores[p];
    auto& prof = profiles[p];
    int32_t score = -1;
    bool ok = std::all_of(req.selectors.begin(), req.selectors.end(),
                          [&](const compiled_selector& x) {
                            return satisfies(prof, x);
                          });
    if (ok) {
      score = 0;
      for (auto key : req.skill_keys)
        if (auto* v = find(prof, key))
          score += static_cast<int32_t>(v->number);
      score = std::min<int32_t>(score, std::numeric_limits<int16_t>::max());
      set_bit(req.admits, p);
      set_bit(prof.satisfied, r);
    }
    if (p >= req.scores.size())
      req.scores.resize(std::max(profiles.size(), size_t{p} + 1), unknown);
    req.scores[p] = static_cast<int16_t>(score);
    set_bit(req.known, p);
    set_bit(prof.known, r);
    return score;
  }

  /// Evaluates requirement `r` against every profile in `groups` not yet
  /// known to it.
  void learn_profiles(uint32_t r, const bits& groups) {
    for_each_missing(groups, reqs[r].known, [&](uint32_t p) {
      verdict(p, r);
    });
  }

  /// Evaluates profile `p` against every requirement in `groups` not yet
  /// known to it.
  void learn_requirements(uint32_t p, const bits& groups) {
    for_each_missing(groups, profiles[p].known, [&](uint32_t r) {
      verdict(p, r);
    });
  }

  // -- queues -----------------------------------------------------------------

  uint32_t queue_handle(std::string_view id, bool create) {
    if (auto i = queue_ids.find(id); i != queue_ids.end())
      return i->second;
    if (!create)
      return none;
    auto h = static_cast<uint32_t>(queues.size());
    auto& q = queues.emplace_back();
    q.id = std::string{id};
    q.settings.id = q.id;
    queue_ids.emplace(q.id, h);
    return h;
  }

  /// Re-keys every member of a queue, e.g. after its mode changed.
  void repool_members(queue_rec& q, const queue& settings) {
    std::vector<uint32_t> members{q.members.begin(), q.members.end()};
    for (auto h : members)
      unpool(h);
    q.settings = settings;
    q.selectors_canonical = canonical_of(settings.selectors);
    for (auto h : members)
      pool(h);
  }

  /// Re-derives the requirement of every call waiting in a queue.
  void reindex_calls(queue_rec& q) {
    std::vector<uint32_t> handles;
    for (auto& pool : q.calls)
      for (auto& bucket : pool.buckets)
        for (auto& key : bucket)
          handles.push_back(key.call);
    for (auto h : handles) {
      unindex_call(h);
      auto& c = calls[h];
      auto previous = c.effective;
      c.effective = effective_list(q, c.own);
      ref_list(c.effective);
      unref_list(previous);
      index_call(h);
    }
  }

  // -- agents -----------------------------------------------------------------

  agent_rec* find_agent(std::string_view id) {
    auto i = agent_ids.find(id);
    return i == agent_ids.end() ? nullptr : &agents[i->second];
  }

  static bool eligible(const agent& a, const queue& q, channel ch) {
    return (q.routable_presences & presence_bit(a.pres)) != 0 && a.ready
           && !a.in_wrap_up && has_room(a.cap, a.load, ch);
  }

  agent_key key_for(uint32_t h, const membership& m, const queue_rec& q) {
    auto& a = agents[h].data;
    if (q.settings.mode == distribution_mode::round_robin)
      return {m.last_rr, 0, &a.id, h};
    return {load_ppm(a.cap, a.load), to_micros(a.idle_since), &a.id, h};
  }

  void pool(uint32_t h) {
    auto& a = agents[h];
    for (auto& m : a.memberships) {
      auto& q = queues[m.queue];
      m.key = key_for(h, m, q);
      m.pooled = 0;
      for (size_t i = 0; i < channel_count; ++i) {
        auto ch = static_cast<channel>(i);
        if (eligible(a.data, q.settings, ch)) {
          q.agents[i].insert(a.profile, m.key);
          m.pooled |= channel_bit(ch);
        }
      }
    }
  }

  void unpool(uint32_t h) {
    auto& a = agents[h];
    for (auto& m : a.memberships) {
      auto& q = queues[m.queue];
      for (size_t i = 0; i < channel_count; ++i)
        if (m.pooled & channel_bit(static_cast<channel>(i)))
          q.agents[i].erase(a.profile, m.key);
      m.pooled = 0;
    }
  }

  static membership* membership_in(agent_rec& a, uint32_t queue) {
    for (auto& m : a.memberships)
      if (m.queue == queue)
        return &m;
    return nullptr;
  }

  /// Runs `f` on the agent between taking it out of its pools and putting
  /// it back, so every change re-keys it consistently.
  template<class F>
  bool update_agent(std::string_view id, F f) {
    auto i = agent_ids.find(id);
    if (i == agent_ids.end())
      return false;
    auto h = i->second;
    unpool(h);
    bool result = f(agents[h]);
    pool(h);
    return result;
  }

  // -- calls ------------------------------------------------------------------

  void index_call(uint32_t h) {
    auto& c = calls[h];
    auto& q = queues[c.queue];
    auto& offsets = lists[c.effective].offsets;
    c.stage = stage_of(c.effective, now - c.key.enqueued);
    c.req = requirement_at(c.effective, c.stage);
    c.next_relax
      = c.stage < offsets.size() ? c.key.enqueued + offsets[c.stage] : never;
    c.held = !c.data.preferred_agent.empty() && c.exclusive_until > now;
    if (c.held)
      c.next_relax = std::min(c.next_relax, c.exclusive_until);
    else
      q.calls[static_cast<size_t>(c.data.channel)].insert(c.req, c.key);
    if (!c.data.preferred_agent.empty())
      preferring[c.data.preferred_agent].insert(c.key);
    ++c.generation;
    if (c.next_relax != never)
      relaxations.push({c.next_relax, h, c.generation});
  }

  void unindex_call(uint32_t h) {
    auto& c = calls[h];
    auto& q = queues[c.queue];
    if (!c.held)
      q.calls[static_cast<size_t>(c.data.channel)].erase(c.req, c.key);
    c.held = false;
    if (!c.data.preferred_agent.empty()) {
      auto i = preferring.find(c.data.preferred_agent);
      if (i != preferring.end()) {
        i->second.erase(c.key);
        if (i->second.empty())
          preferring.erase(i);
      }
    }
    c.req = none;
    ++c.generation; // invalidates pending relaxations
  }

  // -- decisions --------------------------------------------------------------

  const agent* decide_agent(uint32_t qh, channel ch, uint32_t req,
                            const std::string& preferred,
                            bool only_preferred = false) {
    auto& q = queues[qh];
    if (!preferred.empty()) {
      if (auto* a = find_agent(preferred)) {
        auto* m = membership_in(*a, qh);
        if (m != nullptr && (m->pooled & channel_bit(ch)) != 0
            && verdict(a->profile, req) >= 0)
          return &a->data;
      }
    }
    if (only_preferred)
      return nullptr;
    auto& pool = q.agents[static_cast<size_t>(ch)];
    if (pool.groups == 0)
      return nullptr;
    learn_profiles(req, pool.nonempty);
    auto& admits = reqs[req].admits;
    auto candidates = count_common(pool.nonempty, admits);
    if (candidates == 0)
      return nullptr;
    const agent_key* best = nullptr;
    if (q.settings.mode == distribution_mode::best_skill) {
      // Highest score; among equal scores the better head (lower load,
      // longer idle).
      int32_t best_score = -1;
      for_each_common(pool.nonempty, admits, [&](uint32_t p) {
        auto score = reqs[req].scores[p];
        auto& head = pool.head(p);
        if (score > best_score || (score == best_score && head < *best)) {
          best_score = score;
          best = &head;
        }
      });
      return best != nullptr ? &agents[best->agent].data : nullptr;
    }
    // With many matching profiles, walking heads best-first finds one
    // within about groups / candidates steps. Matches can bunch at the back,
    // so the walk stops after `candidates` steps; then the candidates' own
    // heads decide. Either way at most 2 x candidates heads are read.
    if (candidates * candidates > pool.groups) {
      size_t steps = 0;
      for (auto& [key, prof] : pool.heads) {
        if (test_bit(admits, prof))
          return &agents[key.agent].data;
        if (++steps == candidates)
          break;
      }
    }
    for_each_common(pool.nonempty, admits, [&](uint32_t p) {
      auto& head = pool.head(p);
      if (best == nullptr || head < *best)
        best = &head;
    });
    return best != nullptr ? &agents[best->agent].data : nullptr;
  }

  const waiting_call* decide_call(agent_rec& a) {
    const call_key* best = nullptr;
    for (auto& m : a.memberships) {
      if (m.pooled == 0)
        continue;
      auto& q = queues[m.queue];
      for (size_t i = 0; i < channel_count; ++i) {
        auto& pool = q.calls[i];
        if ((m.pooled & channel_bit(static_cast<channel>(i))) == 0
            || pool.groups == 0)
          continue;
        learn_requirements(a.profile, pool.nonempty);
        auto& satisfied = profiles[a.profile].satisfied;
        auto candidates = count_common(pool.nonempty, satisfied);
        if (candidates == 0)
          continue;
        // As in decide_agent: a bounded walk best-first when many
        // requirements match, then the candidates' own heads.
        if (candidates * candidates > pool.groups) {
          size_t steps = 0;
          bool decided = false;
          for (auto& [key, req] : pool.heads) {
            if (best != nullptr && !(key < *best)) {
              decided = true; // every later head is worse than `best`
              break;
            }
            if (test_bit(satisfied, req)) {
              best = &key;
              decided = true;
              break;
            }
            if (++steps == candidates)
              break;
          }
          if (decided)
            continue;
        }
        for_each_common(pool.nonempty, satisfied, [&](uint32_t r) {
          auto& head = pool.head(r);
          if (best == nullptr || head < *best)
            best = &head;
        });
      }
    }
    if (!preferring.empty()) {
      auto i = preferring.find(a.data.id);
      if (i != preferring.end()) {
        for (auto& key : i->second) {
          if (best != nullptr && key.priority < best->priority)
            break;
          auto& c = calls[key.call];
          auto* m = membership_in(a, c.queue);
          if (m != nullptr && (m->pooled & channel_bit(c.data.channel)) != 0
              && verdict(a.profile, c.req) >= 0) {
            best = &key;
            break;
          }
        }
      }
    }
    return best != nullptr ? &calls[best->call].data : nullptr;
  }
};

// -- matching_index -----------------------------------------------------------

matching_index::matching_index() : impl_(std::make_unique<impl>()) {}

matching_index::~matching_index() = default;

matching_index::matching_index(matching_index&&) noexcept = default;

matching_index& matching_index::operator=(matching_index&&) noexcept = default;

void matching_index::upsert_queue(const queue& given) {
  auto& d = *impl_;
  // The index knows selectors only: steps become selectors with windows.
  auto q = given;
  auto stepped = compile_steps(q.steps);
  q.selectors.insert(q.selectors.end(), stepped.begin(), stepped.end());
  q.steps.clear();
  auto h = d.queue_handle(q.id, true);
  auto& rec = d.queues[h];
  bool reselect = rec.settings.selectors != q.selectors;
  rec.configured = true;
  d.repool_members(rec, q);
  rec.settings.id = rec.id;
  if (reselect)
    d.reindex_calls(rec);
}

bool matching_index::remove_queue(std::string_view id) {
  auto& d = *impl_;
  auto h = d.queue_handle(id, false);
  if (h == none || !d.queues[h].configured || d.queues[h].waiting > 0)
    return false;
  auto& rec = d.queues[h];
  queue defaults;
  defaults.id = rec.id;
  rec.configured = false;
  d.repool_members(rec, defaults);
  return true;
}

void matching_index::upsert_agent(const agent& a) {
  auto& d = *impl_;
  uint32_t h;
  std::vector<membership> previous;
  if (auto i = d.agent_ids.find(a.id); i != d.agent_ids.end()) {
    h = i->second;
    d.unpool(h);
    previous = std::move(d.agents[h].memberships);
    for (auto& m : previous)
      d.queues[m.queue].members.erase(h);
    d.agent_ids.erase(i);
  } else {
    h = allocate(d.agents, d.free_agents);
  }
  auto& rec = d.agents[h];
  rec.data = a;
  rec.live = true;
  rec.profile = d.profile_of(a.attrs);
  rec.memberships.clear();
  for (auto& queue_id : a.queues) {
    auto qh = d.queue_handle(queue_id, true);
    if (impl::membership_in(rec, qh) != nullptr)
      continue;
    membership m;
    m.queue = qh;
    for (auto& old : previous)
      if (old.queue == qh)
        m.last_rr = old.last_rr;
    rec.memberships.push_back(m);
    d.queues[qh].members.insert(h);
  }
  d.agent_ids.emplace(rec.data.id, h);
  d.pool(h);
}

bool matching_index::remove_agent(std::string_view id) {
  auto& d = *impl_;
  auto i = d.agent_ids.find(id);
  if (i == d.agent_ids.end())
    return false;
  auto h = i->second;
  d.unpool(h);
  d.agent_ids.erase(i);
  auto& rec = d.agents[h];
  for (auto& m : rec.memberships)
    d.queues[m.queue].members.erase(h);
  rec = agent_rec{};
  d.free_agents.push_back(h);
  return true;
}

bool matching_index::set_presence(std::string_view id, presence p) {
  return impl_->update_agent(id, [&](agent_rec& a) {
    a.data.pres = p;
    return true;
  });
}

bool matching_index::set_ready(std::string_view id, bool ready,
                               std::string reason) {
  return impl_->update_agent(id, [&](agent_rec& a) {
    a.data.ready = ready;
    a.data.not_ready_reason = ready ? std::string{} : std::move(reason);
    return true;
  });
}

bool matching_index::set_wrap_up(std::string_view id, bool on, timestamp now) {
  return impl_->update_agent(id, [&](agent_rec& a) {
    bool was = a.data.in_wrap_up;
    a.data.in_wrap_up = on;
    if (was && !on
        && std::all_of(a.data.load.begin(), a.data.load.end(), [](uint16_t n) {
             return n == 0;
           }))
      a.data.idle_since = now;
    return true;
  });
}

bool matching_index::reserve(std::string_view agent_id,
                             std::string_view queue_id, channel ch) {
  auto& d = *impl_;
  auto qh = d.queue_handle(queue_id, false);
  return d.update_agent(agent_id, [&](agent_rec& a) {
    if (!has_room(a.data.cap, a.data.load, ch))
      return false;
    ++a.data.load[static_cast<size_t>(ch)];
    if (qh != none)
      if (auto* m = impl::membership_in(a, qh))
        m->last_rr = ++d.queues[qh].rr_clock;
    return true;
  });
}

bool matching_index::release(std::string_view agent_id, channel ch,
                             timestamp now) {
  return impl_->update_agent(agent_id, [&](agent_rec& a) {
    auto& n = a.data.load[static_cast<size_t>(ch)];
    if (n == 0)
      return false;
    --n;
    bool idle
      = std::all_of(a.data.load.begin(), a.data.load.end(), [](uint16_t x) {
          return x == 0;
        });
    if (idle && !a.data.in_wrap_up)
      a.data.idle_since = now;
    return true;
  });
}

const agent* matching_index::find_agent(std::string_view id) const {
  auto& d = *impl_;
  auto i = d.agent_ids.find(id);
  return i == d.agent_ids.end() ? nullptr : &d.agents[i->second].data;
}

size_t matching_index::agent_count() const { return impl_->agent_ids.size(); }

enqueue_status matching_index::enqueue(const call& c, int32_t boost,
                                       timestamp exclusive_until) {
  auto& d = *impl_;
  auto qh = d.queue_handle(c.queue_id, false);
  if (qh == none || !d.queues[qh].configured)
    return enqueue_status::unknown_queue;
  if (d.call_ids.count(c.id) > 0)
    return enqueue_status::already_waiting;
  auto h = allocate(d.calls, d.free_calls);
  auto& rec = d.calls[h];
  auto& q = d.queues[qh];
  auto priority = add_priority(c.priority, boost);
  rec.data
    = {c.id, q.id, c.channel, priority, c.preferred_agent, c.enqueued_at};
  rec.live = true;
  rec.queue = qh;
  rec.own = d.own_list(c);
  d.ref_list(rec.own);
  rec.effective = d.effective_list(q, rec.own);
  d.ref_list(rec.effective);
  rec.key = {priority, to_micros(c.enqueued_at), &rec.data.id, h};
  rec.exclusive_until = to_micros(exclusive_until);
  d.call_ids.emplace(rec.data.id, h);
  d.index_call(h);
  ++q.waiting;
  ++d.waiting;
  return enqueue_status::ok;
}

bool matching_index::remove_call(std::string_view id) {
  auto& d = *impl_;
  auto i = d.call_ids.find(id);
  if (i == d.call_ids.end())
    return false;
  auto h = i->second;
  d.unindex_call(h);
  d.call_ids.erase(i);
  auto& rec = d.calls[h];
  d.unref_list(rec.effective);
  d.unref_list(rec.own);
  --d.queues[rec.queue].waiting;
  --d.waiting;
  auto generation = rec.generation;
  rec = call_rec{};
  rec.generation = generation;
  d.free_calls.push_back(h);
  return true;
}

const waiting_call* matching_index::find_call(std::string_view id) const {
  auto& d = *impl_;
  auto i = d.call_ids.find(id);
  return i == d.call_ids.end() ? nullptr : &d.calls[i->second].data;
}

size_t matching_index::waiting_count() const { return impl_->waiting; }

size_t matching_index::waiting_count(std::string_view queue_id) const {
  auto& d = *impl_;
  auto i = d.queue_ids.find(queue_id);
  return i == d.queue_ids.end() ? 0 : d.queues[i->second].waiting;
}

bool matching_index::assign(std::string_view call_id,
                            std::string_view agent_id) {
  auto* c = find_call(call_id);
  if (c == nullptr || find_agent(agent_id) == nullptr)
    return false;
  auto queue_id = c->queue_id;
  auto ch = c->channel;
  if (!reserve(agent_id, queue_id, ch))
    return false;
  return remove_call(call_id);
}

std::vector<std::string> matching_index::advance_to(timestamp now) {
  auto& d = *impl_;
  d.now = std::max(d.now, to_micros(now));
  std::vector<std::string> widened;
  while (!d.relaxations.empty() && d.relaxations.top().deadline <= d.now) {
    auto entry = d.relaxations.top();
    d.relaxations.pop();
    auto& c = d.calls[entry.call];
    if (!c.live || c.generation != entry.generation)
      continue;
    // Requirements are only freed by sweeps, which relaxing never starts,
    // so ids compare.
    auto before = c.req;
    auto was_held = c.held;
    d.unindex_call(entry.call);
    d.index_call(entry.call);
    if (c.req != before || (was_held && !c.held))
      widened.push_back(c.data.id);
  }
  return widened;
}

std::optional<timestamp> matching_index::next_relaxation() const {
  auto& d = *impl_;
  // Drops entries made stale by removals or re-indexing on the way: they
  // are garbage, not state, so this stays logically const.
  while (!d.relaxations.empty()) {
    auto& top = d.relaxations.top();
    auto& c = d.calls[top.call];
    if (c.live && c.generation == top.generation)
      return from_micros(top.deadline);
    d.relaxations.pop();
  }
  return std::nullopt;
}

timestamp matching_index::now() const { return from_micros(impl_->now); }

const agent* matching_index::best_agent_for(std::string_view call_id) {
  auto& d = *impl_;
  auto i = d.call_ids.find(call_id);
  if (i == d.call_ids.end())
    return nullptr;
  auto& c = d.calls[i->second];
  return d.decide_agent(c.queue, c.data.channel, c.req, c.data.preferred_agent,
                        c.held);
}

const agent* matching_index::best_agent_for(const call& c) {
  auto& d = *impl_;
  auto qh = d.queue_handle(c.queue_id, false);
  if (qh == none || !d.queues[qh].configured)
    return nullptr;
  auto& q = d.queues[qh];
  // Under load nobody is idle: no need to look at the call at all.
  if (q.agents[static_cast<size_t>(c.channel)].groups == 0)
    return nullptr;
  // Interned but unreferenced: the next sweep frees them unless a waiting
  // call takes them up.
  auto own = d.own_list(c);
  if (!q.settings.selectors.empty()) {
    d.ref_list(own); // keeps `own` through a sweep in effective_list
    auto effective = d.effective_list(q, own);
    d.unref_list(own);
    own = effective;
  }
  auto stage = d.stage_of(own, d.now - to_micros(c.enqueued_at));
  auto req = d.requirement_at(own, stage);
  return d.decide_agent(qh, c.channel, req, c.preferred_agent);
}

const waiting_call* matching_index::best_call_for(std::string_view agent_id) {
  auto& d = *impl_;
  auto* a = d.find_agent(agent_id);
  return a == nullptr ? nullptr : d.decide_call(*a);
}

size_t matching_index::profile_count() const { return impl_->profiles.size(); }

size_t matching_index::requirement_count() const {
  return impl_->req_ids.size();
}

size_t matching_index::selector_list_count() const {
  return impl_->list_ids.size();
}

uint32_t best_skill_score(const std::vector<selector>& active,
                          const attributes& attrs) {
  std::vector<std::string_view> seen;
  uint32_t score = 0;
  for (auto& x : active) {
    if (x.kind != selector_kind::skill)
      continue;
    if (std::find(seen.begin(), seen.end(), x.name) != seen.end())
      continue;
    seen.push_back(x.name);
    if (auto i = attrs.skills.find(x.name); i != attrs.skills.end())
      score += i->second;
  }
  return score;
}

} // namespace switchboard::routing
