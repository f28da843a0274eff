// Tests for libsubset/core/edit_distance.h: distances worked out by hand, and which names are
// suggested for a typo.
#include <doctest/doctest.h>

#include <optional>
#include <string>
#include <vector>

#include "libsubset/core/edit_distance.h"
#include "libsubset/core/lookup.h"
#include "support/error_of.h"

using subset::did_you_mean;
using subset::edit_distance;
using subset::nearest_name;

TEST_CASE("edit distance: hand-computed cases") {
  CHECK(edit_distance("", "") == 0);
  CHECK(edit_distance("", "abc") == 3);        // three insertions
  CHECK(edit_distance("abc", "") == 3);        // three deletions
  CHECK(edit_distance("kcenter", "kcenter") == 0);
  CHECK(edit_distance("kcentre", "kcenter") == 2);  // "re" -> "er": two substitutions (no transposition)
  CHECK(edit_distance("kitten", "sitting") == 3);   // k->s, e->i, +g
  CHECK(edit_distance("flaw", "lawn") == 2);        // -f, +n
  CHECK(edit_distance("budgt", "budget") == 1);     // one insertion
  CHECK(edit_distance("selct", "select") == 1);
  CHECK(edit_distance("abc", "xyz") == 3);
  CHECK(edit_distance("Random", "random") == 1);    // case-sensitive
  // Symmetric.
  CHECK(edit_distance("sitting", "kitten") == 3);
  CHECK(edit_distance("intention", "execution") == 5);
}

TEST_CASE("nearest name: close names are suggested, far ones are not") {
  const std::vector<std::string> methods{"random", "kcenter", "kmeans", "herding", "el2n"};
  CHECK(nearest_name("kcentre", methods) == std::optional<std::string>("kcenter"));
  CHECK(nearest_name("kmean", methods) == std::optional<std::string>("kmeans"));
  CHECK(nearest_name("randon", methods) == std::optional<std::string>("random"));
  CHECK(nearest_name("frobnicate", methods) == std::nullopt);
  CHECK(nearest_name("random", methods) == std::nullopt);  // the name itself is not a suggestion
  // Limit max(2, len/3): "herdingxxx" (10 chars, limit 3) is 3 away from "herding".
  CHECK(nearest_name("herdingxxx", methods) == std::optional<std::string>("herding"));
  CHECK(nearest_name("herdingxxxx", methods) == std::nullopt);  // 4 away, limit 3
  // Every character replaced is no resemblance.
  CHECK(nearest_name("x", std::vector<std::string>{"rp", "ab"}) == std::nullopt);
  CHECK(nearest_name("dn", std::vector<std::string>{"dm", "dc"}) == std::optional<std::string>("dm"));  // tie: first
  CHECK(nearest_name("abc", std::vector<std::string>{}) == std::nullopt);
}

TEST_CASE("did you mean: the suffix of an error message") {
  const std::vector<std::string> models{"linear", "mlp", "convnet"};
  CHECK(did_you_mean("convet", models) == "; did you mean 'convnet'?");
  CHECK(did_you_mean("resnet", models) == "");
}

namespace {
struct Entry {
  std::string name;
};
}  // namespace

TEST_CASE("find_by_name: an unknown name lists the known ones and suggests the nearest") {
  const std::vector<Entry> entries{{"random"}, {"kcenter"}, {"kmeans"}};
  CHECK(&subset::find_by_name(entries, "kmeans", "method") == &entries[2]);
  const subset::Error near = subset::test::error_of([&] { subset::find_by_name(entries, "kcentre", "method"); });
  CHECK(near.message() == "unknown method 'kcentre'; known: random, kcenter, kmeans; did you mean 'kcenter'?");
  const subset::Error far = subset::test::error_of([&] { subset::find_by_name(entries, "umap", "method"); });
  CHECK(far.message() == "unknown method 'umap'; known: random, kcenter, kmeans");
}
