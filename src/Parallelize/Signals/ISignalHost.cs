using System.Runtime.InteropServices;

namespace Parallelize.Signals;

/// <summary>What <see cref="SignalStop{TIn}"/> needs from the process: signal handlers and a way to exit. Tests raise signals through a fake one.</summary>
internal interface ISignalHost
{
    /// <summary>Registers <paramref name="handler"/> for <paramref name="signal"/>; disposing the result unregisters it.</summary>
    IDisposable Register(PosixSignal signal, Action<PosixSignalContext> handler);

    /// <summary>Ends the process at once with <paramref name="exitCode"/>.</summary>
    void Exit(int exitCode);
}

/// <summary>The real process: <see cref="PosixSignalRegistration"/> and <see cref="Environment.Exit(int)"/>.</summary>
internal sealed class ProcessSignalHost : ISignalHost
{
    public static readonly ProcessSignalHost Instance = new();

    private ProcessSignalHost()
    {
    }

    public IDisposable Register(PosixSignal signal, Action<PosixSignalContext> handler) => PosixSignalRegistration.Create(signal, handler);

    public void Exit(int exitCode) => Environment.Exit(exitCode);
}
