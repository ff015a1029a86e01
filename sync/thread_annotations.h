// Clang's thread-safety attributes (https://clang.llvm.org/docs/ThreadSafetyAnalysis.html) as
// macros, so that a member says which mutex guards it and a function says which mutex it needs:
//
//   Mutex mutex_;
//   int count_ GUARDED_BY(mutex_) = 0;
//   void BumpLocked() REQUIRES(mutex_);
//   void Bump() EXCLUDES(mutex_);
//
// The clang build with -Wthread-safety (`make check-locks`, build/tsa) turns a read or write
// without the lock into a compile error. Other compilers see empty macros.
#pragma once

#if defined(__clang__)
#define TP_THREAD_ANNOTATION(x) __attribute__((x))
#else
#define TP_THREAD_ANNOTATION(x)
#endif

// A class that is a lock (Mutex).
#define CAPABILITY(x) TP_THREAD_ANNOTATION(capability(x))
// An RAII class that holds a lock for its lifetime (MutexLock).
#define SCOPED_CAPABILITY TP_THREAD_ANNOTATION(scoped_lockable)
// A member read or written only with the lock held.
#define GUARDED_BY(x) TP_THREAD_ANNOTATION(guarded_by(x))
// A pointer member whose pointee is read or written only with the lock held.
#define PT_GUARDED_BY(x) TP_THREAD_ANNOTATION(pt_guarded_by(x))
// Lock ordering: this lock is taken before / after those.
#define ACQUIRED_BEFORE(...) TP_THREAD_ANNOTATION(acquired_before(__VA_ARGS__))
#define ACQUIRED_AFTER(...) TP_THREAD_ANNOTATION(acquired_after(__VA_ARGS__))
// The caller holds the lock (exclusively / at least shared).
#define REQUIRES(...) TP_THREAD_ANNOTATION(requires_capability(__VA_ARGS__))
#define REQUIRES_SHARED(...) TP_THREAD_ANNOTATION(requires_shared_capability(__VA_ARGS__))
// The function takes / gives up the lock and returns with it held / released.
#define ACQUIRE(...) TP_THREAD_ANNOTATION(acquire_capability(__VA_ARGS__))
#define RELEASE(...) TP_THREAD_ANNOTATION(release_capability(__VA_ARGS__))
#define ACQUIRE_SHARED(...) TP_THREAD_ANNOTATION(acquire_shared_capability(__VA_ARGS__))
#define RELEASE_SHARED(...) TP_THREAD_ANNOTATION(release_shared_capability(__VA_ARGS__))
// Releases the lock whether it is held exclusively or shared (a scoped lock's destructor).
#define RELEASE_GENERIC(...) TP_THREAD_ANNOTATION(release_generic_capability(__VA_ARGS__))
#define TRY_ACQUIRE(...) TP_THREAD_ANNOTATION(try_acquire_capability(__VA_ARGS__))
// The caller must not hold the lock (the function takes it itself).
#define EXCLUDES(...) TP_THREAD_ANNOTATION(locks_excluded(__VA_ARGS__))
// The function checks at run time that the lock is held.
#define ASSERT_CAPABILITY(x) TP_THREAD_ANNOTATION(assert_capability(x))
// The function returns a reference to this lock.
#define RETURN_CAPABILITY(x) TP_THREAD_ANNOTATION(lock_returned(x))
// Turns the analysis off for one function; say why next to it.
#define NO_THREAD_SAFETY_ANALYSIS TP_THREAD_ANNOTATION(no_thread_safety_analysis)
