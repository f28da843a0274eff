#pragma once
#include "libsubset/b/b.h"
