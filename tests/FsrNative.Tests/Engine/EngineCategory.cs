namespace FsrNative.Tests.Engine;

/// <summary>
/// The "Engine" test category: core behaviour of the tensor engine itself — views and strides, dispose scopes and
/// the allocator, autograd semantics, printing, the Philox generator, device names. Run with
/// <c>dotnet test tests/FsrNative.Tests -c Release --filter Category=Engine</c>.
/// </summary>
public static class EngineCategory
{
    public const string Name = "Engine";
}
