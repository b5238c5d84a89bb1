namespace Parallelize.Core;

/// <summary>
/// Holds calls waiting out the delay before their next attempt, then queues them again (first in line, avoiding the
/// executor they failed on); the executors meanwhile run other calls.
/// </summary>
/// <remarks>
/// <para><b>Ownership.</b> A call scheduled here is owned by the scheduler until it is queued again or aborted, and it
/// stays counted in the queue's in-flight count until then (<see cref="WorkQueue{TIn}.Settled"/> is called after it
/// is routed), so <c>Stop</c>'s wait for the drained queue covers calls on their way out of here.</para>
/// <para><b>Lock.</b> <c>_lock</c> guards <c>_waiting</c>, <c>_timer</c> and <c>_armedFor</c>; <c>_waitingCount</c> and
/// <c>_earliestDue</c> are written only under it, after each change of the heap (<c>UpdateHintsLocked</c>), and read
/// without it, as hints. Under it only the heap and the timer's
/// <see cref="ITimer.Change"/> run; calls are queued again or aborted after it is let go. The timer callback comes from
/// <see cref="ParallelizeOptions.TimeProvider"/> (the system clock's on a thread-pool thread); no user code runs here.</para>
/// <para><b>A starved thread pool.</b> The system clock's timer callbacks wait for a thread-pool thread, so while the
/// application's thread pool is starved (blocked threads, a burst of work) a retry would wait with it — and ordered
/// results, and callers held back by a bounded pool, behind that retry. The process's lease watcher, on a thread of
/// its own, therefore also calls <see cref="ReleaseOverdue"/>: on the system clock, a call whose delay ended more than
/// <see cref="LeaseWatcher.OverdueAfter"/> ago is queued again by the watcher (another clock's timers fire as that clock means to). Each call leaves the heap once, under the lock, so the
/// timer and the watcher never both queue it; the timer, firing late, finds nothing due and re-arms.</para>
/// </remarks>
internal sealed class RetryScheduler<TIn>
{
    private readonly Lock _lock = new();
    private readonly PriorityQueue<(QueuedCall<TIn> Call, int Avoid, bool Firmly), long> _waiting = new();
    private readonly TimeProvider _clock;
    private readonly WorkQueue<TIn> _queue;
    private readonly Action<QueuedCall<TIn>> _abort;
    private ITimer? _timer;
    private long _armedFor = long.MaxValue;
    private readonly bool _watchOverdue;
    private int _waitingCount;
    private long _earliestDue = long.MaxValue;
    private bool _closed;

    /// <summary>Initializes the scheduler.</summary>
    /// <param name="clock">The pool's clock.</param>
    /// <param name="queue">Where calls go when their delay is over.</param>
    /// <param name="abort">Records a call that can have no further attempt because the pool is stopping.</param>
    public RetryScheduler(TimeProvider clock, WorkQueue<TIn> queue, Action<QueuedCall<TIn>> abort)
    {
        _clock = clock;
        _queue = queue;
        _abort = abort;

        // Only the system clock's timers wait for the thread pool; a clock of the application's own fires as it means to.
        _watchOverdue = ReferenceEquals(clock, TimeProvider.System);
    }

    /// <summary>Gets how many calls are waiting (a snapshot).</summary>
    public int Count
    {
        get
        {
            lock (_lock)
            {
                return _waiting.Count;
            }
        }
    }

    /// <summary>Queues a call again after <paramref name="delay"/>; a call with no delay is queued at once. The caller hands the call over, still counted in flight.</summary>
    /// <param name="call">The call.</param>
    /// <param name="avoid">The executor it failed on, or -1.</param>
    /// <param name="firmly">Keep it from that executor while another is live (see <see cref="WorkQueue{TIn}.TryRequeueRetry"/>).</param>
    /// <param name="delay">How long to wait.</param>
    public void Schedule(in QueuedCall<TIn> call, int avoid, bool firmly, TimeSpan delay)
    {
        if (delay <= TimeSpan.Zero)
        {
            Requeue(call, avoid, firmly);
            return;
        }

        long due = _clock.GetTimestamp() + (long)(delay.TotalSeconds * _clock.TimestampFrequency);
        bool scheduled = false;
        lock (_lock)
        {
            if (!_closed)
            {
                _waiting.Enqueue((call, avoid, firmly), due);
                UpdateHintsLocked();
                ArmLocked();
                scheduled = true;
            }
        }

        if (scheduled)
        {
            if (_watchOverdue)
            {
                // The watcher, if parked, now looks every millisecond until no call waits (see ReleaseOverdue).
                LeaseWatcher.Shared.Nudge();
            }

            return;
        }

        Requeue(call, avoid, firmly);
    }

