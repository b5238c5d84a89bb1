using System.Globalization;

namespace Parallelize.Isolation;

/// <summary>Names of the common POSIX signals, and the exit code convention of 128 + n for a death by signal.</summary>
internal static class SignalNames
{
    public static string Name(int signal) => signal switch
    {
        1 => "SIGHUP",
        2 => "SIGINT",
        3 => "SIGQUIT",
        4 => "SIGILL",
        6 => "SIGABRT",
        7 => "SIGBUS",
        8 => "SIGFPE",
        9 => "SIGKILL",
        11 => "SIGSEGV",
        13 => "SIGPIPE",
        14 => "SIGALRM",
        15 => "SIGTERM",
        _ => "signal " + signal.ToString(CultureInfo.InvariantCulture),
    };

    /// <summary>The signal an exit code says killed the process (.NET reports 128 + n on Unix), or <see langword="null"/>.</summary>
    public static int? FromExitCode(int exitCode) =>
        !OperatingSystem.IsWindows() && exitCode > 128 && exitCode < 128 + 65 ? exitCode - 128 : null;
}
