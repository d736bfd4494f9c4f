/*
 * cfi.h - the unwind rule of one code address on x86-64, read from its
 * module's .eh_frame (through .eh_frame_hdr), as the stack walk of
 * unwind.c caches it.
 *
 * A rule says how to find the caller's frame from this one: its canonical
 * frame address (CFA, the caller's stack pointer) is RSP or RBP plus an
 * offset; the return address and the caller's RBP are saved at offsets
 * from the CFA, or RBP is unchanged.  Every other shape of call frame
 * information (a CFA computed by an expression, a register saved in
 * another register, signal frames, stack realignment through another
 * register) gives PT_CFI_NONE, and the walk leaves that stack to
 * libunwind: the rules kept are the ones compilers emit for ordinary
 * functions, which are nearly all frames.
 */
#ifndef POOLTRACE_CFI_H
#define POOLTRACE_CFI_H

#include <stdint.h>

#include "../allocator/compiler.h"

enum pt_cfi_kind {
	PT_CFI_NONE = 0,   /* no rule we follow: libunwind's job */
	PT_CFI_LAST,       /* the outermost frame: its return address is undefined */
	PT_CFI_RSP,        /* CFA = RSP + cfa_off */
	PT_CFI_RBP,        /* CFA = RBP + cfa_off */
};

/* Eight bytes, so that the cache of unwind.c keeps one in a word. */
struct pt_cfi_rule {
	int32_t cfa_off;
	int16_t rbp_off;   /* the caller's RBP at CFA + rbp_off (< 0); 0: RBP unchanged */
	int8_t ra_off8;    /* the return address at CFA + 8 * ra_off8 (< 0) */
	uint8_t kind;      /* enum pt_cfi_kind */
};

/*
 * The rule at code address pc (of a caller: pass the return address
 * minus one, which is inside the call).  Reads the module through
 * dl_iterate_phdr (the loader's lock; nothing allocated).  Returns the
 * rule, kind PT_CFI_NONE when pc has no frame information we follow.
 */
PT_HIDDEN struct pt_cfi_rule pt__cfi_rule(uintptr_t pc);

#endif
