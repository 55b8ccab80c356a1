namespace FsrNative;

/// <summary>
/// Whether ops record themselves on the tape (per thread). <c>using (torch.no_grad()) { … }</c> turns recording
/// off for evaluation, optimiser updates and the backward pass itself.
/// </summary>
public static class GradMode
{
    [ThreadStatic] static bool _disabled;

    public static bool IsEnabled => !_disabled;

    /// <summary>Sets the mode until the returned handle is disposed, then restores the previous one.</summary>
    public static IDisposable Set(bool enabled)
    {
        bool previous = !_disabled;
        _disabled = !enabled;
        return new Restore(previous);
    }

    sealed class Restore(bool previous) : IDisposable
    {
        bool _done;
        public void Dispose()
        {
            if (_done) return;
            _done = true;
            _disabled = !previous;
        }
    }
}
