using Microsoft.Extensions.Diagnostics.HealthChecks;

namespace Parallelize.Hosting;

/// <summary>
/// Reports a pool's health from <see cref="Parallelize{TIn, TOut}.GetProgress"/>: the registration's failure status
/// (Unhealthy by default) when the pool is faulted (every executor retired) or stopped, Degraded when the restart
/// policy has retired some executors or the pool is paused for an outage, Healthy otherwise; the counts go in the
/// result's data.
/// </summary>
internal sealed class ParallelizeHealthCheck<TIn, TOut> : IHealthCheck
{
    private readonly Parallelize<TIn, TOut> _pool;

    public ParallelizeHealthCheck(Parallelize<TIn, TOut> pool) => _pool = pool;

    public Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(context);
        ParallelizeProgress progress = _pool.GetProgress();
        var data = new Dictionary<string, object>
        {
            ["executors"] = progress.Executors,
            ["retiredExecutors"] = progress.RetiredExecutors,
            ["accepted"] = progress.Accepted,
            ["queued"] = progress.Queued,
            ["running"] = progress.Running,
            ["succeeded"] = progress.Succeeded,
            ["failed"] = progress.Failed,
            ["restarted"] = progress.Restarted,
            ["aborted"] = progress.Aborted,
            ["outages"] = progress.Outages,
        };

        HealthCheckResult result;
        if (progress.IsFaulted)
        {
            result = new HealthCheckResult(
                context.Registration.FailureStatus,
                $"The pool is faulted: all {progress.Executors} executors are retired, so queued calls never run.",
                data: data);
        }
        else if (progress.IsStopped)
        {
            result = new HealthCheckResult(context.Registration.FailureStatus, "The pool is stopped and accepts no calls.", data: data);
        }
        else if (progress.IsPaused)
        {
            result = HealthCheckResult.Degraded(
                "The pool is paused: nearly every recent call failed across the executors (an outage of what they call); it probes and resumes by itself.",
                data: data);
        }
        else if (progress.RetiredExecutors > 0)
        {
            result = HealthCheckResult.Degraded(
                $"{progress.RetiredExecutors} of {progress.Executors} executors are retired by the restart policy; the others carry on.",
                data: data);
        }
        else
        {
            result = HealthCheckResult.Healthy($"{progress.Executors} executors; {progress.Queued} calls queued, {progress.Running} running.", data);
        }

        return Task.FromResult(result);
    }
}
