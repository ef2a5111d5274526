#include "routing/selector.hpp"

#include "routing/values.hpp"

#include <algorithm>
#include <cctype>

namespace switchboard::routing {

namespace {

bool compare(selector_op op, int c) {
  switch (op) {
    case selector_op::eq: return c == 0;
    case selector_op::ne: return c != 0;
    case selector_op::gt: return c > 0;
    case selector_op::ge: return c >= 0;
    case selector_op::lt: return c < 0;
    case selector_op::le: return c <= 0;
    default: return false;
  }
}

bool is_name_char(char c) {
  return std::isalnum(static_cast<unsigned char>(c)) || c == '_' || c == '-'
         || c == '.' || c == ':' || c == '/';
}

bool is_word_char(char c) {
  return is_name_char(c) || c == '+' || c == '@' || c == '#' || c == '*';
}

std::string format_duration(duration d) {
  auto us = d.count();
  if (us % 3'600'000'000 == 0 && us != 0)
    return std::to_string(us / 3'600'000'000) + "h";
  if (us % 60'000'000 == 0 && us != 0)
    return std::to_string(us / 60'000'000) + "m";
  if (us % 1'000'000 == 0)
    return std::to_string(us / 1'000'000) + "s";
  return std::to_string(us / 1000) + "ms";
}

std::string format_value(const std::string& value) {
  bool plain
    = !value.empty() && std::all_of(value.begin(), value.end(), is_word_char);
  if (plain && !iequals(value, "and") && !iequals(value, "relax")
      && !iequals(value, "apply"))
    return value;
  std::string result = "\"";
  for (auto c : value) {
    if (c == '"' || c == '\\')
      result += '\\';
    result += c;
  }
  result += '"';
  return result;
}

/// A recursive-descent parser over the compact form. Positions are byte
/// offsets; errors report them as 1-based columns.
class parser {
 public:
  explicit parser(std::string_view text) : text_(text) {}

  selector_parse_result run() {
    selector_parse_result result;
    skip_space();
    if (at_end())
      return result;
    for (;;) {
      skip_space();
      auto start = pos_;
      auto x = clause();
      // What reads well may still never apply (relax before apply):
      // said here, at its clause, rather than by the API later.
      if (x)
        if (auto problem = validate(*x)) {
          fail(start, *problem);
          x.reset();
        }
      if (!x) {
        result.selectors.clear();
        result.error = std::move(error_);
        return result;
      }
      result.selectors.push_back(std::move(*x));
      skip_space();
      if (at_end())
        return result;
      auto pos = pos_;
      auto word = next_word();
      if (!iequals(word, "and")) {
        fail(pos, "expected 'and' or the end of the selectors, found "
                    + describe(pos));
        result.selectors.clear();
        result.error = std::move(error_);
        return result;
      }
    }
  }

 private:
  std::optional<selector> clause() {
    selector x;
    skip_space();
    auto key_pos = pos_;
    auto key = next_name();
    if (key.empty())
      return fail(key_pos, "expected a key (skill.NAME or label.NAME), found "
                             + describe(key_pos));
    auto dot = key.find('.');
    auto prefix = key.substr(0, dot);
    if (dot == std::string_view::npos || dot + 1 == key.size()
        || !(iequals(prefix, "skill") || iequals(prefix, "label")))
      return fail(key_pos, "expected a key of the form skill.NAME or "
                           "label.NAME, found '"
                             + std::string{key} + "'");
    x.kind
      = iequals(prefix, "skill") ? selector_kind::skill : selector_kind::label;
    x.name = std::string{key.substr(dot + 1)};
    skip_space();
    auto op_pos = pos_;
    if (at_end() || peek_keyword("and") || peek_keyword("relax")
        || peek_keyword("apply")) {
      x.op = selector_op::exists;
    } else if (auto op = next_operator()) {
      x.op = *op;
      skip_space();
      auto value_pos = pos_;
      auto value = next_value();
      if (!value)
        return std::nullopt;
      if (!check_value(x, *value, value_pos))
        return std::nullopt;
      x.values.push_back(std::move(*value));
    } else {
      auto word = next_word();
      if (iequals(word, "exists")) {
        x.op = selector_op::exists;
      } else if (iequals(word, "in")) {
        x.op = selector_op::in;
        if (!in_list(x))
          return std::nullopt;
      } else {
        return fail(op_pos, "expected an operator (==, !=, >, >=, <, <=, in, "
                            "exists) after '"
                              + std::string{key} + "', found "
                              + describe(op_pos));
      }
    }
    skip_space();
    if (!timing("apply", x.apply_after) || !timing("relax", x.relax_after))
      return std::nullopt;
    return x;
  }

  /// `keyword after duration`, if the text goes on with `keyword`.
  bool timing(const char* keyword, std::optional<duration>& out) {
    if (!peek_keyword(keyword))
      return true;
    next_word();
    skip_space();
    auto after_pos = pos_;
    if (!iequals(next_word(), "after"))
      return fail_bool(after_pos, "expected 'after' following '"
                                    + std::string{keyword} + "', found "
                                    + describe(after_pos));
    skip_space();
    auto d = next_duration();
    if (!d)
      return false;
    out = *d;
    skip_space();
    return true;
  }

  bool in_list(selector& x) {
    skip_space();
    if (!consume('('))
      return fail_bool(pos_, "expected '(' to open the list after 'in', found "
                               + describe(pos_));
    for (;;) {
      skip_space();
      auto value_pos = pos_;
      auto value = next_value();
      if (!value)
        return false;
      if (!check_value(x, *value, value_pos))
        return false;
      x.values.push_back(std::move(*value));
      skip_space();
      if (consume(')'))
        return true;
      if (!consume(','))
        return fail_bool(pos_, "expected ',' or ')' in the list, found "
                                 + describe(pos_));
    }
  }

  bool check_value(const selector& x, const std::string& value, size_t pos) {
    if (x.kind != selector_kind::skill)
      return true;
    auto n = parse_integer(value);
    if (!n || *n < 0 || *n > 100)
      return fail_bool(pos, "a skill proficiency is an integer 0..100, found '"
                              + value + "'");
    return true;
  }

  std::optional<std::string> next_value() {
    auto start = pos_;
    if (consume('"')) {
      std::string result;
      while (!at_end() && text_[pos_] != '"') {
        if (text_[pos_] == '\\' && pos_ + 1 < text_.size())
          ++pos_;
        result += text_[pos_++];
      }
      if (!consume('"')) {
        fail(start, "unterminated quoted value (missing closing '\"')");
        return std::nullopt;
      }
      return result;
    }
    auto word = next_word();
    if (word.empty()) {
      fail(start, "expected a value, found " + describe(start));
      return std::nullopt;
    }
    return std::string{word};
  }

  std::optional<duration> next_duration() {
    auto start = pos_;
    size_t digits_end = pos_;
    while (digits_end < text_.size()
           && std::isdigit(static_cast<unsigned char>(text_[digits_end])))
      ++digits_end;
    auto number = parse_integer(text_.substr(pos_, digits_end - pos_));
    pos_ = digits_end;
    auto unit_start = pos_;
    while (!at_end() && std::isalpha(static_cast<unsigned char>(text_[pos_])))
      ++pos_;
    auto unit = text_.substr(unit_start, pos_ - unit_start);
    if (!number) {
      fail(start, "expected a duration such as 30s, 500ms, 2m or 1h, found "
                    + describe(start));
      return std::nullopt;
    }
    // Bounded before it is multiplied out, as the API bounds a Duration.
    constexpr int64_t max_ms = 10LL * 365 * 24 * 3600 * 1000;
    int64_t per_ms = 0;
    if (iequals(unit, "ms"))
      per_ms = 1;
    else if (iequals(unit, "s"))
      per_ms = 1000;
    else if (iequals(unit, "m"))
      per_ms = 60'000;
    else if (iequals(unit, "h"))
      per_ms = 3'600'000;
    if (per_ms == 0) {
      fail(unit_start, "expected a duration unit (ms, s, m, h), found "
                         + describe(unit_start));
      return std::nullopt;
    }
    if (*number < 0 || *number > max_ms / per_ms) {
      fail(start,
           "a duration must be at most ten years, found " + describe(start));
      return std::nullopt;
    }
    return std::chrono::milliseconds{*number * per_ms};
  }

  std::optional<selector_op> next_operator() {
    // One of = == != > >= < <=: a first character, then maybe '='.
    if (at_end())
      return std::nullopt;
    auto first = text_[pos_];
    bool then_eq = pos_ + 1 < text_.size() && text_[pos_ + 1] == '=';
    selector_op op;
    switch (first) {
      case '=': op = selector_op::eq; break;
      case '!':
        if (!then_eq)
          return std::nullopt;
        op = selector_op::ne;
        break;
      case '>': op = then_eq ? selector_op::ge : selector_op::gt; break;
      case '<': op = then_eq ? selector_op::le : selector_op::lt; break;
      default: return std::nullopt;
    }
    pos_ += then_eq ? 2 : 1;
    return op;
  }

  std::string_view next_name() {
    auto start = pos_;
    while (!at_end() && is_name_char(text_[pos_]))
      ++pos_;
    return text_.substr(start, pos_ - start);
  }

  std::string_view next_word() {
    auto start = pos_;
    while (!at_end() && is_word_char(text_[pos_]))
      ++pos_;
    return text_.substr(start, pos_ - start);
  }

  bool peek_keyword(std::string_view keyword) {
    auto saved = pos_;
    auto word = next_word();
    pos_ = saved;
    return iequals(word, keyword);
  }

  bool consume(char c) {
    if (!at_end() && text_[pos_] == c) {
      ++pos_;
      return true;
    }
    return false;
  }

  void skip_space() {
    while (!at_end() && std::isspace(static_cast<unsigned char>(text_[pos_])))
      ++pos_;
  }

  bool at_end() const { return pos_ >= text_.size(); }

  std::string describe(size_t pos) const {
    if (pos >= text_.size())
      return "the end of the text";
    if (std::isspace(static_cast<unsigned char>(text_[pos])))
      return "a space";
    auto end = pos;
    if (is_word_char(text_[end])) {
      while (end < text_.size() && is_word_char(text_[end]))
        ++end;
    } else {
      ++end;
    }
    return "'" + std::string{text_.substr(pos, end - pos)} + "'";
  }

  std::nullopt_t fail(size_t pos, std::string message) {
    if (!error_)
      error_ = parse_error{pos + 1, std::move(message)};
    return std::nullopt;
  }

  bool fail_bool(size_t pos, std::string message) {
    fail(pos, std::move(message));
    return false;
  }

  std::string_view text_;
  size_t pos_ = 0;
  std::optional<parse_error> error_;
};

} // namespace

std::string_view to_string(selector_op op) {
  switch (op) {
    case selector_op::eq: return "==";
    case selector_op::ne: return "!=";
    case selector_op::gt: return ">";
    case selector_op::ge: return ">=";
    case selector_op::lt: return "<";
    case selector_op::le: return "<=";
    case selector_op::exists: return "exists";
    case selector_op::in: return "in";
  }
  return "?";
}

bool matches(const selector& x, const attributes& attrs) {
  std::optional<std::string> value;
  if (x.kind == selector_kind::skill) {
    if (auto i = attrs.skills.find(x.name); i != attrs.skills.end())
      value = std::to_string(i->second);
  } else {
    if (auto i = attrs.labels.find(x.name); i != attrs.labels.end())
      value = i->second;
  }
  switch (x.op) {
    case selector_op::exists: return value.has_value();
    case selector_op::ne:
      return !value || x.values.empty()
             || compare_values(*value, x.values.front()) != 0;
    case selector_op::in:
      return value
             && std::any_of(x.values.begin(), x.values.end(),
                            [&](const std::string& v) {
                              return compare_values(*value, v) == 0;
                            });
    default:
      return value && !x.values.empty()
             && compare(x.op, compare_values(*value, x.values.front()));
  }
}

std::optional<std::string> validate(const selector& x) {
  auto key = std::string{x.kind == selector_kind::skill ? "skill." : "label."}
             + x.name;
  if (x.name.empty()
      || !std::all_of(x.name.begin(), x.name.end(), is_name_char))
    return "selector key '" + key
           + "': name must be non-empty letters, digits, _ - . : /";
  if (x.op == selector_op::exists && !x.values.empty())
    return "selector '" + key + " exists' takes no value";
  if (x.op == selector_op::in && x.values.empty())
    return "selector '" + key + " in' needs at least one value";
  if (x.op != selector_op::exists && x.op != selector_op::in
      && x.values.size() != 1)
    return "selector '" + key + " " + std::string{to_string(x.op)}
           + "' needs exactly one value";
  if (x.kind == selector_kind::skill) {
    for (auto& v : x.values) {
      auto n = parse_integer(v);
      if (!n || *n < 0 || *n > 100)
        return "selector '" + key
               + "': a skill proficiency is an integer 0..100, found '" + v
               + "'";
    }
  }
  if (x.relax_after && x.relax_after->count() < 0)
    return "selector '" + key + "': relax_after must not be negative";
  if (x.apply_after && x.apply_after->count() < 0)
    return "selector '" + key + "': apply_after must not be negative";
  if (x.apply_after && x.relax_after && *x.relax_after <= *x.apply_after)
    return "selector '" + key
           + "': relax_after must come after apply_after, or the selector "
             "never applies";
  return std::nullopt;
}

std::vector<selector> compile_steps(const std::vector<selector_step>& steps) {
  std::vector<selector> result;
  duration start{0};
  for (size_t i = 0; i < steps.size(); ++i) {
    bool last = i + 1 == steps.size();
    for (auto x : steps[i].selectors) {
      if (start.count() > 0)
        x.apply_after = start;
      else
        x.apply_after.reset();
      if (last)
        x.relax_after.reset();
      else
        x.relax_after = start + steps[i].timeout;
      result.push_back(std::move(x));
    }
    start += steps[i].timeout;
  }
  return result;
}

std::string to_string(const selector& x) {
  std::string result = x.kind == selector_kind::skill ? "skill." : "label.";
  result += x.name;
  switch (x.op) {
    case selector_op::exists: result += " exists"; break;
    case selector_op::in: {
      result += " in (";
      for (size_t i = 0; i < x.values.size(); ++i) {
        if (i > 0)
          result += ", ";
        result += format_value(x.values[i]);
      }
      result += ')';
      break;
    }
    default:
      result += ' ';
      result += to_string(x.op);
      result += ' ';
      result += x.values.empty() ? std::string{"\"\""}
                                 : format_value(x.values.front());
  }
  if (x.apply_after)
    result += " apply after " + format_duration(*x.apply_after);
  if (x.relax_after)
    result += " relax after " + format_duration(*x.relax_after);
  return result;
}

std::string to_string(const std::vector<selector>& xs) {
  std::string result;
  for (auto& x : xs) {
    if (!result.empty())
      result += " and ";
    result += to_string(x);
  }
  return result;
}

std::string parse_error::to_string() const {
  return "column " + std::to_string(column) + ": " + message;
}

selector_parse_result parse_selectors(std::string_view text) {
  return parser{text}.run();
}

} // namespace switchboard::routing
