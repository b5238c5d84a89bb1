using System.Diagnostics;
using Nito.AsyncEx;

namespace Parallelize.Core;

/// <summary>
/// Counts calls accepted and not yet ended (in <c>Results</c>, <c>Failures</c> or <c>Stop</c>'s list) and
/// signals when the count is zero: the condition <c>Wait</c> waits for.
/// </summary>
/// <remarks>
/// <para><b>State.</b> <c>_state</c> holds the count shifted left by one and, in bit 0, the <em>idle flag</em>: set
/// while <c>_idle</c> is (or is about to be) set. Changes of the count are single interlocked additions, so the hot
/// path takes no lock.</para>
/// <para><b>Setting.</b> The <see cref="Remove"/> that brings the whole state to exactly 0 (count 0, flag clear)
/// takes <c>_lock</c>, raises the flag with a compare-and-swap from 0 to 1 — which fails if any call was accepted in
/// between — and only then sets <c>_idle</c>.</para>
/// <para><b>Resetting.</b> An <see cref="Add"/> whose addition returns the flag raised takes <c>_lock</c> (so it runs
/// after any set in progress), resets <c>_idle</c> and then clears the flag. An <c>Add</c> that sees the flag clear
/// knows the signal was reset before the flag was cleared and cannot be set again while its own call is counted.
/// Hence once <c>Add</c> has returned, no <c>Wait</c> can see a stale "idle" until that call has ended. (A first,
/// simpler version reset only on the 0→1 step, and a second <c>Add</c> could return before that reset; the
/// regression test for it is in <c>Issues/</c>.)</para>
/// <para>Under <c>_lock</c> only <see cref="AsyncManualResetEvent"/> is touched; it runs no continuation inline.</para>
/// </remarks>
internal sealed class PendingTracker
{
    private const long Flag = 1;
    private const long One = 2;

    private readonly Lock _lock = new();
    private readonly AsyncManualResetEvent _idle = new(set: true);
    private PaddedInt64 _state = new() { Value = Flag };

    /// <summary>Gets the number of calls accepted and not yet ended.</summary>
    public long Count => Volatile.Read(ref _state.Value) >> 1;

    /// <summary>Gets a task that completes the next time no call is pending (at once if none is).</summary>
    public Task IdleTask => _idle.WaitAsync();

    /// <summary>Counts one accepted call.</summary>
    public void Add()
    {
        if ((Interlocked.Add(ref _state.Value, One) & Flag) != 0)
        {
            lock (_lock)
            {
                if ((Volatile.Read(ref _state.Value) & Flag) != 0)
                {
                    _idle.Reset();
                    Interlocked.And(ref _state.Value, ~Flag);
                }
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

        long state = Interlocked.Add(ref _state.Value, -count * One);
        Debug.Assert(state >= 0, "More calls ended than were accepted.");
        if (state == 0)
        {
            lock (_lock)
            {
                if (Interlocked.CompareExchange(ref _state.Value, Flag, 0) == 0)
                {
                    _idle.Set();
                }
            }
        }
    }
}
