//go:build linux && cgo

package bench

/*
#include <stddef.h>
// malloc_trim is glibc's; declared weak so that a C library without it
// (musl) links and the call is skipped.
extern int malloc_trim(size_t pad) __attribute__((weak));
static void trim(void) { if (malloc_trim) malloc_trim(0); }
*/
import "C"

// trimCHeap returns the C heap's free memory to the operating system, so
// that the peak resident set of a step measures that step.
func trimCHeap() { C.trim() }
