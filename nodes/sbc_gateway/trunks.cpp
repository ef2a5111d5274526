#include "nodes/sbc_gateway/trunks.hpp"

#include <algorithm>
#include <cctype>
#include <fstream>
#include <set>
#include <sstream>

namespace switchboard::sbc {

namespace {

std::string lower(std::string_view text) {
  std::string out{text};
  for (auto& c : out)
    c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

bool is_e164(std::string_view x) {
  if (x.size() < 2 || x.size() > 16 || x.front() != '+')
    return false;
  return std::all_of(x.begin() + 1, x.end(), [](char c) {
    return c >= '0' && c <= '9';
  });
}

bool is_fqdn(std::string_view x) {
  if (x.empty() || x.size() > 253)
    return false;
  return std::all_of(x.begin(), x.end(), [](char c) {
    return std::isalnum(static_cast<unsigned char>(c)) || c == '-' || c == '.';
  });
}

bool is_id(std::string_view x) {
  if (x.empty() || x.size() > 256)
    return false;
  return std::all_of(x.begin(), x.end(), [](char c) {
    return c > ' ' && c < 127;
  });
}

} // namespace

trunk_table trunk_table::parse(std::string_view text, std::string& error) {
  trunk_table table;
  std::map<std::string, int> number_lines;
  std::istringstream in{std::string{text}};
  std::string raw;
  int line = 0;
  auto fail = [&](const std::string& what) {
    error = "line " + std::to_string(line) + ": " + what;
    return trunk_table{};
  };
  while (std::getline(in, raw)) {
    ++line;
    if (auto hash = raw.find('#'); hash != std::string::npos)
      raw.erase(hash);
    std::istringstream words{raw};
    std::vector<std::string> w;
    for (std::string x; words >> x;)
      w.push_back(x);
    if (w.empty())
      continue;
    if (w.size() < 2)
      return fail("expected a trunk FQDN, a tenant id and optional E.164 "
                  "numbers, found '"
                  + w[0] + "'");
    trunk t;
    t.fqdn = lower(w[0]);
    t.tenant_id = w[1];
    t.line = line;
    if (!is_fqdn(t.fqdn))
      return fail("'" + w[0] + "' is not an FQDN");
    if (!is_id(t.tenant_id))
      return fail("'" + w[1] + "' is not a tenant id");
    if (auto i = table.by_fqdn_.find(t.fqdn); i != table.by_fqdn_.end())
      return fail("trunk '" + t.fqdn + "' is already listed on line "
                  + std::to_string(i->second.line));
    for (size_t i = 2; i < w.size(); ++i) {
      if (!is_e164(w[i]))
        return fail("'" + w[i]
                    + "' is not an E.164 number (+ and 1 to 15 digits)");
      if (auto seen = number_lines.find(w[i]); seen != number_lines.end())
        return fail("number " + w[i] + " is already listed on line "
                    + std::to_string(seen->second));
      number_lines[w[i]] = line;
      t.numbers.push_back(w[i]);
    }
    auto key = t.fqdn;
    table.by_fqdn_.emplace(std::move(key), std::move(t));
  }
  error.clear();
  return table;
}

trunk_table trunk_table::load(const std::string& path, std::string& error) {
  std::ifstream in{path};
  if (!in) {
    error = "cannot read the trunks file '" + path + "'";
    return {};
  }
  std::stringstream text;
  text << in.rdbuf();
  auto table = parse(text.str(), error);
  if (!error.empty())
    error = "trunks file '" + path + "', " + error;
  return table;
}

const trunk* trunk_table::find(std::string_view fqdn) const {
  auto i = by_fqdn_.find(lower(fqdn));
  return i == by_fqdn_.end() ? nullptr : &i->second;
}

std::vector<std::string> trunk_table::tenants() const {
  std::set<std::string> ids;
  for (auto& [_, t] : by_fqdn_)
    ids.insert(t.tenant_id);
  return {ids.begin(), ids.end()};
}

std::string trunk_table::fqdn_of(std::string_view tenant_id) const {
  for (auto& [fqdn, t] : by_fqdn_)
    if (t.tenant_id == tenant_id)
      return fqdn;
  return {};
}

std::string trunk_fqdn(const invite_facts& x) {
  if (!x.contact_host.empty())
    return x.contact_host;
  if (!x.record_route_host.empty())
    return x.record_route_host;
  return x.request_host;
}

std::string dialled_number(std::string_view request_user) {
  auto semi = request_user.find(';');
  return std::string{request_user.substr(0, semi)};
}

admission admit(const invite_facts& x, const trunk_table& trunks,
                const std::vector<std::string>& allowed_sources,
                bool router_up) {
  admission a;
  if (!allowed_sources.empty()
      && std::find(allowed_sources.begin(), allowed_sources.end(),
                   x.source_host)
           == allowed_sources.end()) {
    a.status = 403;
    a.phrase = "Forbidden";
    a.why = "source";
    a.reason = "source address " + x.source_host + " is not an allowed SBC";
    return a;
  }
  a.trunk_fqdn = lower(trunk_fqdn(x));
  a.number = dialled_number(x.request_user);
  auto* t = trunks.find(a.trunk_fqdn);
  if (t == nullptr) {
    a.status = 403;
    a.phrase = "Forbidden";
    a.why = "trunk";
    a.reason = "unknown trunk FQDN '" + a.trunk_fqdn
               + "' (from Contact, Record-Route or Request-URI)";
    return a;
  }
  a.tenant_id = t->tenant_id;
  if (!t->numbers.empty()
      && std::find(t->numbers.begin(), t->numbers.end(), a.number)
           == t->numbers.end()) {
    a.status = 404;
    a.phrase = "Not Found";
    a.why = "number";
    a.reason
      = "number '" + a.number + "' is not a number of trunk " + a.trunk_fqdn;
    return a;
  }
  if (!x.has_body || lower(x.content_type) != "application/sdp") {
    a.status = 488;
    a.phrase = "Not Acceptable Here";
    a.why = "no_sdp";
    a.reason = "INVITE without an SDP offer";
    return a;
  }
  if (!router_up) {
    a.status = 503;
    a.phrase = "Service Unavailable";
    a.why = "router_down";
    a.reason = "no routing engine reachable";
    a.retry_after = true;
    return a;
  }
  return a;
}

} // namespace switchboard::sbc
