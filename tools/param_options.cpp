#include "tools/param_options.h"

namespace subset::cli {

ParamOptions::ParamOptions(CLI::App& app, std::vector<const ParamSchema*> schemas, const std::string& group)
    : app_(&app),
      text_(std::make_shared<std::map<std::string, std::string>>()),
      flags_(std::make_shared<std::map<std::string, bool>>()) {
  // Who declares each parameter: the specs' own method lists, else the schemas' owners.
  std::map<std::string, std::vector<std::string>> owners;
  std::map<std::string, const ParamSpec*> first;
  for (const ParamSchema* schema : schemas)
    for (const ParamSpec& spec : schema->specs()) {
      if (first.emplace(spec.name, &spec).second) names_.push_back(spec.name);
      if (!spec.methods.empty()) owners[spec.name].insert(owners[spec.name].end(), spec.methods.begin(), spec.methods.end());
      else if (schemas.size() > 1) owners[spec.name].push_back(schema->owner());
    }
  for (const std::string& name : names_) {
    const ParamSpec& spec = *first[name];
    std::string help;
    if (!owners[name].empty()) {
      std::string who;
      for (const auto& w : owners[name]) who += (who.empty() ? "" : ",") + w;
      help = "[" + who + "] ";
    }
    help += spec.doc + " (default: " + spec.default_text() + ")";
    CLI::Option* option = spec.type == ParamType::Bool
                              ? app.add_flag("--" + name, (*flags_)[name], help)
                              : app.add_option("--" + name, (*text_)[name], help)->type_name(spec.type_label());
    if (!group.empty()) option->group(group);
  }
}

std::map<std::string, std::string> ParamOptions::given() const {
  std::map<std::string, std::string> out;
  for (const std::string& name : names_) {
    if (!app_->count("--" + name)) continue;
    const auto flag = flags_->find(name);
    out[name] = flag != flags_->end() ? (flag->second ? "true" : "false") : text_->at(name);
  }
  return out;
}

std::map<std::string, std::string> ParamOptions::given(const ParamSchema& schema, const std::string& method,
                                                       const std::string& what) const {
  std::map<std::string, std::string> out = given();
  for (const auto& [name, text] : out) {
    const ParamSpec* spec = schema.find(name);
    if (!spec || !spec->applies_to(method))
      throw ParamError(name, "does not apply to " + what + " " + method);
  }
  return out;
}

}  // namespace subset::cli
