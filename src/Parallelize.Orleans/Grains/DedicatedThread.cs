using System.Collections.Concurrent;

namespace Parallelize.Orleans.Grains;

/// <summary>
/// A thread of its own for a synchronous executor on a silo, so that executors which block (sleeps, I/O, native
/// code) never hold the silo's thread-pool threads, which Orleans needs for its own messaging.
/// </summary>
/// <remarks>
/// Work items run one after another in the order posted. The grain posts at most one batch at a time (it is not
/// reentrant), so the queue holds one item at most in practice. No lock: <see cref="BlockingCollection{T}"/> is the
/// only shared state. <see cref="Dispose"/> lets the item running finish and ends the thread.
/// </remarks>
internal sealed class DedicatedThread : IDisposable
{
    private readonly BlockingCollection<Action> _work = [];

    public DedicatedThread(string name)
    {
        var thread = new Thread(Run) { IsBackground = true, Name = name };
        thread.Start();
    }

    /// <summary>Runs <paramref name="work"/> on the thread.</summary>
    /// <returns>Its result, or its exception.</returns>
    /// <exception cref="ObjectDisposedException">The thread was disposed.</exception>
    public Task<T> RunAsync<T>(Func<T> work)
    {
        var done = new TaskCompletionSource<T>(TaskCreationOptions.RunContinuationsAsynchronously);
        _work.Add(() =>
        {
            try
            {
                done.TrySetResult(work());
            }
#pragma warning disable CA1031 // Everything goes back to the awaiting grain.
            catch (Exception ex)
#pragma warning restore CA1031
            {
                done.TrySetException(ex);
            }
        });
        return done.Task;
    }

    /// <summary>Ends the thread after the item running, if any.</summary>
    public void Dispose() => _work.CompleteAdding();

    private void Run()
    {
        foreach (Action item in _work.GetConsumingEnumerable())
        {
            item();
        }

        _work.Dispose();
    }
}
