/*
 * common.c - the thread-local state common.h declares.
 */
#include "common.h"

__thread int pt__inside __attribute__((tls_model("initial-exec")));

#if defined(PT_DEBUG) && PT_DEBUG > 0
__thread unsigned pt__locks_held __attribute__((tls_model("initial-exec")));
#endif
