using System.Diagnostics;

namespace Parallelize;

/// <summary>
/// The names of the <c>Parallelize</c> <see cref="ActivitySource"/> and of the span each call gets while a listener
/// samples it (an OpenTelemetry tracer that added the source, for example), with its tags.
/// </summary>
/// <remarks>
/// A call's span is a child of the <see cref="Activity"/> that was current where the call was made (<c>Invoke</c>),
/// carried across with the caller's <see cref="ExecutionContext"/> (see <see cref="ParallelizeOptions.FlowExecutionContext"/>).
/// With no listener no span is made and calls pay one check per lease.
/// </remarks>
public static class ParallelizeTracing
{
    /// <summary>The name of the activity source, the same as the meter's: <c>Parallelize</c>.</summary>
    public const string ActivitySourceName = ParallelizeMetrics.MeterName;

    /// <summary>The name of the span of one attempt of one call.</summary>
    public const string CallActivityName = "parallelize.call";

    /// <summary>The tag with the executor's index in the pool.</summary>
    public const string ExecutorTag = "parallelize.executor";

    /// <summary>The tag with the call's id (its place in call order, from 1).</summary>
    public const string CallIdTag = "parallelize.call.id";

    /// <summary>The tag with the attempt's number (1 for the first).</summary>
    public const string AttemptTag = "parallelize.attempt";

    /// <summary>The tag with the attempt's outcome: <c>result</c>, <c>failure</c> or <c>timeout</c>.</summary>
    public const string OutcomeTag = "parallelize.outcome";

    /// <summary>Gets the source itself.</summary>
    internal static ActivitySource Source { get; } = new(ActivitySourceName, typeof(ParallelizeTracing).Assembly.GetName().Version?.ToString());
}
