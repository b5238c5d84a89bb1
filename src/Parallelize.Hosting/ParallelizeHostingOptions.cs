namespace Parallelize.Hosting;

/// <summary>
/// The settings of a pool registered with
/// <see cref="ParallelizeServiceCollectionExtensions.AddParallelize{TIn, TOut}(Microsoft.Extensions.DependencyInjection.IServiceCollection, string?)"/>,
/// bound from configuration (the section <c>Parallelize</c> by default) and checked when the host starts.
/// </summary>
/// <remarks>
/// <para>The pool's own options (<see cref="ParallelizeOptions"/>) are an init-only record that checks each value where
/// it is written, which the configuration binder cannot report well; this class is the bindable form. It carries the
/// values that configuration can express, and the host's shutdown budget; the logger, the meter factory and the clock
/// come from dependency injection, and anything else (such as <see cref="ParallelizeOptions.Progress"/>) from
/// <see cref="ParallelizeBuilder{TIn, TOut}.ConfigurePool"/>.</para>
/// <para>Every value is checked when the host starts (<c>ValidateOnStart</c>), with the same rules and messages as
/// <see cref="ParallelizeOptions"/>; a bad value stops the host from starting with an <c>OptionsValidationException</c>
/// that lists each one.</para>
/// <code>
/// "Parallelize": {
///   "Name": "thumbnails",
///   "MaxAttempts": 5,
///   "BoundedCapacity": 1000,
///   "ShutdownFinishTimeout": "00:00:10"
/// }
/// </code>
/// </remarks>
public sealed class ParallelizeHostingOptions
{
    private static readonly ParallelizeOptions s_defaults = new();

    /// <summary>Gets or sets the pool's name: the <c>parallelize.pool.name</c> tag of its metrics, and in its log messages (<see cref="ParallelizeOptions.Name"/>).</summary>
    /// <value>The default is <see langword="null"/>: no tag, and "unnamed" in log messages.</value>
    public string? Name { get; set; }

    /// <summary>Gets or sets the number of times one input may be tried (<see cref="ParallelizeOptions.MaxAttempts"/>).</summary>
    /// <value>At least 1. The default is 3.</value>
    public int MaxAttempts { get; set; } = s_defaults.MaxAttempts;

    /// <summary>Gets or sets the restarts an executor may have within <see cref="RestartWindow"/> before its next fault retires it (<see cref="ParallelizeOptions.MaxRestarts"/>).</summary>
    /// <value>Zero or more. The default is 5.</value>
    public int MaxRestarts { get; set; } = s_defaults.MaxRestarts;

    /// <summary>Gets or sets the window in which restarts are counted (<see cref="ParallelizeOptions.RestartWindow"/>).</summary>
    /// <value>Greater than zero. The default is one minute.</value>
    public TimeSpan RestartWindow { get; set; } = s_defaults.RestartWindow;

    /// <summary>Gets or sets the delay before the second consecutive restart of an executor (<see cref="ParallelizeOptions.RestartBackoff"/>).</summary>
    /// <value>Zero or more. The default is 10 milliseconds.</value>
    public TimeSpan RestartBackoff { get; set; } = s_defaults.RestartBackoff;

    /// <summary>Gets or sets the longest delay before a restart (<see cref="ParallelizeOptions.MaxRestartBackoff"/>).</summary>
    /// <value>Zero or more. The default is one second.</value>
    public TimeSpan MaxRestartBackoff { get; set; } = s_defaults.MaxRestartBackoff;

    /// <summary>Gets or sets the delay before an input's second attempt, doubling with each further failure (<see cref="ParallelizeOptions.RetryDelay"/>).</summary>
    /// <value>Zero or more. The default is 10 milliseconds.</value>
    public TimeSpan RetryDelay { get; set; } = s_defaults.RetryDelay;

    /// <summary>Gets or sets the longest delay before an input's next attempt (<see cref="ParallelizeOptions.MaxRetryDelay"/>).</summary>
    /// <value>Zero or more. The default is 2 seconds.</value>
    public TimeSpan MaxRetryDelay { get; set; } = s_defaults.MaxRetryDelay;

    /// <summary>Gets or sets the longest one attempt may take (<see cref="ParallelizeOptions.CallTimeout"/>).</summary>
    /// <value>Greater than zero, or <see langword="null"/> for no limit. The default is <see langword="null"/>.</value>
    public TimeSpan? CallTimeout { get; set; } = s_defaults.CallTimeout;

