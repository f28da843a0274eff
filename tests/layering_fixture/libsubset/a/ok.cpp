#include "libsubset/a/a.h"
#include "libsubset/a/internal/own.h"
#include <libsubset/b/b.h>
