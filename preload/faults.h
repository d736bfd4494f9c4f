/*
 * faults.h - POOLTRACE_MESH's SIGSEGV handler (faults.c).
 */
#ifndef POOLTRACE_FAULTS_H
#define POOLTRACE_FAULTS_H

#include "../allocator/compiler.h"

/* Install the handler in front of the program's (once). */
PT_HIDDEN void pt__faults_install(void);

/* Look up glibc's sigaction and signal now (the constructor). */
PT_HIDDEN void pt__faults_resolve(void);

#endif
