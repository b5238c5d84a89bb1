using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Diagnostics.HealthChecks;

namespace Parallelize.Hosting;

/// <summary>Adds the health check of a pool registered with <see cref="ParallelizeServiceCollectionExtensions.AddParallelize{TIn, TOut}(IServiceCollection, string?)"/>.</summary>
public static class ParallelizeHealthChecksBuilderExtensions
{
    /// <summary>The name the check is registered under unless told otherwise.</summary>
    public const string DefaultName = "parallelize";

    /// <summary>
    /// Adds a health check of the <see cref="Parallelize{TIn, TOut}"/> in the container: <paramref name="failureStatus"/>
    /// when the pool is faulted (every executor retired) or stopped, <see cref="HealthStatus.Degraded"/> when the restart
    /// policy has retired some of its executors or the pool is paused for an outage, <see cref="HealthStatus.Healthy"/> otherwise. The result's data holds
    /// the executor and call counts of <see cref="Parallelize{TIn, TOut}.GetProgress"/>.
    /// </summary>
    /// <typeparam name="TIn">The type of the pool's inputs.</typeparam>
    /// <typeparam name="TOut">The type of the pool's results.</typeparam>
    /// <param name="builder">The health checks builder (<c>services.AddHealthChecks()</c>).</param>
    /// <param name="name">The check's name.</param>
    /// <param name="failureStatus">The status of a faulted or stopped pool; <see langword="null"/> for <see cref="HealthStatus.Unhealthy"/>.</param>
    /// <param name="tags">Tags to filter checks by (for example <c>"ready"</c>).</param>
    /// <returns>The builder.</returns>
    /// <exception cref="ArgumentNullException"><paramref name="builder"/> or <paramref name="name"/> is <see langword="null"/>.</exception>
    public static IHealthChecksBuilder AddParallelizeHealthCheck<TIn, TOut>(
        this IHealthChecksBuilder builder,
        string name = DefaultName,
        HealthStatus? failureStatus = null,
        IEnumerable<string>? tags = null)
    {
        ArgumentNullException.ThrowIfNull(builder);
        ArgumentNullException.ThrowIfNull(name);
        return builder.Add(new HealthCheckRegistration(
            name,
            static services => new ParallelizeHealthCheck<TIn, TOut>(services.GetRequiredService<Parallelize<TIn, TOut>>()),
            failureStatus,
            tags));
    }
}
