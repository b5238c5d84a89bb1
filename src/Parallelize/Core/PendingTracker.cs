using System.Diagnostics;
using Nito.AsyncEx;

namespace Parallelize.Core;

/// <summary>
/// Counts calls accepted and not yet ended (in <c>Results</c>, <c>Failures</c> or <c>Stop</c>'s list) and
/// signals when the count is zero: the condition <c>Wait</c> waits for.
/// </summary>
/// <remarks>
/// <para>The count changes with interlocked operations only. A change that crosses zero then takes
/// <c>_lock</c> and sets or resets <c>_idle</c> from the count as it is at that moment, so the last such update
/// always reflects the final count: a stale "now idle" from one thread cannot outlive another thread's "busy
/// again", because that thread updates after its own increment. <see cref="Add"/> returns only after its update,
/// so a <c>Wait</c> that starts after an <c>Invoke</c> returned never sees a stale idle signal.</para>
/// <para>Under <c>_lock</c> only <see cref="AsyncManualResetEvent"/> is touched; it runs no continuation inline.</para>
/// </remarks>
internal sealed class PendingTracker
{
    private readonly Lock _lock = new();
    private readonly AsyncManualResetEvent _idle = new(set: true);
    private long _count;

    /// <summary>Gets the number of calls accepted and not yet ended.</summary>
    public long Count => Volatile.Read(ref _count);

    /// <summary>Gets a task that completes the next time no call is pending (at once if none is).</summary>
    public Task IdleTask => _idle.WaitAsync();

    /// <summary>Counts one accepted call.</summary>
    public void Add()
    {
        if (Interlocked.Increment(ref _count) == 1)
        {
            Update();
        }
    }

    /// <summary>Counts calls that have ended.</summary>
    /// <param name="count">How many.</param>
    public void Remove(long count)
    {
        if (count == 0)
        {
            return;
        }

        long left = Interlocked.Add(ref _count, -count);
        Debug.Assert(left >= 0, "More calls ended than were accepted.");
        if (left == 0)
        {
            Update();
        }
    }

    private void Update()
    {
        lock (_lock)
        {
            if (Volatile.Read(ref _count) == 0)
            {
                _idle.Set();
            }
            else
            {
                _idle.Reset();
            }
        }
    }
}
