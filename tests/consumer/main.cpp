// Writes a tiny store with the installed library, reads it back and checks it.
#include <libsubset/core/error.h>
#include <libsubset/core/version.h>
#include <libsubset/io/store.h>
#include <libsubset/io/store_writer.h>
#ifdef CONSUMER_WITH_NN
#include <libsubset/transform/registry.h>
#include <libsubset/workflows/nn_entry.h>
#endif

#include <cstdio>
#include <string>

int main(int argc, char** argv) {
  if (argc != 2) {
    std::fprintf(stderr, "usage: consumer OUT.h5\n");
    return 2;
  }
  try {
    const float rows[6] = {0, 1, 2, 3, 4, 5};
    subset::io::StoreWriter w(argv[1], /*force=*/true);
    w.begin_features(subset::io::Split::Train, 3, 2);
    w.write_rows(subset::io::Split::Train, 3, rows);
    w.write_labels(subset::io::Split::Train, {0, 1, 1});
    w.commit();
    const auto store = subset::io::FeatureStore::open(argv[1]);
    const auto m = store.features().read_all();
    if (store.info().n() != 3 || m(2, 1) != 5.0f || store.info().class_counts.at(1) != 2) {
      std::fprintf(stderr, "consumer: read back the wrong store\n");
      return 1;
    }
#ifdef CONSUMER_WITH_NN
    // Linking libsubset_workflows_nn installs nothing: the autoencoder arrives with the explicit call.
    const bool before = subset::transform::available("autoencoder");
    subset::workflows::install_nn_providers();
    if (before || !subset::transform::available("autoencoder")) {
      std::fprintf(stderr, "consumer: install_nn_providers() did not install the autoencoder\n");
      return 1;
    }
#endif
    std::printf("consumer OK with libsubset %s\n", subset::kVersion);
    return 0;
  } catch (const subset::Error& e) {
    std::fprintf(stderr, "%s\n", subset::format_error_line(e).c_str());
    return 1;
  }
}
