using System.Diagnostics;

namespace Parallelize.Supervision;

/// <summary>What the <see cref="OutageDetector"/> acts on: the pool's queue, retry scheduler and telemetry.</summary>
internal interface IOutageHost
{
    /// <summary>Gets the number of executors not retired.</summary>
    int LiveExecutors { get; }

    /// <summary>Holds every runner back.</summary>
    void Pause();

    /// <summary>Lets one call through.</summary>
    void AllowProbe();

    /// <summary>Lets every runner take calls again.</summary>
    void Resume();

    /// <summary>Gives back the attempt of each call waiting for a retry whose last counted failure is at or after outcome <paramref name="from"/>.</summary>
    int Refund(long from);

    /// <summary>Reports that an outage began (called with no lock held).</summary>
    void OnOutageStarted(int failures, int window, int executors, int refunded);

    /// <summary>Reports that an outage ended with a successful call (called with no lock held).</summary>
    void OnOutageEnded(TimeSpan duration);

    /// <summary>Reports that an outage lasted too long and failures count again (called with no lock held).</summary>
    void OnOutageGaveUp(TimeSpan duration);
}

/// <summary>
/// Tells an outage of the service behind the executors from bad inputs and broken executors, and pauses the pool
/// through it: see <see cref="OutageOptions"/> for the rules.
/// </summary>
/// <remarks>
/// <para><b>States.</b> Closed (watching the window), Open (paused, a probe timer armed), Probing (one call let through),
/// GaveUp (an outage outlasted <see cref="OutageOptions.MaxDuration"/>: not watching until a call succeeds).</para>
/// <para><b>Lock.</b> <c>_lock</c> guards every field but <c>_attention</c> and <c>_pauses</c>. Under it run only the
/// window's bookkeeping and the host's <see cref="IOutageHost.Pause"/>, <see cref="IOutageHost.AllowProbe"/>,
/// <see cref="IOutageHost.Resume"/> and <see cref="IOutageHost.Refund"/>, which take the queue's and the scheduler's
/// locks (never this one) and call no user code; the telemetry reports run after it is let go.</para>
/// <para><b>A starved thread pool.</b> The system clock's probe timer fires on a thread-pool thread; the process's lease
/// watcher (a thread of its own) calls <see cref="LetProbeThroughIfOverdue"/>, which lets the probe through once it is
/// <see cref="Core.LeaseWatcher.OverdueAfter"/> late. Whichever comes first acts; the other finds the state no longer
/// open, or (the timer's callback of an earlier arming, run late) the probe not yet due, and does nothing.
/// <c>_probeDueAt</c> is written under the lock and read without it only as the watcher's hint.</para>
/// <para><b>The fast path.</b> A lease of successful calls reports them with one volatile read of <c>_attention</c>,
/// which is set whenever the window holds a failure or the pool is not in the closed state; a success needs recording
/// only then.</para>
/// </remarks>
internal sealed class OutageDetector : IDisposable
{
    private enum State
    {
        Closed,
        Open,
        Probing,
        GaveUp,
    }

    private readonly Lock _lock = new();
    private readonly OutageOptions? _options;
    private readonly TimeProvider _clock;
    private readonly IOutageHost _host;
    private readonly (bool Failed, int Executor, long Sequence)[] _window;
    private int _head;
    private int _filled;
    private int _failures;
    private long _outcomes;
    private long _windowStart = 1;
    private State _state;
    private long _openedAt;
    private TimeSpan _probeDelay;
    private readonly bool _watchOverdue;
    private ITimer? _timer;
    private long _probeDueAt = long.MaxValue;
    private bool _disposed;
    private int _attention;
    private int _suspicious;
    private long _pauses;

    public OutageDetector(OutageOptions? options, TimeProvider clock, IOutageHost host)
    {
        _options = options;
        _clock = clock;
        _host = host;
        _window = new (bool, int, long)[options?.Window ?? 1];

        // Only the system clock's timers wait for the thread pool; a clock of the application's own fires as it means to.
        _watchOverdue = ReferenceEquals(clock, TimeProvider.System);
    }

    /// <summary>
    /// Lets the probe of a paused pool through if its timer is more than <see cref="Core.LeaseWatcher.OverdueAfter"/>
    /// late (a starved thread pool); called by the lease watcher's thread. One volatile read while not paused.
    /// </summary>
    /// <returns><see langword="true"/> while the pool is paused on the system clock: the watcher should keep looking closely.</returns>
    public bool LetProbeThroughIfOverdue()
    {
        if (!_watchOverdue || Volatile.Read(ref _attention) != 2)
        {
            return false;
        }

        long now = _clock.GetTimestamp();
        long due = Volatile.Read(ref _probeDueAt);
        if (due != long.MaxValue && now - due >= Ticks(Core.LeaseWatcher.OverdueAfter))
        {
            ProbeDue(fromWatcher: true);
            due = Volatile.Read(ref _probeDueAt);
        }

        // Close looks only while the probe is due soon: a parked watcher still looks every 100 ms.
        return due != long.MaxValue && due - now <= Ticks(Core.LeaseWatcher.CloseLookAhead);
    }

