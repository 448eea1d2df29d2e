/*
 * cpu.c - the process's CPUs and pinning a thread to one of them.
 */
#include "lib/cpu.h"

#include <errno.h>
#include <pthread.h>

int cpu_allowed(int cpus[CPU_SETSIZE]) {
    cpu_set_t set;
    CPU_ZERO(&set);
    if (sched_getaffinity(0, sizeof(set), &set) != 0)
        return 0;
    int n = 0;
    for (int c = 0; c < CPU_SETSIZE; c++)
        if (CPU_ISSET(c, &set))
            cpus[n++] = c;
    return n;
}

int cpu_pin(pthread_t thread, int cpu) {
    if (cpu < 0 || cpu >= CPU_SETSIZE)
        return EINVAL;
    cpu_set_t one;
    CPU_ZERO(&one);
    CPU_SET(cpu, &one);
    return pthread_setaffinity_np(thread, sizeof(one), &one);
}

int cpu_pin_self(int cpu) {
    return cpu_pin(pthread_self(), cpu);
}
