#include "nodes/graph_gateway/token_store.hpp"

#include "nodes/graph_gateway/graph_api.hpp"
#include "nodes/identity/base64.hpp"

#include <cerrno>
#include <cstring>
#include <fcntl.h>
#include <fstream>
#include <memory>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/rand.h>
#include <openssl/sha.h>
#include <sstream>
#include <sys/stat.h>
#include <unistd.h>

namespace switchboard::graph {

namespace {

constexpr const char* magic = "switchboard-refresh-token-v1";
constexpr int nonce_size = 12;
constexpr int tag_size = 16;

using cipher_ctx
  = std::unique_ptr<EVP_CIPHER_CTX, decltype(&EVP_CIPHER_CTX_free)>;

unsigned char* u8(std::string& s) {
  return reinterpret_cast<unsigned char*>(s.data());
}
const unsigned char* u8(const std::string& s) {
  return reinterpret_cast<const unsigned char*>(s.data());
}

// What each file is bound to: its format and its tenant.
std::string associated(const std::string& tenant) {
  return std::string{magic} + "|" + tenant;
}

} // namespace

token_store::token_store(std::string directory, const std::string& secret)
  : directory_(std::move(directory)) {
  if (secret.size() < 16) {
    problem_ = secret.empty()
                 ? "no key to seal the service account's token "
                   "(signin.token_key_file or SWITCHBOARD_GRAPH_TOKEN_KEY)"
                 : "the token key is shorter than 16 characters; make one "
                   "with: openssl rand -base64 32";
    return;
  }
  if (directory_.empty()) {
    problem_ = "no token store directory (signin.token_store)";
    return;
  }
  key_.resize(SHA256_DIGEST_LENGTH);
  SHA256(u8(secret), secret.size(), u8(key_));
}

token_store::~token_store() { OPENSSL_cleanse(key_.data(), key_.size()); }

std::string token_store::path_of(const std::string& tenant) const {
  return directory_ + "/" + tenant + ".token";
}

std::string token_store::save(const std::string& tenant,
                              const std::string& refresh_token) const {
  if (!problem_.empty())
    return problem_;
  if (!graph_api::plausible_tenant(tenant))
    return "\"" + tenant.substr(0, 100) + "\" is not a Microsoft tenant id";
  std::string nonce(nonce_size, '\0');
  if (RAND_bytes(u8(nonce), nonce_size) != 1)
    return "no random bytes for the nonce";
  cipher_ctx ctx{EVP_CIPHER_CTX_new(), EVP_CIPHER_CTX_free};
  auto aad = associated(tenant);
  std::string sealed(refresh_token.size(), '\0');
  int n = 0;
  int tail = 0;
  std::string tag(tag_size, '\0');
  if (!ctx
      || EVP_EncryptInit_ex(ctx.get(), EVP_aes_256_gcm(), nullptr, u8(key_),
                            u8(nonce))
           != 1
      || EVP_EncryptUpdate(ctx.get(), nullptr, &n, u8(aad),
                           static_cast<int>(aad.size()))
           != 1
      || EVP_EncryptUpdate(ctx.get(), u8(sealed), &n, u8(refresh_token),
                           static_cast<int>(refresh_token.size()))
           != 1
      || EVP_EncryptFinal_ex(ctx.get(), u8(sealed) + n, &tail) != 1
      || EVP_CIPHER_CTX_ctrl(ctx.get(), EVP_CTRL_GCM_GET_TAG, tag_size, u8(tag))
           != 1)
    return "cannot seal the token (OpenSSL AES-256-GCM)";
  auto text = std::string{magic} + "\n"
              + identity::base64_encode(nonce + sealed + tag) + "\n";

  ::mkdir(directory_.c_str(), 0700);
  auto final_path = path_of(tenant);
  auto temp = final_path + ".new";
  int fd = ::open(temp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
  if (fd < 0)
    return "cannot write " + temp + ": " + std::strerror(errno);
  bool ok
    = ::write(fd, text.data(), text.size()) == static_cast<ssize_t>(text.size())
      && ::fsync(fd) == 0;
  ok = ::close(fd) == 0 && ok;
  if (!ok || ::rename(temp.c_str(), final_path.c_str()) != 0) {
    auto why = std::string{std::strerror(errno)};
    ::unlink(temp.c_str());
    return "cannot write " + final_path + ": " + why;
  }
  return {};
}

std::optional<std::string> token_store::load(const std::string& tenant,
                                             std::string& error) const {
  error.clear();
  if (!problem_.empty()) {
    error = problem_;
    return std::nullopt;
  }
  if (!graph_api::plausible_tenant(tenant)) {
    error = "\"" + tenant.substr(0, 100) + "\" is not a Microsoft tenant id";
    return std::nullopt;
  }
  auto path = path_of(tenant);
  std::ifstream in{path};
  if (!in)
    return std::nullopt; // never signed in
  std::string header;
  std::string body;
  std::getline(in, header);
  std::getline(in, body);
  auto raw = identity::base64_decode(body);
  if (header != magic || !raw || raw->size() < nonce_size + tag_size
      || raw->size() > 64 * 1024) {
    error = path + " is not a sealed token of this version";
    return std::nullopt;
  }
  auto nonce = raw->substr(0, nonce_size);
  auto tag = raw->substr(raw->size() - tag_size);
  auto sealed = raw->substr(nonce_size, raw->size() - nonce_size - tag_size);
  auto aad = associated(tenant);
  std::string plain(sealed.size(), '\0');
  int n = 0;
  int tail = 0;
  cipher_ctx ctx{EVP_CIPHER_CTX_new(), EVP_CIPHER_CTX_free};
  if (!ctx
      || EVP_DecryptInit_ex(ctx.get(), EVP_aes_256_gcm(), nullptr, u8(key_),
                            u8(nonce))
           != 1
      || EVP_DecryptUpdate(ctx.get(), nullptr, &n, u8(aad),
                           static_cast<int>(aad.size()))
           != 1
      || EVP_DecryptUpdate(ctx.get(), u8(plain), &n, u8(sealed),
                           static_cast<int>(sealed.size()))
           != 1
      || EVP_CIPHER_CTX_ctrl(ctx.get(), EVP_CTRL_GCM_SET_TAG, tag_size, u8(tag))
           != 1
      || EVP_DecryptFinal_ex(ctx.get(), u8(plain) + n, &tail) != 1) {
    OPENSSL_cleanse(plain.data(), plain.size());
    error = path
            + " does not open with this token key (another key, another "
              "tenant's file, or changed): sign in again with "
              "switchboard-graph-gateway login "
            + tenant;
    return std::nullopt;
  }
  return plain;
}

} // namespace switchboard::graph