    /// <summary>Gets a value indicating whether the pool is paused by an outage (a snapshot).</summary>
    public bool IsPaused => Volatile.Read(ref _attention) == 2;

    /// <summary>
    /// Gets a value indicating whether an outage may be starting: at least half of the window's attempts failed, or the
    /// pool is paused. An input that uses its last attempt meanwhile is given one more, after <see cref="GraceDelay"/>,
    /// rather than sent to <c>Failures</c> for what may turn out to be the outage's fault (a snapshot).
    /// </summary>
    public bool IsSuspicious => Volatile.Read(ref _suspicious) != 0;

    /// <summary>Gets how long an input kept back by <see cref="IsSuspicious"/> waits: long enough for the window to decide.</summary>
    public TimeSpan GraceDelay => _options?.ProbeDelay ?? TimeSpan.Zero;

    /// <summary>Gets how many outages paused the pool so far.</summary>
    public long Pauses => Interlocked.Read(ref _pauses);

    /// <summary>Records attempts that succeeded; any success ends an outage (the probe's, or a call's still in flight when the pool paused).</summary>
    /// <param name="count">How many.</param>
    public void OnSuccesses(int count)
    {
        if (_options is null || count == 0 || Volatile.Read(ref _attention) == 0)
        {
            return;
        }

        TimeSpan? ended = null;
        lock (_lock)
        {
            if (_state != State.Closed)
            {
                // The probe (or a call still in flight when the pool paused) succeeded: the service is back.
                ended = _state == State.GaveUp ? null : _clock.GetElapsedTime(_openedAt);
                CloseLocked();
            }
            else
            {
                for (int i = 0; i < Math.Min(count, _window.Length); i++)
                {
                    PushLocked(failed: false, -1, 0);
                }

                _outcomes += count - Math.Min(count, _window.Length);
                UpdateAttentionLocked();
            }
        }

        if (ended is { } duration)
        {
            _host.OnOutageEnded(duration);
        }
    }

    /// <summary>Records an attempt that failed with an exception worth retrying.</summary>
    /// <param name="executor">The executor it failed on.</param>
    /// <param name="sequence">The call.</param>
    /// <param name="probe">The failure is the probe's.</param>
    /// <returns>The failure's outcome number if it counts against the input; 0 if an outage made it fail (it does not count).</returns>
    public long OnFailure(int executor, long sequence, bool probe)
    {
        if (_options is null)
        {
            return 1;
        }

        (int Failures, int Executors, int Refunded)? started = null;
        long outcome;
        lock (_lock)
        {
            switch (_state)
            {
                case State.Open:
                    return 0;
                case State.Probing:
                    if (probe)
                    {
                        // Still down: wait twice as long before the next probe.
                        _state = State.Open;
                        _probeDelay = Min(_probeDelay + _probeDelay, _options.MaxProbeDelay);
                        ArmLocked(_probeDelay);
                    }

                    return 0;
                case State.GaveUp:
                    return ++_outcomes;
            }

            outcome = PushLocked(failed: true, executor, sequence);
            if (IsOutageLocked(out int executors))
            {
                started = (_failures, executors, 0);
                OpenLocked();
                started = (started.Value.Failures, executors, _host.Refund(_windowStart));

                // Counted for now, refunded with the others: it failed in the window that opened the outage.
                outcome = 0;
            }

            UpdateAttentionLocked();
        }

        if (started is { } s)
        {
            _host.OnOutageStarted(s.Failures, _window.Length, s.Executors, s.Refunded);
        }

        return outcome;
    }

    /// <summary>The probe call was handed back without an outcome (its executor was lost, or the pool stops): let another through.</summary>
    public void OnProbeReturned()
    {
        lock (_lock)
        {
            if (_state == State.Probing)
            {
                _host.AllowProbe();
            }
        }
    }

    public void Dispose()
    {
        ITimer? timer;
        lock (_lock)
        {
            _disposed = true;
            timer = _timer;
            _timer = null;
        }

        timer?.Dispose();
    }

    private static TimeSpan Min(TimeSpan a, TimeSpan b) => a < b ? a : b;

    // Under _lock.
    private long PushLocked(bool failed, int executor, long sequence)
    {
        if (_filled == _window.Length)
        {
            if (_window[_head].Failed)
            {
                _failures--;
            }

            _windowStart++;
        }
        else
        {
            _filled++;
        }

        _window[_head] = (failed, executor, sequence);
        _head = (_head + 1) % _window.Length;
        _failures += failed ? 1 : 0;
        return ++_outcomes;
    }

