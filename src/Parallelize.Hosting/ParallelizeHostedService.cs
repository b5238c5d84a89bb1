using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace Parallelize.Hosting;

/// <summary>Starts a registered pool with the host and stops it with the host, handing the aborted inputs to the store.</summary>
/// <remarks>
/// <para><b>Threads.</b> The host calls <see cref="StartAsync"/> and then <see cref="StopAsync"/>, one after the other,
/// never at once; <c>_pool</c> and <c>_notQueued</c> are touched only there. The one other thread is the
/// <c>ApplicationStopping</c> callback, which records when the stop began: it writes <c>_stoppingAt</c>, then the
/// volatile <c>_stopping</c>; <see cref="StopAsync"/> reads them in the other order. No lock is taken.</para>
/// <para><b>The budget.</b> The host cancels <see cref="StopAsync"/>'s token <c>HostOptions.ShutdownTimeout</c> after it
/// began stopping, which is when <c>ApplicationStopping</c> fires. The pool's calls in flight get that timeout less
/// <see cref="ParallelizeHostingOptions.ShutdownMargin"/>, counted from then; the margin is for settling and saving.
/// The token is passed to the pool's stop too, so if the host gives up sooner (a shorter token), calls are aborted at
/// once rather than overrun it.</para>
/// </remarks>
internal sealed class ParallelizeHostedService<TIn, TOut> : IHostedService, IDisposable
{
    private readonly IServiceProvider _services;
    private readonly PoolRegistration<TIn, TOut> _registration;
    private readonly HostOptions _hostOptions;
    private readonly IHostApplicationLifetime? _lifetime;
    private readonly ILogger _logger;
    private readonly List<TIn> _notQueued = [];
    private Parallelize<TIn, TOut>? _pool;
    private IAbortedInputStore<TIn>? _store;
    private CancellationTokenRegistration _onStopping;
    private long _stoppingAt;
    private volatile bool _stopping;

    public ParallelizeHostedService(IServiceProvider services, PoolRegistration<TIn, TOut> registration, IOptions<HostOptions> hostOptions)
    {
        _services = services;
        _registration = registration;
        _hostOptions = hostOptions.Value;
        _lifetime = services.GetService<IHostApplicationLifetime>();
        _logger = PoolRegistration<TIn, TOut>.CreateLogger(services);
    }

    private string PoolName => _pool?.Options.Name ?? PoolRegistration<TIn, TOut>.PoolName;

    public async Task StartAsync(CancellationToken cancellationToken)
    {
        Parallelize<TIn, TOut> pool = _services.GetRequiredService<Parallelize<TIn, TOut>>();
        _pool = pool;
        if (_lifetime is not null)
        {
            TimeProvider clock = pool.Options.TimeProvider;
            _onStopping = _lifetime.ApplicationStopping.Register(() =>
            {
                _stoppingAt = clock.GetTimestamp();
                _stopping = true;
            });
        }

        _store = _services.GetService<IAbortedInputStore<TIn>>();
        if (_store is null)
        {
            return;
        }

        IReadOnlyList<TIn> saved = await _store.LoadAsync(cancellationToken).ConfigureAwait(false);
        int queued = 0;
        try
        {
            for (; queued < saved.Count; queued++)
            {
                cancellationToken.ThrowIfCancellationRequested();
                await pool.InvokeAsync(saved[queued], cancellationToken).ConfigureAwait(false);
            }
        }
        catch (Exception ex) when (ex is OperationCanceledException or InvalidOperationException)
        {
            // Abandoned start, or a pool stopped or faulted meanwhile: what was not queued is saved again at stop.
            for (int i = queued; i < saved.Count; i++)
            {
                _notQueued.Add(saved[i]);
            }

            HostingLog.ResumeInterrupted(_logger, PoolName, _notQueued.Count);
        }

        if (queued > 0)
        {
            HostingLog.AbortedInputsResumed(_logger, PoolName, queued);
        }
    }

    public async Task StopAsync(CancellationToken cancellationToken)
    {
        if (_pool is not { } pool)
        {
            return;
        }

        TimeSpan? finishTimeout = FinishTimeout(pool);
        HostingLog.HostStopping(_logger, PoolName, finishTimeout?.TotalMilliseconds ?? double.PositiveInfinity);
        IReadOnlyList<TIn> stopped = await pool.StopAsync(finishTimeout, cancellationToken).ConfigureAwait(false);
        var aborted = new List<TIn>(_notQueued.Count + stopped.Count);
        aborted.AddRange(_notQueued);
        aborted.AddRange(stopped);
        _notQueued.Clear();

        if (_store is null)
        {
            if (aborted.Count > 0)
            {
                HostingLog.AbortedInputsNotKept(_logger, PoolName, aborted.Count);
            }

            return;
        }

        try
        {
            await _store.SaveAsync(aborted, cancellationToken).ConfigureAwait(false);
        }
        catch (Exception ex)
        {
            HostingLog.AbortedInputsSaveFailed(_logger, ex, PoolName, aborted.Count);
            throw;
        }

        HostingLog.AbortedInputsSaved(_logger, PoolName, aborted.Count);
    }

    public void Dispose() => _onStopping.Dispose();

    /// <summary>What is left of the host's shutdown timeout, less the margin, capped by the configured finish timeout; <see langword="null"/> for no limit.</summary>
    private TimeSpan? FinishTimeout(Parallelize<TIn, TOut> pool)
    {
        ParallelizeHostingOptions settings = _services.GetRequiredService<IOptionsMonitor<ParallelizeHostingOptions>>().Get(_registration.OptionsName);
        TimeSpan? configured = settings.ShutdownFinishTimeout;
        TimeSpan shutdown = _hostOptions.ShutdownTimeout;
        if (shutdown < TimeSpan.Zero)
        {
            return configured; // the host waits without a limit (Timeout.InfiniteTimeSpan)
        }

        TimeProvider clock = pool.Options.TimeProvider;
        TimeSpan elapsed = _stopping ? clock.GetElapsedTime(_stoppingAt) : TimeSpan.Zero;
        TimeSpan left = shutdown - settings.ShutdownMargin - elapsed;
        if (left < TimeSpan.Zero)
        {
            left = TimeSpan.Zero;
        }

        return configured is { } limit && limit < left ? limit : left;
    }
}
