#pragma once
// The one way a parameter schema becomes command-line options: every parameter of the given
// schemas is an option `--NAME`, typed in --help as its schema says ("INT in [1, inf)",
// "{dm,dc}"), with its doc, the methods it applies to and its default. Booleans are flags (`--x`,
// `--x=false`). The values are kept as text and parsed and range-checked once, by the library.
#include <CLI/CLI.hpp>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "libsubset/core/params.h"

namespace subset::cli {

class ParamOptions {
 public:
  // `schemas`: one per method (select, compress: a parameter several methods declare becomes one
  // option naming them all), or one whose specs name their methods (condense, train). They must
  // outlive the options (registries and schemas are static).
  ParamOptions(CLI::App& app, std::vector<const ParamSchema*> schemas, const std::string& group = {});

  // The parameters given on the command line, as text, checked to apply to `method` of `schema`:
  // one it does not declare, or declares for other methods only, throws ParamError ("does not
  // apply to <what> <method>"); `what` names the choice, e.g. "method" or "model".
  std::map<std::string, std::string> given(const ParamSchema& schema, const std::string& method,
                                           const std::string& what = "method") const;
  // All parameters given, unchecked.
  std::map<std::string, std::string> given() const;
  bool any_given() const { return !given().empty(); }

 private:
  CLI::App* app_;
  // Heap cells: CLI11 keeps pointers to them.
  std::shared_ptr<std::map<std::string, std::string>> text_;
  std::shared_ptr<std::map<std::string, bool>> flags_;
  std::vector<std::string> names_;
};

}  // namespace subset::cli
