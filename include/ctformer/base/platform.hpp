// What the target offers, as three macros the rest of the library tests (a user may define any of
// them first): CTFORMER_BARE_METAL (no operating system: no threads, files or iostream; tensors
// are ctformer's own fixed arrays rather than xtensor's and the kernels run one lane),
// CTFORMER_NO_THREADS (a one-thread pool with the same interface) and CTFORMER_NO_EXCEPTIONS.
#pragma once

#include <cstddef>  // brings in the standard library's configuration macros

#if !defined(CTFORMER_BARE_METAL) && !defined(__unix__) && !defined(__APPLE__) && !defined(_WIN32)
#define CTFORMER_BARE_METAL 1
#endif

#if defined(CTFORMER_BARE_METAL) && !defined(CTFORMER_SIMD_SCALAR)
#define CTFORMER_SIMD_SCALAR 1
#endif

#if !defined(CTFORMER_NO_THREADS) && \
    (defined(CTFORMER_BARE_METAL) || (defined(__GLIBCXX__) && !defined(_GLIBCXX_HAS_GTHREADS)))
#define CTFORMER_NO_THREADS 1
#endif

#if !defined(CTFORMER_NO_EXCEPTIONS) && !defined(__cpp_exceptions) && !defined(__EXCEPTIONS)
#define CTFORMER_NO_EXCEPTIONS 1
#endif

// Around the first inclusion of xtensor and xsimd: GCC 12 reports its own AVX-512 intrinsic
// headers' self-initialised temporaries (`__m512 __Y = __Y;`) as (maybe) uninitialized wherever
// one of their functions is emitted out of line (GCC bug 105593). Headers first read between these
// two macros keep that false positive out of users' builds; everything else keeps its warnings.
#if defined(__GNUC__) && !defined(__clang__)
#define CTFORMER_THIRD_PARTY_BEGIN                                                           \
  _Pragma("GCC diagnostic push") _Pragma("GCC diagnostic ignored \"-Wmaybe-uninitialized\"") \
      _Pragma("GCC diagnostic ignored \"-Wuninitialized\"")
#define CTFORMER_THIRD_PARTY_END _Pragma("GCC diagnostic pop")
#else
#define CTFORMER_THIRD_PARTY_BEGIN
#define CTFORMER_THIRD_PARTY_END
#endif
