#include "nodes/tls/tls_files.hpp"
#include "tests/support/sip_peers.hpp"
#include "tests/support/temp_dir.hpp"

#include <gtest/gtest.h>

#include <fstream>
#include <sstream>

using namespace switchboard;
using switchboard::testing::openssl;
using switchboard::testing::temp_dir;
using switchboard::testing::test_authority;

namespace {

std::string file(const std::string& path) {
  std::ifstream in{path};
  std::ostringstream text;
  text << in.rdbuf();
  return text.str();
}

class tls_files_test : public ::testing::Test {
 protected:
  void SetUp() override {
    ca = std::make_unique<test_authority>(dir.path(), "ca");
    ASSERT_TRUE(ca->ok());
    ASSERT_TRUE(ca->sign("gateway.test"));
    ASSERT_TRUE(ca->sign("other.test"));
    files.certificate_file = dir / "gateway.test.pem";
    files.private_key_file = dir / "gateway.test.key";
  }

  temp_dir dir;
  tls::setting_names names{"tls.certificate", "tls.private_key", "tls.ca_file"};
  std::unique_ptr<test_authority> ca;
  tls::files files;
};

TEST_F(tls_files_test, a_certificate_and_its_key_load_with_the_authorities) {
  files.ca_file = ca->certificate();
  std::string error;
  auto m = tls::load_material(files, names, error);
  ASSERT_EQ(error, "");
  EXPECT_NE(m.certificate.find("BEGIN CERTIFICATE"), std::string::npos);
  EXPECT_EQ(m.chain, "");
  EXPECT_NE(m.private_key.find("PRIVATE KEY"), std::string::npos);
  EXPECT_NE(m.authorities.find("BEGIN CERTIFICATE"), std::string::npos);
  EXPECT_EQ(m.subject, "CN=gateway.test");
  EXPECT_FALSE(m.not_after.empty());
  EXPECT_FALSE(m.expired);
}

TEST_F(tls_files_test, certificates_after_the_first_are_its_chain) {
  auto both = dir / "with-chain.pem";
  std::ofstream{both} << file(files.certificate_file)
                      << file(ca->certificate());
  files.certificate_file = both;
  std::string error;
  auto m = tls::load_material(files, names, error);
  ASSERT_EQ(error, "");
  EXPECT_EQ(m.subject, "CN=gateway.test");
  EXPECT_NE(m.chain.find("BEGIN CERTIFICATE"), std::string::npos);
  EXPECT_EQ(m.authorities, "");
}

TEST_F(tls_files_test, a_key_of_another_certificate_is_refused) {
  files.private_key_file = dir / "other.test.key";
  std::string error;
  tls::load_material(files, names, error);
  EXPECT_EQ(error, "tls.private_key: the key in '" + files.private_key_file
                     + "' does not belong to the certificate in '"
                     + files.certificate_file + "'");
}

TEST_F(tls_files_test, an_encrypted_key_is_refused_without_showing_it) {
  auto encrypted = dir / "encrypted.key";
  ASSERT_TRUE(openssl({"pkey", "-in", files.private_key_file, "-aes256",
                       "-passout", "pass:secret", "-out", encrypted}));
  files.private_key_file = encrypted;
  std::string error;
  auto m = tls::load_material(files, names, error);
  EXPECT_EQ(error, "tls.private_key: no unencrypted PEM private key in '"
                     + encrypted
                     + "' (an encrypted key must be decrypted first, e.g. "
                       "with openssl pkey)");
  EXPECT_EQ(m.private_key, "");
}

TEST_F(tls_files_test, missing_and_empty_files_name_their_setting) {
  std::string error;
  auto missing = files;
  missing.certificate_file = dir / "nothing.pem";
  tls::load_material(missing, names, error);
  EXPECT_EQ(error,
            "tls.certificate: cannot read '" + dir / "nothing.pem" + "'");

  auto empty = dir / "empty.pem";
  std::ofstream{empty} << "not a certificate\n";
  auto no_ca = files;
  no_ca.ca_file = empty;
  error.clear();
  tls::load_material(no_ca, names, error);
  EXPECT_EQ(error, "tls.ca_file: no PEM certificate in '" + empty + "'");
}

} // namespace
