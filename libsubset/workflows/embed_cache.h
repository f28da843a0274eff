#pragma once
// The inline form of `subset embed` that select and bench take (`--embed mlp:epochs=2`): the
// embedding is computed once and kept next to the store as a same-rows store named by the model
// and a hash of its resolved settings and the store's checksum, then reused by later runs.
// Torch-free: the caller passes the function that embeds (the CLI's is the nn library's run_embed).
#include <functional>
#include <string>

#include "libsubset/workflows/embed_job.h"

namespace subset::workflows {

// `MODEL[:NAME=VALUE...]` parsed with embed_schema() (the parameters `subset embed` takes) and
// validated as run_embed would; throws ParamError naming "embed".
EmbedJob parse_embed_spec(const std::string& text);

struct CachedEmbedding {
  std::string path;
  bool cached = false;  // reused, not computed by this call
};

// The cache file of `job.store` and `job`'s settings: STORE.embed-MODEL-HASH.h5.
std::string embedding_cache_path(const EmbedJob& job);

// Reuses the cache file when it exists and embeds the same rows (checksum, N) in the same dimension;
// refuses (Error naming the file) one that does not. Otherwise runs `embed` on `job` with the cache
// file as its output, renamed into place at once (a later failure of the command keeps it; Ctrl-C
// during the embedding leaves none).
CachedEmbedding cached_embedding(EmbedJob job, const std::function<EmbedOutcome(const EmbedJob&)>& embed);

}  // namespace subset::workflows
