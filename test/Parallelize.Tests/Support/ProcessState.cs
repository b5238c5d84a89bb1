namespace Parallelize.Tests.Support;

/// <summary>What Linux says about a process, read from <c>/proc</c> (tests of external processes).</summary>
internal static class ProcessState
{
    private const ulong SigKill = 1UL << (9 - 1);

    /// <summary>Whether a process exists and is not a zombie (a killed child that no one has reaped yet is dead too).</summary>
    public static bool IsRunning(int pid) => Read(pid) is { } status && status.State is not ('Z' or 'X');

    /// <summary>
    /// Whether a process is dead or has a SIGKILL pending (it will die without running another instruction). True as
    /// soon as <c>kill</c> has returned, so a test may check it without waiting.
    /// </summary>
    public static bool IsDeadOrKilled(int pid) => Read(pid) is not { } status || status.State is 'Z' or 'X' || (status.Pending & SigKill) != 0;

    /// <summary>
    /// Whether <paramref name="pid"/> is a descendant of <paramref name="ancestor"/> (through its chain of parents), so a
    /// kill of the ancestor's process tree would reach it. False once it has been handed to a reaper, or is gone.
    /// </summary>
    public static bool IsDescendantOf(int pid, int ancestor)
    {
        for (int current = pid, depth = 0; depth < 64 && Read(current) is { } status && status.Parent > 1; depth++)
        {
            if (status.Parent == ancestor)
            {
                return true;
            }

            current = status.Parent;
        }

        return false;
    }

    /// <summary>
    /// Whether a process leads a session of its own (it has called <c>setsid</c>), so signals sent to the process group
    /// of the shell that started it no longer reach it. False if it is gone.
    /// </summary>
    public static bool LeadsItsOwnSession(int pid) => Read(pid) is { } status && status.Session == pid;

    private static (char State, ulong Pending, int Parent, int Session)? Read(int pid)
    {
        string[] lines;
        try
        {
            lines = File.ReadAllLines($"/proc/{pid}/status");
        }
        catch (Exception ex) when (ex is FileNotFoundException or DirectoryNotFoundException or IOException)
        {
            return null;
        }

        char state = '?';
        ulong pending = 0;
        int parent = 0;
        int session = 0;
        foreach (string line in lines)
        {
            string[] parts = line.Split(':', 2, StringSplitOptions.TrimEntries);
            switch (parts[0])
            {
                case "State":
                    state = parts[1][0];
                    break;
                case "PPid":
                    parent = int.Parse(parts[1], System.Globalization.CultureInfo.InvariantCulture);
                    break;
                case "NSsid":
                    // The innermost namespace's id is the last one listed.
                    session = int.Parse(parts[1].Split('\t', ' ')[^1], System.Globalization.CultureInfo.InvariantCulture);
                    break;
                case "SigPnd" or "ShdPnd":
                    pending |= Convert.ToUInt64(parts[1], 16);
                    break;
            }
        }

        return (state, pending, parent, session);
    }
}
