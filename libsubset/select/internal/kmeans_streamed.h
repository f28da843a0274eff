#pragma once
// k-means on features left on disk (SelectionRequest::on_disk, row_blocks.h): the result of
// kmeans_fit on the same rows, bit for bit (centroids, assignment, inertia, representatives),
// holding per-point state and O(k dim) besides the blocks being read. Not installed.
//
// Passes over the data (a pass reads each block at most once, in order):
//   - seeding (k-means++): one pass for the first centre, then one per further centre (and per
//     already-selected point after the first), reading only the blocks that hold a point the
//     triangle bound cannot rule out; more than kCandidatesPerPass candidates take more passes;
//   - Lloyd: one pass per iteration (assignment, and the sums of the update after it), plus one
//     pass for the first update after k-means++ (its assignment came with the seeds), plus a
//     partial pass after an update that relocates empty clusters (the blocks of their points);
//   - selection: one pass (final assignment, nearest points with exact distances), plus one pass
//     per group of representatives whose nearest-point lists could not certify them.
//
// On several ranks (RowBlocks::share_among) the same result on every rank: each rank reads its own
// blocks and computes their distances, and holds the per-point state of all n points (as above);
// the centroid sums pass from rank to rank in index order, which costs every rank but the first a
// second read of its blocks per Lloyd iteration (kmeans_streamed.cpp).
#include <cstdint>
#include <functional>
#include <vector>

#include "libsubset/select/internal/kmeans.h"
#include "libsubset/select/row_blocks.h"

namespace subset::select::kmeans_internal {

// Candidates evaluated per pass of a seeding step: moves (point, candidate, distance) are kept for
// a pass's candidates until the step ends, so this bounds that memory (16 bytes a move).
inline constexpr int64_t kCandidatesPerPass = 16;
// Work on fewer floats than this is not shared among threads.
inline constexpr int64_t kParallelFloats = int64_t{1} << 15;

// run_seeding on rows read in blocks. centre_rows, when not null, gets the rows of the centres
// (fixed..., seeds...), row-major.
SeedRun run_seeding_streamed(const RowBlocks& rows, int64_t k, int64_t trials, const std::vector<int64_t>& fixed,
                             Rng& rng, const RunContext* context, int64_t progress_total,
                             std::vector<float>* centre_rows);

// kmeans_fit on rows read in blocks (same checks, same result; values are checked as the first
// pass reads them).
KMeansResult kmeans_fit_streamed(const RowBlocks& rows, const std::vector<int64_t>& fixed,
                                 const KMeansOptions& options, const RunContext& context);

// Bytes kmeans_fit_streamed holds besides the two blocks being read, for n points of d values and
// `picks` centres (already selected included), with the default local trials, at `threads`
// threads: the larger per-point state of the seeding's and Lloyd's, the centres' and the threads'.
double kmeans_streamed_bytes(int64_t n, int64_t d, int64_t picks, int threads);

}  // namespace subset::select::kmeans_internal
