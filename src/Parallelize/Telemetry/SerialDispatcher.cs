using System.Collections.Concurrent;

namespace Parallelize.Telemetry;

/// <summary>
/// Runs a pool's telemetry (log messages and progress reports raised by its runners — user code) one at a time, in the
/// order raised, on a thread-pool thread of its own choosing: never on a runner, never under a lock of the pool, and
/// never inside the pool's "inside an executor" mark. So a logger or a progress handler may stop or wait for the very
/// pool that reports to it, and a slow one never holds a runner back.
/// </summary>
/// <remarks>
/// <para><b>Order.</b> <c>_scheduled</c> is 1 while a drain is queued or running; only the poster that flips it from 0
/// queues one, so one drain runs at a time and the queue's order is the order of the reports. A drain that empties the
/// queue clears the flag, then looks again (a post may have come in between) and takes the flag back if it can.</para>
/// <para>Actions are run with <see cref="ThreadPool.UnsafeQueueUserWorkItem(WaitCallback, object?)"/>, so they start in
/// the empty execution context. An action that throws is the user's bug; it is swallowed so later reports still come.</para>
/// </remarks>
internal sealed class SerialDispatcher
{
    [ThreadStatic]
    private static SerialDispatcher? t_draining;

    private readonly ConcurrentQueue<Action> _queue = new();
    private int _scheduled;

    /// <summary>Gets a value indicating whether the calling thread is running one of this dispatcher's actions.</summary>
    public bool IsDrainingHere => ReferenceEquals(t_draining, this);

    /// <summary>Queues an action; it runs after every action queued before it.</summary>
    public void Post(Action action)
    {
        _queue.Enqueue(action);
        if (Interlocked.CompareExchange(ref _scheduled, 1, 0) == 0)
        {
            ThreadPool.UnsafeQueueUserWorkItem(static state => ((SerialDispatcher)state!).Drain(), this);
        }
    }

    /// <summary>Blocks until every action queued so far has run; returns at once when called from one of those actions, which cannot wait for itself.</summary>
    public void WaitForQueued()
    {
        // Nothing queued or running (the usual case): no hop to the thread pool, which may be busy with callers blocked
        // on this very stop.
        if (IsDrainingHere || (Volatile.Read(ref _scheduled) == 0 && _queue.IsEmpty))
        {
            return;
        }

        using var done = new ManualResetEventSlim();
        Post(done.Set);
        done.Wait();
    }

    private void Drain()
    {
        t_draining = this;
        try
        {
            while (true)
            {
                while (_queue.TryDequeue(out Action? action))
                {
                    try
                    {
                        action();
                    }
#pragma warning disable CA1031 // A logger or progress handler that throws must not stop the reports after it.
                    catch (Exception)
#pragma warning restore CA1031
                    {
                    }
                }

                Volatile.Write(ref _scheduled, 0);
                if (_queue.IsEmpty || Interlocked.CompareExchange(ref _scheduled, 1, 0) != 0)
                {
                    return;
                }
            }
        }
        finally
        {
            t_draining = null;
        }
    }
}
