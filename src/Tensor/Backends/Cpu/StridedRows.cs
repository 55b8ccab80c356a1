namespace FsrNative;

/// <summary>
/// Walks the elements of up to four same-shape operands with arbitrary strides as rows: the shape is coalesced,
/// its last dimension is the row, and each row reaches the body as a start offset per operand plus the row's
/// length and per-operand element stride. Kernels then run contiguous SIMD code on rows whose stride is 1 (or a
/// broadcast scalar loop when it is 0). Large walks are split across cores by rows.
/// </summary>
internal static class StridedRows
{
    internal delegate void RowBody(ReadOnlySpan<int> offsets, int length, ReadOnlySpan<int> rowStrides);

    const int ParallelThreshold = 1 << 16;

    public static void Run(ReadOnlySpan<int> shape, int[][] strides, int[] offsets, RowBody body)
    {
        int n = Shape.NumEl(shape);
        if (n == 0) return;
        var (cs, cstr) = Shape.Coalesce(shape, strides);
        int rank = cs.Length;
        int rowLength = cs[rank - 1];
        int rows = n / rowLength;
        int ops = strides.Length;
        var rowStrides = new int[ops];
        for (int k = 0; k < ops; k++) rowStrides[k] = cstr[k][rank - 1];

        void RunRange(int startRow, int endRow)
        {
            Span<int> off = stackalloc int[ops];
            for (int row = startRow; row < endRow; row++)
            {
                int rem = row;
                for (int k = 0; k < ops; k++) off[k] = offsets[k];
                for (int d = rank - 2; d >= 0; d--)
                {
                    int idx = rem % cs[d];
                    rem /= cs[d];
                    for (int k = 0; k < ops; k++) off[k] += idx * cstr[k][d];
                }
                body(off, rowLength, rowStrides);
            }
        }

        if (n >= ParallelThreshold && rows >= 2 && Environment.ProcessorCount > 1)
        {
            int chunks = Math.Min(rows, Environment.ProcessorCount * 4);
            Parallel.For(0, chunks, c => RunRange((int)((long)rows * c / chunks), (int)((long)rows * (c + 1) / chunks)));
        }
        else RunRange(0, rows);
    }
}
