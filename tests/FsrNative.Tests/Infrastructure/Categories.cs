namespace FsrNative.Tests.Infrastructure;

/// <summary>
/// Values of the xunit trait "Category" (see docs/architecture.md, "Tests, by xunit trait Category").
/// Use as <c>[Trait(Categories.Trait, Categories.Oracle)]</c>; run one category with
/// <c>dotnet test FsrNative.sln -c Release --filter Category=Oracle</c>.
/// </summary>
public static class Categories
{
    public const string Trait = "Category";

    /// <summary>Forward and backward agree with libtorch (TorchSharp).</summary>
    public const string Oracle = "Oracle";
    /// <summary>Backward agrees with central finite differences in float64.</summary>
    public const string Gradcheck = "Gradcheck";
    /// <summary>ILGPU kernels on the CPU accelerator agree with the CPU backend.</summary>
    public const string Parity = "Parity";
    /// <summary>Every ILGPU kernel and every kernels-ptx/*.ptx assembles with ptxas for sm_80 and sm_90.</summary>
    public const string Ptx = "Ptx";
    /// <summary>The FSR model reproduces the authors' PyTorch code on shared/golden.</summary>
    public const string Golden = "Golden";
    /// <summary>The Parity bodies (and larger shapes) on a real CUDA device against the CPU backend; skipped, with the
    /// reason, where no usable CUDA device exists (see tests/FsrNative.Tests/Cuda).</summary>
    public const string Cuda = "Cuda";
    /// <summary>Bounded end-to-end runs.</summary>
    public const string E2E = "E2E";
}