    // Under _lock.
    private bool IsOutageLocked(out int executors)
    {
        executors = 0;
        OutageOptions options = _options!;
        if (_filled < _window.Length || _failures < Math.Ceiling(options.FailureRatio * _window.Length))
        {
            return false;
        }

        var executorSet = new HashSet<int>();
        var inputs = new HashSet<long>();
        foreach ((bool failed, int executor, long sequence) in _window)
        {
            if (failed)
            {
                executorSet.Add(executor);
                inputs.Add(sequence);
            }
        }

        executors = executorSet.Count;
        return executors >= Math.Min(2, Math.Max(1, _host.LiveExecutors)) && inputs.Count >= options.MinimumDistinctInputs;
    }

    // Under _lock.
    private void OpenLocked()
    {
        _state = State.Open;
        _openedAt = _clock.GetTimestamp();
        _probeDelay = _options!.ProbeDelay;
        Interlocked.Increment(ref _pauses);
        _host.Pause();
        ArmLocked(_probeDelay);
    }

    // Under _lock: back to watching, with an empty window.
    private void CloseLocked()
    {
        bool wasPaused = _state is State.Open or State.Probing;
        _state = State.Closed;
        Array.Clear(_window);
        _head = 0;
        _filled = 0;
        _failures = 0;
        _windowStart = _outcomes + 1;
        Volatile.Write(ref _probeDueAt, long.MaxValue);
        _timer?.Change(Timeout.InfiniteTimeSpan, Timeout.InfiniteTimeSpan);
        if (wasPaused)
        {
            _host.Resume();
        }

        UpdateAttentionLocked();
    }

    // Under _lock.
    private void UpdateAttentionLocked()
    {
        int attention = _state is State.Open or State.Probing ? 2 : _state == State.GaveUp || _failures > 0 ? 1 : 0;
        Volatile.Write(ref _attention, attention);
        bool suspicious = attention == 2 || (_state == State.Closed && _failures * 2 >= _window.Length);
        Volatile.Write(ref _suspicious, suspicious ? 1 : 0);
    }

    // Under _lock: the next probe after `delay`, give or take a fifth.
    private void ArmLocked(TimeSpan delay)
    {
        if (_disposed)
        {
            return;
        }

        TimeSpan jittered = delay * (0.8 + (0.4 * Random.Shared.NextDouble()));
        Volatile.Write(ref _probeDueAt, _clock.GetTimestamp() + Ticks(jittered));
        if (_watchOverdue)
        {
            // The watcher, if parked, now looks every millisecond while the pool is paused (a semaphore release at
            // most: no lock of the pool, no user code).
            Core.LeaseWatcher.Shared.Nudge();
        }

        if (_timer is null)
        {
            _timer = _clock.CreateTimer(static state => ((OutageDetector)state!).ProbeDue(fromWatcher: false), this, jittered, Timeout.InfiniteTimeSpan);
        }
        else
        {
            _timer.Change(jittered, Timeout.InfiniteTimeSpan);
        }
    }

    private long Ticks(TimeSpan span) => (long)(span.TotalSeconds * _clock.TimestampFrequency);

    /// <summary>The probe is due: let it through, or give up on an outage that lasted too long.</summary>
    /// <param name="fromWatcher">The lease watcher calls, the timer being late (see the remarks); else the timer.</param>
    private void ProbeDue(bool fromWatcher)
    {
        TimeSpan? gaveUp = null;
        lock (_lock)
        {
            if (_state != State.Open || _disposed)
            {
                return;
            }

            if (_watchOverdue)
            {
                // Checked with the transition, under the same lock: the watcher acts only on a probe still overdue, and
                // the timer ignores a callback of an earlier arming that a starved thread pool ran late, after the
                // watcher had let that probe through and a failed probe re-armed the timer (it fires again when due).
                long now = _clock.GetTimestamp();
                if (fromWatcher
                    ? now - _probeDueAt < Ticks(Core.LeaseWatcher.OverdueAfter)
                    : _probeDueAt - now > Ticks(Core.LeaseWatcher.OverdueAfter))
                {
                    return;
                }
            }

            // Not armed any more: a failed probe arms it again.
            Volatile.Write(ref _probeDueAt, long.MaxValue);

            TimeSpan open = _clock.GetElapsedTime(_openedAt);
            if (open >= _options!.MaxDuration)
            {
                // Taken as permanent: failures count again, so inputs that keep failing end in Failures.
                _state = State.GaveUp;
                Array.Clear(_window);
                _head = 0;
                _filled = 0;
                _failures = 0;
                _host.Resume();
                gaveUp = open;
                UpdateAttentionLocked();
            }
            else
            {
                _state = State.Probing;
                _host.AllowProbe();
            }
        }

        if (gaveUp is { } duration)
        {
            _host.OnOutageGaveUp(duration);
        }

        Debug.Assert(gaveUp is null || !IsPaused, "Gave up but still paused.");
    }
}
