using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace Parallelize.Hosting;

/// <summary>Starts a registered pool with the host and stops it with the host, handing the aborted inputs to the store.</summary>
/// <remarks>
/// <para><b>Threads.</b> The host calls <see cref="StartAsync"/>, <see cref="StopAsync"/> and then disposes the service,
/// one after the other, never at once; the fields are touched only there, except for the <c>ApplicationStopping</c>
/// callback, which records when the stop began: it writes <c>_stoppingAt</c>, then the volatile <c>_stopping</c>;
/// <see cref="StopAsync"/> reads them in the other order. No lock is taken.</para>
/// <para><b>The budget.</b> The host cancels <see cref="StopAsync"/>'s token <c>HostOptions.ShutdownTimeout</c> after it
/// began stopping, which is when <c>ApplicationStopping</c> fires. The pool's calls in flight get that timeout less
/// <see cref="ParallelizeHostingOptions.ShutdownMargin"/>, counted from then; the margin is for settling and saving.
/// The token is passed to the pool's stop too, so if the host gives up sooner, calls are aborted at once rather than
/// overrun it.</para>
/// <para><b>A host that never stops.</b> When the host's start fails, the host is disposed without a stop. The pool is
/// injected here, so the container made it first and disposes it last: this service's disposal stops it first (calls
/// in flight aborted at once, since nobody waits for them) and saves what that aborted, so neither the pool's own
/// disposal (which waits for every queued call) hangs nor are inputs dropped.</para>
/// </remarks>
internal sealed class ParallelizeHostedService<TIn, TOut> : IHostedService, IDisposable, IAsyncDisposable
{
    private readonly Parallelize<TIn, TOut> _pool;
    private readonly IServiceProvider _services;
    private readonly PoolRegistration<TIn, TOut> _registration;
    private readonly HostOptions _hostOptions;
    private readonly IAbortedInputStore<TIn>? _store;
    private readonly ILogger _logger;
    private readonly List<TIn> _notQueued = [];
    private readonly CancellationTokenRegistration _onStopping;
    private bool _loaded;
    private bool _stopped;
    private long _stoppingAt;
    private volatile bool _stopping;

    public ParallelizeHostedService(
        Parallelize<TIn, TOut> pool,
        IServiceProvider services,
        PoolRegistration<TIn, TOut> registration,
        IOptions<HostOptions> hostOptions)
    {
        _pool = pool;
        _services = services;
        _registration = registration;
        _hostOptions = hostOptions.Value;
        _store = services.GetService<IAbortedInputStore<TIn>>();
        _logger = PoolRegistration<TIn, TOut>.CreateLogger(services);
        if (services.GetService<IHostApplicationLifetime>() is { } lifetime)
        {
            TimeProvider clock = pool.Options.TimeProvider;
            _onStopping = lifetime.ApplicationStopping.Register(() =>
            {
                _stoppingAt = clock.GetTimestamp();
                _stopping = true;
            });
        }
    }

    private string PoolName => _pool.Options.Name ?? PoolRegistration<TIn, TOut>.PoolName;

    public async Task StartAsync(CancellationToken cancellationToken)
    {
        if (_store is null || _loaded)
        {
            return;
        }

        IReadOnlyList<TIn> saved = await _store.LoadAsync(cancellationToken).ConfigureAwait(false);
        _loaded = true;
        int queued = 0;
        try
        {
            for (; queued < saved.Count; queued++)
            {
                cancellationToken.ThrowIfCancellationRequested();
                await _pool.InvokeAsync(saved[queued], cancellationToken).ConfigureAwait(false);
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
        if (_stopped)
        {
            return;
        }

        _stopped = true;
        TimeSpan? finishTimeout = FinishTimeout();
        HostingLog.HostStopping(_logger, PoolName, finishTimeout?.TotalMilliseconds ?? double.PositiveInfinity);
        IReadOnlyList<TIn> aborted = await _pool.StopAsync(finishTimeout, cancellationToken).ConfigureAwait(false);
        await SaveAsync(aborted, cancellationToken).ConfigureAwait(false);
    }

    public void Dispose()
    {
        _onStopping.Dispose();
        if (!_stopped)
        {
            _stopped = true;
            IReadOnlyList<TIn> aborted = _pool.Stop(TimeSpan.Zero);
            try
            {
                SaveAsync(aborted, CancellationToken.None).AsTask().GetAwaiter().GetResult();
            }
#pragma warning disable CA1031 // Dispose never throws; SaveAsync has logged the failure.
            catch (Exception)
#pragma warning restore CA1031
            {
            }
        }
    }

    public async ValueTask DisposeAsync()
    {
        await _onStopping.DisposeAsync().ConfigureAwait(false);
        if (!_stopped)
        {
            _stopped = true;
            IReadOnlyList<TIn> aborted = await _pool.StopAsync(TimeSpan.Zero).ConfigureAwait(false);
            try
            {
                await SaveAsync(aborted, CancellationToken.None).ConfigureAwait(false);
            }
#pragma warning disable CA1031 // As above.
            catch (Exception)
#pragma warning restore CA1031
            {
            }
        }
    }

    /// <summary>Hands every input of this run not done to the store: those loaded but never queued, then those the stop aborted.</summary>
    private async ValueTask SaveAsync(IReadOnlyList<TIn> stopped, CancellationToken cancellationToken)
    {
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
            if (!_loaded)
            {
                // The start never loaded the last save: a save replaces it, so keep it in front.
                aborted.InsertRange(0, await _store.LoadAsync(cancellationToken).ConfigureAwait(false));
                _loaded = true;
            }

            await _store.SaveAsync(aborted, cancellationToken).ConfigureAwait(false);
        }
        catch (Exception ex)
        {
            HostingLog.AbortedInputsSaveFailed(_logger, ex, PoolName, aborted.Count);
            throw;
        }

        HostingLog.AbortedInputsSaved(_logger, PoolName, aborted.Count);
    }

    /// <summary>What is left of the host's shutdown timeout, less the margin, capped by the configured finish timeout; <see langword="null"/> for no limit.</summary>
    private TimeSpan? FinishTimeout()
    {
        ParallelizeHostingOptions settings = _services.GetRequiredService<IOptionsMonitor<ParallelizeHostingOptions>>().Get(_registration.OptionsName);
        TimeSpan? configured = settings.ShutdownFinishTimeout;
        TimeSpan shutdown = _hostOptions.ShutdownTimeout;
        if (shutdown < TimeSpan.Zero)
        {
            return configured; // the host waits without a limit (Timeout.InfiniteTimeSpan)
        }

        TimeSpan elapsed = _stopping ? _pool.Options.TimeProvider.GetElapsedTime(_stoppingAt) : TimeSpan.Zero;
        TimeSpan left = shutdown - settings.ShutdownMargin - elapsed;
        if (left < TimeSpan.Zero)
        {
            left = TimeSpan.Zero;
        }

        return configured is { } limit && limit < left ? limit : left;
    }
}
