/*
 * fake_python.c - a program that looks like a CPython the recorder does not
 * read (it exports Py_GetVersion, as every CPython does, and nothing of
 * 3.8 to 3.13): profiled, it must print one line and record native frames
 * only.  Built with -rdynamic.  Allocates a few blocks in a function of its
 * own, keeping one.
 */
#include <stdio.h>
#include <stdlib.h>

const char *Py_GetVersion(void);

const char *Py_GetVersion(void)
{
	return "3.99.1 (fake, for the tests)";
}

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
