// The METHOD:PARAM=VALUE entries of `subset bench --methods` (bench.h). Apart from bench.cpp, which
// lives in libsubset_workflows_nn, so that the CLI can check the entries before loading libtorch.
#include "libsubset/core/error.h"
#include "libsubset/select/registry.h"
#include "libsubset/workflows/bench.h"

namespace subset::workflows {

BenchMethod parse_bench_method(const std::string& text) {
  BenchMethod out;
  out.label = text;
  size_t colon = text.find(':');
  out.method = text.substr(0, colon);
  const select::MethodSpec& spec = select::method(out.method);  // throws on an unknown name
  while (colon != std::string::npos) {
    const size_t next = text.find(':', colon + 1);
    const std::string piece = text.substr(colon + 1, next == std::string::npos ? std::string::npos : next - colon - 1);
    const size_t eq = piece.find('=');
    SUBSET_CHECK(eq != std::string::npos && eq > 0, "--methods",
                 "'" << piece << "' in '" << text << "' is not PARAM=VALUE (write METHOD:PARAM=VALUE:...)");
    SUBSET_CHECK(out.params.emplace(piece.substr(0, eq), piece.substr(eq + 1)).second, "--methods",
                 "parameter '" << piece.substr(0, eq) << "' given twice in '" << text << "'");
    colon = next;
  }
  spec.params.resolve(out.params);  // unknown parameters, bad values
  return out;
}

}  // namespace subset::workflows
