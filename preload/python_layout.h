/*
 * python_layout.h - where CPython 3.8 to 3.13 keep what python.c reads:
 * byte offsets into _PyRuntime, thread states, frames, code, str and bytes
 * objects, for x86-64 Linux builds without Py_DEBUG (the ones
 * distributions ship; a debug build's objects have two more pointers
 * first).  One entry per minor version: the fields read do not move
 * within one (tests/py_offsets.c checks each entry against the internal
 * headers of every interpreter it finds, with offsetof).
 *
 * How a Python frame is found, by version:
 *   3.8-3.10  tstate->frame, a PyFrameObject; f_back; f_code; f_lasti
 *             (bytes up to 3.9, code units from 3.10); each frame runs in
 *             its own call of _PyEval_EvalFrameDefault
 *   3.11      tstate->cframe->current_frame, a _PyInterpreterFrame;
 *             previous; f_code; prev_instr; one call of the evaluation
 *             function runs frames up to one with is_entry set
 *   3.12      the same, with a shim frame owned by the C stack below the
 *             frames of each call instead of is_entry
 *   3.13      tstate->current_frame; f_executable (a code object, or not);
 *             instr_ptr; shim frames as in 3.12
 * The detection checks a version's entry against the interpreter's own type
 * objects (the basic sizes of code, str and bytes objects): a debug or a
 * free-threading build, whose objects have more fields, does not match.
 * The thread state of the thread that runs is the one the interpreter's
 * thread-specific key (autoTSSkey) holds for it; it holds the GIL when
 * the GIL's current state is it (3.8-3.11) or its _status has the bit
 * "active" (3.12, 3.13).
 */
#ifndef POOLTRACE_PYTHON_LAYOUT_H
#define POOLTRACE_PYTHON_LAYOUT_H

#include <stdint.h>

enum pt_py_frames {
	PT_PYF_OBJECTS = 1,      /* 3.8-3.10: frame objects */
	PT_PYF_ENTRY,            /* 3.11: interpreter frames, is_entry */
	PT_PYF_SHIM,             /* 3.12, 3.13: interpreter frames, shims */
};

struct pt_py_layout {
	unsigned minor;
	unsigned frames;          /* enum pt_py_frames */
	unsigned lines;           /* its line tables: PT_PYLINES_* of python_lines.h */
	/* _PyRuntime */
	uint16_t rt_tstate_current;   /* gilstate.tstate_current; 0: none (3.12 on) */
	uint16_t rt_tss;              /* Py_tss_t autoTSSkey: int initialized, key */
	uint16_t rt_allocator;        /* preconfig.allocator */
	uint16_t rt_finalizing;       /* _finalizing (3.8: finalizing): the state of the
	                                 thread that finalizes, once it began */
	/* PyThreadState */
	uint16_t ts_frame;        /* frame, cframe or current_frame */
	uint16_t cframe;          /* 1: ts_frame is a _PyCFrame (3.11, 3.12) */
	uint16_t ts_status;       /* _status (3.12 on), with the bit "active" */
	uint16_t cf_current;      /* _PyCFrame.current_frame (3.11, 3.12) */
	/* frames */
	uint16_t fr_code, fr_back, fr_instr;   /* instr: f_lasti, prev_instr, instr_ptr */
	uint16_t fr_entry;        /* is_entry (3.11) */
	uint16_t fr_owner;        /* owner (3.11 on) */
	/* code objects */
	uint16_t co_filename, co_name, co_firstlineno, co_lines;
	uint16_t co_code;         /* co_code, a bytes object (3.8-3.10); else 0 */
	uint16_t co_adaptive;     /* co_code_adaptive: the instructions (3.11 on) */
	uint16_t co_firsttraceable;   /* _co_firsttraceable (3.11 on) */
	uint16_t co_basicsize;    /* PyCode_Type.tp_basicsize: sizeof(PyCodeObject) up
	                             to 3.10, then co_code_adaptive's offset */
	/* str: the data of a compact ASCII string, of another compact one */
	uint16_t str_ascii_data, str_compact_data;
};

