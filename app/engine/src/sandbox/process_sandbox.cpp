#include "sandbox/process_sandbox.hpp"

#include <seccomp.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <vector>

namespace exhibit::sandbox {

bool enter(std::initializer_list<int> extra) {
    scmp_filter_ctx ctx = seccomp_init(SCMP_ACT_ERRNO(EPERM));
    if (!ctx) return false;
    // Onto every thread of the worker (the TSK worker's scanner threads run by then).
    bool ok = seccomp_attr_set(ctx, SCMP_FLTATR_CTL_TSYNC, 1) == 0;
    auto allow = [&](int syscall) {
        ok = ok && seccomp_rule_add(ctx, SCMP_ACT_ALLOW, syscall, 0) == 0;
    };
    for (int sc :
         {SCMP_SYS(brk), SCMP_SYS(mmap), SCMP_SYS(munmap), SCMP_SYS(mremap), SCMP_SYS(mprotect),
          SCMP_SYS(madvise), SCMP_SYS(futex), SCMP_SYS(exit), SCMP_SYS(exit_group),
          SCMP_SYS(rt_sigreturn), SCMP_SYS(rt_sigprocmask), SCMP_SYS(rt_sigaction),
          SCMP_SYS(sigaltstack), SCMP_SYS(getpid), SCMP_SYS(gettid), SCMP_SYS(tgkill),
          SCMP_SYS(clock_gettime), SCMP_SYS(clock_nanosleep), SCMP_SYS(nanosleep),
          SCMP_SYS(gettimeofday), SCMP_SYS(getrandom), SCMP_SYS(sched_yield),
          SCMP_SYS(restart_syscall), SCMP_SYS(fstat), SCMP_SYS(newfstatat),
          // I/O on what the worker already holds; pipes it makes itself (the
          // sanitizers probe memory by writing it into one).
          SCMP_SYS(read), SCMP_SYS(write), SCMP_SYS(readv), SCMP_SYS(writev), SCMP_SYS(recvfrom),
          SCMP_SYS(sendto), SCMP_SYS(close), SCMP_SYS(pipe2)}) {
        allow(sc);
    }
    for (int sc : extra)
        allow(sc);
    ok = ok && seccomp_load(ctx) == 0;
    seccomp_release(ctx);
    return ok;
}

void limit_resources(std::uint64_t memory) {
    const rlimit none{0, 0};
    ::setrlimit(RLIMIT_CORE, &none);
    ::setrlimit(RLIMIT_FSIZE, &none);
    if constexpr (!kAddressSanitizer) {
        const std::uint64_t cap = statm_bytes(::getpid(), 0) + memory;
        const rlimit as{cap, cap};
        ::setrlimit(RLIMIT_AS, &as);
    }
}

void exercise_allocator() {
    if constexpr (kAddressSanitizer) {
        std::vector<void*> chunks;
        for (std::size_t size = 1; size <= (128u << 10);
             size += std::max<std::size_t>(8, size / 8)) {
            const std::size_t count = std::clamp<std::size_t>((512u << 10) / size, 4, 320);
            for (std::size_t i = 0; i < count; ++i)
                chunks.push_back(std::malloc(size));
            for (void* p : chunks)
                std::free(p);
            chunks.clear();
        }
        std::free(std::malloc(1u << 20));
    }
}

std::uint64_t statm_bytes(pid_t pid, int field) {
    std::ifstream statm("/proc/" + std::to_string(pid) + "/statm");
    std::uint64_t values[2] = {0, 0};
    statm >> values[0] >> values[1];
    return values[field] * static_cast<std::uint64_t>(::sysconf(_SC_PAGESIZE));
}

std::string describe_exit(int status, std::uint64_t memory) {
    if (WIFSIGNALED(status)) {
        const int sig = WTERMSIG(status);
        return "was killed by signal " + std::to_string(sig) + " (" + ::strsignal(sig) + ")";
    }
    if (!WIFEXITED(status)) return "ended in an unknown way";
    switch (WEXITSTATUS(status)) {
        case 0:
            return "exited normally";
        case kExitLostSupervisor:
            return "lost its connection to the supervisor";
        case kExitOutOfMemory:
            return "ran out of memory (limit " + std::to_string(memory >> 20) + " MiB)";
        case kExitNoSandbox:
            return "could not enter its sandbox (the kernel refused the seccomp filter; it needs "
                   "a kernel with CONFIG_SECCOMP_FILTER)";
        default:
            return "failed with exit status " + std::to_string(WEXITSTATUS(status));
    }
}

}  // namespace exhibit::sandbox
