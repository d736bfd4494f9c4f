/*
 * python.h - Python frames in the recorder's stacks when the program is a
 * CPython interpreter (3.8 to 3.13, python_layout.h), read from inside
 * the process with direct loads: no ptrace, no Python code run, no
 * allocation, no GIL taken.
 *
 *   python.c          the interpreter found (its symbols, version, the
 *                     address ranges of its evaluation function); the
 *                     frames of the thread that holds the GIL, merged into
 *                     its native stack
 *   python_code.c     code objects interned (ids in frames), their CODE
 *                     records, the PYTHON record
 *   python_lines.c    their line tables, as the trace keeps them
 *   python_objects.c  at exit: which live blocks are Python objects, of
 *                     which type (PT_EXT_PYOBJECTS)
 *
 * Only a thread that holds the GIL reads frames, and only its own: the
 * interpreter then keeps its frame chain consistent at every point where
 * it may allocate (tracemalloc reads the same chain from the same places),
 * and the code objects the frames hold cannot be freed under it.  Every
 * object read is first checked to be of the type expected (its type
 * pointer compared with the interpreter's own type objects).  A thread
 * that does not hold the GIL (one inside a C call that released it, one
 * with no thread state) gets native frames only: another thread may be
 * finalizing the interpreter and freeing its thread state.
 */
#ifndef POOLTRACE_PYTHON_H
#define POOLTRACE_PYTHON_H

#include <stdatomic.h>
#include <stdint.h>

#include "../allocator/compiler.h"
#include "python_layout.h"

struct pt_rec_thread;

/*
 * The stack of the calling thread, innermost first: the nn return
 * addresses in ip (as unwound for depth + 1 frames: nn == depth + 1 means
 * the native stack goes on) merged in place with its Python frames, each
 * just before the native frame of the evaluation function that runs it.
 * Returns the number of frames in ip, at most depth + 1: depth frames and
 * PT_FRAME_TRUNCATED when the whole stack would not fit.  New code objects
 * are defined in t's buffer (CODE records, after the PYTHON record).
 * ip has room for depth + 1 frames.
 */
PT_HIDDEN int pt__py_stack(struct pt_rec_thread *t, void **ip, int nn, int depth);

/* ---- what python.c found (shared with python_code.c, python_objects.c) ---- */

enum { PT_PY_UNKNOWN, PT_PY_LOOKING, PT_PY_ON, PT_PY_OFF };

#define PT_PY_EVAL_RANGES 4

struct pt_py {
	atomic_int state;                /* PT_PY_*; ON: every field set */
	const struct pt_py_layout *L;
	uint32_t hexversion;
	uint32_t flags;                  /* PT_PY_F_UNSUPPORTED, when so */
	uintptr_t runtime;               /* _PyRuntime */
	uintptr_t code_type, str_type, bytes_type, type_type;   /* Py*_Type */
	uintptr_t eval;                  /* _PyEval_EvalFrameDefault */
	uintptr_t eval_lo[PT_PY_EVAL_RANGES], eval_hi[PT_PY_EVAL_RANGES];
	unsigned neval;                  /* its body, and its cold parts */
};
PT_HIDDEN extern struct pt_py pt__py;

/* Find the interpreter (once; racing callers return at once). */
PT_HIDDEN void pt__py_detect(void);

/* The id of the code object at code (its type checked), defining it in
 * t's buffer the first time; 0 if it cannot be read or the table is full. */
PT_HIDDEN uint32_t pt__pycode_id(struct pt_rec_thread *t, uintptr_t code);

/* The PYTHON record in t's buffer, once per trace (after a fork too). */
PT_HIDDEN void pt__pycode_python_record(struct pt_rec_thread *t);

/*
 * At exit (python_objects.c): which of the blocks the leak scan classified
 * are Python objects, and of which type.  The leak scan's locks held (the
 * blocks are readable); seg: the writable segments of the loaded modules,
 * nseg (lo, hi) pairs.  Nothing when Python frames are not read.
 */
struct hs_ctx;
PT_HIDDEN void pt__pyobj_scan(const struct hs_ctx *c, const uintptr_t *seg, unsigned nseg);
/* ... and their records, after the LEAKS records; the file's lock held. */
PT_HIDDEN void pt__pyobj_write_locked(void);
/* The same for every live block, when the interpreter begins to finalize:
 * by the thread that finalizes, at its first stack after that (no lock
 * held); once per process, when every event is recorded. */
PT_HIDDEN void pt__pyobj_census(void);

#endif
