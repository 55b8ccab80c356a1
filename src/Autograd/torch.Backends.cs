namespace FsrNative;

public static partial class torch
{
    /// <summary>PyTorch's <c>torch.backends</c> switches that the engine has (see <see cref="GpuKernels"/>).</summary>
    public static class backends
    {
        public static class cuda
        {
            public static class matmul
            {
                /// <summary>Lets fp32 matmuls on CUDA use TF32 tensor cores (the PTX GEMM, where selected); default false:
                /// fp32 matmuls stay exact fp32. The same switch as <see cref="GpuKernels.AllowTf32"/>.</summary>
                public static bool allow_tf32
                {
                    get => GpuKernels.AllowTf32;
                    set => GpuKernels.AllowTf32 = value;
                }
            }
        }
    }
}
