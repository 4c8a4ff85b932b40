# Candidate flag set (own composition; sources per line in REPORT.md §c).
# Verified here: gcc 12.2.0 and clang 14.0.6 (Debian 12) compile+link a probe
# including <sodium.h> (1.0.18), <uv.h> (1.44.2), <sqlite3.h> (3.40.1) with -Werror.
# NOTE: -std=c17 alone breaks <uv.h> (pthread_rwlock_t unknown) -> _POSIX_C_SOURCE needed.
STD      = -std=c17 -D_POSIX_C_SOURCE=200809L
WARN     = -Wall -Wextra -Wpedantic -Wformat=2 -Wshadow -Wstrict-prototypes \
           -Wmissing-prototypes -Wmissing-declarations -Wold-style-definition \
           -Wredundant-decls -Wnested-externs -Wpointer-arith -Wcast-qual \
           -Wcast-align -Wwrite-strings -Wundef -Wfloat-equal -Wbad-function-cast \
           -Wswitch-enum -Wvla -Wnull-dereference -Wimplicit-fallthrough \
           -Wconversion -Wno-sign-conversion -Wdouble-promotion
WARN_GCC = -Wlogical-op -Wduplicated-cond -Wduplicated-branches -Wrestrict \
           -Wjump-misses-init -Wformat-overflow=2 -Wformat-truncation=2
WARN_CLANG = -Wshorten-64-to-32 -Wcomma -Wassign-enum -Wextra-semi-stmt \
           -Wunreachable-code-aggressive
WERROR   = -Werror
HARDEN   = -O2 -D_FORTIFY_SOURCE=2 -fstack-protector-strong -fstack-clash-protection \
           -fcf-protection -fPIE
HARDEN_LD= -pie -Wl,-z,relro,-z,now,-z,noexecstack
ASAN     = -O1 -g -fsanitize=address,undefined -fno-sanitize-recover=all -fno-omit-frame-pointer
TSAN     = -O1 -g -fsanitize=thread            # clang; only if threads are used
FUZZ     = -O1 -g -fsanitize=fuzzer,address,undefined -DFUZZING_BUILD_MODE_UNSAFE_FOR_PRODUCTION  # clang only