#define PT_PY_STATUS_ACTIVE  (1u << 4)   /* _status.active, 3.12 and 3.13 */
#define PT_PY_OWNED_BY_GENERATOR 1
#define PT_PY_OWNED_BY_CSTACK    3       /* a shim (3.12 on) */
/* where every version keeps them */
#define PT_PY_OB_TYPE     8
#define PT_PY_OB_SIZE     16   /* PyVarObject */
#define PT_PY_BYTES_DATA  32   /* PyBytesObject.ob_sval */
#define PT_PY_STR_LENGTH  16
#define PT_PY_STR_STATE   32   /* kind bits 2-4, compact 5, ascii 6 */
#define PT_PY_CO_QUALNAME 128  /* 3.11 on */
/* type objects (the exit scan of python_objects.c) */
#define PT_PY_TP_NAME       24
#define PT_PY_TP_BASICSIZE  32
#define PT_PY_TP_ITEMSIZE   40
#define PT_PY_TP_FLAGS      168
/* PyPreConfig.allocator values that mean pymalloc */
#define PT_PY_ALLOC_MALLOC        3
#define PT_PY_ALLOC_MALLOC_DEBUG  4

static const struct pt_py_layout pt_py_layouts[] = {
	{ .minor = 8, .co_basicsize = 176, .rt_finalizing = 16, .frames = PT_PYF_OBJECTS, .lines = 1,
	  .rt_tstate_current = 1368, .rt_tss = 1392, .rt_allocator = 1400 + 36,
	  .ts_frame = 24, .fr_code = 32, .fr_back = 24, .fr_instr = 104,
	  .co_filename = 104, .co_name = 112, .co_firstlineno = 40, .co_lines = 120,
	  .co_code = 48, .str_ascii_data = 48, .str_compact_data = 72 },
	{ .minor = 9, .co_basicsize = 176, .rt_finalizing = 16, .frames = PT_PYF_OBJECTS, .lines = 1,
	  .rt_tstate_current = 568, .rt_tss = 584, .rt_allocator = 592 + 36,
	  .ts_frame = 24, .fr_code = 32, .fr_back = 24, .fr_instr = 104,
	  .co_filename = 104, .co_name = 112, .co_firstlineno = 40, .co_lines = 120,
	  .co_code = 48, .str_ascii_data = 48, .str_compact_data = 72 },
	{ .minor = 10, .co_basicsize = 176, .rt_finalizing = 16, .frames = PT_PYF_OBJECTS, .lines = 2,
	  .rt_tstate_current = 568, .rt_tss = 584, .rt_allocator = 592 + 36,
	  .ts_frame = 24, .fr_code = 32, .fr_back = 24, .fr_instr = 96,
	  .co_filename = 104, .co_name = 112, .co_firstlineno = 40, .co_lines = 120,
	  .co_code = 48, .str_ascii_data = 48, .str_compact_data = 72 },
	{ .minor = 11, .co_basicsize = 184, .rt_finalizing = 24, .frames = PT_PYF_ENTRY, .lines = 3,
	  .rt_tstate_current = 576, .rt_tss = 592, .rt_allocator = 600 + 36,
	  .ts_frame = 56, .cframe = 1, .cf_current = 8,
	  .fr_code = 32, .fr_back = 48, .fr_instr = 56, .fr_entry = 68, .fr_owner = 69,
	  .co_filename = 112, .co_name = 120, .co_firstlineno = 72, .co_lines = 136,
	  .co_adaptive = 184, .co_firsttraceable = 168,
	  .str_ascii_data = 48, .str_compact_data = 72 },
	{ .minor = 12, .co_basicsize = 192, .rt_finalizing = 24, .frames = PT_PYF_SHIM, .lines = 3,
	  .rt_tss = 1544, .rt_allocator = 3000 + 36,
	  .ts_frame = 56, .cframe = 1, .ts_status = 24, .cf_current = 0,
	  .fr_code = 0, .fr_back = 8, .fr_instr = 56, .fr_owner = 70,
	  .co_filename = 112, .co_name = 120, .co_firstlineno = 68, .co_lines = 136,
	  .co_adaptive = 192, .co_firsttraceable = 176,
	  .str_ascii_data = 40, .str_compact_data = 56 },
	{ .minor = 13, .co_basicsize = 200, .rt_finalizing = 608, .frames = PT_PYF_SHIM, .lines = 3,
	  .rt_tss = 2160, .rt_allocator = 10360 + 36,
	  .ts_frame = 72, .ts_status = 32,
	  .fr_code = 0, .fr_back = 8, .fr_instr = 56, .fr_owner = 70,
	  .co_filename = 112, .co_name = 120, .co_firstlineno = 68, .co_lines = 136,
	  .co_adaptive = 200, .co_firsttraceable = 184,
	  .str_ascii_data = 40, .str_compact_data = 56 },
};

static inline const struct pt_py_layout *pt_py_layout_of(unsigned major, unsigned minor)
{
	for (unsigned i = 0; major == 3 && i < sizeof pt_py_layouts / sizeof pt_py_layouts[0]; i++)
		if (pt_py_layouts[i].minor == minor)
			return &pt_py_layouts[i];
	return 0;
}

#endif
