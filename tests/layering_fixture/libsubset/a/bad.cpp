#include "libsubset/a/a.h"
#include "libsubset/a/leaky.h"
