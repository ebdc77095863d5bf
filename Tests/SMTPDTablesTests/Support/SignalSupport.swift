import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// Starting a tool that is to receive signals. Foundation's Process passes on the spawning thread's signal
/// mask, and test code runs on Dispatch threads, which block SIGINT, SIGTERM, SIGHUP and SIGQUIT: a child
/// started that way never sees them. posix_spawn with an empty mask and default dispositions gives the
/// child what a shell gives it.
enum SignalSupport {
    /// A running child.
    struct Child {
        let pid: pid_t

        /// Waits up to `timeout` seconds; nil if it is still running.
        func wait(timeout: Double) -> (status: Int32, signaled: Bool)? {
            let deadline = Date() + timeout
            repeat {
                var status: Int32 = 0
                let r = waitpid(pid, &status, WNOHANG)
                if r == pid {
                    // WIFEXITED / WTERMSIG by hand: the macros are not imported.
                    let signal = status & 0x7F
                    return signal == 0 ? ((status >> 8) & 0xFF, false) : (signal, true)
                }
                if r < 0 { return nil }
                usleep(10_000)
            } while Date() < deadline
            return nil
        }

        /// SIGKILL and reap (for a child that overstayed).
        func kill() {
            _ = Glibc.kill(pid, SIGKILL)
            var status: Int32 = 0
            _ = waitpid(pid, &status, 0)
        }
    }

    /// Spawns `path` with `arguments`, stdin from /dev/null, stdout and stderr to the given files, and the
    /// environment plus `environment`.
    static func spawn(_ path: String, _ arguments: [String], stdout: String = "/dev/null", stderr: String,
                      environment: [String: String] = [:]) throws -> Child {
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0)
        posix_spawn_file_actions_addopen(&actions, 1, stdout, O_WRONLY | O_CREAT | O_TRUNC, 0o600)
        posix_spawn_file_actions_addopen(&actions, 2, stderr, O_WRONLY | O_CREAT | O_TRUNC, 0o600)

        var attributes = posix_spawnattr_t()
        posix_spawnattr_init(&attributes)
        defer { posix_spawnattr_destroy(&attributes) }
        var empty = sigset_t(), all = sigset_t()
        sigemptyset(&empty)
        sigfillset(&all)
        posix_spawnattr_setsigmask(&attributes, &empty)
        posix_spawnattr_setsigdefault(&attributes, &all)
        posix_spawnattr_setflags(&attributes, Int16(POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF))

        var env = ProcessInfo.processInfo.environment
        for (key, value) in environment { env[key] = value }
        let argv = ([path] + arguments).map { strdup($0) } + [nil]
        let envp = env.map { strdup("\($0.key)=\($0.value)") } + [nil]
        defer {
            argv.forEach { free($0) }
            envp.forEach { free($0) }
        }
        var pid: pid_t = 0
        let r = posix_spawn(&pid, path, &actions, &attributes, argv, envp)
        guard r == 0 else { throw POSIXError(POSIXErrorCode(rawValue: r) ?? .EINVAL) }
        return Child(pid: pid)
    }
}
