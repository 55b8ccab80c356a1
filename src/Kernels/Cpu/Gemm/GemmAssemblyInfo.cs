using System.Runtime.CompilerServices;

// The GEMM tests check the internal erf/exp helpers directly; the bench may read the block sizes.
[assembly: InternalsVisibleTo("FsrNative.Tests")]
[assembly: InternalsVisibleTo("FsrNative.Bench")]
