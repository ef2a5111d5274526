#include "nodes/sbc_gateway/sdp.hpp"

#include <cstdlib>
#include <sstream>
#include <vector>

namespace switchboard::sbc {

namespace {

struct origin_line {
  size_t begin = 0; // offset of "o="
  size_t end = 0;   // offset of the line's end (before CR LF)
  std::vector<std::string> fields;
};

/// The "o=" line of `sdp` split into its six fields, if it has one.
bool find_origin(const std::string& sdp, origin_line& out) {
  size_t pos = 0;
  while (pos < sdp.size()) {
    auto eol = sdp.find('\n', pos);
    if (eol == std::string::npos)
      eol = sdp.size();
    auto end = eol;
    if (end > pos && sdp[end - 1] == '\r')
      --end;
    if (sdp.compare(pos, 2, "o=") == 0) {
      std::istringstream in{sdp.substr(pos + 2, end - pos - 2)};
      std::string field;
      while (in >> field)
        out.fields.push_back(field);
      if (out.fields.size() != 6)
        return false;
      out.begin = pos;
      out.end = end;
      return true;
    }
    pos = eol + 1;
  }
  return false;
}

} // namespace

std::string sdp_origin::stamp(const std::string& sdp) {
  origin_line o;
  if (!find_origin(sdp, o))
    return sdp;
  if (!known_) {
    known_ = true;
    user_ = o.fields[0] + " " + o.fields[1];
    address_ = o.fields[3] + " " + o.fields[4] + " " + o.fields[5];
    version_ = std::strtoull(o.fields[2].c_str(), nullptr, 10);
    last_in_ = last_out_ = sdp;
    return sdp;
  }
  if (sdp == last_in_)
    return last_out_;
  ++version_;
  last_in_ = sdp;
  last_out_ = sdp.substr(0, o.begin) + "o=" + user_ + " "
              + std::to_string(version_) + " " + address_ + sdp.substr(o.end);
  return last_out_;
}

std::string callback_offer(uint64_t session) {
  return "v=0\r\n"
         "o=switchboard "
         + std::to_string(session)
         + " 1 IN IP4 0.0.0.0\r\n"
           "s=switchboard callback\r\n"
           "c=IN IP4 0.0.0.0\r\n"
           "t=0 0\r\n"
           "m=audio 9 RTP/AVP 0 8 101\r\n"
           "a=rtpmap:0 PCMU/8000\r\n"
           "a=rtpmap:8 PCMA/8000\r\n"
           "a=rtpmap:101 telephone-event/8000\r\n"
           "a=fmtp:101 0-16\r\n"
           "a=sendrecv\r\n";
}

} // namespace switchboard::sbc
