/*
 * fake_python.c - programs that look like a CPython whose frames the
 * recorder must not read: profiled, each must print one line and record
 * native frames only.  Built with -rdynamic.  Each allocates a few blocks
 * in a function of its own, keeping one.
 *
 *   fake_python         exports Py_GetVersion, as every CPython does, and
 *                       nothing of 3.8 to 3.13: a version not read
 *   fake_python_layout  (-DFAKE_LAYOUT) exports what 3.11 exports, with
 *                       type objects whose sizes are not 3.11's (as a
 *                       build whose objects have more fields would have)
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

const char *Py_GetVersion(void);

#ifdef FAKE_LAYOUT
const char *Py_GetVersion(void)
{
	return "3.11.99 (fake, for the tests)";
}

const uint32_t Py_Version = 0x030b63f0;
uintptr_t _PyRuntime[4096];
uintptr_t PyType_Type[64], PyCode_Type[64], PyUnicode_Type[64], PyBytes_Type[64];

void _PyEval_EvalFrameDefault(void);
void _PyEval_EvalFrameDefault(void)
{
}

__attribute__((constructor)) static void types(void)
{
	uintptr_t *t[] = { PyType_Type, PyCode_Type, PyUnicode_Type, PyBytes_Type };
	for (int i = 0; i < 4; i++) {
		t[i][0] = 1;                       /* references */
		t[i][1] = (uintptr_t)PyType_Type;  /* its type */
		t[i][4] = 1000;                    /* tp_basicsize: not a 3.11 object's */
	}
}
#else
const char *Py_GetVersion(void)
{
	return "3.99.1 (fake, for the tests)";
}
#endif

__attribute__((noinline)) static void *work(int i)
{
	return malloc(1000 + i);
}

int main(void)
{
	void *keep = NULL;
	for (int i = 0; i < 10; i++) {
		free(keep);
		keep = work(i);
	}
	printf("fake python ran\n");
	return keep == NULL;
}
