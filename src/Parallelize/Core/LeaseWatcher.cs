namespace Parallelize.Core;

/// <summary>A pool as the <see cref="LeaseWatcher"/> sees it.</summary>
internal interface IWatchedPool
{
    /// <summary>
    /// Looks at the pool's leases once and releases those that made no progress since the last look; also queues the
    /// retries whose timer is overdue (a starved thread pool, see <see cref="RetryScheduler{TIn}"/>).
    /// </summary>
    /// <returns><see langword="true"/> if some lease could hold calls back: keep looking.</returns>
    bool WatchFromBackstop();
}

/// <summary>
/// One background thread for the whole process that looks at every pool's leases about once a millisecond while any
/// of them could hold calls back, and releases a lease whose runner is stuck in a call: its finished calls are
/// delivered and its unstarted calls handed back to the queue.
/// </summary>
/// <remarks>
/// <para>An idle synchronous runner watches its own pool more closely (every ~100 µs, see
/// <see cref="SlotRunner{TIn, TOut}"/>); this thread is the backstop for pools with no idle runner to do it (every
/// executor busy, or asynchronous executors), so that a finished result is never held back by a slow call after it for
/// more than a couple of milliseconds.</para>
/// <para>Being a thread of its own, it is also the pools' fallback for what a starved thread pool would hold back
/// (the application's threads blocked elsewhere): the system clock's timers, whose callbacks wait for a thread-pool
/// thread, and asynchronous runners woken to take calls, whose continuations do too. Each look queues the retries whose
/// delay ended more than <see cref="OverdueAfter"/> ago (<see cref="RetryScheduler{TIn}"/>), lets the probe of a paused
/// pool through once it is as late (<c>OutageDetector</c>), and wakes an idle runner — a synchronous one if any — when
/// calls have been queued with runners idle and none taken over a few looks (<see cref="WorkQueue{TIn}"/>). It looks
/// every millisecond while such a timer is due within <see cref="CloseLookAhead"/> or such calls wait.</para>
/// <para><b>Cost.</b> It sleeps on a semaphore while no lease could hold calls back, waking every 100 ms to look again in
/// case a <see cref="Nudge"/> was missed (a nudge is one volatile read by a runner beginning a lease of several calls,
/// deliberately not a fence).</para>
/// <para><b>Lock.</b> <c>_lock</c> guards <c>_pools</c> and <c>_thread</c>; the pools are looked at from a copy, outside
/// it. Looking calls no user code.</para>
/// </remarks>
[System.Diagnostics.CodeAnalysis.SuppressMessage(
    "Reliability",
    "CA1001:Types that own disposable fields should be disposable",
    Justification = "One instance lives as long as the process; its semaphore has no wait handle to free.")]
internal sealed class LeaseWatcher
{
    private static readonly TimeSpan ParkedLook = TimeSpan.FromMilliseconds(100);

    /// <summary>How late a system-clock timer of a pool may be before the watcher does its work (see the remarks).</summary>
    public static TimeSpan OverdueAfter { get; } = TimeSpan.FromMilliseconds(10);

    /// <summary>How soon a timer must be due for the watcher to look every millisecond rather than every 100 ms.</summary>
    public static TimeSpan CloseLookAhead { get; } = ParkedLook;

    private readonly Lock _lock = new();
    private readonly List<WeakReference<IWatchedPool>> _pools = [];
    private readonly SemaphoreSlim _wake = new(0, int.MaxValue);
    private Thread? _thread;
    private volatile bool _parked = true;

    /// <summary>Gets the process's watcher.</summary>
    public static LeaseWatcher Shared { get; } = new();

    /// <summary>Starts watching a pool.</summary>
    public void Register(IWatchedPool pool)
    {
        lock (_lock)
        {
            _pools.Add(new WeakReference<IWatchedPool>(pool));
            if (_thread is null)
            {
                _thread = new Thread(static state => ((LeaseWatcher)state!).Run())
                {
                    IsBackground = true,
                    Name = "Parallelize lease watcher",
                };
                _thread.UnsafeStart(this);
            }
        }
    }

    /// <summary>Stops watching a pool (it has stopped).</summary>
    public void Unregister(IWatchedPool pool)
    {
        lock (_lock)
        {
            _pools.RemoveAll(reference => !reference.TryGetTarget(out IWatchedPool? target) || ReferenceEquals(target, pool));
        }
    }

    /// <summary>A runner began a lease of several calls: wakes the watcher if it sleeps.</summary>
    public void Nudge()
    {
        if (_parked)
        {
            _parked = false;
            _wake.Release();
        }
    }

    private void Run()
    {
        int quiet = 0;
        var pools = new List<IWatchedPool>();
        while (true)
        {
            if (quiet >= 100)
            {
                _parked = true;
                _wake.Wait(ParkedLook);
                _parked = false;
                quiet = 0;
            }
            else
            {
                Thread.Sleep(1);
            }

            pools.Clear();
            lock (_lock)
            {
                foreach (WeakReference<IWatchedPool> reference in _pools)
                {
                    if (reference.TryGetTarget(out IWatchedPool? pool))
                    {
                        pools.Add(pool);
                    }
                }
            }

            bool busy = false;
            foreach (IWatchedPool pool in pools)
            {
                try
                {
                    busy |= pool.WatchFromBackstop();
                }
#pragma warning disable CA1031 // A bug in one pool's bookkeeping must not take the process (or the other pools' watcher) down.
                catch (Exception)
#pragma warning restore CA1031
                {
                }
            }

            quiet = busy ? 0 : quiet + 1;
        }
    }
}
