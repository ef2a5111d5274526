#pragma once

#include "routing/time.hpp"

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace switchboard::routing {

/// What selectors test on an agent: skills with a proficiency 0..100 and
/// free labels (`language = es`, `site = lisbon`).
struct attributes {
  std::map<std::string, uint8_t, std::less<>> skills;
  std::map<std::string, std::string, std::less<>> labels;
};

/// Whether a selector tests a skill or a label.
enum class selector_kind : uint8_t { skill, label };

enum class selector_op : uint8_t { eq, ne, gt, ge, lt, le, exists, in };

std::string_view to_string(selector_op op);

/// One requirement on an agent: `skill.billing >= 60`,
/// `label.language in (es, pt)`. Semantics:
/// - EXISTS: the agent has the skill or label.
/// - NE: the agent lacks it or has another value.
/// - every other op: the agent has it and its value compares true.
/// Skill values are integers 0..100. Labels compare as integers when both
/// sides are integers, otherwise as text (exactly, case-sensitive).
struct selector {
  selector_kind kind = selector_kind::skill;
  std::string name;
  selector_op op = selector_op::exists;
  /// One value for comparisons, one or more for IN, none for EXISTS.
  std::vector<std::string> values;
  /// The selector starts applying once the call has waited this long
  /// (the later steps of stepwise relaxation).
  std::optional<duration> apply_after;
  /// The selector stops applying once the call has waited this long.
  std::optional<duration> relax_after;

  friend bool operator==(const selector& x, const selector& y) {
    return x.kind == y.kind && x.name == y.name && x.op == y.op
           && x.values == y.values && x.apply_after == y.apply_after
           && x.relax_after == y.relax_after;
  }
};

/// True while a call that has waited `waited` is bound by `x`.
inline bool is_active(const selector& x, duration waited) {
  return (!x.apply_after || waited >= *x.apply_after)
         && (!x.relax_after || waited < *x.relax_after);
}

/// One step of stepwise relaxation: its selectors apply for `timeout`,
/// then the next step's apply. The last step applies for good (its
/// timeout is not used); a step without selectors admits every agent the
/// queue's other requirements admit.
struct selector_step {
  std::vector<selector> selectors;
  duration timeout{0};

  friend bool operator==(const selector_step& x, const selector_step& y) {
    return x.selectors == y.selectors && x.timeout == y.timeout;
  }
};

/// The steps as selectors that apply in their step's time window (from
/// the sum of the earlier timeouts until that plus their own).
std::vector<selector> compile_steps(const std::vector<selector_step>& steps);

/// Evaluates `x` against `attrs`. This is the plain definition; the
/// matching index evaluates compiled selectors to the same result.
bool matches(const selector& x, const attributes& attrs);

/// Checks a selector built by code or received over the API. Returns a
/// message naming what is wrong, or nothing when the selector is valid.
std::optional<std::string> validate(const selector& x);

/// The compact text form, e.g. `skill.billing >= 60 relax after 30s`.
std::string to_string(const selector& x);

/// Clauses joined by ` and `.
std::string to_string(const std::vector<selector>& xs);

/// Where and why text failed to parse. `column` counts from 1.
struct parse_error {
  size_t column = 0;
  std::string message;

  /// "column 17: expected ..."
  std::string to_string() const;
};

struct selector_parse_result {
  std::vector<selector> selectors;
  std::optional<parse_error> error;

  explicit operator bool() const { return !error; }
};

/// Parses the compact form:
///
///   selectors := clause ("and" clause)*
///   clause    := key [op value | "in" "(" value ("," value)* ")" | "exists"]
///                ["apply" "after" duration] ["relax" "after" duration]
///   key       := ("skill" | "label") "." name
///   op        := "==" | "=" | "!=" | ">" | ">=" | "<" | "<="
///   value     := word | "quoted text"
///   duration  := integer ("ms" | "s" | "m" | "h")
///
/// A bare key means EXISTS. Keywords ignore letter case. Empty text is an
/// empty list.
selector_parse_result parse_selectors(std::string_view text);

} // namespace switchboard::routing
