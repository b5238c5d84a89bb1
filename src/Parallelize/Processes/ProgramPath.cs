using System.ComponentModel;

namespace Parallelize.Processes;

/// <summary>Finds programs the way <c>execvp</c> does, so that a missing program is reported before a wrapper starts.</summary>
internal static class ProgramPath
{
    private static readonly Lazy<string?> SetSid = new(() => Find("setsid", null));

    /// <summary>Gets the path of <c>setsid</c> (util-linux), which starts a program in a session and process group of its own; <see langword="null"/> if there is none.</summary>
    public static string? SetSidPath => OperatingSystem.IsLinux() ? SetSid.Value : null;

    /// <summary>Resolves <paramref name="fileName"/> to a path, or throws as <see cref="System.Diagnostics.Process.Start()"/> would.</summary>
    /// <exception cref="Win32Exception">No such program.</exception>
    public static string Resolve(string fileName, string? workingDirectory) =>
        Find(fileName, workingDirectory)
        ?? throw new Win32Exception(2, $"An error occurred trying to start process '{fileName}' with working directory '{workingDirectory ?? Environment.CurrentDirectory}'. No such file or directory");

    private static string? Find(string fileName, string? workingDirectory)
    {
        if (fileName.Contains('/', StringComparison.Ordinal))
        {
            string path = Path.GetFullPath(fileName, string.IsNullOrEmpty(workingDirectory) ? Environment.CurrentDirectory : workingDirectory);
            return File.Exists(path) ? path : null;
        }

        foreach (string directory in (Environment.GetEnvironmentVariable("PATH") ?? "").Split(':', StringSplitOptions.RemoveEmptyEntries))
        {
            string path = Path.Combine(directory, fileName);
            if (File.Exists(path) && !OperatingSystem.IsWindows() && (File.GetUnixFileMode(path) & (UnixFileMode.UserExecute | UnixFileMode.GroupExecute | UnixFileMode.OtherExecute)) != 0)
            {
                return path;
            }
        }

        return null;
    }
}
