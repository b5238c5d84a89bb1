namespace Parallelize.Polly;

/// <summary>Disposes a wrapped executor the way the pool would have: whichever of the two disposal interfaces it has.</summary>
internal static class Disposal
{
    public static void Dispose(object executor)
    {
        if (executor is IDisposable disposable)
        {
            disposable.Dispose();
        }
        else if (executor is IAsyncDisposable asyncDisposable)
        {
            // Only on the synchronous executor's own thread, which the pool gives it to dispose on.
            asyncDisposable.DisposeAsync().AsTask().GetAwaiter().GetResult();
        }
    }

    public static ValueTask DisposeAsync(object executor)
    {
        if (executor is IAsyncDisposable asyncDisposable)
        {
            return asyncDisposable.DisposeAsync();
        }

        (executor as IDisposable)?.Dispose();
        return ValueTask.CompletedTask;
    }
}
