// The entry points of libsubset_workflows_nn (workflows/nn_entry.h): linking or loading the library
// installs no provider, install_nn_providers() does; the CLI's loader refuses a library whose ABI key
// is not its own (tools/nn_plugin.h).
#include <doctest/doctest.h>

#include <string>

#include "libsubset/core/error.h"
#include "libsubset/select/scores.h"
#include "libsubset/transform/registry.h"
#include "libsubset/workflows/nn_abi.h"
#include "libsubset/workflows/nn_entry.h"
#include "libsubset/workflows/scoring.h"
#include "support/error_of.h"
#include "tools/nn_plugin.h"

namespace {

using namespace subset;

// Sampled during this executable's static initialisation, which runs after that of the libraries it
// links (libsubset_workflows_nn among them) and before any test: what loading alone installed.
const bool autoencoder_at_startup = transform::available("autoencoder");
const bool scores_at_startup = select::score_provider() != nullptr;

// Function pointers compared outside CHECK: doctest cannot print them.
bool scores_installed() { return select::score_provider() == &workflows::proxy_scores; }

bool is_hex(const std::string& s) { return s.find_first_not_of("0123456789abcdef") == std::string::npos; }

}  // namespace

TEST_CASE("nn entry: loading the library installs nothing; install_nn_providers() installs both providers") {
  CHECK_FALSE(autoencoder_at_startup);
  CHECK_FALSE(scores_at_startup);

  // Other tests may have installed them already: start from none.
  transform::set_provider("autoencoder", nullptr);
  select::set_score_provider(nullptr);
  REQUIRE_FALSE(transform::available("autoencoder"));
  CHECK(test::error_of([] { transform::create("autoencoder", transform::method("autoencoder").params.resolve({})); })
            .message()
            .find("needs libtorch") != std::string::npos);

  workflows::install_nn_providers();
  CHECK(transform::available("autoencoder"));
  CHECK(scores_installed());
  workflows::install_nn_providers();  // idempotent
  CHECK(transform::create("autoencoder", transform::method("autoencoder").params.resolve({}))->name() ==
        "autoencoder");
  CHECK(scores_installed());

  // The table the CLI loads installs through the same function.
  const bool table_installs = subset_nn_workflows()->install_providers == &workflows::install_nn_providers;
  CHECK(table_installs);
}

TEST_CASE("nn entry: the library exports the ABI key it was built with, which is this program's") {
  const std::string key = subset_nn_workflows_abi();
  CHECK(key == workflows::kNnWorkflowsAbiKey);
  REQUIRE(key.size() > 64);
  CHECK(is_hex(key.substr(0, 64)));
  CHECK(key.substr(64, 10) == "/cxx11abi=");
}

TEST_CASE("nn entry: the loader's ABI check refuses another key and names both") {
  const std::string lib = "libsubset_workflows_nn.so.0.1";
  const std::string ours = workflows::kNnWorkflowsAbiKey;
  CHECK_NOTHROW(cli::check_nn_abi(ours.c_str(), ours.c_str(), lib));

  std::string other = ours;
  other[0] = other[0] == '0' ? '1' : '0';  // another header set or toolchain
  Error e = test::error_of([&] { cli::check_nn_abi(other.c_str(), ours.c_str(), lib); });
  CHECK(e.where() == lib);
  CHECK(e.message().find("ABI key " + other.substr(0, 12) + other.substr(64)) != std::string::npos);
  CHECK(e.message().find("expects " + ours.substr(0, 12) + ours.substr(64)) != std::string::npos);
  CHECK(format_error_line(e).find('\n') == std::string::npos);

  // Same headers, the other std::string ABI: the hex prefixes agree, the suffix tells them apart.
  std::string abi = ours.substr(0, 64) + (ours.back() == '1' ? "/cxx11abi=0" : "/cxx11abi=1");
  e = test::error_of([&] { cli::check_nn_abi(abi.c_str(), ours.c_str(), lib); });
  CHECK(e.message().find(abi.substr(0, 12) + abi.substr(64) + ", this program expects " + ours.substr(0, 12) +
                         ours.substr(64)) != std::string::npos);

  e = test::error_of([&] { cli::check_nn_abi(nullptr, ours.c_str(), lib); });
  CHECK(e.message().find("ABI key (none)") != std::string::npos);
}
