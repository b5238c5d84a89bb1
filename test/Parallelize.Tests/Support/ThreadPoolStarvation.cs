namespace Parallelize.Tests.Support;

/// <summary>
/// Starves the .NET thread pool until disposed: every thread-pool thread, and every thread the pool injects meanwhile,
/// blocks on a gate, and a work item queued meanwhile (a timer's callback, a continuation) waits behind
/// <see cref="Depth"/> blockers, each of which takes a newly injected thread (about one every half second) before it is
/// its turn — minutes, against a test's 30-second guard. A probe queued right behind the first blockers tells whether
/// the starvation held: it runs only once the thread pool has caught up.
/// </summary>
internal sealed class ThreadPoolStarvation : IDisposable
{
    /// <summary>How many blockers stay queued ahead of any other work item.</summary>
    public const int Depth = 500;

    private readonly ManualResetEventSlim _gate = new();
    private int _probeRan;

    public ThreadPoolStarvation()
    {
        for (int i = 0; i < Depth; i++)
        {
            Queue();
        }

        ThreadPool.UnsafeQueueUserWorkItem(static state => Volatile.Write(ref ((ThreadPoolStarvation)state!)._probeRan, 1), this);
    }

    /// <summary>Gets a value indicating whether a work item queued when the starvation began has run: if so, it did not hold.</summary>
    public bool ProbeRan => Volatile.Read(ref _probeRan) != 0;

    public void Dispose() => _gate.Set();

    private void Queue() => ThreadPool.UnsafeQueueUserWorkItem(
        static state =>
        {
            var starvation = (ThreadPoolStarvation)state!;
            if (starvation._gate.IsSet)
            {
                return;
            }

            // Keep Depth blockers queued: the thread this one took is replaced by the next injected thread's blocker.
            starvation.Queue();
            starvation._gate.Wait();
        },
        this);
}
