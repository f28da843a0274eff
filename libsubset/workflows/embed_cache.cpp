#include "libsubset/workflows/embed_cache.h"

#include <sys/stat.h>

#include <cstdio>

#include "libsubset/core/error.h"
#include "libsubset/core/params.h"
#include "libsubset/io/atomic_output.h"
#include "libsubset/io/store.h"

namespace subset::workflows {
namespace {

// FNV-1a: stable across builds and platforms, unlike std::hash, so a cache outlives the program.
uint64_t fnv1a(const std::string& text) {
  uint64_t h = 1469598103934665603ull;
  for (unsigned char c : text) h = (h ^ c) * 1099511628211ull;
  return h;
}

bool exists(const std::string& path) {
  struct stat st {};
  return stat(path.c_str(), &st) == 0;
}

}  // namespace

EmbedJob parse_embed_spec(const std::string& text) {
  EmbedJob job;
  size_t colon = text.find(':');
  std::map<std::string, std::string> given = {{"model", text.substr(0, colon)}};
  while (colon != std::string::npos) {
    const size_t next = text.find(':', colon + 1);
    const std::string piece = text.substr(colon + 1, next == std::string::npos ? std::string::npos : next - colon - 1);
    const size_t eq = piece.find('=');
    SUBSET_CHECK_PARAM(eq != std::string::npos && eq > 0 && piece.substr(0, eq) != "model", "embed",
                       "'" << piece << "' in '" << text << "' is not NAME=VALUE (write MODEL:NAME=VALUE:...)");
    SUBSET_CHECK_PARAM(given.emplace(piece.substr(0, eq), piece.substr(eq + 1)).second, "embed",
                       "parameter '" << piece.substr(0, eq) << "' given twice in '" << text << "'");
    colon = next;
  }
  try {
    embed_schema().set_all(job, given);
    embed_schema().check(job, job.model);
    resolved_embed_settings(job);
  } catch (const Error& e) {
    throw ParamError("embed", e.message() + " in '" + text + "'");  // not an option of select or bench
  }
  return job;
}

std::string embedding_cache_path(const EmbedJob& job) {
  const io::FeatureStore store = io::FeatureStore::open(job.store);
  const std::string key = resolved_embed_settings(job).dump() + "|" + store.features_checksum() + "|" +
                          std::to_string(store.info().n());
  char hash[17];
  std::snprintf(hash, sizeof hash, "%016llx", static_cast<unsigned long long>(fnv1a(key)));
  return job.store + ".embed-" + job.model + "-" + hash + ".h5";
}

CachedEmbedding cached_embedding(EmbedJob job, const std::function<EmbedOutcome(const EmbedJob&)>& embed) {
  const nlohmann::json resolved = resolved_embed_settings(job);
  CachedEmbedding out{embedding_cache_path(job), false};
  if (exists(out.path)) {
    const io::FeatureStore source = io::FeatureStore::open(job.store);
    const io::StoreInfo info = io::FeatureStore::open(out.path).info();
    const bool same_rows = info.same_rows && info.same_rows->checksum == source.features_checksum() &&
                           info.same_rows->n == source.info().n();
    // The name hashes the settings; the recorded ones and the dimension catch a file that merely
    // took the name.
    const bool same_model = info.embedding.is_object() && info.embedding.value("settings", nlohmann::json()) == resolved &&
                            (!resolved.contains("dim") || info.dim() == resolved["dim"].get<int64_t>());
    SUBSET_CHECK(same_rows && same_model, out.path,
                 "is not the " << job.model << " embedding cache of " << job.store
                               << " for these settings (another file by that name?): remove it to recompute");
    out.cached = true;
    return out;
  }
  job.output = out.path;
  job.force = false;
  // The cache is its own result, not one of the command's outputs: kept even when the command fails later.
  io::ImmediateOutputs immediate;
  embed(job);
  return out;
}

}  // namespace subset::workflows
