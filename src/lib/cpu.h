/*
 * cpu.h - which CPUs the process may run on, and keeping a thread on one
 * (--cpu-affinity, --audit-cpu). Linux only, like the rest of latchkey.
 */
#ifndef LATCHKEY_LIB_CPU_H
#define LATCHKEY_LIB_CPU_H

#include <pthread.h>
#include <sched.h>

/* The CPUs this process may run on (its affinity mask, which taskset or a
 * container's cpuset may have narrowed), in ascending order, into cpus;
 * how many, or 0 if the mask cannot be read. */
int cpu_allowed(int cpus[CPU_SETSIZE]);

/* Keeps thread on cpu from now on: 0, or the error number. Called by the
 * thread's creator right after pthread_create, the thread runs where it
 * belongs before anything waits on it. */
int cpu_pin(pthread_t thread, int cpu);

/* Keeps the calling thread on cpu from now on. 0, or the error number
 * (EINVAL: not a CPU this process may use). */
int cpu_pin_self(int cpu);

#endif
