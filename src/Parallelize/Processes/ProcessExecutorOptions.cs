namespace Parallelize.Processes;

/// <summary>
/// Options of a <see cref="ProcessExecutor"/>. Every property has a documented default; values are checked when set.
/// </summary>
public sealed record ProcessExecutorOptions
{
    /// <summary>The longest timeout a timer supports (about 49.7 days).</summary>
    private static readonly TimeSpan MaxTimeout = TimeSpan.FromMilliseconds(uint.MaxValue - 1);

    private readonly TimeSpan? _timeout;
    private readonly ProcessFailureHandling _onFailure = ProcessFailureHandling.Fail;
    private readonly TimeProvider _timeProvider = TimeProvider.System;
    private readonly TimeSpan _terminationGracePeriod = TimeSpan.FromSeconds(5);

    /// <summary>
    /// Gets the longest one run may take. A run that reaches it is killed with its child processes and counts as a
    /// failure (<see cref="ProcessResult.TimedOut"/>), handled as <see cref="OnFailure"/> says.
    /// </summary>
    /// <value>Greater than zero and at most about 49.7 days, or <see langword="null"/> for no limit. The default is <see langword="null"/>.</value>
    /// <exception cref="ArgumentOutOfRangeException">The value is zero, negative, or longer than a timer supports.</exception>
    public TimeSpan? Timeout
    {
        get => _timeout;
        init => _timeout = value is null || (value > TimeSpan.Zero && value <= MaxTimeout)
            ? value
            : throw new ArgumentOutOfRangeException(nameof(Timeout), value, "Timeout must be greater than zero and at most 4294967294 milliseconds, or null for no limit.");
    }

    /// <summary>Gets what happens to a run that exits with a non-zero code or times out.</summary>
    /// <value>
    /// The default is <see cref="ProcessFailureHandling.Fail"/>: the input is tried again up to
    /// <see cref="ParallelizeOptions.MaxAttempts"/> times in all (set it to 1 to try each command once), then goes to
    /// <c>Failures</c>. <see cref="ProcessFailureHandling.ReturnResult"/> puts every run in <c>Results</c>.
    /// </value>
    /// <exception cref="ArgumentOutOfRangeException">The value is not one of the enumeration's values.</exception>
    public ProcessFailureHandling OnFailure
    {
        get => _onFailure;
        init => _onFailure = Enum.IsDefined(value)
            ? value
            : throw new ArgumentOutOfRangeException(nameof(OnFailure), value, "OnFailure must be Fail or ReturnResult.");
    }

    /// <summary>
    /// Gets a value indicating whether the standard output and standard error are captured into the
    /// <see cref="ProcessResult"/>. Both are read at the same time as the process writes them, so a process that
    /// writes a lot to both never blocks on a full pipe; captured output is held in memory.
    /// </summary>
    /// <value>
    /// The default is <see langword="true"/>. With <see langword="false"/> the process writes to this process's own
    /// standard output and error, and the result's output is empty.
    /// </value>
    public bool CaptureOutput { get; init; } = true;

    /// <summary>Gets the working directory of every run, unless its <see cref="ProcessRequest.WorkingDirectory"/> says otherwise.</summary>
    /// <value>The default is <see langword="null"/>: this process's current directory.</value>
    public string? WorkingDirectory { get; init; }

    /// <summary>Gets environment variables to set (or, with a <see langword="null"/> value, to remove) for every run, over this process's environment.</summary>
    /// <value>The default is <see langword="null"/>: the process inherits this process's environment unchanged.</value>
    public IReadOnlyDictionary<string, string?>? Environment { get; init; }

    /// <summary>
    /// Gets how long a run that must end (its <see cref="Timeout"/> reached, or the pool's <c>Stop</c> cancelling it)
    /// has between SIGTERM and SIGKILL. SIGTERM lets a program clean up — gzip removes its partial output file, which
    /// SIGKILL leaves behind — and SIGKILL then ends the whole process tree.
    /// </summary>
    /// <value>
    /// Zero (SIGKILL at once) or more, at most about 49.7 days. The default is 5 seconds. A pool's <c>Stop</c> does
    /// not wait for it: the process may outlive a <c>Stop</c> that has returned by up to this long.
    /// </value>
    /// <exception cref="ArgumentOutOfRangeException">The value is negative or longer than a timer supports.</exception>
    public TimeSpan TerminationGracePeriod
    {
        get => _terminationGracePeriod;
        init => _terminationGracePeriod = value >= TimeSpan.Zero && value <= MaxTimeout
            ? value
            : throw new ArgumentOutOfRangeException(nameof(TerminationGracePeriod), value, "TerminationGracePeriod must be zero or more and at most 4294967294 milliseconds.");
    }

    /// <summary>
    /// Gets a value indicating whether each run starts in a session and process group of its own (through
    /// <c>setsid</c>, on Linux where it is installed). A terminal's Ctrl-C reaches its whole foreground process group
    /// at once; in a group of its own the program does not receive it, so the pool decides: calls in flight get the
    /// pool's finish timeout, then SIGTERM, and end as aborted inputs rather than as failed runs with exit code 130.
    /// Signals then reach every process the program started.
    /// </summary>
    /// <value>
    /// The default is <see langword="true"/>. Without a group of its own (<see langword="false"/>, or no
    /// <c>setsid</c>) a run shares this process's group, and a terminal's Ctrl-C ends it directly. A program in a
    /// session of its own has no controlling terminal (none that prompts on <c>/dev/tty</c>).
    /// </value>
    public bool NewProcessGroup { get; init; } = true;

    /// <summary>
    /// Gets a callback that receives the output line by line as the program writes it, instead of capturing it:
    /// the result's <see cref="ProcessResult.StandardOutput"/> and <see cref="ProcessResult.StandardError"/> stay
    /// empty, and memory stays flat whatever the program writes.
    /// </summary>
    /// <value>
    /// The default is <see langword="null"/>: output is captured (see <see cref="CaptureOutput"/>). For one run the
    /// callback receives one line at a time from each stream, but the two streams (and other runs) may call it at the
    /// same time; an exception it throws ends the run's reading of that stream.
    /// </value>
    public Action<ProcessOutputLine>? OnOutputLine { get; init; }

    /// <summary>Gets the clock for <see cref="Timeout"/> and <see cref="ProcessResult.Elapsed"/>.</summary>
    /// <value>The default is <see cref="TimeProvider.System"/>; tests may pass a manual clock.</value>
    /// <exception cref="ArgumentNullException">The value is <see langword="null"/>.</exception>
    public TimeProvider TimeProvider
    {
        get => _timeProvider;
        init => _timeProvider = value ?? throw new ArgumentNullException(nameof(TimeProvider));
    }
}
