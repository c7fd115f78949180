/*
 * c11_threads.c - C11 threads routed through the pthread calls ThreadSanitizer sees; linked
 * into the programs of `make SAN=thread` only.
 *
 * librdkafka (Debian's 2.0.2, not built with TSan) starts its threads with C11 thrd_create
 * and guards its queues with mtx_lock and cnd_wait. glibc implements these with internal
 * calls to its own pthread functions, which the TSan runtime never sees, and neither
 * runtime on the build machine (gcc 12's libtsan, clang 14's) intercepts the C11 names:
 *
 *  - a thread started by thrd_create has no TSan state, and its first malloc crashes
 *    inside the sanitizer's allocator (test_mock_faults: SIGSEGV in
 *    SizeClassAllocator64LocalCache::Allocate on thread rdk:broker-1);
 *  - a lock TSan cannot see orders nothing, so memory librdkafka hands from one thread to
 *    another under its own mutex (allocated here, freed there) is reported as a race.
 *
 * The executable exports these definitions (librdkafka refers to them, so the linker puts
 * them in the dynamic symbol table) and the dynamic linker binds librdkafka's references to
 * the executable before libc. Each one does exactly what glibc's does (glibc's mtx_t,
 * cnd_t and once_flag are its pthread types under another name) but through the public
 * pthread entry points, which TSan intercepts. Nothing here changes what librdkafka does.
 */
#include <errno.h>
#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>
#include <threads.h>

/* glibc's thrd_err_map */
static int c11_status(int rc)
{
    switch (rc) {
    case 0: return thrd_success;
    case ENOMEM: return thrd_nomem;
    case ETIMEDOUT: return thrd_timedout;
    case EBUSY: return thrd_busy;
    default: return thrd_error;
    }
}

/* ---- threads ------------------------------------------------------------------------ */

typedef struct start {
    thrd_start_t fn;
    void *arg;
} start_t;

static void *trampoline(void *p)
{
    start_t s = *(start_t *)p;
    free(p);
    return (void *)(intptr_t)s.fn(s.arg);
}

int thrd_create(thrd_t *thr, thrd_start_t fn, void *arg)
{
    start_t *s = malloc(sizeof(*s));
    if (!s)
        return thrd_nomem;
    s->fn = fn;
    s->arg = arg;
    pthread_t t;
    int rc = pthread_create(&t, NULL, trampoline, s);
    if (rc != 0) {
        free(s);
        return rc == EAGAIN ? thrd_nomem : c11_status(rc);
    }
    *thr = (thrd_t)t;
    return thrd_success;
}

int thrd_join(thrd_t thr, int *res)
{
    void *ret;
    int rc = pthread_join((pthread_t)thr, &ret);
    if (rc == 0 && res)
        *res = (int)(intptr_t)ret;
    return c11_status(rc);
}

/* ---- mutexes ------------------------------------------------------------------------ */

int mtx_init(mtx_t *m, int type)
{
    pthread_mutexattr_t attr;
    pthread_mutexattr_init(&attr);
    pthread_mutexattr_settype(&attr, (type & mtx_recursive) ? PTHREAD_MUTEX_RECURSIVE
                                                            : PTHREAD_MUTEX_DEFAULT);
    int rc = pthread_mutex_init((pthread_mutex_t *)m, &attr);
    pthread_mutexattr_destroy(&attr);
    return c11_status(rc);
}

int mtx_lock(mtx_t *m) { return c11_status(pthread_mutex_lock((pthread_mutex_t *)m)); }
int mtx_trylock(mtx_t *m) { return c11_status(pthread_mutex_trylock((pthread_mutex_t *)m)); }
int mtx_unlock(mtx_t *m) { return c11_status(pthread_mutex_unlock((pthread_mutex_t *)m)); }
void mtx_destroy(mtx_t *m) { pthread_mutex_destroy((pthread_mutex_t *)m); }

int mtx_timedlock(mtx_t *restrict m, const struct timespec *restrict ts)
{
    return c11_status(pthread_mutex_timedlock((pthread_mutex_t *)m, ts));
}

/* ---- condition variables ------------------------------------------------------------ */

int cnd_init(cnd_t *c) { return c11_status(pthread_cond_init((pthread_cond_t *)c, NULL)); }
int cnd_signal(cnd_t *c) { return c11_status(pthread_cond_signal((pthread_cond_t *)c)); }
int cnd_broadcast(cnd_t *c) { return c11_status(pthread_cond_broadcast((pthread_cond_t *)c)); }
void cnd_destroy(cnd_t *c) { pthread_cond_destroy((pthread_cond_t *)c); }

int cnd_wait(cnd_t *c, mtx_t *m)
{
    return c11_status(pthread_cond_wait((pthread_cond_t *)c, (pthread_mutex_t *)m));
}

int cnd_timedwait(cnd_t *restrict c, mtx_t *restrict m, const struct timespec *restrict ts)
{
    return c11_status(pthread_cond_timedwait((pthread_cond_t *)c, (pthread_mutex_t *)m, ts));
}

/* ---- once --------------------------------------------------------------------------- */

void call_once(once_flag *flag, void (*fn)(void))
{
    pthread_once((pthread_once_t *)flag, fn);
}
