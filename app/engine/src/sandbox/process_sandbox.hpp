// The pieces every parser worker process is built from: a seccomp filter, resource
// limits, the AddressSanitizer fork guard, and the words for how a worker ended. The
// libewf worker (sources/ewf_worker.cpp) and the TSK workers (triage/walk_worker.cpp)
// both use them.
//
//   pid_t pid = ::fork();
//   if (pid == 0) {
//       ... close what the worker must not hold, open what it needs ...
//       sandbox::limit_resources(memory);
//       if (!sandbox::enter({SCMP_SYS(lseek)})) ::_exit(sandbox::kExitNoSandbox);
//       ... parse ...
//   }
//   ... waitpid(pid, &status, 0); sandbox::describe_exit(status, memory);
//
// Promises
// - enter() allows memory management, clocks, signals to itself, and I/O on descriptors
//   the process already holds (read, write, close, fstat), plus the `extra` system calls;
//   everything else (open, socket, exec, fork, clone, ...) fails with EPERM. The filter
//   applies to every thread the process has.
// - limit_resources(): RLIMIT_CORE and RLIMIT_FSIZE 0, RLIMIT_AS the current address space
//   plus `memory` (not under AddressSanitizer, whose shadow memory needs the space).
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <initializer_list>
#include <string>

namespace exhibit::sandbox {

// Worker exit statuses describe_exit() turns into words.
constexpr int kExitLostSupervisor = 2;
constexpr int kExitOutOfMemory = 3;
constexpr int kExitFailed = 4;
constexpr int kExitNoSandbox = 5;  // the kernel refused the seccomp filter

#if defined(__SANITIZE_ADDRESS__)
constexpr bool kAddressSanitizer = true;
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
constexpr bool kAddressSanitizer = true;
#else
constexpr bool kAddressSanitizer = false;
#endif
#else
constexpr bool kAddressSanitizer = false;
#endif

// Installs the seccomp filter. False when the kernel or libseccomp refused it.
bool enter(std::initializer_list<int> extra = {});

void limit_resources(std::uint64_t memory);

// AddressSanitizer builds: a fork copies the sanitizer's allocator with whatever locks
// other threads held at that instant (GCC 12's libasan takes none around fork). Taking
// every size class's lock once hangs if one was held, so a worker calls this first and
// reports ready after; its supervisor replaces a worker that does not. No-op otherwise.
void exercise_allocator();

// Address space (field 0) or resident memory (field 1) of process `pid`, in bytes.
std::uint64_t statm_bytes(pid_t pid, int field);

// How a worker with waitpid status `status` ended: "was killed by signal 11
// (Segmentation fault)", "ran out of memory (limit 1024 MiB)", "could not enter its
// sandbox (the kernel has no seccomp filter support)", ...
std::string describe_exit(int status, std::uint64_t memory);

}  // namespace exhibit::sandbox
