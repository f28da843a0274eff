// Tests for libsubset/energy/accounting.h: PUE and carbon intensity choices, the shipped region
// table, and docs/energy.md's copies of the region and CPU tables (read from SUBSET_SOURCE_DIR).
#include <doctest/doctest.h>

#include <cmath>
#include <cstdio>
#include <limits>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include "libsubset/core/error.h"
#include "libsubset/energy/accounting.h"
#include "libsubset/energy/internal/cpu_estimate.h"
#include "support/error_of.h"
#include "support/files.h"
#include "support/vector_string.h"

using namespace subset::energy;
using namespace subset::test;

namespace {

// The table rows of docs/energy.md between `<!-- NAME:begin -->` and `<!-- NAME:end -->`, header and
// separator lines excluded.
std::vector<std::string> doc_table(const std::string& name) {
  const std::string doc = read_bytes(std::string(SUBSET_SOURCE_DIR) + "/docs/energy.md");
  const std::string begin = "<!-- " + name + ":begin -->", end = "<!-- " + name + ":end -->";
  const size_t b = doc.find(begin), e = doc.find(end);
  REQUIRE(b != std::string::npos);
  REQUIRE(e != std::string::npos);
  std::istringstream in(doc.substr(b + begin.size(), e - b - begin.size()));
  std::vector<std::string> rows;
  int seen = 0;
  for (std::string line; std::getline(in, line);) {
    if (line.rfind("|", 0) != 0) continue;
    if (seen++ < 2) continue;  // header, separator
    rows.push_back(line);
  }
  return rows;
}

std::string format(const char* f, double v) {
  char buf[64];
  std::snprintf(buf, sizeof buf, f, v);
  return buf;
}

}  // namespace

TEST_CASE("accounting: defaults are PUE 1.58 and the world average") {
  const auto a = resolve_accounting({});
  CHECK(a.pue == 1.58);
  CHECK(a.pue_source.find("Uptime Institute") != std::string::npos);
  CHECK(a.carbon_intensity == 481.0);
  CHECK(a.carbon_source == "default region WORLD: World average, 481.0 gCO2e/kWh (Ember via Statista, 2023)");
}

TEST_CASE("accounting: --region is matched without regard to case") {
  for (const char* code : {"FR", "fr", "Fr"}) {
    AccountingChoice c;
    c.region = code;
    const auto a = resolve_accounting(c);
    CHECK(a.carbon_intensity == 56.0);
    CHECK(a.carbon_source == "region FR: France, 56.0 gCO2e/kWh (Ember via Our World in Data, 2023)");
    CHECK(a.pue == 1.58);
  }
  AccountingChoice world;
  world.region = "world";
  CHECK(resolve_accounting(world).carbon_intensity == 481.0);
}

TEST_CASE("accounting: an unknown region names the known codes") {
  AccountingChoice c;
  c.region = "XX";
  const auto e = error_of([&] { resolve_accounting(c); });
  CHECK(e.where() == "region");
  CHECK(e.message().rfind("unknown region 'XX' (known: AE, AR, AT, ", 0) == 0);
  CHECK(e.message().find("WORLD, ZA)") != std::string::npos);
}

TEST_CASE("accounting: --carbon-intensity and --pue are checked") {
  AccountingChoice c;
  c.carbon_intensity = 123.5;
  c.pue = 1.0;
  auto a = resolve_accounting(c);
  CHECK(a.carbon_intensity == 123.5);
  CHECK(a.carbon_source == "--carbon-intensity");
  CHECK(a.pue == 1.0);
  CHECK(a.pue_source == "--pue");
  c.carbon_intensity = 0.0;
  CHECK(resolve_accounting(c).carbon_intensity == 0.0);

  for (double bad : {-1.0, std::numeric_limits<double>::quiet_NaN(), std::numeric_limits<double>::infinity()}) {
    AccountingChoice b;
    b.carbon_intensity = bad;
    const auto e = error_of([&] { resolve_accounting(b); });
    CHECK(e.where() == "carbon-intensity");
    CHECK(e.message().find(">= 0") != std::string::npos);
  }
  for (double bad : {0.99, 0.0, -2.0}) {
    AccountingChoice b;
    b.pue = bad;
    const auto e = error_of([&] { resolve_accounting(b); });
    CHECK(e.where() == "pue");
    CHECK(e.message().find("PUE must be at least 1 (a facility cannot draw less than its IT equipment)") == 0);
  }
  for (double bad : {std::numeric_limits<double>::quiet_NaN(), std::numeric_limits<double>::infinity()}) {
    AccountingChoice b;
    b.pue = bad;
    CHECK(error_of([&] { resolve_accounting(b); }).message().find("PUE must be a finite number") == 0);
  }
}

TEST_CASE("accounting: --region and --carbon-intensity exclude each other") {
  AccountingChoice c;
  c.region = "DE";
  c.carbon_intensity = 100.0;
  const auto e = error_of([&] { resolve_accounting(c); });
  CHECK(e.message() == "--region and --carbon-intensity both set the carbon intensity: give only one");
}

TEST_CASE("accounting: the region table is sorted, unique and sourced") {
  const auto& t = region_table();
  REQUIRE(t.size() >= 20);
  std::set<std::string> codes;
  for (size_t i = 0; i < t.size(); ++i) {
    const auto& r = t[i];
    if (i > 0) CHECK(t[i - 1].code < r.code);
    CHECK(codes.insert(r.code).second);
    CHECK((r.code == "WORLD" || (r.code.size() == 2 && std::isupper(static_cast<unsigned char>(r.code[0])) &&
                                 std::isupper(static_cast<unsigned char>(r.code[1])))));
    CHECK(r.g_per_kwh >= 0);
    CHECK(r.g_per_kwh < 1500);
    CHECK(r.year >= 2020);
    CHECK(!r.name.empty());
    CHECK(!r.source.empty());
  }
  CHECK(codes.count("WORLD") == 1);
  for (const char* big : {"US", "CN", "IN", "DE", "FR", "GB", "JP", "CA", "BR", "AU", "SE", "NO", "PL", "IE", "SG"})
    CHECK(codes.count(big) == 1);
}

TEST_CASE("accounting: docs/energy.md lists the shipped region table") {
  std::vector<std::string> expected;
  for (const auto& r : region_table())
    expected.push_back("| " + r.code + " | " + r.name + " | " + format("%.1f", r.g_per_kwh) + " | " +
                       std::to_string(r.year) + " | " + r.source + " |");
  CHECK(doc_table("region-table") == expected);
}

TEST_CASE("accounting: docs/energy.md lists the shipped CPU table") {
  std::vector<std::string> expected;
  for (const auto& c : subset::energy::internal::cpu_power_table())
    expected.push_back(std::string("| ") + c.model + " | " + format("%.0f", c.tdp_watts) + " | " +
                       std::to_string(c.threads) + " | " + format("%.3f", c.tdp_watts / c.threads) + " | " + c.source + " |");
  CHECK(doc_table("cpu-table") == expected);
}
