#include "nodes/graph_gateway/notifications.hpp"

#include "nodes/json/json.hpp"

namespace switchboard::graph {

namespace bj = boost::json;
using json::find;
using json::iequals;
using json::string_at;

namespace {

// `#microsoft.graph.call` → "call"; compared case-insensitively by callers.
std::string type_of(const bj::value& v) {
  auto t = string_at(v, "@odata.type");
  auto dot = t.rfind('.');
  return dot == std::string::npos ? t : t.substr(dot + 1);
}

std::optional<party> read_identity_set(const bj::value* set) {
  if (set == nullptr || !set->is_object())
    return std::nullopt;
  for (const auto& kv : set->get_object()) {
    if (kv.key().empty() || kv.key().front() == '@' || !kv.value().is_object())
      continue;
    party who;
    who.kind = std::string{kv.key()};
    who.id = string_at(kv.value(), "id");
    who.display_name = string_at(kv.value(), "displayName");
    who.tenant_id = string_at(kv.value(), "tenantId");
    return who;
  }
  return std::nullopt;
}

std::optional<party> read_participant_info(const bj::value* info) {
  if (info == nullptr)
    return std::nullopt;
  return read_identity_set(find(*info, "identity"));
}

std::optional<result_info> read_result(const bj::value& v) {
  auto* r = find(v, "resultInfo");
  if (r == nullptr || !r->is_object())
    return std::nullopt;
  result_info out;
  out.code = json::int_at(*r, "code").value_or(0);
  out.subcode = json::int_at(*r, "subcode").value_or(0);
  out.message = string_at(*r, "message");
  return out;
}

} // namespace

call_resource read_call(const bj::value& v) {
  call_resource c;
  c.id = string_at(v, "id");
  c.state = string_at(v, "state");
  c.direction = string_at(v, "direction");
  c.tenant_id = string_at(v, "tenantId");
  c.call_chain_id = string_at(v, "callChainId");
  c.my_participant_id = string_at(v, "myParticipantId");
  c.source = read_participant_info(find(v, "source"));
  if (auto* targets = find(v, "targets"); targets && targets->is_array())
    for (const auto& t : targets->get_array())
      if (auto who = read_participant_info(&t))
        c.targets.push_back(std::move(*who));
  if (auto* ctx = find(v, "incomingContext")) {
    c.source_participant_id = string_at(*ctx, "sourceParticipantId");
    c.observed_participant_id = string_at(*ctx, "observedParticipantId");
    c.on_behalf_of = read_identity_set(find(*ctx, "onBehalfOf"));
    c.transferor = read_identity_set(find(*ctx, "transferor"));
  }
  c.result = read_result(v);
  if (auto* tone = find(v, "toneInfo")) {
    c.tone = string_at(*tone, "tone");
    c.tone_sequence = json::int_at(*tone, "sequenceId").value_or(0);
  }
  return c;
}

participant read_participant(const bj::value& v) {
  participant p;
  p.id = string_at(v, "id");
  p.who = read_participant_info(find(v, "info"));
  p.in_lobby = json::bool_at(v, "isInLobby").value_or(false);
  p.muted = json::bool_at(v, "isMuted").value_or(false);
  return p;
}

std::vector<participant> read_participants(const bj::value& doc) {
  std::vector<participant> out;
  if (auto* v = find(doc, "value"); v != nullptr && v->is_array())
    for (const auto& p : v->get_array())
      out.push_back(read_participant(p));
  return out;
}

namespace {

operation read_operation(const bj::value& v) {
  operation op;
  op.kind = type_of(v);
  op.id = string_at(v, "id");
  op.status = string_at(v, "status");
  op.client_context = string_at(v, "clientContext");
  op.result = read_result(v);
  return op;
}

std::optional<call_notification> read_one(const bj::value& n,
                                          std::string& error) {
  if (!n.is_object()) {
    error = "a notification is not an object";
    return std::nullopt;
  }
  call_notification out;
  out.change_type = string_at(n, "changeType");
  out.resource_url = string_at(n, "resourceUrl");
  if (out.resource_url.empty())
    out.resource_url = string_at(n, "resource");
  out.call_id = call_id_of(out.resource_url);
  if (out.call_id.empty()) {
    error = "resourceUrl names no call";
    return std::nullopt;
  }
  const auto* data = find(n, "resourceData");
  if (data != nullptr && data->is_array()) {
    out.kind = call_notification::about::participants;
    for (const auto& p : data->get_array())
      out.roster.push_back(read_participant(p));
    return out;
  }
  if (data == nullptr || !data->is_object())
    return out;
  auto type = type_of(*data);
  if (iequals(type, "call")) {
    out.kind = call_notification::about::call;
    out.call = read_call(*data);
    if (out.call.id.empty())
      out.call.id = out.call_id;
  } else if (type.size() > 9
             && iequals(std::string_view{type}.substr(type.size() - 9),
                        "operation")) {
    out.kind = call_notification::about::operation;
    out.op = read_operation(*data);
  }
  return out;
}

} // namespace

std::string call_id_of(std::string_view url) {
  for (std::string_view prefix : {"/communications/calls/", "/app/calls/",
                                  "communications/calls/", "app/calls/"}) {
    if (url.size() > prefix.size()
        && iequals(url.substr(0, prefix.size()), prefix)) {
      auto rest = url.substr(prefix.size());
      return std::string{rest.substr(0, rest.find('/'))};
    }
  }
  return {};
}

call_notifications read_call_notifications(const bj::value& doc) {
  call_notifications out;
  if (!doc.is_object()) {
    out.error = "the body is not a JSON object";
    return out;
  }
  auto* value = find(doc, "value");
  if (value == nullptr) {
    if (auto one = read_one(doc, out.error))
      out.value.push_back(std::move(*one));
    return out;
  }
  if (!value->is_array()) {
    out.error = "\"value\" is not an array";
    return out;
  }
  for (const auto& n : value->get_array()) {
    auto one = read_one(n, out.error);
    if (!one)
      return out;
    out.value.push_back(std::move(*one));
  }
  return out;
}

change_notifications read_change_notifications(const bj::value& doc) {
  change_notifications out;
  auto* value = find(doc, "value");
  if (value == nullptr || !value->is_array()) {
    out.error = "the body has no \"value\" array";
    return out;
  }
  for (const auto& n : value->get_array()) {
    if (!n.is_object()) {
      out.error = "a notification is not an object";
      return out;
    }
    change_notification c;
    c.subscription_id = string_at(n, "subscriptionId");
    c.client_state = string_at(n, "clientState");
    c.change_type = string_at(n, "changeType");
    c.tenant_id = string_at(n, "tenantId");
    if (c.tenant_id.empty())
      c.tenant_id = string_at(n, "organizationId");
    c.resource = string_at(n, "resource");
    c.lifecycle_event = string_at(n, "lifecycleEvent");
    if (auto* data = find(n, "resourceData"))
      c.resource_id = string_at(*data, "id");
    if (auto* e = find(n, "encryptedContent"); e && e->is_object()) {
      encrypted_content ec;
      ec.data = string_at(*e, "data");
      ec.data_signature = string_at(*e, "dataSignature");
      ec.data_key = string_at(*e, "dataKey");
      ec.certificate_id = string_at(*e, "encryptionCertificateId");
      ec.certificate_thumbprint
        = string_at(*e, "encryptionCertificateThumbprint");
      c.encrypted = std::move(ec);
    }
    if (c.subscription_id.empty()) {
      out.error = "a notification has no subscriptionId";
      return out;
    }
    out.value.push_back(std::move(c));
  }
  out.validation_tokens = json::strings_at(doc, "validationTokens");
  return out;
}

std::optional<presence> read_presence(const bj::value& v) {
  presence p;
  p.user_id = string_at(v, "id");
  if (p.user_id.empty())
    return std::nullopt;
  p.availability = string_at(v, "availability");
  p.activity = string_at(v, "activity");
  return p;
}

std::vector<presence> read_presences(const bj::value& doc) {
  std::vector<presence> out;
  auto* value = find(doc, "value");
  if (value == nullptr || !value->is_array())
    return out;
  for (const auto& v : value->get_array())
    if (auto p = read_presence(v))
      out.push_back(std::move(*p));
  return out;
}

} // namespace switchboard::graph
