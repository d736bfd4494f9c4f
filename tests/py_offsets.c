/*
 * py_offsets.c - preload/python_layout.h against CPython's own headers:
 * built with -I the include directory of one interpreter (and its
 * internal/ headers), it checks every offset of that version's entry with
 * offsetof and sizeof.  Prints one line per field that differs; exit
 * status 1 then, 0 when all match.
 */
#define Py_BUILD_CORE 1
#include <Python.h>
#include <stddef.h>
#include <stdio.h>
#if PY_VERSION_HEX >= 0x03090000
#include "internal/pycore_runtime.h"
#endif
#include "internal/pycore_pystate.h"
#if PY_VERSION_HEX >= 0x030b0000
#include "internal/pycore_code.h"
#include "internal/pycore_frame.h"
#else
#include "frameobject.h"
#endif

#include "../preload/python_layout.h"
#include "../preload/python_lines.h"
#include "../preload/trace_format.h"

static int bad;

static void check(const char *what, size_t layout, size_t header)
{
	if (layout == header)
		return;
	printf("FAIL %s: %zu in python_layout.h, %zu in the headers\n", what, layout, header);
	bad = 1;
}

#define CHECK(field, expr) check(#field, L->field, (expr))

int main(void)
{
	const struct pt_py_layout *L = pt_py_layout_of(PY_MAJOR_VERSION, PY_MINOR_VERSION);
	if (!L) {
		printf("FAIL no layout for %s\n", PY_VERSION);
		return 1;
	}
#if PY_VERSION_HEX < 0x030c0000
	CHECK(rt_tstate_current, offsetof(_PyRuntimeState, gilstate.tstate_current));
	CHECK(rt_tss, offsetof(_PyRuntimeState, gilstate.autoTSSkey));
#else
	CHECK(rt_tss, offsetof(_PyRuntimeState, autoTSSkey));
	CHECK(ts_status, offsetof(PyThreadState, _status));
	{
		PyThreadState t;
		memset(&t, 0, sizeof t);
		t._status.active = 1;
		unsigned w;
		memcpy(&w, &t._status, sizeof w);
		check("_status.active", PT_PY_STATUS_ACTIVE, w);
	}
#endif
	check("Py_tss_t", 8, sizeof(Py_tss_t));
#if PY_VERSION_HEX < 0x03090000
	CHECK(rt_finalizing, offsetof(_PyRuntimeState, finalizing));
#else
	CHECK(rt_finalizing, offsetof(_PyRuntimeState, _finalizing));
#endif
	CHECK(rt_allocator, offsetof(_PyRuntimeState, preconfig) + offsetof(PyPreConfig, allocator));
	check("PYMEM_ALLOCATOR_MALLOC", PT_PY_ALLOC_MALLOC, PYMEM_ALLOCATOR_MALLOC);
	check("PYMEM_ALLOCATOR_MALLOC_DEBUG", PT_PY_ALLOC_MALLOC_DEBUG, PYMEM_ALLOCATOR_MALLOC_DEBUG);
#if PY_VERSION_HEX < 0x030b0000
	check("frames", PT_PYF_OBJECTS, L->frames);
	CHECK(ts_frame, offsetof(PyThreadState, frame));
	CHECK(fr_code, offsetof(PyFrameObject, f_code));
	CHECK(fr_back, offsetof(PyFrameObject, f_back));
	CHECK(fr_instr, offsetof(PyFrameObject, f_lasti));
	CHECK(co_code, offsetof(PyCodeObject, co_code));
#else
#if PY_VERSION_HEX < 0x030d0000
	check("cframe", 1, L->cframe);
	CHECK(ts_frame, offsetof(PyThreadState, cframe));
	CHECK(cf_current, offsetof(_PyCFrame, current_frame));
	CHECK(fr_code, offsetof(_PyInterpreterFrame, f_code));
	CHECK(fr_instr, offsetof(_PyInterpreterFrame, prev_instr));
#else
	check("cframe", 0, L->cframe);
	CHECK(ts_frame, offsetof(PyThreadState, current_frame));
	CHECK(fr_code, offsetof(_PyInterpreterFrame, f_executable));
	CHECK(fr_instr, offsetof(_PyInterpreterFrame, instr_ptr));
#endif
#if PY_VERSION_HEX < 0x030c0000
	check("frames", PT_PYF_ENTRY, L->frames);
	CHECK(fr_entry, offsetof(_PyInterpreterFrame, is_entry));
#else
	check("frames", PT_PYF_SHIM, L->frames);
	check("FRAME_OWNED_BY_CSTACK", PT_PY_OWNED_BY_CSTACK, FRAME_OWNED_BY_CSTACK);
#endif
	check("FRAME_OWNED_BY_GENERATOR", PT_PY_OWNED_BY_GENERATOR, FRAME_OWNED_BY_GENERATOR);
	CHECK(fr_back, offsetof(_PyInterpreterFrame, previous));
	CHECK(fr_owner, offsetof(_PyInterpreterFrame, owner));
	check("co_qualname", PT_PY_CO_QUALNAME, offsetof(PyCodeObject, co_qualname));
	CHECK(co_adaptive, offsetof(PyCodeObject, co_code_adaptive));
	CHECK(co_firsttraceable, offsetof(PyCodeObject, _co_firsttraceable));
	check("code unit", 2, sizeof(_Py_CODEUNIT));
#endif
#if PY_VERSION_HEX < 0x030b0000
	CHECK(co_basicsize, sizeof(PyCodeObject));
#else
	CHECK(co_basicsize, offsetof(PyCodeObject, co_code_adaptive));
#endif
	CHECK(str_compact_data, sizeof(PyUnicodeObject) - sizeof(void *));
#if PY_VERSION_HEX < 0x030a0000
	check("lines", PT_PYLINES_LNOTAB, L->lines);
	CHECK(co_lines, offsetof(PyCodeObject, co_lnotab));
#else
	check("lines", PY_VERSION_HEX < 0x030b0000 ? PT_PYLINES_310 : PT_PYLINES_LOCATIONS, L->lines);
	CHECK(co_lines, offsetof(PyCodeObject, co_linetable));
#endif
	CHECK(co_filename, offsetof(PyCodeObject, co_filename));
	CHECK(co_name, offsetof(PyCodeObject, co_name));
	CHECK(co_firstlineno, offsetof(PyCodeObject, co_firstlineno));
	CHECK(str_ascii_data, sizeof(PyASCIIObject));
	CHECK(str_compact_data, sizeof(PyCompactUnicodeObject));
	check("ob_type", PT_PY_OB_TYPE, offsetof(PyObject, ob_type));
	check("ob_size", PT_PY_OB_SIZE, offsetof(PyVarObject, ob_size));
	check("ob_sval", PT_PY_BYTES_DATA, offsetof(PyBytesObject, ob_sval));
	check("str length", PT_PY_STR_LENGTH, offsetof(PyASCIIObject, length));
	check("str state", PT_PY_STR_STATE, offsetof(PyASCIIObject, state));
	{
		PyASCIIObject a;
		unsigned w;
		memset(&a, 0, sizeof a);
		a.state.kind = 7;
		memcpy(&w, &a.state, sizeof w);
		check("str kind bits", 7u << 2, w);
		memset(&a, 0, sizeof a);
		a.state.compact = 1;
		a.state.ascii = 1;
		memcpy(&w, &a.state, sizeof w);
		check("str compact and ascii bits", 3u << 5, w);
	}
	check("tp_name", PT_PY_TP_NAME, offsetof(PyTypeObject, tp_name));
	check("tp_basicsize", PT_PY_TP_BASICSIZE, offsetof(PyTypeObject, tp_basicsize));
	check("tp_itemsize", PT_PY_TP_ITEMSIZE, offsetof(PyTypeObject, tp_itemsize));
	check("tp_flags", PT_PY_TP_FLAGS, offsetof(PyTypeObject, tp_flags));
	if (!bad)
		printf("ok   python_layout.h matches the headers of %s\n", PY_VERSION);
	return bad;
}
