namespace Parallelize;

/// <summary>
/// When a pool treats failures as an outage of whatever its executors call (a database, a web service), rather than
/// as bad inputs: it then pauses, probes, and gives back the attempts the outage cost. Set
/// <see cref="ParallelizeOptions.Outages"/> to <see langword="null"/> to turn this off.
/// </summary>
/// <remarks>
/// <para><b>Detecting.</b> The pool looks at the last <see cref="Window"/> attempts across all executors. When at least
/// <see cref="FailureRatio"/> of them failed, on at least two executors (one, if only one is live), for at least
/// <see cref="MinimumDistinctInputs"/> different inputs, it is an outage. Only failures worth retrying count (see
/// <see cref="ParallelizeOptions.ShouldRetry"/>): malformed input that fails at once never looks like an outage.</para>
/// <para><b>Pausing.</b> The pool then stops handing out calls (calls in flight finish), gives back the attempt of
/// each input that failed in that window and waits for its retry, and after <see cref="ProbeDelay"/> lets one call
/// through. If it succeeds, the outage is over and every executor resumes; if not, the next probe waits twice as
/// long, up to <see cref="MaxProbeDelay"/>. Attempts that fail while paused are not counted either.</para>
/// <para><b>Giving up.</b> An outage longer than <see cref="MaxDuration"/> is taken as permanent: the pool resumes,
/// failures count again and it does not pause again until a call succeeds, so every input that keeps failing still
/// ends in <c>Failures</c> and <c>Wait</c> returns. With the defaults, an outage of a few seconds costs no input, and
/// inputs that can never succeed end in <c>Failures</c> about 15 seconds after the pool paused, plus their retries.</para>
/// </remarks>
public sealed record OutageOptions
{
    private readonly int _window = 20;
    private readonly double _failureRatio = 0.9;
    private readonly int _minimumDistinctInputs = 10;
    private readonly TimeSpan _probeDelay = TimeSpan.FromMilliseconds(200);
    private readonly TimeSpan _maxProbeDelay = TimeSpan.FromSeconds(1);
    private readonly TimeSpan _maxDuration = TimeSpan.FromSeconds(15);

    /// <summary>Gets how many of the latest attempts are looked at.</summary>
    /// <value>From 2 to 10,000. The default is 20.</value>
    /// <exception cref="ArgumentOutOfRangeException">The value is out of range.</exception>
    public int Window
    {
        get => _window;
        init => _window = value is >= 2 and <= 10_000
            ? value
            : throw new ArgumentOutOfRangeException(nameof(Window), value, "Window must be from 2 to 10,000 attempts.");
    }

    /// <summary>Gets the share of failed attempts in the window that makes an outage.</summary>
    /// <value>Greater than 0 and at most 1. The default is 0.9.</value>
    /// <exception cref="ArgumentOutOfRangeException">The value is out of range.</exception>
    public double FailureRatio
    {
        get => _failureRatio;
        init => _failureRatio = value > 0 && value <= 1
            ? value
            : throw new ArgumentOutOfRangeException(nameof(FailureRatio), value, "FailureRatio must be greater than 0 and at most 1.");
    }

    /// <summary>Gets how many different inputs must have failed in the window: fewer are bad inputs, not an outage.</summary>
    /// <value>At least 1. The default is 10.</value>
    /// <exception cref="ArgumentOutOfRangeException">The value is less than 1.</exception>
    public int MinimumDistinctInputs
    {
        get => _minimumDistinctInputs;
        init => _minimumDistinctInputs = value >= 1
            ? value
            : throw new ArgumentOutOfRangeException(nameof(MinimumDistinctInputs), value, "MinimumDistinctInputs must be at least 1.");
    }

    /// <summary>Gets the wait before the first probe; each failed probe doubles it, up to <see cref="MaxProbeDelay"/>. A random fifth is added or taken off each wait.</summary>
    /// <value>Greater than zero and at most <see cref="MaxDuration"/>. The default is 200 milliseconds.</value>
    /// <exception cref="ArgumentOutOfRangeException">The value is zero or negative, or longer than a timer supports.</exception>
    public TimeSpan ProbeDelay
    {
        get => _probeDelay;
        init => _probeDelay = value > TimeSpan.Zero && value <= ParallelizeOptions.MaxTimerDelay
            ? value
            : throw new ArgumentOutOfRangeException(nameof(ProbeDelay), value, "ProbeDelay must be greater than zero and at most 4294967294 milliseconds.");
    }

    /// <summary>Gets the longest wait between probes.</summary>
    /// <value>Greater than zero. The default is one second.</value>
    /// <exception cref="ArgumentOutOfRangeException">The value is zero or negative, or longer than a timer supports.</exception>
    public TimeSpan MaxProbeDelay
    {
        get => _maxProbeDelay;
        init => _maxProbeDelay = value > TimeSpan.Zero && value <= ParallelizeOptions.MaxTimerDelay
            ? value
            : throw new ArgumentOutOfRangeException(nameof(MaxProbeDelay), value, "MaxProbeDelay must be greater than zero and at most 4294967294 milliseconds.");
    }

    /// <summary>Gets how long an outage may last before the pool takes it as permanent and lets failures count again.</summary>
    /// <value>Greater than zero. The default is 15 seconds.</value>
    /// <exception cref="ArgumentOutOfRangeException">The value is zero or negative, or longer than a timer supports.</exception>
    public TimeSpan MaxDuration
    {
        get => _maxDuration;
        init => _maxDuration = value > TimeSpan.Zero && value <= ParallelizeOptions.MaxTimerDelay
            ? value
            : throw new ArgumentOutOfRangeException(nameof(MaxDuration), value, "MaxDuration must be greater than zero and at most 4294967294 milliseconds.");
    }
}