    /// <summary>Gets or sets a value indicating whether every fault restarts its executor at once, before the blame is known (<see cref="ParallelizeOptions.RestartOnEveryFault"/>); with scoped executors, a restart is a new scope.</summary>
    /// <value>The default is <see langword="false"/>.</value>
    public bool RestartOnEveryFault { get; set; } = s_defaults.RestartOnEveryFault;

    /// <summary>Gets or sets a value indicating whether the pool recognises outages and pauses during them (<see cref="ParallelizeOptions.Outages"/>); their tuning is set with <see cref="ParallelizeBuilder{TIn, TOut}.ConfigurePool"/>.</summary>
    /// <value>The default is <see langword="true"/>: the core's default <see cref="OutageOptions"/>. <see langword="false"/> sets <see cref="ParallelizeOptions.Outages"/> to <see langword="null"/>.</value>
    public bool DetectOutages { get; set; } = s_defaults.Outages is not null;

    /// <summary>Gets or sets a value indicating whether each call runs in the execution context of the code that made it (<see cref="ParallelizeOptions.FlowExecutionContext"/>), so logging scopes and the caller's activity reach it.</summary>
    /// <value>The default is <see langword="true"/>.</value>
    public bool FlowExecutionContext { get; set; } = s_defaults.FlowExecutionContext;

    /// <summary>Gets or sets the most calls that may be queued and not yet started (<see cref="ParallelizeOptions.BoundedCapacity"/>).</summary>
    /// <value>At least 1, or <see langword="null"/> for no limit. The default is <see langword="null"/>.</value>
    public int? BoundedCapacity { get; set; } = s_defaults.BoundedCapacity;

    /// <summary>Gets or sets a value indicating whether results are kept in <c>Results</c> (<see cref="ParallelizeOptions.RetainResults"/>). Turn it off in a service that runs for days and read the result stream instead.</summary>
    /// <value>The default is <see langword="true"/>.</value>
    public bool RetainResults { get; set; } = s_defaults.RetainResults;

    /// <summary>Gets or sets a value indicating whether results are delivered in call order (<see cref="ParallelizeOptions.OrderedResults"/>).</summary>
    /// <value>The default is <see langword="false"/>.</value>
    public bool OrderedResults { get; set; } = s_defaults.OrderedResults;

    /// <summary>Gets or sets how often <see cref="ParallelizeOptions.Progress"/> receives a report, when one is configured.</summary>
    /// <value>Greater than zero. The default is 500 milliseconds.</value>
    public TimeSpan ProgressInterval { get; set; } = s_defaults.ProgressInterval;

    /// <summary>
    /// Gets or sets the longest time calls in flight get to finish when the host stops; calls still running then are
    /// cancelled and aborted, and handed to the <see cref="IAbortedInputStore{TIn}"/> with the queued ones. The host's
    /// own budget caps it either way: see <see cref="ShutdownMargin"/>.
    /// </summary>
    /// <value>Zero or more, or <see langword="null"/> for as long as the host allows. The default is <see langword="null"/>.</value>
    public TimeSpan? ShutdownFinishTimeout { get; set; }

    /// <summary>
    /// Gets or sets the part of <c>HostOptions.ShutdownTimeout</c> the pool keeps back for itself when the host stops:
    /// calls in flight get at most the shutdown timeout less this margin (counted from the moment the application
    /// began stopping), and the margin is left to settle the aborted calls and save them, so the pool has stopped and
    /// its inputs are saved before the host gives up on it.
    /// </summary>
    /// <value>Zero or more. The default is 2 seconds; with the host's default shutdown timeout of 30 seconds, calls in flight get 28.</value>
    public TimeSpan ShutdownMargin { get; set; } = TimeSpan.FromSeconds(2);

    /// <summary>Makes the pool's options from these settings; the caller has validated them.</summary>
    /// <exception cref="ArgumentOutOfRangeException">A value is out of range.</exception>
    internal ParallelizeOptions ToPoolOptions() => new()
    {
        Name = Name,
        MaxAttempts = MaxAttempts,
        MaxRestarts = MaxRestarts,
        RestartWindow = RestartWindow,
        RestartBackoff = RestartBackoff,
        MaxRestartBackoff = MaxRestartBackoff,
        BoundedCapacity = BoundedCapacity,
        RetainResults = RetainResults,
        OrderedResults = OrderedResults,
        ProgressInterval = ProgressInterval,
        RetryDelay = RetryDelay,
        MaxRetryDelay = MaxRetryDelay,
        CallTimeout = CallTimeout,
        RestartOnEveryFault = RestartOnEveryFault,
        Outages = DetectOutages ? s_defaults.Outages : null,
        FlowExecutionContext = FlowExecutionContext,
    };
}
