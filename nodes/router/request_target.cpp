#include "nodes/router/request_target.hpp"

#include <google/protobuf/descriptor.h>
#include <google/protobuf/message.h>

#include <string>

namespace switchboard::router {

access::target target_of(const google::protobuf::Message& m) {
  using google::protobuf::FieldDescriptor;
  auto text = [](const google::protobuf::Message& x, const char* name) {
    auto* f = x.GetDescriptor()->FindFieldByName(name);
    if (f == nullptr || f->type() != FieldDescriptor::TYPE_STRING
        || f->is_repeated())
      return std::string{};
    return x.GetReflection()->GetString(x, f);
  };
  access::target t{text(m, "tenant_id"), text(m, "agent_id"),
                   text(m, "call_id"), text(m, "teams_user_id"),
                   text(m, "caller")};
  if (!t.tenant_id.empty())
    return t;
  auto* d = m.GetDescriptor();
  for (int i = 0; i < d->field_count(); ++i) {
    auto* f = d->field(i);
    if (f->type() != FieldDescriptor::TYPE_MESSAGE || f->is_repeated())
      continue;
    auto& inner = m.GetReflection()->GetMessage(m, f);
    t.tenant_id = text(inner, "tenant_id");
    if (t.tenant_id.empty())
      continue;
    if (f->name() == "agent")
      t.agent_id = text(inner, "agent_id");
    if (f->name() == "call")
      t.call_id = text(inner, "call_id");
    break;
  }
  return t;
}

} // namespace switchboard::router
