/* A leak check at the end of each test (as tests/unit/json does): under
 * AddressSanitizer, Criterion reports a test as passing even when
 * LeakSanitizer prints leaks at the exit of its worker, so a leak aborts the
 * test's teardown instead, which fails the run. A no-op without ASan. */
#ifndef STAGEKV_UNIT_LEAK_H
#define STAGEKV_UNIT_LEAK_H

#include <stdlib.h>

#if defined(__has_feature)
#if __has_feature(address_sanitizer)
#define STAGEKV_UNIT_ASAN 1
#endif
#endif
#if defined(__SANITIZE_ADDRESS__)
#define STAGEKV_UNIT_ASAN 1
#endif

#ifdef STAGEKV_UNIT_ASAN
#include <sanitizer/lsan_interface.h>
static inline void unit_leak_check(void) {
    if (__lsan_do_recoverable_leak_check()) abort();
}
#else
static inline void unit_leak_check(void) {}
#endif

#endif