    /// <summary>Takes every waiting call out, for <c>Stop</c>, and refuses later ones (they are queued again at once, which a closed queue refuses, so they are aborted).</summary>
    /// <param name="into">Receives the calls; the caller owns them and must count them out of flight.</param>
    public void TakeAll(List<QueuedCall<TIn>> into)
    {
        ITimer? timer;
        lock (_lock)
        {
            _closed = true;
            while (_waiting.TryDequeue(out (QueuedCall<TIn> Call, int Avoid, bool Firmly) entry, out _))
            {
                into.Add(entry.Call);
            }

            UpdateHintsLocked();

            timer = _timer;
            _timer = null;
        }

        timer?.Dispose();
    }

    /// <summary>Gives back the last attempt of every waiting call whose last counted failure is at or after outcome <paramref name="from"/>: an outage, not the call, made it fail.</summary>
    /// <param name="from">The first outcome of the outage.</param>
    /// <param name="histories">The calls' records.</param>
    /// <returns>How many attempts were given back.</returns>
    public int Refund(long from, CallHistories histories)
    {
        int refunded = 0;
        lock (_lock)
        {
            // The scheduler owns these calls, so their records are its to change.
            foreach (((QueuedCall<TIn> call, _, _), _) in _waiting.UnorderedItems)
            {
                if (histories.Find(call.Sequence) is { LastCountedOutcome: > 0 } record && record.LastCountedOutcome >= from)
                {
                    // The outage made it fail, not the input and not its executor: nobody is a suspect any more.
                    record.Counted--;
                    record.LastCountedOutcome = 0;
                    record.Suspect = -1;
                    refunded++;
                }
            }
        }

        return refunded;
    }

    /// <summary>
    /// Queues again every call whose delay ended more than <see cref="LeaseWatcher.OverdueAfter"/> ago and whose timer has not fired
    /// (a starved thread pool); called by the lease watcher's thread. Cheap when no call waits: one volatile read.
    /// </summary>
    /// <returns><see langword="true"/> while calls wait on the system clock: the watcher should keep looking closely.</returns>
    public bool ReleaseOverdue()
    {
        if (!_watchOverdue || Volatile.Read(ref _waitingCount) == 0)
        {
            return false;
        }

        long now = _clock.GetTimestamp();
        long earliest = Volatile.Read(ref _earliestDue);
        if (now - earliest >= Ticks(LeaseWatcher.OverdueAfter))
        {
            List<(QueuedCall<TIn> Call, int Avoid, bool Firmly)> overdue = [];
            lock (_lock)
            {
                long late = _clock.GetTimestamp() - Ticks(LeaseWatcher.OverdueAfter);
                while (_waiting.TryPeek(out _, out long at) && at <= late)
                {
                    overdue.Add(_waiting.Dequeue());
                }

                UpdateHintsLocked();
            }

            foreach ((QueuedCall<TIn> call, int avoid, bool firmly) in overdue)
            {
                Requeue(call, avoid, firmly);
            }

            earliest = Volatile.Read(ref _earliestDue);
        }

        // Close looks only while a call is due soon: a parked watcher still looks every 100 ms.
        return earliest != long.MaxValue && earliest - now <= Ticks(LeaseWatcher.CloseLookAhead);
    }

    // Under _lock, after each change of the heap.
    private void UpdateHintsLocked()
    {
        _waitingCount = _waiting.Count;
        Volatile.Write(ref _earliestDue, _waiting.TryPeek(out _, out long due) ? due : long.MaxValue);
    }

    private long Ticks(TimeSpan span) => (long)(span.TotalSeconds * _clock.TimestampFrequency);

    private void Requeue(in QueuedCall<TIn> call, int avoid, bool firmly)
    {
        if (!_queue.TryRequeueRetry(call, avoid, firmly))
        {
            _abort(call);
        }

        _queue.Settled(1);
    }

    // Under _lock: makes the timer fire when the earliest call is due.
    private void ArmLocked()
    {
        if (!_waiting.TryPeek(out _, out long due) || due >= _armedFor)
        {
            return;
        }

        _armedFor = due;
        TimeSpan wait = TimeSpan.FromSeconds(Math.Max(0, due - _clock.GetTimestamp()) / (double)_clock.TimestampFrequency);
        if (_timer is null)
        {
            _timer = _clock.CreateTimer(static state => ((RetryScheduler<TIn>)state!).OnTimer(), this, wait, Timeout.InfiniteTimeSpan);
        }
        else
        {
            _timer.Change(wait, Timeout.InfiniteTimeSpan);
        }
    }

    private void OnTimer()
    {
        List<(QueuedCall<TIn> Call, int Avoid, bool Firmly)> due = [];
        lock (_lock)
        {
            long now = _clock.GetTimestamp();
            while (_waiting.TryPeek(out _, out long at) && at <= now)
            {
                due.Add(_waiting.Dequeue());
            }

            UpdateHintsLocked();
            _armedFor = long.MaxValue;
            if (!_closed)
            {
                ArmLocked();
            }
        }

        foreach ((QueuedCall<TIn> call, int avoid, bool firmly) in due)
        {
            Requeue(call, avoid, firmly);
        }
    }
}
