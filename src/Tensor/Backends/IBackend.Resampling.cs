using FsrNative.Kernels;

namespace FsrNative;

/// <summary>Resampling family: 2-D interpolation (nearest / bilinear / bicubic) forward and backward, and flip.</summary>
public partial interface IBackend
{
    /// <summary>y (planes, h.Out, w.Out) = resample(x (planes, h.In, w.In)) with the taps of <see cref="ResampleMath"/>;
    /// both contiguous, planes = N·C.</summary>
    void Resample(Tensor x, Tensor y, int planes, ResampleMode mode, ResampleAxis h, ResampleAxis w);

    /// <summary>gx (planes, h.In, w.In) = the transpose of <see cref="Resample"/> applied to gy (planes, h.Out, w.Out);
    /// gx is overwritten; deterministic (no atomics).</summary>
    void ResampleBackward(Tensor gy, Tensor gx, int planes, ResampleMode mode, ResampleAxis h, ResampleAxis w);

    /// <summary>dst(o, j, i) = src(o, n − 1 − j, i) over contiguous (outer, n, inner) blocks, any element type.</summary>
    void Flip(Tensor src, Tensor dst, int outer, int n, int inner);
}
