using System.Diagnostics;
using Nito.AsyncEx;

namespace Parallelize.Core;

/// <summary>
/// Counts calls accepted and not yet ended (in <c>Results</c>, <c>Failures</c> or <c>Stop</c>'s list) and
/// signals when the count is zero: the condition <c>Wait</c> waits for.
/// </summary>
/// <remarks>
/// <para><c>_lock</c> guards <c>_count</c> and the state of <c>_idle</c>, which change together: the signal is set
/// exactly when the count is zero, in every state another thread can observe. So once <see cref="Add"/> has
/// returned, no <c>Wait</c> can see a stale "idle" until that call has ended. (An earlier lock-free version let a
/// second <c>Add</c> return while the first had not yet reset the signal; <c>Wait</c> then returned early.)</para>
/// <para>The lock is held for a counter update and, at the zero crossings, a set or reset of
/// <see cref="AsyncManualResetEvent"/>, which runs no continuation inline. The collector removes whole batches, so
/// the ending side takes the lock once per batch, not once per call.</para>
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
        lock (_lock)
        {
            if (++_count == 1)
            {
                _idle.Reset();
            }
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

        lock (_lock)
        {
            _count -= count;
            Debug.Assert(_count >= 0, "More calls ended than were accepted.");
            if (_count == 0)
            {
                _idle.Set();
            }
        }
    }
}
