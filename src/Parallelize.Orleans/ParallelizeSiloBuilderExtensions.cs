using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Orleans.Hosting;

namespace Parallelize.Orleans;

/// <summary>Registers the executor types a silo hosts for Parallelize pools.</summary>
public static class ParallelizeSiloBuilderExtensions
{
    /// <summary>
    /// Lets this silo host the executors of Parallelize pools whose executors are grains: registers the executor
    /// types (by name) and the grain that hosts them. Call it on every silo, with the same types; calling it again adds
    /// more types.
    /// </summary>
    /// <param name="builder">The silo builder.</param>
    /// <param name="configure">Adds executor types: <c>r =&gt; r.Add&lt;MyExecutor&gt;()</c>.</param>
    /// <returns>The silo builder.</returns>
    /// <exception cref="ArgumentNullException"><paramref name="builder"/> or <paramref name="configure"/> is <see langword="null"/>.</exception>
    /// <example>
    /// <code>
    /// builder.UseOrleans(silo =&gt; silo
    ///     .UseLocalhostClustering()
    ///     .AddParallelizeExecutors(r =&gt; r.Add&lt;ThumbnailExecutor&gt;()));
    /// </code>
    /// </example>
    public static ISiloBuilder AddParallelizeExecutors(this ISiloBuilder builder, Action<ExecutorRegistry> configure)
    {
        ArgumentNullException.ThrowIfNull(builder);
        ArgumentNullException.ThrowIfNull(configure);
        ExecutorRegistry registry = FindRegistry(builder.Services) ?? new ExecutorRegistry();
        builder.Services.TryAddSingleton(registry);
        configure(registry);
        return builder;
    }

    private static ExecutorRegistry? FindRegistry(IServiceCollection services) =>
        services.FirstOrDefault(static d => d.ServiceType == typeof(ExecutorRegistry))?.ImplementationInstance as ExecutorRegistry;
}
