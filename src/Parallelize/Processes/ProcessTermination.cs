using System.Diagnostics;
using Parallelize.Isolation;

namespace Parallelize.Processes;

/// <summary>
/// Ends one run's process the way programs expect: SIGTERM first, so that it can clean up (gzip removes its partial
/// output), then SIGKILL for the whole tree once <see cref="ProcessExecutorOptions.TerminationGracePeriod"/> has passed.
/// </summary>
/// <remarks>
/// When the run has a process group of its own, both signals go to the group, so they reach every process the program
/// started (unless one left the group). Otherwise SIGTERM reaches the program only, and SIGKILL its whole tree.
/// <see cref="Terminate"/> may be called from any thread, more than once (the first call counts); the grace timer is
/// released by <see cref="Dispose"/>. No user code runs here.
/// </remarks>
internal sealed class ProcessTermination : IDisposable
{
    private readonly Process _process;
    private readonly bool _ownGroup;
    private readonly TimeSpan _grace;
    private readonly TimeProvider _clock;
    private ITimer? _timer;
    private int _terminated;

    public ProcessTermination(Process process, bool ownGroup, TimeSpan grace, TimeProvider clock)
    {
        _process = process;
        _ownGroup = ownGroup;
        _grace = grace;
        _clock = clock;
    }

    /// <summary>Gets a value indicating whether the run was asked to end.</summary>
    public bool IsTerminated => Volatile.Read(ref _terminated) != 0;

    /// <summary>Sends SIGTERM (or, with no grace period or no POSIX signals, SIGKILL at once) and arms the SIGKILL that follows.</summary>
    public void Terminate()
    {
        if (Interlocked.Exchange(ref _terminated, 1) != 0)
        {
            return;
        }

        if (_grace <= TimeSpan.Zero || !Posix.IsSupported)
        {
            KillNow();
            return;
        }

        Signal(Posix.SigTerm);
        ITimer timer = _clock.CreateTimer(static state => ((ProcessTermination)state!).KillNow(), this, _grace, Timeout.InfiniteTimeSpan);
        if (Interlocked.CompareExchange(ref _timer, timer, null) is not null)
        {
            timer.Dispose(); // disposed meanwhile
        }
    }

    /// <summary>Kills the process and everything it started, at once; a process already gone is left alone.</summary>
    public void KillNow()
    {
        Signal(Posix.SigKill);
        try
        {
            _process.Kill(entireProcessTree: true);
        }
        catch (Exception ex) when (ex is InvalidOperationException or System.ComponentModel.Win32Exception or NotSupportedException)
        {
            // Exited, or released.
        }
    }

    public void Dispose()
    {
        Interlocked.Exchange(ref _timer, NoTimer)?.Dispose();
    }

    private void Signal(int signal)
    {
        int pid;
        try
        {
            if (_process.HasExited && !_ownGroup)
            {
                return;
            }

            pid = _process.Id;
        }
        catch (InvalidOperationException)
        {
            return;
        }

        // The group lives on after its leader exited as long as a member does (pids are not reused while it does).
        Posix.Kill(_ownGroup ? -pid : pid, signal);
    }

    private static readonly ITimer NoTimer = new DisposedTimer();

    private sealed class DisposedTimer : ITimer
    {
        public bool Change(TimeSpan dueTime, TimeSpan period) => false;

        public void Dispose()
        {
        }

        public ValueTask DisposeAsync() => ValueTask.CompletedTask;
    }
}
