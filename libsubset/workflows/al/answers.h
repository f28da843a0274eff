#pragma once
// The answers file of `subset al label`: one `row,label[,source]` line per answer (a header line
// `row,label[,source]` may come first; blank lines are skipped). `row` is a pool row; `label` is a
// class name of the project or, when no class has that name, a class id.
#include <string>
#include <vector>

#include "libsubset/workflows/al/ledger.h"

namespace subset::workflows::al {

// Reads and checks the whole file (syntax, labels known, rows whole numbers); throws Error naming
// FILE:LINE for the first bad line, or the file when it holds no answer. `source` fills the source
// of lines that give none. Rows are checked against the pool by Ledger::apply_answers.
AnswerBatch read_answers(const std::string& path, const std::vector<std::string>& class_names,
                         const std::string& source = {});

// The same answers from memory (Python's al.label): rows[i] answered labels[i], a class name of the
// project or, when no class has that name, a class id, as in the file. Throws Error naming
// "answer I" (0-based) for the first bad one, or "answers" when the lengths differ or there are none.
// Rows are checked against the pool by Ledger::apply_answers.
AnswerBatch make_answers(const std::vector<int64_t>& rows, const std::vector<std::string>& labels,
                         const std::vector<std::string>& class_names, const std::string& source = {});

}  // namespace subset::workflows::al
