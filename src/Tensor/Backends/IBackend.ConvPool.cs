using FsrNative.Kernels;

namespace FsrNative;

/// <summary>Convolution and pooling primitives (op family ConvPool). All tensors contiguous NCHW; outputs are
/// preallocated by the caller and overwritten. Geometry structs (src/Kernels/ConvPoolGeometry.cs) carry the sizes.</summary>
public partial interface IBackend
{
    // ---- convolution (groups = 1) -------------------------------------------------------------------------------
    /// <summary>y (N, O, OH, OW) = conv2d(x (N, C, H, W), w (O, C, KH, KW)) + bias (O; null for none).</summary>
    void Conv2d(Tensor x, Tensor w, Tensor? bias, Tensor y, in Conv2dGeometry g);
    /// <summary>gx (N, C, H, W) = the gradient of conv2d with respect to its input, for output gradient gy.</summary>
    void Conv2dBackwardInput(Tensor gy, Tensor w, Tensor gx, in Conv2dGeometry g);
    /// <summary>gw (O, C, KH, KW) = the gradient of conv2d with respect to its weight: Σ over images and positions.</summary>
    void Conv2dBackwardWeight(Tensor x, Tensor gy, Tensor gw, in Conv2dGeometry g);

    // ---- pooling over (planes, H, W) → (planes, OH, OW) -----------------------------------------------------------
    /// <summary>Window maxima and their flat in-plane indices (Int32), PyTorch's tie and NaN rules.</summary>
    void MaxPool2d(Tensor x, Tensor y, Tensor indices, in Pool2dGeometry g);
    /// <summary>gx = 0, then gx[plane, indices] += gy in output order (deterministic).</summary>
    void MaxPool2dBackward(Tensor gy, Tensor indices, Tensor gx, in Pool2dGeometry g);
    /// <summary>Window averages (window or adaptive, see <see cref="Pool2dGeometry"/>).</summary>
    void AvgPool2d(Tensor x, Tensor y, in Pool2dGeometry g);
    /// <summary>gx = each output's gy / divisor spread over its window (deterministic).</summary>
    void AvgPool2dBackward(Tensor gy, Tensor gx, in Pool2dGeometry g);
}
