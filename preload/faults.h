/*
 * faults.h - POOLTRACE_MESH's SIGSEGV handler (faults.c).
 */
#ifndef POOLTRACE_FAULTS_H
#define POOLTRACE_FAULTS_H

#include <signal.h>

#include "../allocator/compiler.h"

/* Install the handler in front of the program's (once). */
PT_HIDDEN void pt__faults_install(void);

/* fork's handlers: the program's disposition kept here is the child's own
 * in a fork child, also in the child handlers that run before ours. */
PT_HIDDEN void pt__faults_fork_prepare(void);
PT_HIDDEN void pt__faults_fork_parent(void);
PT_HIDDEN void pt__faults_fork_child(void);

/* Look up glibc's sigaction and signal now (the constructor). */
PT_HIDDEN void pt__faults_resolve(void);

/*
 * Pass signal sig on to the disposition *to that a handler of ours stands
 * in front of, as the kernel would have delivered it: a handler runs with
 * its sa_mask (and sig, unless SA_NODEFER) blocked, SA_RESETHAND resets *to;
 * an ignored signal that was sent stays ignored; otherwise the default
 * action goes back in the kernel and the signal comes again (a fault
 * repeats when the handler returns, a sent signal is raised).
 */
PT_HIDDEN void pt__signal_pass_on(int sig, siginfo_t *si, void *uc, struct sigaction *to);

#endif
