using System.Collections.Concurrent;

namespace Parallelize.Core;

/// <summary>
/// The dedicated threads synchronous executors run on, kept for a while after their pool is done so that the next
/// pool starts its executors by waking parked threads rather than creating new ones: creating hundreds of threads takes
/// tens of milliseconds here, waking them a fraction of that.
/// </summary>
/// <remarks>
/// <para>A thread parks on its own semaphore in <c>_idle</c> after each piece of work; <see cref="Run"/> pops one and
/// hands it the next piece, or starts a new thread when none is parked. A thread that waits longer than
/// <see cref="IdleTimeout"/> takes itself out of <c>_idle</c> and exits; if a hand-off raced that, it finds work in its
/// slot and runs it first (the slot is claimed with a compare-and-swap, so a piece of work is run exactly once).</para>
/// <para>Each piece runs in the empty execution context, whatever the previous one left in the thread's, and its
/// thread-static marks are its own to clear (the runner clears its own). Threads are background threads, started with
/// <see cref="Thread.UnsafeStart(object?)"/> so nothing flows into them.</para>
/// </remarks>
internal static class DedicatedThreads
{
    /// <summary>How long a parked thread waits for new work before it exits.</summary>
    public static readonly TimeSpan IdleTimeout = TimeSpan.FromSeconds(20);

    private static readonly ConcurrentStack<Worker> s_idle = new();
    private static readonly ContextCallback s_run = static state => ((Worker)state!).RunCurrent();

    /// <summary>Gets how many threads are parked (tests; stale entries of threads that exited included).</summary>
    public static int IdleCount => s_idle.Count;

    /// <summary>Runs <paramref name="work"/> with <paramref name="state"/> on a dedicated background thread: a parked one, or a new one.</summary>
    /// <param name="work">What to run; it must not throw (a runner catches everything itself).</param>
    /// <param name="state">Its argument.</param>
    /// <param name="name">The thread's name while it runs it.</param>
    /// <exception cref="OutOfMemoryException">A new thread was needed and could not be created.</exception>
    public static void Run(Action<object> work, object state, string name)
    {
        while (s_idle.TryPop(out Worker? parked))
        {
            if (parked.TryHandOff(work, state, name))
            {
                return;
            }
        }

        var worker = new Worker(work, state);
        var thread = new Thread(static w => ((Worker)w!).Loop()) { IsBackground = true, Name = name };
        thread.UnsafeStart(worker);
    }

    [System.Diagnostics.CodeAnalysis.SuppressMessage(
        "Reliability",
        "CA1001:Types that own disposable fields should be disposable",
        Justification = "The worker disposes its semaphore itself when its thread exits, once no hand-off can reach it.")]
    private sealed class Worker
    {
        private readonly SemaphoreSlim _wake = new(0, 1);
        private Action<object>? _work;
        private object? _state;
        private string? _name;
        private int _status; // 0 parked, 1 handed work, 2 gone

        public Worker(Action<object> work, object state)
        {
            _work = work;
            _state = state;
        }

        public bool TryHandOff(Action<object> work, object state, string name)
        {
            if (Interlocked.CompareExchange(ref _status, 1, 0) != 0)
            {
                return false;
            }

            _work = work;
            _state = state;
            _name = name;
            _wake.Release();
            return true;
        }

        public void Loop()
        {
            while (true)
            {
                ExecutionContext.Run(EmptyContext.Value!, s_run, this);
                _work = null;
                _state = null;
                Volatile.Write(ref _status, 0);
                s_idle.Push(this);
                if (!_wake.Wait(IdleTimeout) && Interlocked.CompareExchange(ref _status, 2, 0) == 0)
                {
                    // Timed out and nobody claimed it: gone (a stale entry in the stack is skipped by Run, whose hand-off fails).
                    _wake.Dispose();
                    return;
                }

                // Handed work (possibly just as it timed out): the semaphore may still hold the release; take it.
                if (_wake.CurrentCount > 0)
                {
                    _wake.Wait(0);
                }

                if (_name is { } name)
                {
                    Thread.CurrentThread.Name = name;
                }
            }
        }

        public void RunCurrent() => _work!(_state!);
    }
}
